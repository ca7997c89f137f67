"""Rectify: the rectification-item tracker (整改事项跟踪)."""
from __future__ import annotations

import logging
from pathlib import Path

from flask import Flask, flash, g, jsonify, redirect, request, session
from flask_login import current_user
from sqlalchemy import text
from werkzeug.routing import IntegerConverter

from tracker import i18n
from tracker.extensions import babel, csrf, db, limiter, login_manager, migrate

ROOT = Path(__file__).resolve().parent.parent
log = logging.getLogger(__name__)


def select_locale() -> str:
    """A language picked with the switcher (?lang=, kept for the session), else the user's saved
    preference, else the browser's Accept-Language, else zh_CN. Unknown codes are ignored."""
    from flask import current_app, has_request_context
    languages = current_app.config["LANGUAGES"]
    if not has_request_context():  # CLI and jobs: the default (mail uses the recipient's language)
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    asked = request.args.get("lang")
    if asked in languages:
        session["lang"] = asked
    if session.get("lang") in languages:
        return session["lang"]
    if current_user and current_user.is_authenticated and current_user.language in languages:
        return current_user.language
    default = current_app.config["BABEL_DEFAULT_LOCALE"]
    if not request.accept_languages:  # Werkzeug would pick the first language for an empty header
        return default
    # Browsers send zh-CN / en-US; match them to our zh_CN / en.
    wanted = [lang.replace("_", "-") for lang in languages]
    best = request.accept_languages.best_match(wanted + ["zh"])
    if best is None:
        return default
    return "zh_CN" if best.lower().startswith("zh") else best.replace("-", "_")


