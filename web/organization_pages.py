"""The organization from the web pages: choosing which one to work in, its members and
invitations (admins invite, change roles and remove; anyone may leave), and accepting an
invitation from its link. The rules are accounts/organizations.py's, as in the API."""

from typing import cast

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from accounts import organizations
from accounts.actors import acting, actor_for_user
from accounts.middleware import SESSION_KEY
from accounts.models import Invitation, Membership, Role, User
from accounts.roles import ROLES, at_least, rank
from accounts.services import register_user

from .rate_limits import wait_seconds


def _errors(exc: ValidationError) -> list[str]:
    return [message for messages_ in exc.message_dict.values() for message in messages_]


@login_required
@require_POST
def switch(request: HttpRequest) -> HttpResponse:
    """Work in another of one's organizations from now on (kept in the session)."""
    chosen = request.POST.get("organization", "")
    actor = actor_for_user(cast(User, request.user), int(chosen)) if chosen.isdigit() else None
    if actor is None:
        raise PermissionDenied("You are not a member of that organization.")
    request.session[SESSION_KEY] = actor.organization.pk
    messages.success(request, f"Now working in “{actor.organization.name}”.")
    return redirect("web:dashboard")


@login_required
def members(request: HttpRequest) -> HttpResponse:
    actor = acting(request)
    if request.method == "POST":
        try:
            said = _act(request, actor)
        except ValidationError as exc:
            for message in _errors(exc):
                messages.error(request, message)
        else:
            messages.success(request, said)
            if request.POST.get("action") == "leave":
                request.session.pop(SESSION_KEY, None)
                return redirect("web:dashboard")
        return redirect("web:members")
    now = timezone.now()
    is_admin = at_least(actor.role, Role.ADMIN)
    invitations = Invitation.objects.filter(organization=actor.organization) if is_admin else Invitation.objects.none()
    memberships = list(Membership.objects.filter(organization=actor.organization).select_related("user"))
    for membership in memberships:
        # Controls only where they would work: an admin does not manage an owner.
        membership.manageable = is_admin and rank(membership.role) <= rank(actor.role)  # type: ignore[attr-defined]
    context = {
        "members": memberships,
        "invitations": [i for i in invitations.select_related("invited_by")[:50] if i.is_open_at(now)],
        "roles": ROLES[: rank(actor.role) + 1],
        "is_admin": is_admin,
        "nav": "members",
    }
    return render(request, "web/members.html", context)


def _act(request: HttpRequest, actor) -> str:
    """One form's action; PermissionDenied (403) for what the role does not allow."""
    action = request.POST.get("action")
    if action == "invite":
        invitation, _token = organizations.invite(actor, request.POST.get("email", ""), request.POST.get("role", ""))
        return f"Invitation sent to {invitation.email}."
    if action == "revoke":
        invitation = get_object_or_404(Invitation, organization=actor.organization, pk=request.POST.get("id"))
        organizations.revoke_invitation(actor, invitation)
        return f"The invitation to {invitation.email} is revoked."
    membership = get_object_or_404(
        Membership.objects.select_related("user"), organization=actor.organization, pk=request.POST.get("id")
    )
    if action == "role":
        organizations.change_role(actor, membership, request.POST.get("role", ""))
        return f"{membership.user.email} is now {membership.role}."
    if action in ("remove", "leave"):
        organizations.remove_member(actor, membership)
        leaving = membership.user_id == actor.user.pk
        return f"You left {actor.organization.name}." if leaving else f"{membership.user.email} is removed."
    raise ValidationError({"action": ["Unknown action."]})


@sensitive_post_parameters("password")
def accept(request: HttpRequest, token: str) -> HttpResponse:
    """The invitation's link: what it asks, and a button to join. Signed out, the invited
    address may make its account here (the link in its mailbox proves the address is
    theirs) or sign in and come back."""
    invitation = organizations.invitation_for(token)
    errors: list[str] = []
    if request.method == "POST" and invitation is not None:
        if not request.user.is_authenticated:
            errors = _sign_up(request, invitation)
        if request.user.is_authenticated and not errors:
            try:
                membership = organizations.accept_invitation(request.user, token)
            except ValidationError as exc:
                errors = _errors(exc)
            else:
                request.session[SESSION_KEY] = membership.organization_id
                messages.success(request, f"You joined “{membership.organization.name}” as {membership.role}.")
                return redirect("web:dashboard")
    email = getattr(request.user, "email", None)  # None: signed out
    context = {
        "invitation": invitation,
        "errors": errors,
        "for_someone_else": bool(invitation and email and invitation.email != email),
        "has_account": bool(invitation and User.objects.filter(email__iexact=invitation.email).exists()),
        "login_url": f"{reverse('web:login')}?{urlencode({'next': request.path})}",
    }
    status = 404 if invitation is None else 400 if errors else 200
    return render(request, "web/invitation.html", context, status=status)


def _sign_up(request: HttpRequest, invitation: Invitation) -> list[str]:
    """Make the invited address's account with the password posted, and sign it in."""
    if wait_seconds(request, "auth") is not None:
        return ["Too many attempts from here: wait a minute and try again."]
    if User.objects.filter(email__iexact=invitation.email).exists():
        return [f"{invitation.email} has an account already: sign in to accept."]
    password = request.POST.get("password", "")
    if password != request.POST.get("password_again", ""):
        return ["The two passwords differ."]
    try:
        user = register_user(invitation.email, password)
    except ValidationError as exc:
        return list(exc.messages)
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    return []
