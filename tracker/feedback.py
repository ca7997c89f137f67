"""Telling the user what went wrong with a form: messages next to fields, or flashed."""
from flask import flash
from flask_babel import gettext as _

from tracker.errors import Invalid


def show_errors(form, exc: Invalid) -> None:
    """Put service validation messages next to their fields (flash those without one)."""
    for name, message in exc.errors.items():
        field = getattr(form, name, None)
        if field is not None and hasattr(field, "errors"):
            field.errors = list(field.errors) + [message]
        else:
            flash(message, "error")


def flash_form_errors(form) -> None:
    """Flash a form's validation messages (for small forms that redirect back)."""
    for messages in form.errors.values():
        for message in messages:
            flash(message, "error")


def flash_expired() -> None:
    flash(_("The form was incomplete or has expired. Please try again."), "error")
