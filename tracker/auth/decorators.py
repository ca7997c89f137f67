"""Role guards for views."""
from functools import wraps

from flask import abort
from flask_login import current_user, login_required


def roles_required(*roles):
    """The view needs a signed-in user with one of `roles`; others get 403."""
    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)
        return wrapped
    return decorator
