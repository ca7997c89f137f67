"""Permission guards for views."""
from functools import wraps

from flask import abort
from flask_login import current_user, login_required


def allowed_if(question):
    """The view needs a signed-in user whose role answers yes to `question` (one of Role's can_*
    methods, e.g. `Role.can_administer`); others get 403."""
    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if not question(current_user.role):
                abort(403)
            return view(*args, **kwargs)
        return wrapped
    return decorator
