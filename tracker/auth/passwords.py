"""The password policy and changing one's own password."""
from __future__ import annotations

from flask_babel import gettext as _
from zxcvbn import zxcvbn

from tracker import journal
from tracker.api import tokens
from tracker.auth.models import User
from tracker.auth.sessions import end_all_sessions, start_session
from tracker.errors import Invalid
from tracker.extensions import db

PASSWORD_MIN = 12
PASSWORD_MAX = 256
# zxcvbn's estimate (0-4) against its lists of 30,000 common passwords, names and words, keyboard
# walks, dates and repeats; 3 means "safely unguessable" for an online attacker. Only the first 64
# characters are rated: the rating grows with the square of the length and a longer password is
# strong on length alone.
MIN_SCORE = 3
RATED_CHARS = 64
# Words rated as known on top of zxcvbn's English lists: this product's own, and the pinyin and
# number words of the most common Chinese passwords.
KNOWN_WORDS = ["rectify", "zhenggai", "整改", "整改通", "督办", "jiaoyu", "woaini", "aini", "5201314",
               "1314520", "1314", "520", "woaiwojia", "zhongguo", "beijing", "wangwei", "zhangwei",
               "liwei", "wangfang", "lina", "zhangmin", "qwe", "asd", "zxc"]
# Refused outright, whatever their rating.
COMMON = frozenset({
    "123456789012", "1234567890123", "password1234", "password12345", "qwertyuiop12", "qwerty123456",
    "1qaz2wsx3edc", "iloveyou1234", "abc123456789", "admin1234567", "administrator", "passw0rd1234",
    "a1234567890b", "woaini123456", "woaini520520", "aaaaaaaaaaaa", "111111111111", "000000000000",
    "rectify-demo", "rectify12345", "changeme1234", "welcome12345", "letmein12345", "p@ssw0rd1234",
})


def policy_error(password: str, username: str = "") -> str | None:
    """Why this password is not acceptable, or None."""
    if len(password) < PASSWORD_MIN:
        return _("At least %(n)d characters.", n=PASSWORD_MIN)
    if len(password) > PASSWORD_MAX:
        return _("At most %(n)d characters.", n=PASSWORD_MAX)
    lowered = password.lower()
    if username and username.lower() in lowered:
        return _("The password must not contain the username.")
    if lowered in COMMON or len(set(password)) < 4 or _score(password, username) < MIN_SCORE:
        return _("This password is too common or too simple. Choose another.")
    return None


def _score(password: str, username: str) -> int:
    return zxcvbn(password[:RATED_CHARS], user_inputs=[username, *KNOWN_WORDS])["score"]


def change_own_password(user: User, current: str, new: str, confirm: str) -> None:
    """Change the user's password: every session ends and every API token is revoked (a password
    changed because it leaked leaves nothing usable behind); this browser gets a fresh session.
    The caller commits."""
    errors = {}
    if not user.check_password(current or ""):
        errors["current_password"] = _("This is not your current password.")
    problem = policy_error(new or "", user.username)
    if problem:
        errors["new_password"] = problem
    elif new == current:
        errors["new_password"] = _("Choose a password different from the current one.")
    elif new != confirm:
        errors["confirm"] = _("The two new passwords differ.")
    if errors:
        raise Invalid(errors)
    user.set_password(new)
    user.must_change_password = False
    end_all_sessions(user)
    tokens.revoke_all(user, user)
    start_session(user)
    journal.record(user, "change_password", user, {"password": ["***", "***"]})
    db.session.flush()
