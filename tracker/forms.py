"""The base of forms that share a page with others: each instance may be given its own element ids.

A page with several forms (the item page has one per action, file, milestone, re-check…) needs unique
element ids, CSRF input included, while the posted names stay those the views read. Give the instance
`meta={"id_prefix": "withdraw-3"}` (or the class a `Meta.id_prefix`) and its fields' ids become
"withdraw-3-reason", "withdraw-3-csrf_token". A `PageForm` with no fields of its own is a button: what
it posts is its CSRF token.
"""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import SelectMultipleField
from wtforms.validators import Length
from wtforms.widgets import CheckboxInput, ListWidget

from tracker.i18n import lazy_gettext as _l


class AtMost(Length):
    """A length limit that says the limit and the length typed, in the user's language. Its field is
    rendered without `maxlength`: a browser would cut a longer paste silently (see _macros.field)."""

    def __init__(self, limit: int):
        super().__init__(max=limit, message=_l("At most %(max)d characters; this text has %(length)d."))


class MultiCheckboxField(SelectMultipleField):
    """Several choices as checkboxes (the field macro renders them in a fieldset)."""
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class PageForm(FlaskForm):
    class Meta:
        id_prefix: str | None = None

        def bind_field(self, form, unbound_field, options):
            if self.id_prefix and "id" not in unbound_field.kwargs:
                options = {**options, "id": f"{self.id_prefix}-{options.get('prefix', '')}{options['name']}"}
            return unbound_field.bind(form=form, **options)

    @classmethod
    def shown(cls, id_prefix: str | None = None, **kwargs):
        """The form as a page shows it, empty: not filled from the request being answered (which may be
        another form's post). `id_prefix` replaces the class's own."""
        meta = {"id_prefix": id_prefix} if id_prefix else {}
        return cls(formdata=None, meta=meta, **kwargs)
