"""Organizations and their people: the personal one every user gets, new ones, invitations
by email, roles changed and members removed, under the rules of accounts/roles.py. Every
function takes the acting member (accounts/actors.py) and raises PermissionDenied for what
their role does not allow, ValidationError (per field) for bad input. Each change is written
to the audit log here, so the API and the web pages cannot forget it."""

import hashlib
import re
import secrets
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify

from audit.recording import record

from .actors import Actor
from .models import ApiKey, Invitation, Membership, Organization, Role, User
from .roles import at_least, rank

INVITATION_DAYS = 7
# Open invitations per organization: a stolen admin session cannot mail the world.
OPEN_INVITATIONS_LIMIT = 100


def monitor_quota(organization: Organization) -> int:
    """Monitors the organization may have (0: no limit): its own quota, set by the operator
    in the admin, else MONITOR_QUOTA_PER_ORGANIZATION."""
    own = organization.monitor_quota
    return settings.MONITOR_QUOTA_PER_ORGANIZATION if own is None else own


def _free_slug(name: str) -> str:
    """The name as a slug, numbered past those taken ("info", "info-2", ...): one query,
    however many addresses start with info@."""
    base = slugify(name)[:50].strip("-") or "organization"
    taken = set(
        Organization.objects.filter(slug__regex=rf"^{re.escape(base)}(-[0-9]+)?$").values_list("slug", flat=True)
    )
    if base not in taken:
        return base
    numbers = [int(slug.rsplit("-", 1)[1]) for slug in taken if slug != base]
    return f"{base}-{max([1, *numbers]) + 1}"


@transaction.atomic
def create_organization(user: User, name: str) -> Organization:
    """A new organization with `user` as its owner."""
    name = name.strip()
    if not name:
        raise ValidationError({"name": ["Give the organization a name."]})
    for _attempt in range(3):
        try:
            with transaction.atomic():
                organization = Organization.objects.create(name=name[:100], slug=_free_slug(name))
                break
        except IntegrityError:  # another took the slug between the look and the write
            continue
    else:
        raise ValidationError({"name": ["Could not find a free address for this name; try another."]})
    Membership.objects.create(organization=organization, user=user, role=Role.OWNER)
    return organization


def create_personal_organization(user: User) -> Organization:
    """The organization a new account starts in: its own, named after the address."""
    return create_organization(user, user.email.split("@")[0] or user.email)


def rename_organization(actor: Actor, name: str) -> Organization:
    _require(actor, Role.ADMIN)
    name = name.strip()
    if not name:
        raise ValidationError({"name": ["Give the organization a name."]})
    organization = actor.organization
    before, organization.name = organization.name, name[:100]
    organization.save(update_fields=["name"])
    record(organization.pk, "changed", "organization", organization, {"name": [before, organization.name]})
    return organization


def _require(actor: Actor, role: str) -> None:
    if not at_least(actor.role, role):
        raise PermissionDenied(f"This takes the {role} role; yours is {actor.role}.")


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def invite(actor: Actor, email: str, role: str) -> tuple[Invitation, str]:
    """Invite `email` with `role` (no higher than the inviter's) and send them the link;
    returns the invitation and its token, which is not stored."""
    _require(actor, Role.ADMIN)
    email = User.objects.normalize_email(email).strip().lower()
    errors: dict[str, list[str]] = {}
    if role not in Role.values:
        errors["role"] = [f"Choose one of: {', '.join(Role.values)}."]
    elif rank(role) > rank(actor.role):
        errors["role"] = [f"You may not invite with a role above yours ({actor.role})."]
    if Membership.objects.filter(organization=actor.organization, user__email__iexact=email).exists():
        errors["email"] = ["This address is a member already."]
    now = timezone.now()
    open_ones = Invitation.objects.filter(
        organization=actor.organization, accepted_at__isnull=True, revoked_at__isnull=True, expires_at__gt=now
    )
    if open_ones.count() >= OPEN_INVITATIONS_LIMIT:
        errors["non_field_errors"] = [f"{OPEN_INVITATIONS_LIMIT} invitations are open: revoke some first."]
    if errors:
        raise ValidationError(errors)
    # A new invitation to the same address replaces the open one: one link works at a time.
    open_ones.filter(email__iexact=email).update(revoked_at=now)
    token = secrets.token_urlsafe(32)
    invitation = Invitation.objects.create(
        organization=actor.organization,
        email=email,
        role=role,
        invited_by=actor.user,
        token_hash=_token_hash(token),
        expires_at=now + timedelta(days=INVITATION_DAYS),
    )
    record(invitation.organization_id, "invited", "member", invitation, {"role": role}, name=email)
    link = f"{settings.PUBLIC_URL.rstrip('/')}/invitations/{token}/"
    transaction.on_commit(
        lambda: send_mail(
            f"You are invited to {actor.organization.name} on Uptime",
            f"{actor.user.email} invites you to the organization “{actor.organization.name}” as {role}.\n\n"
            f"Join: {link}\n(Without an account for this address, you make one there.)\n\n"
            f"The link works once, for {INVITATION_DAYS} days.",
            None,
            [email],
        )
    )
    return invitation, token


