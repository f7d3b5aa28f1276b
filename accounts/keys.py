"""API keys: made with a role no higher than their maker's, shown once, stored as a hash,
checked on each request with their last use recorded, revoked for good."""

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.utils import timezone

from .models import ApiKey, User

TOKEN_PREFIX = "upt_"
# A key's last use is written at most this often: a script's every request is not a write.
LAST_USED_PRECISION = timedelta(minutes=1)
ROLES = list(ApiKey.Role.values)  # lowest first
KEYS_PER_USER = 100


def rank(role: str) -> int:
    return ROLES.index(role)


def _hash(token: str) -> str:
    # The secret is 256 random bits: a fast hash loses nothing to guessing, and a request
    # with a key costs no password-hash time.
    return hashlib.sha256(token.encode()).hexdigest()


def create_key(
    owner: User, name: str, role: str, expires_at: datetime | None = None, maker_role: str = ApiKey.Role.OWNER
) -> tuple[ApiKey, str]:
    """A new key of `owner`'s and its token, which is never shown again. `maker_role` is
    the role of whoever makes it: a person signed in acts as owner of their account, a key
    as its own role."""
    errors: dict[str, list[str]] = {}
    if role not in ROLES:
        errors["role"] = [f"Choose one of: {', '.join(ROLES)}."]
    elif rank(role) > rank(maker_role):
        errors["role"] = [f"A key may not have a role above yours ({maker_role})."]
    if expires_at is not None and expires_at <= timezone.now():
        errors["expires_at"] = ["The expiry must be in the future."]
    if ApiKey.objects.filter(owner=owner, revoked_at__isnull=True).count() >= KEYS_PER_USER:
        errors["non_field_errors"] = [f"You have {KEYS_PER_USER} keys in use: revoke one first."]
    if errors:
        raise ValidationError(errors)
    prefix = secrets.token_hex(6)
    token = f"{TOKEN_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    key = ApiKey.objects.create(
        owner=owner, name=name, role=role, prefix=prefix, secret_hash=_hash(token), expires_at=expires_at
    )
    return key, token


def key_for(token: str) -> ApiKey | None:
    """The usable key this token is, or None: unknown, wrong secret, revoked, expired, or its
    owner deactivated. Its last use is recorded."""
    parts = token.removeprefix(TOKEN_PREFIX).split("_", 1)
    if not token.startswith(TOKEN_PREFIX) or len(parts) != 2 or len(parts[0]) != 12:
        return None
    key = ApiKey.objects.select_related("owner").filter(prefix=parts[0]).first()
    now = timezone.now()
    if key is None or not hmac.compare_digest(key.secret_hash, _hash(token)):
        return None
    if not key.is_active_at(now) or not key.owner.is_active:
        return None
    if key.last_used_at is None or key.last_used_at < now - LAST_USED_PRECISION:
        # Conditional: concurrent requests with the same key write it once.
        ApiKey.objects.filter(pk=key.pk, last_used_at=key.last_used_at).update(last_used_at=now)
        key.last_used_at = now
    return key


def revoke_key(key: ApiKey) -> None:
    """The key stops working at once; its row stays, listed as revoked."""
    ApiKey.objects.filter(pk=key.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
    key.refresh_from_db(fields=["revoked_at"])
