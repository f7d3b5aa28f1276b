"""Who acts on a request: a person or one of their organization's API keys, in one
organization, with a role. Every queryset of owned things is scoped by `actor.organization`
and every write is allowed by `actor.role` (the API's permission class, the web pages'
decorator); the audit log names the actor."""

from dataclasses import dataclass
from typing import cast

from .models import ApiKey, Membership, Organization, User
from .roles import lower


@dataclass(frozen=True)
class Actor:
    user: User
    organization: Organization
    role: str
    key: ApiKey | None = None


def acting(request) -> Actor:
    """Who acts on this request: set by the API's permission class (MemberRole) and, for the
    web pages, by ActorMiddleware; a view that reaches here has a signed-in person."""
    return cast(Actor, request.actor)


def memberships_of(user: User):
    """The user's memberships, their personal organization's first."""
    return Membership.objects.filter(user=user).select_related("organization").order_by("created_at", "id")


def actor_for_user(user: User, organization: str | int | None = None) -> Actor | None:
    """`user` acting in `organization` (a slug or an id; None: their first, the personal one),
    or None when they are not a member of it."""
    memberships = memberships_of(user)
    if isinstance(organization, int):
        memberships = memberships.filter(organization_id=organization)
    elif organization:
        memberships = memberships.filter(organization__slug=organization)
    membership = memberships.first()
    if membership is None:
        return None
    return Actor(user, membership.organization, membership.role)


def actor_for_key(key: ApiKey) -> Actor | None:
    """The key acting in its organization with its role, never above its maker's role there
    now; None when the maker is no longer a member."""
    membership = (
        Membership.objects.filter(user_id=key.made_by_id, organization_id=key.organization_id)
        .select_related("organization")
        .first()
    )
    if membership is None:
        return None
    return Actor(key.made_by, membership.organization, lower(key.role, membership.role), key)
