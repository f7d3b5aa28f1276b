"""TLS certificate expiry: kept on the monitor from its checks, shown as a warning, and the
once-per-certificate decision the notifications use to warn about it."""

from datetime import datetime, timedelta

from checks.models import Tick
from monitors.models import Monitor
from notifications.services import notify_monitor


def record_certificate(monitor: Monitor, tick: Tick) -> None:
    """Keep the monitor's tls_expires_at up to date with what a check saw."""
    if tick.tls_expires_at is not None:
        expires_at = tick.tls_expires_at
    elif tick.status == Tick.Status.UP:
        expires_at = None  # answered without TLS: the URL no longer leads to https
    else:
        return  # a failed check says nothing about the certificate
    if monitor.tls_expires_at != expires_at:
        Monitor.objects.filter(pk=monitor.pk).update(tls_expires_at=expires_at)
        monitor.tls_expires_at = expires_at


def _expires_within_warning_period(monitor: Monitor, expires_at: datetime | None, now: datetime) -> bool:
    days = monitor.tls_expiry_warning_days
    return bool(days) and expires_at is not None and expires_at - now <= timedelta(days=days)


def tls_expiry_warning(monitor: Monitor, now: datetime) -> bool:
    """Whether the monitor's certificate expires within its warning period (shown on it)."""
    return _expires_within_warning_period(monitor, monitor.tls_expires_at, now)


def certificate_warning_due(monitor: Monitor, expires_at: datetime | None, now: datetime) -> bool:
    """Whether to warn now that the certificate expiring at `expires_at` is about to.

    Once per certificate: not again for the expiry already warned about, but again for a
    renewed certificate when it, in turn, nears its end. An expiring certificate never
    makes the site down; an expired one fails the TLS handshake and the check itself.
    """
    return monitor.tls_expiry_warned_for != expires_at and _expires_within_warning_period(monitor, expires_at, now)


def mark_certificate_warned(monitor: Monitor, expires_at: datetime) -> bool:
    """Record that the warning for this certificate went out; False when it already had.

    A conditional update, so of two workers deciding at once only one gets True and sends.
    """
    marked = (
        Monitor.objects.filter(pk=monitor.pk)
        .exclude(tls_expiry_warned_for=expires_at)
        .update(tls_expiry_warned_for=expires_at)
    )
    monitor.tls_expiry_warned_for = expires_at
    return marked == 1


CERTIFICATE_EXPIRING = "certificate.expiring"


def warn_of_expiry(monitor: Monitor, now: datetime) -> bool:
    """Tell the monitor's channels, once per certificate, that it expires soon. Call in the
    tick's transaction: the alerts are written with it and sent after it commits."""
    expires_at = monitor.tls_expires_at
    if (
        expires_at is None
        or not certificate_warning_due(monitor, expires_at, now)
        or not mark_certificate_warned(monitor, expires_at)
    ):
        return False
    days_left = max(0, (expires_at - now).days)
    title = f"{monitor.name}: TLS certificate expires in {days_left} days"
    text = f"The certificate of {monitor.url} expires on {expires_at:%Y-%m-%d %H:%M} UTC. The site is still up."
    notify_monitor(
        monitor,
        CERTIFICATE_EXPIRING,
        {"title": title, "text": text, "expires_at": expires_at.isoformat(), "days_left": days_left},
    )
    return True
