"""Small factories: a monitor made through the same domain function the API uses, a user's
personal organization (every user gets one with the account), a signed-in web client and the
monitor form of the web pages filled in validly."""

from datetime import datetime, timedelta

from django.test import Client

from accounts.actors import actor_for_user
from accounts.models import Organization, User
from checks.models import Tick
from checks.outcomes.rollup_counts import count_ticks
from monitors.models import Monitor, Region
from monitors.services import create_monitor


def personal(user: User) -> Organization:
    """The organization `user` was given with their account."""
    actor = actor_for_user(user)
    assert actor is not None, f"{user} has no organization"
    return actor.organization


def make_monitor(owner: User | Organization, url: str, regions=("india",), **fields) -> Monitor:
    """A monitor of `owner`: an organization, or a user's personal one."""
    settings = {"name": "site", "interval_seconds": 60, "timeout_seconds": 2, "retries": 0, "retry_interval_seconds": 1}
    settings.update(fields)
    organization = owner if isinstance(owner, Organization) else personal(owner)
    return create_monitor(organization, Region.objects.filter(slug__in=regions), url=url, **settings)


def make_tick(
    monitor, region: str, scheduled_at: datetime, status="up", response_time_ms=100, late=timedelta(0)
) -> Tick:
    """A recorded check of one slot, as a worker would write it, counted into its rollups
    (`late`: start after the slot)."""
    tick = Tick.objects.create(
        monitor=monitor,
        region=Region.objects.get(slug=region),
        status=status,
        status_code=200 if status == "up" else 500,
        response_time_ms=response_time_ms,
        error="" if status == "up" else "unexpected status 500",
        scheduled_at=scheduled_at,
        checked_at=scheduled_at + late,
    )
    count_ticks([tick])
    return tick


def signed_in(user: User) -> Client:
    """A browser-less client with `user`'s session."""
    client = Client()
    client.force_login(user)
    return client


def monitor_form(**changes) -> dict:
    return {
        "name": "Shop",
        "kind": "http",
        "url": "https://shop.example/",
        "interval_seconds": "60",
        "regions": ["india"],
        "quorum": "",
        "timeout_seconds": "10",
        "retries": "2",
        "retry_interval_seconds": "10",
        "expected_status": "200-399",
        "keyword": "",
        "keyword_mode": "present",
        "tls_expiry_warning_days": "14",
        "method": "GET",
        "follow_redirects": "on",
        "request_headers": "",
        "request_body": "",
        "request_content_type": "",
        "auth_username": "",
        "auth_password": "",
        **changes,
    }


def admin_monitor_form(organization: Organization, **changes) -> dict:
    """The admin's add-monitor form for `organization`, filled in validly."""
    return {
        "organization": organization.pk,
        "name": "From admin",
        "kind": "http",
        "url": "https://admin.example/",
        "method": "GET",
        "interval_seconds": 60,
        "timeout_seconds": 10,
        "retries": 2,
        "retry_interval_seconds": 10,
        "expected_status": "200-399",
        "follow_redirects": "on",
        "request_headers": "{}",
        "keyword_mode": "present",
        "tls_expiry_warning_days": 14,
        "failures_before_down": 1,
        "successes_before_up": 1,
        "regions": [Region.objects.get(slug="india").pk],
        "is_active": "on",
        **changes,
    }
