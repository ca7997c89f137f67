"""Domain errors raised by services, and the error pages."""
from __future__ import annotations

import logging

from flask import jsonify, render_template, request
from flask_babel import gettext as _
from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlalchemy.orm.exc import StaleDataError

from tracker.extensions import db

log = logging.getLogger(__name__)


class Refused(Exception):
    """The actor may not do this now (wrong role, unit or state). Nothing was changed."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class Conflict(Refused):
    """Someone else saved the same item first (optimistic lock); `item_id` says which."""

    def __init__(self, message: str, item_id: int):
        super().__init__(message)
        self.item_id = item_id


class Invalid(Exception):
    """The input is wrong; `errors` maps field names to messages. Nothing was changed."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


# The stable `code` of a JSON error for each status (see tracker/api/).
ERROR_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
               405: "method_not_allowed", 409: "conflict", 413: "too_large", 415: "unsupported_media_type",
               422: "invalid", 429: "rate_limited", 500: "server_error", 503: "unavailable"}


def wants_json() -> bool:
    return request.path.startswith("/api/") or request.path == "/healthz"


def json_error(status: int, message: str, fields: dict | None = None, code: str | None = None):
    """The one shape of an API error: {"error": {"code", "message", "fields"}}."""
    body = {"error": {"code": code or ERROR_CODES.get(status, "error"), "message": str(message),
                      "fields": {k: str(v) for k, v in (fields or {}).items()}}}
    return jsonify(body), status


def _page(code: int, title: str, message: str):
    if wants_json():
        return json_error(code, message)
    return render_template("errors/error.html", code=code, title=title, message=message), code


def _database_unavailable(exc):
    from tracker.database import is_busy, schema_state
    db.session.rollback()
    if is_busy(exc):  # a lock held too long by another transaction, or a statement timeout
        log.warning("database busy: %s", exc)
        response, code = _page(503, _("Busy"), _(
            "Someone else is saving the same record right now, or the database is overloaded. "
            "Nothing was saved; please try again in a moment."))
        return response, code, {"Retry-After": "5"}
    state = schema_state(db.engine)
    if state == "behind":
        log.error("database not migrated: %s", exc)
        return _page(503, _("Database unavailable"),
                     _("The database is not initialised for this version of Rectify. "
                       "An operator should run “.venv/bin/flask --app wsgi db upgrade” and try again."))
    if state == "unreachable":
        log.error("database unreachable: %s", exc)
        return _page(503, _("Database unavailable"), _(
            "The database cannot be reached right now. Nothing was saved; please try again in a few "
            "minutes. If it lasts, tell an operator."))
    log.error("database connection lost during a request: %s", exc)
    return _page(503, _("Connection lost"), _(
        "The connection to the database broke off while your request was handled. Reload the page to "
        "see whether your change was saved, and try again if it was not."))


def _stale(exc):
    """A lost optimistic-lock race on any path (someone else saved the item first): nothing is saved."""
    from tracker.items.conflicts import stale_message
    db.session.rollback()
    if wants_json():
        return json_error(409, stale_message(), code="version_conflict")
    return render_template("errors/error.html", code=409, title=_("Changed by someone else"),
                           message=stale_message()), 409


def register_error_pages(app) -> None:
    @app.errorhandler(400)
    def bad_request(exc):
        return _page(400, _("Bad request"), _("The request could not be understood. "
                                              "Reload the page and try again."))

    @app.errorhandler(403)
    def forbidden(exc):
        return _page(403, _("Not allowed"), _("You are not allowed to do this."))

    @app.errorhandler(404)
    def not_found(exc):
        return _page(404, _("Not found"), _("This page does not exist or you cannot see it."))

    @app.errorhandler(405)
    def method_not_allowed(exc):
        return _page(405, _("Not allowed"), _("This address does not accept that kind of request."))

    @app.errorhandler(413)
    def too_large(exc):
        from flask import current_app
        return _page(413, _("Too large"), _(
            "The upload is larger than allowed (%(file)d MB per file, %(total)d MB per upload). "
            "Nothing was saved. Go back and choose fewer or smaller files.",
            file=current_app.config["UPLOAD_MAX_FILE_MB"],
            total=current_app.config["MAX_CONTENT_LENGTH"] // (1024 * 1024) or 1))

    @app.errorhandler(429)
    def too_many_requests(exc):
        return _page(429, _("Too many requests"), _(
            "Too many attempts in a short time. Wait a few minutes, then try again."))

    @app.errorhandler(503)
    def unavailable(exc):
        return _page(503, _("Temporarily unavailable"), _(
            "The service is briefly unavailable (maintenance or overload). Please try again in a few minutes."))

    @app.errorhandler(500)
    def server_error(exc):
        db.session.rollback()
        return _page(500, _("Server error"), _("Something went wrong on our side. "
                                                "Nothing was saved; please try again."))

    app.register_error_handler(StaleDataError, _stale)
    app.register_error_handler(OperationalError, _database_unavailable)
    app.register_error_handler(ProgrammingError, _database_unavailable)
