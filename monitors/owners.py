"""A person's monitors follow their account: deactivating it pauses every monitor of theirs
still running (no more checks, alerts or open incidents for someone who can no longer sign
in), and reactivating it resumes exactly those, not the ones they had paused themselves.

Accounts know nothing of monitors, so the change of `User.is_active` reaches here through
Django's save signals (connected in monitors/apps.py); a queryset `update()` of users sends
none and is not seen."""

from django.db import transaction

from .models import Monitor
from .services import update_monitor


@transaction.atomic
def pause_for_inactive_owner(owner) -> int:
    """Pause the owner's running monitors; return how many."""
    monitors = list(Monitor.objects.filter(owner=owner, is_active=True))
    for monitor in monitors:
        update_monitor(monitor, is_active=False)
    Monitor.objects.filter(pk__in=[m.pk for m in monitors]).update(paused_with_owner=True)
    return len(monitors)


@transaction.atomic
def resume_for_reactivated_owner(owner) -> int:
    """Resume the monitors paused when the owner was deactivated; return how many."""
    monitors = list(Monitor.objects.filter(owner=owner, paused_with_owner=True))
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
