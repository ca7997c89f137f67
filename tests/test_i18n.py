"""Every user-facing string is translated into Chinese, and English is one parameter away."""
from pathlib import Path

import pytest
from babel.messages.frontend import CommandLineInterface
from babel.messages.pofile import read_po

from tracker import clock

ROOT = Path(__file__).resolve().parent.parent
CATALOGUES = [ROOT / "tracker" / "translations" / lang / "LC_MESSAGES" / "messages.po" for lang in ("zh_Hans_CN", "en")]


def test_every_extracted_string_is_in_both_catalogues(tmp_path):
    pot = tmp_path / "messages.pot"
    CommandLineInterface().run(["pybabel", "-q", "extract", "-F", str(ROOT / "babel.cfg"), "-k", "_l",
                                "-k", "lazy_gettext", "--ignore-dirs", ".venv .git instance", "-o", str(pot), str(ROOT)])
    with pot.open("rb") as f:
        wanted = {m.id for m in read_po(f) if m.id}
    for po in CATALOGUES:
        with po.open("rb") as f:
            translated = {m.id for m in read_po(f) if m.id and m.string and not m.fuzzy}
        missing = sorted(str(m) for m in wanted - translated)
        assert not missing, f"{po.parent.parent.name}: untranslated (run `make extract-messages`): {missing}"


def test_english_on_request_and_chinese_by_default(browser, make):
    from tracker.auth.models import Role
    make.user(Role.ADMIN, username="boss")
    assert "登录" in browser.get("/login").text
    assert "Sign in" in browser.get("/login?lang=en").text
    assert "Sign in" in browser.get("/login").text  # the choice sticks for the session


def test_browser_language_is_honoured_and_unknown_codes_fall_back(app, db):
    from tests.helpers import Browser
    english = Browser(app).get("/login", headers={"Accept-Language": "en-US,en;q=0.9"})
    assert 'lang="en"' in english.text
    weird = Browser(app).get("/login?lang=xx-evil", headers={"Accept-Language": "de-DE, fr;q=0.5"})
    assert 'lang="zh-CN"' in weird.text


def test_file_sizes_read_naturally_in_both_languages(app):
    from flask_babel import force_locale

    from tracker.i18n import format_size
    with app.test_request_context():
        with force_locale("zh_CN"):
            assert [format_size(n) for n in (1, 820, 1536, 12_300_000)] == ["1 字节", "820 字节", "1.5 KB", "12.3 MB"]
        with force_locale("en"):
            assert [format_size(n) for n in (1, 820)] == ["1 byte", "820 bytes"]


@pytest.mark.parametrize("page_language,reader_language,page_word,mail_words", [
    ("zh_CN", "en", "整改台账", ("[Rectify] 2 re-checks are due", "Dear Ada,", "These re-checks are due:")),
    ("en", "zh_CN", "Ledger", ("【整改通】2 项回头看已到期", "Ada，您好：", "以下回头看已到期：")),
])
def test_a_mail_is_in_its_readers_language_whatever_the_page_is_in(app, make, page_language, reader_language,
                                                                     page_word, mail_words):
    """A mail written while someone browses in the other language reads in its recipient's language,
    and the page goes on in its own."""
    from flask_babel import gettext as babel_gettext

    from tracker.auth.models import Role
    from tracker.i18n import gettext
    from tracker.notifications import mails
    reader = make.user(Role.INSPECTOR, name="Ada", language=reader_language)
    with app.test_request_context(f"/?lang={page_language}"):
        app.preprocess_request()  # as a page's request starts: the language it selects
        assert gettext("Ledger") == page_word
        subject, text, html = mails.render(reader, "rechecks", lambda: babel_gettext(
            "[Rectify] %(n)d re-checks are due", n=2), rechecks=[], today=clock.today())
        assert gettext("Ledger") == babel_gettext("Ledger") == page_word
    assert subject == mail_words[0]
    for body in (text, html):
        assert mail_words[1] in body and mail_words[2] in body
