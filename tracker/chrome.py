"""The page frame's fixed parts: stylesheets and the main navigation, rendered once per process.

Every page shows them, and with a dozen url_for and gettext calls they cost about as much as a
small page's own content. They depend only on the role (which links), the language and where the
app is mounted, so each is rendered the first time and kept under exactly that key.
"""
from __future__ import annotations

from flask import current_app, request
from flask_babel import get_locale
from markupsafe import Markup

from tracker.auth.models import Role

_RENDERED: dict[tuple, Markup] = {}


def _macro(name: str):
    return getattr(current_app.jinja_env.get_template("_chrome.html").module, name)


def head_links() -> Markup:
    key = ("head", request.script_root)
    if key not in _RENDERED:
        _RENDERED[key] = _macro("head_links")()
    return _RENDERED[key]


def main_nav(role: Role) -> Markup:
    key = ("nav", role, str(get_locale()), request.script_root)
    if key not in _RENDERED:
        _RENDERED[key] = _macro("main_nav")(role)
    return _RENDERED[key]
