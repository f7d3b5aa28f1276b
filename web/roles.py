"""The web pages' side of the roles (accounts/roles.py): a viewer sees the organization's
pages but gets 403 for a form or a button that writes, as the API answers."""

from collections.abc import Callable
from functools import wraps

from django.core.exceptions import PermissionDenied

from accounts.models import Role
from accounts.roles import at_least


def needs_role(role: str, *, posts_only: bool = False) -> Callable:
    """Refuse the view to a member below `role` (with `posts_only`, only what it posts)."""

    def decorate(view: Callable) -> Callable:
        @wraps(view)
        def checked(request, *args, **kwargs):
            actor = request.actor
            if (not posts_only or request.method == "POST") and not (actor and at_least(actor.role, role)):
                raise PermissionDenied(f"This takes the {role} role in the organization.")
            return view(request, *args, **kwargs)

        return checked

    return decorate


editor_required = needs_role(Role.EDITOR)
