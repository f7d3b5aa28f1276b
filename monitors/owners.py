"""An organization's monitors follow its people: when the last active member's account is
deactivated, every monitor of the organization still running is paused (no more checks,
alerts or open incidents for an organization no one can sign in to), and when one of them
is reactivated, exactly those are resumed, not the ones paused by hand. A team goes on
when one of its members leaves.

Accounts know nothing of monitors, so the change of `User.is_active` reaches here through
Django's save signals (connected in monitors/apps.py); a queryset `update()` of users sends
none and is not seen."""

from django.db import transaction

from accounts.models import Organization

from .models import Monitor
from .services import update_monitor


@transaction.atomic
def pause_for_inactive_owner(user) -> int:
    """Pause the running monitors of the user's organizations that no active member is left
    in; return how many."""
    left_alone = Organization.objects.filter(memberships__user=user).exclude(memberships__user__is_active=True)
    monitors = list(Monitor.objects.filter(organization__in=left_alone, is_active=True))
    for monitor in monitors:
        update_monitor(monitor, is_active=False)
    Monitor.objects.filter(pk__in=[m.pk for m in monitors]).update(paused_with_owner=True)
    return len(monitors)


@transaction.atomic
def resume_for_reactivated_owner(user) -> int:
    """Resume the monitors of the user's organizations paused when their people were
    deactivated; return how many."""
    monitors = list(Monitor.objects.filter(organization__memberships__user=user, paused_with_owner=True))
    for monitor in monitors:
        update_monitor(monitor, is_active=True)
    return len(monitors)


def remember_was_active(sender, instance, update_fields=None, **kwargs) -> None:
    """pre_save of a user: note whether the stored account was active, for post_save."""
    if update_fields is not None and "is_active" not in update_fields:
        # A save of other fields (every sign-in saves last_login) cannot change the state.
        instance._was_active = None
        return
    stored = sender.objects.filter(pk=instance.pk).values_list("is_active", flat=True).first() if instance.pk else None
    instance._was_active = stored


def follow_owner(sender, instance, created, **kwargs) -> None:
    """post_save of a user: pause or resume their monitors if the account changed state."""
    was_active = getattr(instance, "_was_active", None)
    if created or was_active is None or was_active == instance.is_active:
        return
    if instance.is_active:
        resume_for_reactivated_owner(instance)
    else:
        pause_for_inactive_owner(instance)
