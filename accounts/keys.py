"""API keys: made by a member for their organization with a role no higher than theirs,
shown once, stored as a hash, checked on each request with their last use recorded, revoked
for good."""

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.utils import timezone

from .actors import Actor
from .models import ApiKey, Role
from .roles import ROLES, at_least, rank

TOKEN_PREFIX = "upt_"
# A key's last use is written at most this often: a script's every request is not a write.
LAST_USED_PRECISION = timedelta(minutes=1)
KEYS_PER_USER = 100


def _hash(token: str) -> str:
    # The secret is 256 random bits: a fast hash loses nothing to guessing, and a request
    # with a key costs no password-hash time.
    return hashlib.sha256(token.encode()).hexdigest()


def create_key(actor: Actor, name: str, role: str, expires_at: datetime | None = None) -> tuple[ApiKey, str]:
    """A new key for the actor's organization, made by the actor's person, and its token,
    which is never shown again. The role may not pass the actor's (a key's own, when a key
    makes one)."""
    errors: dict[str, list[str]] = {}
    if role not in ROLES:
        errors["role"] = [f"Choose one of: {', '.join(ROLES)}."]
    elif rank(role) > rank(actor.role):
        errors["role"] = [f"A key may not have a role above yours ({actor.role})."]
    if expires_at is not None and expires_at <= timezone.now():
        errors["expires_at"] = ["The expiry must be in the future."]
    if ApiKey.objects.filter(made_by=actor.user, revoked_at__isnull=True).count() >= KEYS_PER_USER:
        errors["non_field_errors"] = [f"You have {KEYS_PER_USER} keys in use: revoke one first."]
    if errors:
        raise ValidationError(errors)
    prefix = secrets.token_hex(6)
    token = f"{TOKEN_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    key = ApiKey.objects.create(
        organization=actor.organization,
        made_by=actor.user,
        name=name,
        role=role,
        prefix=prefix,
        secret_hash=_hash(token),
        expires_at=expires_at,
    )
    return key, token


def key_for(token: str) -> ApiKey | None:
    """The usable key this token is, or None: unknown, wrong secret, revoked, expired, or its
    maker deactivated. Its last use is recorded."""
    parts = token.removeprefix(TOKEN_PREFIX).split("_", 1)
    if not token.startswith(TOKEN_PREFIX) or len(parts) != 2 or len(parts[0]) != 12:
        return None
    key = ApiKey.objects.select_related("made_by", "organization").filter(prefix=parts[0]).first()
    now = timezone.now()
    if key is None or not hmac.compare_digest(key.secret_hash, _hash(token)):
        return None
    if not key.is_active_at(now) or not key.made_by.is_active:
        return None
    if key.last_used_at is None or key.last_used_at < now - LAST_USED_PRECISION:
        # Conditional: concurrent requests with the same key write it once.
        ApiKey.objects.filter(pk=key.pk, last_used_at=key.last_used_at).update(last_used_at=now)
        key.last_used_at = now
    return key


def keys_seen_by(actor: Actor):
    """An admin or owner sees and revokes every key of the organization; others their own."""
    keys = ApiKey.objects.owned_by(actor.organization).select_related("made_by")
    return keys if at_least(actor.role, Role.ADMIN) else keys.filter(made_by=actor.user)


def revoke_key(key: ApiKey) -> None:
    """The key stops working at once; its row stays, listed as revoked."""
    ApiKey.objects.filter(pk=key.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
    key.refresh_from_db(fields=["revoked_at"])