class DatabaseId(IntegerConverter):
    """`<int:...>` in URLs matches only ids the database can hold; larger numbers are a plain 404."""

    def __init__(self, url_map, fixed_digits=0, min=1, max=2**31 - 1, signed=False):
        super().__init__(url_map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


def create_app(config_class=None) -> Flask:
    from config import config_for_environment
    app = Flask(__name__, template_folder=str(ROOT / "templates"), static_folder=str(ROOT / "static"),
                instance_path=str(ROOT / "instance"))
    app.config.from_object(config_class or config_for_environment())
    if app.config.get("CLOCK_OFFSET_SECONDS"):
        from tracker import clock
        clock.shift(app.config["CLOCK_OFFSET_SECONDS"])
    Path(app.instance_path).mkdir(exist_ok=True)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    db.init_app(app)
    from tracker import database
    database.init_app(app, db)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"))
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message_category = "info"
    # Flask-Login flashes its message when it sends someone to sign in: in the user's language.
    login_manager.login_message = i18n.lazy_gettext("Please sign in to see this page.")
    login_manager.localize_callback = str  # the lazy text in the request's language, flashed as text

    @login_manager.unauthorized_handler
    def _sign_in_first():
        """A form posted after the sign-in ended keeps its text (tracker/auth/kept.py)."""
        from flask_login import login_url
        from tracker.auth import kept
        if request.method == "POST":
            return kept.refused_form(signed_out=True)
        flash(str(login_manager.login_message), login_manager.login_message_category)
        return redirect(login_url(login_manager.login_view, next_url=request.full_path.rstrip("?")))
    csrf.init_app(app)
    limiter.init_app(app)
    from tracker import cache
    cache.init_app(app)
    if app.config["PREFERRED_URL_SCHEME"] == "https":  # served over HTTPS: cookies never go over HTTP
        app.config["SESSION_COOKIE_SECURE"] = app.config["REMEMBER_COOKIE_SECURE"] = True
    if app.config.get("PROXY_COUNT"):  # behind nginx: the client's address and scheme come from it
        from werkzeug.middleware.proxy_fix import ProxyFix
        count = app.config["PROXY_COUNT"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count, x_host=count)
    babel.init_app(app, locale_selector=lambda: i18n.parsed(select_locale()),
                   default_translation_directories=str(ROOT / "tracker" / "translations"))

    app.url_map.converters["int"] = DatabaseId
    _import_models()
    _register_blueprints(app)
    _register_template_helpers(app)
    _register_health(app)

    from tracker.errors import register_error_pages
    register_error_pages(app)
    from tracker.cli import register_cli
    register_cli(app)
    from tracker.evidence.cli import evidence_cli
    app.cli.add_command(evidence_cli)
    return app


def _import_models() -> None:
    """Import every model module so the metadata (and Alembic) sees the whole schema."""
    import tracker.api.models  # noqa: F401
    import tracker.auth.kept  # noqa: F401
    import tracker.auth.models  # noqa: F401
    import tracker.cache  # noqa: F401
    import tracker.days  # noqa: F401  (SQLite's local-day function, on every connection)
    import tracker.evaluations.models  # noqa: F401
    import tracker.evidence.models  # noqa: F401
    import tracker.inspection.models  # noqa: F401
    import tracker.items.models  # noqa: F401
    import tracker.journal  # noqa: F401
    import tracker.notifications.models  # noqa: F401
    import tracker.parts.models  # noqa: F401
    import tracker.reports.models  # noqa: F401
    import tracker.units.models  # noqa: F401


def _register_blueprints(app: Flask) -> None:
    from tracker.admin.routes import bp as admin_bp
    from tracker.api.pages import bp as tokens_bp
    from tracker.api.routes import bp as api_bp
    from tracker.auth.kept import bp as kept_bp
    from tracker.auth.routes import bp as auth_bp
    from tracker.evaluations.routes import bp as evaluations_bp
    from tracker.evidence.routes import bp as evidence_bp
    from tracker.inspection.routes import bp as inspection_bp
    from tracker.items.routes import bp as items_bp
    from tracker.notifications.routes import bp as notifications_bp
    from tracker.parts.routes import bp as parts_bp
    from tracker.reports.routes import bp as reports_bp
    app.register_blueprint(auth_bp)
    app.register_blueprint(kept_bp)
    app.register_blueprint(items_bp)
    app.register_blueprint(evaluations_bp)
    app.register_blueprint(evidence_bp)
    app.register_blueprint(inspection_bp)
    app.register_blueprint(admin_bp, url_prefix="/admin")
    app.register_blueprint(api_bp)
    app.register_blueprint(tokens_bp)
    app.register_blueprint(notifications_bp)
    app.register_blueprint(parts_bp)
    app.register_blueprint(reports_bp)


def format_day(value) -> str:
    """A calendar date for people: ISO (2026-03-16) in Chinese, as ledgers write it; the locale's
    medium form (Mar 16, 2026) in English."""
    from flask_babel import format_date, get_locale
    if value is None:
        return ""
    locale = get_locale()
    if locale is None or locale.language == "zh":
        return value.isoformat()
    return format_date(value, "medium")


def _register_template_helpers(app: Flask) -> None:
    from babel.lists import format_list
    from flask_babel import get_locale
    from tracker import clock
    from tracker.items import ledger, presentation
    i18n.install(app)
    app.jinja_env.globals.update(clock=clock, labels=presentation, get_locale=get_locale,
                                 filter_link=ledger.filter_link)
    from tracker.evidence.detect import ACCEPT
    app.jinja_env.globals["accepted_types"] = ACCEPT
    from tracker.auth import kept
    app.jinja_env.globals["kept_post"] = kept.shown
    app.jinja_env.filters["day"] = format_day
    # "A、B和C" / "A, B, and C": a list of names as the user's language writes one.
    app.jinja_env.filters["listing"] = lambda names: format_list(list(names), locale=get_locale())

    @app.after_request
    def security_headers(response):
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
            "frame-ancestors 'none'; form-action 'self'; base-uri 'self'")
        response.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        response.headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        if request.is_secure or app.config["PREFERRED_URL_SCHEME"] == "https":
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        return response


def _register_health(app: Flask) -> None:
    @app.get("/healthz")
    def healthz():
        """For load balancers and monitoring: 200 when the database answers SELECT 1, else 503."""
        from sqlalchemy.exc import SQLAlchemyError
        try:
            db.session.execute(text("SELECT 1"))
        except SQLAlchemyError as exc:
            db.session.rollback()
            log.error("health check: database unreachable: %s", exc)
            return jsonify({"status": "unavailable", "database": "unreachable"}), 503
        return jsonify({"status": "ok", "database": "reachable"})
