"""API tokens as the API reads them: simplejwt's, refusing a token whose claims are not of
the kind we issue (401, never a 500), even one validly signed with JWT_SIGNING_KEY."""

from typing import Any

from rest_framework.exceptions import AuthenticationFailed
from rest_framework_simplejwt import serializers, tokens
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.utils import datetime_from_epoch

from accounts.models import User

# The users table's bigint primary key, and OutstandingToken.jti's column.
MAX_USER_ID = 2**63 - 1
MAX_JTI_LENGTH = 255


def claims_problem(payload: dict[str, Any]) -> str | None:
    """What simplejwt would trip over with a 500 later: a user id that is no primary key
    (`"abc"`, a list, `"1.5"`), an id no token table can hold, an expiry no date can hold."""
    user_id = payload.get(api_settings.USER_ID_CLAIM)
    # We issue the id as a string of digits ("12"); simplejwt once wrote a number.
    if isinstance(user_id, str) and user_id.isascii() and user_id.isdigit() and len(user_id) <= 19:
        user_id = int(user_id)
    if type(user_id) is not int or not 0 < user_id <= MAX_USER_ID:
        return "Token contained no recognizable user identification"
    jti = payload.get(api_settings.JTI_CLAIM)
    if not isinstance(jti, str) or not 0 < len(jti) <= MAX_JTI_LENGTH:
        return "Token has no id"
    if "exp" in payload:  # a token without one is refused by simplejwt itself
        exp = payload["exp"]
        try:
            if type(exp) not in (int, float):
                raise TypeError(exp)
            datetime_from_epoch(exp)
        except (TypeError, ValueError, OverflowError, OSError):
            return "Token has no valid expiry"
    return None


class ClaimsChecked(tokens.Token):
    def verify(self) -> None:
        problem = claims_problem(self.payload)
        if problem:
            raise TokenError(problem)
        super().verify()


class AccessToken(ClaimsChecked, tokens.AccessToken):
    """The token every authenticated request carries (SIMPLE_JWT's AUTH_TOKEN_CLASSES)."""


# Our check first: simplejwt's blacklist check reads the token id before its own checks run.
# (simplejwt's two bases disagree on for_user's type, which mypy reports on any subclass.)
class RefreshToken(ClaimsChecked, tokens.RefreshToken):  # type: ignore[misc]
    """A refresh token sent to be rotated or blacklisted."""


# simplejwt's, reading our RefreshToken; the token of a deleted user is a 401 as an inactive
# user's is (simplejwt lets User.DoesNotExist through). The docstring is the document's.
class TokenRefreshSerializer(serializers.TokenRefreshSerializer):
    """A refresh token, exchanged for a new access token and a new refresh token."""

    token_class = RefreshToken

    def validate(self, attrs: dict[str, Any]) -> dict[str, str]:
        try:
            return super().validate(attrs)
        except User.DoesNotExist:
            raise AuthenticationFailed(self.error_messages["no_active_account"], "no_active_account") from None
