"""API keys beside JWTs, and who acts on each request. `Authorization: Bearer upt_...` is a
key; any other bearer token is left to simplejwt. A person acts in the organization the
`X-Organization` header names (its slug; their personal one without it) or that the path
names; a key in its own organization, never above its maker's role (accounts/actors.py)."""

from rest_framework import authentication, exceptions, permissions

from accounts.actors import Actor, actor_for_key, actor_for_user
from accounts.keys import TOKEN_PREFIX, key_for
from accounts.models import ApiKey, Role
from accounts.roles import at_least

ORGANIZATION_HEADER = "X-Organization"


class ApiKeyAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if len(header) != 2 or header[0].decode("latin-1").lower() != "bearer":
            return None
        token = header[1].decode("latin-1")
        if not token.startswith(TOKEN_PREFIX):
            return None  # a JWT
        key = key_for(token)
        actor = actor_for_key(key) if key is not None else None
        if key is None or actor is None:
            raise exceptions.AuthenticationFailed("The API key is unknown, revoked or expired.", code="invalid_key")
        request.actor = actor  # read once: MemberRole takes it from here
        return key.made_by, key

    def authenticate_header(self, request) -> str:
        return 'Bearer realm="api"'


def actor_of(request, organization: str | None = None) -> Actor:
    """Who acts on this API request, in `organization` (a slug from the path) or the one its
    header names; NotFound for an organization the person is not in (an outsider learns
    nothing of it), PermissionDenied for a key sent to another organization."""
    wanted = organization or request.headers.get(ORGANIZATION_HEADER) or None
    if isinstance(request.auth, ApiKey):
        actor = request.actor  # ApiKeyAuthentication's
        if wanted and wanted != actor.organization.slug:
            raise exceptions.PermissionDenied(f"This API key belongs to the organization “{actor.organization.slug}”.")
        return actor
    actor = actor_for_user(request.user, wanted)
    if actor is None:
        raise exceptions.NotFound(f"You are not a member of an organization “{wanted}”.")
    return actor


class MemberRole(permissions.BasePermission):
    """Reads take the view's `read_role` (viewer by default), writes its `write_role`
    (editor by default). A view with `organization_free` needs no organization (signing up,
    one's own profile, the list of one's organizations); `people_only` refuses keys (a
    person's own account is never a key's to change). Sets `request.actor`."""

    message = "Your role in this organization does not allow it."

    def has_permission(self, request, view) -> bool:
        if getattr(view, "people_only", False) and isinstance(request.auth, ApiKey):
            self.message = "An API key may not do this; sign in as the person."
            return False
        if getattr(view, "organization_free", False) or not request.user.is_authenticated:
            return True
        # On Django's request too, where the audit log looks (audit/recording.py).
        request.actor = request._request.actor = actor_of(request, view.kwargs.get("organization_slug"))
        if request.method in permissions.SAFE_METHODS:
            needed = getattr(view, "read_role", Role.VIEWER)
        else:
            needed = getattr(view, "write_role", Role.EDITOR)
        if not at_least(request.actor.role, needed):
            self.message = f"This takes the {needed} role in the organization; yours is {request.actor.role}."
            return False
        return True
