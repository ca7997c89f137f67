"""Domain errors raised by services, and the error pages."""
from __future__ import annotations

import logging

from flask import jsonify, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import IntegrityError, OperationalError, ProgrammingError
from sqlalchemy.orm.exc import StaleDataError

from tracker.extensions import db

log = logging.getLogger(__name__)


class Refused(Exception):
    """The actor may not do this now (wrong role, unit or state). Nothing was changed."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class Conflict(Exception):
    """Someone else saved the same record first (a lost race): nothing of this request was saved.

    Raised by tracker/uow.py for a StaleDataError or a unique violation, and by a service that sees
    an outdated version; `item_id` says which item, when it is one (its latest changes are shown)."""

    def __init__(self, item_id: int | None = None, message: str | None = None):
        super().__init__(message or "conflict")
        self.item_id = item_id
        self._message = message

    @property
    def message(self) -> str:
        if self._message:
            return self._message
        if self.item_id is not None:
            return _("Someone else changed this item at the same time. "
                     "Reload the page to see their change, then try again.")
        return _("Someone else saved a change to the same record at the same time. Nothing of yours "
                 "was saved: reload the page to see their change, then try again.")


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


def json_error(status: int, message: str, fields: dict | None = None, code: str | None = None, **extra):
    """The one shape of an API error: {"error": {"code", "message", "fields"}} (a conflict adds "changes")."""
    body = {"error": {"code": code or ERROR_CODES.get(status, "error"), "message": str(message),
                      "fields": {k: str(v) for k, v in (fields or {}).items()}, **extra}}
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


def _conflict(exc):
    """A lost race on any path, page or API (someone else saved first): nothing is saved; the
    answer is 409 with the item's latest changes, the same for every write."""
    from tracker import uow
    from tracker.items import conflicts
    db.session.rollback()
    if not isinstance(exc, Conflict):
        if not uow.lost_race(exc):  # an IntegrityError that is a bug, not a race
            log.exception("integrity error", exc_info=exc)
            return _page(500, _("Server error"), _("Something went wrong on our side. "
                                                    "Nothing was saved; please try again."))
        exc = Conflict((request.view_args or {}).get("item_id"))
    entries = conflicts.latest_entries(exc.item_id) if exc.item_id is not None else []
    if wants_json():
        return json_error(409, exc.message, code="version_conflict",
                          changes=[conflicts.entry_json(e) for e in entries])
    from tracker.items.presentation import journal_rows
    return render_template("errors/conflict.html", message=exc.message, item_id=exc.item_id,
                           changes=journal_rows(entries)), 409


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

    @app.errorhandler(CSRFError)
    def expired_form(exc):
        from flask_login import current_user
        from tracker.auth import kept
        if wants_json() or not kept.from_this_site():  # another site's post: refused, nothing kept
            return bad_request(exc)
        return kept.refused_form(signed_out=not current_user.is_authenticated)

    for lost_race in (Conflict, StaleDataError, IntegrityError):
        app.register_error_handler(lost_race, _conflict)
    app.register_error_handler(OperationalError, _database_unavailable)
    app.register_error_handler(ProgrammingError, _database_unavailable)