def invitation_for(token: str) -> Invitation | None:
    """The open invitation this token is, or None."""
    invitation = Invitation.objects.select_related("organization").filter(token_hash=_token_hash(token)).first()
    if invitation is None or not invitation.is_open_at(timezone.now()):
        return None
    return invitation


@transaction.atomic
def accept_invitation(user: User, token: str) -> Membership:
    """`user` joins with the invitation's role, if it is open and was sent to their address."""
    invitation = invitation_for(token)
    if invitation is None:
        raise ValidationError({"token": ["This invitation is unknown, used, revoked or expired."]})
    if invitation.email.lower() != user.email.lower():
        raise ValidationError({"token": [f"This invitation was sent to another address, not {user.email}."]})
    # Conditional: two clicks on the link make one membership.
    if not Invitation.objects.filter(pk=invitation.pk, accepted_at__isnull=True).update(accepted_at=timezone.now()):
        raise ValidationError({"token": ["This invitation is used already."]})
    membership, _created = Membership.objects.get_or_create(
        organization=invitation.organization, user=user, defaults={"role": invitation.role}
    )
    record(membership.organization_id, "joined", "member", membership, {"role": membership.role}, name=user.email)
    return membership


def revoke_invitation(actor: Actor, invitation: Invitation) -> None:
    _require(actor, Role.ADMIN)
    Invitation.objects.filter(pk=invitation.pk, accepted_at__isnull=True, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
    invitation.refresh_from_db(fields=["revoked_at"])
    record(invitation.organization_id, "revoked", "invitation", invitation, name=invitation.email)


def _owners_left(membership: Membership) -> int:
    owners = Membership.objects.select_for_update().filter(organization_id=membership.organization_id, role=Role.OWNER)
    return len([m for m in owners if m.pk != membership.pk])


@transaction.atomic
def change_role(actor: Actor, membership: Membership, role: str) -> Membership:
    """Give a member another role: an admin up to admin, an owner any; never leaves the
    organization without an owner."""
    _require(actor, Role.ADMIN)
    if role not in Role.values:
        raise ValidationError({"role": [f"Choose one of: {', '.join(Role.values)}."]})
    if rank(role) > rank(actor.role) or rank(membership.role) > rank(actor.role):
        raise PermissionDenied(f"Only an owner may make or unmake an owner; your role is {actor.role}.")
    if membership.role == Role.OWNER and role != Role.OWNER and not _owners_left(membership):
        raise ValidationError({"role": ["The organization's last owner stays owner: make another owner first."]})
    before, membership.role = membership.role, role
    membership.save(update_fields=["role"])
    changes = {"role": [before, role]}
    record(membership.organization_id, "role changed", "member", membership, changes, name=membership.user.email)
    return membership


@transaction.atomic
def remove_member(actor: Actor, membership: Membership) -> None:
    """An admin removes a member (an owner only by an owner); anyone may leave. The last
    owner may not go. The member's keys for this organization stop working with them."""
    if membership.user_id != actor.user.pk:
        _require(actor, Role.ADMIN)
        if rank(membership.role) > rank(actor.role):
            raise PermissionDenied("Only an owner may remove an owner.")
    if membership.role == Role.OWNER and not _owners_left(membership):
        raise ValidationError({"non_field_errors": ["The organization's last owner cannot leave it."]})
    ApiKey.objects.filter(
        organization_id=membership.organization_id, made_by_id=membership.user_id, revoked_at__isnull=True
    ).update(revoked_at=timezone.now())
    membership.delete()
    action = "left" if membership.user_id == actor.user.pk else "removed"
    record(membership.organization_id, action, "member", None, name=membership.user.email)


@transaction.atomic
def hand_over(user: User) -> None:
    """Before `user`'s account is deleted: the organizations no one else is in go with it
    (its personal one, with its monitors, as deleting a user always did); a team it was the
    last owner of gets a new owner, its longest-standing admin, else its longest-standing
    member, so an organization never lacks one."""
    theirs = Membership.objects.filter(user=user).values("organization")
    shared = Membership.objects.filter(organization__in=theirs).exclude(user=user).values("organization")
    Organization.objects.filter(pk__in=theirs).exclude(pk__in=shared).delete()
    for membership in Membership.objects.filter(user=user, role=Role.OWNER):
        others = Membership.objects.filter(organization_id=membership.organization_id).exclude(user=user)
        if others.filter(role=Role.OWNER).exists():
            continue
        heir = others.filter(role=Role.ADMIN).first() or others.first()
        if heir is not None:
            heir.role = Role.OWNER
            heir.save(update_fields=["role"])
