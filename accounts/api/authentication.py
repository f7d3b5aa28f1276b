"""API keys beside JWTs: `Authorization: Bearer upt_...` is a key; any other bearer token is
left to simplejwt. A key acts as its owner, limited to its role (KeyRole)."""

from rest_framework import authentication, exceptions, permissions

from accounts.keys import TOKEN_PREFIX, key_for
from accounts.models import ApiKey

# What each role may do through the API, beyond reading.
WRITES: dict[str, bool] = {
    ApiKey.Role.VIEWER: False,
    ApiKey.Role.EDITOR: True,
    ApiKey.Role.ADMIN: True,
    ApiKey.Role.OWNER: True,
}


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
        if key is None:
            raise exceptions.AuthenticationFailed("The API key is unknown, revoked or expired.", code="invalid_key")
        return key.owner, key

    def authenticate_header(self, request) -> str:
        return 'Bearer realm="api"'


def maker_role(request) -> str:
    """The role of whoever sends the request: a key's own, or owner for a person signed in."""
    auth = getattr(request, "auth", None)  # a web page's request has none
    return auth.role if isinstance(auth, ApiKey) else ApiKey.Role.OWNER


class KeyRole(permissions.BasePermission):
    """A viewer key reads; making, listing or revoking keys takes an admin or owner key; a
    person's own account (their password) is never a key's to change."""

    message = "This API key's role does not allow it."

    def has_permission(self, request, view) -> bool:
        if not isinstance(request.auth, ApiKey):
            return True
        if getattr(view, "people_only", False):
            return False
        role = request.auth.role
        if getattr(view, "needs_key_admin", False) and role not in (ApiKey.Role.ADMIN, ApiKey.Role.OWNER):
            return False
        return request.method in permissions.SAFE_METHODS or WRITES[role]
