"""What an auditor checks on every response: security headers, cookies, and error pages that say
what happened in the user's language without a stack trace or a version banner."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask import abort

from config import TestConfig
from tests.helpers import Browser
from tracker import create_app
from tracker.auth.models import Role

ROOT = Path(__file__).resolve().parent.parent
BANNERS = re.compile(r"Traceback|Werkzeug|Python/\d|Flask \d|File \"/|sqlalchemy\.", re.I)


def assert_secure_headers(response) -> None:
    headers = response.headers
    csp = headers["Content-Security-Policy"]
    script = next(part for part in csp.split(";") if part.strip().startswith(("script-src", "default-src")))
    assert "unsafe-inline" not in script and "unsafe-eval" not in csp
    assert "frame-ancestors 'none'" in csp or headers["X-Frame-Options"] == "DENY"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] in ("same-origin", "no-referrer", "strict-origin-when-cross-origin")
    assert not BANNERS.search(headers.get("Server", ""))


def test_every_kind_of_response_carries_the_security_headers(app, make, login_as, browser):
    admin = login_as(make.user(Role.ADMIN))
    responses = [browser.get("/login"), browser.get("/items"), browser.get("/no-such-page"),
                 browser.get("/static/app.css"), browser.get("/healthz"), browser.get("/api/v1/openapi.json"),
                 browser.get("/api/v1/items"), browser.client.post("/login", data={}),
                 admin.get("/items"), admin.get("/admin/users"), admin.get("/profile/tokens"),
                 admin.get("/items/999999"), admin.get("/logout")]
    assert {r.status_code for r in responses} >= {200, 302, 400, 401, 404, 405}
    for response in responses:
        assert_secure_headers(response)


def test_templates_have_no_inline_scripts_styles_or_handlers():
    """The CSP forbids them; this keeps the templates honest before a browser notices."""
    offenders = []
    for template in (ROOT / "templates").rglob("*.html"):
        if "email" in template.parts:
            continue  # mail clients, not browsers under our CSP
        text = template.read_text(encoding="utf-8")
        if re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text) or re.search(r"\son[a-z]+\s*=", text) \
                or re.search(r"\sstyle\s*=", text) or "javascript:" in text:
            offenders.append(str(template.relative_to(ROOT)))
    assert offenders == []


def test_cookies_are_secure_when_served_over_https(database_url, db):
    class Https(TestConfig):
        SQLALCHEMY_DATABASE_URI = database_url
        PREFERRED_URL_SCHEME = "https"

    https_app = create_app(Https)
    assert https_app.config["SESSION_COOKIE_SECURE"] is True
    response = https_app.test_client().get("/login", base_url="https://localhost")
    cookie = response.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")


def test_the_setting_follows_preferred_url_scheme(monkeypatch):
    import importlib

    import config
    monkeypatch.setenv("PREFERRED_URL_SCHEME", "https")
    monkeypatch.delenv("SESSION_COOKIE_SECURE", raising=False)
    try:
        assert importlib.reload(config).Config.SESSION_COOKIE_SECURE is True
    finally:
        monkeypatch.undo()
        importlib.reload(config)


@pytest.fixture(scope="module")
def failing_app(database_url):
    """An app like production (exceptions become the 500 page) with routes that fail on purpose."""
    class Production(TestConfig):
        SQLALCHEMY_DATABASE_URI = database_url
        TESTING = False
        PROPAGATE_EXCEPTIONS = False
        MAX_CONTENT_LENGTH = 1024

    application = create_app(Production)

    @application.get("/boom")
    def boom():
        raise RuntimeError("secret internals /srv/rectify/tracker/x.py")

    @application.get("/fail/<int:code>")
    def fail(code):
        abort(code)

    @application.post("/upload")
    def upload():
        from flask import request
        return str(len(request.get_data()))

    return application


TITLES = {400: "Bad request", 403: "Not allowed", 404: "Not found", 413: "Too large", 429: "Too many requests",
          500: "Server error", 503: "Temporarily unavailable"}


@pytest.mark.parametrize("lang", ["zh_CN", "en"])
def test_error_pages_in_the_users_language_without_internals(failing_app, db, lang):
    from flask_babel import force_locale, gettext
    with failing_app.test_request_context(), force_locale(lang):
        words = {code: gettext(title) for code, title in TITLES.items()}
    if lang == "zh_CN":
        assert words[404] != "Not found"
    client = failing_app.test_client()
    pages = {code: client.get(f"/fail/{code}?lang={lang}") for code in (400, 403, 404, 429, 503)}
    pages[500] = client.get(f"/boom?lang={lang}")
    pages[413] = client.post(f"/upload?lang={lang}", data=b"x" * 4096)
    for code, page in pages.items():
        assert page.status_code == code
        assert not BANNERS.search(page.text) and "secret internals" not in page.text
        assert_secure_headers(page)
        assert page.mimetype == "text/html"
    for code, word in words.items():
        assert f"<h1>{word} <small>({code})</small></h1>" in pages[code].text, (code, word)


def test_api_errors_are_json_in_the_one_shape(failing_app, db):
    client = failing_app.test_client()
    for url, code in (("/api/v1/nothing-here", 404), ("/api/v1/items", 401)):
        response = client.get(url)
        assert response.status_code == code
        assert set(response.get_json()["error"]) == {"code", "message", "fields"}
    assert client.delete("/api/v1/items").status_code == 405


def test_production_server_sends_no_version_banner():
    """gunicorn announces itself without a version; the app adds no banner of its own."""
    import gunicorn
    assert gunicorn.SERVER == "gunicorn"
