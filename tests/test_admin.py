"""Every admin page renders for a superuser; the admin edits monitors through the domain."""

import pytest
from django.contrib import admin
from django.urls import reverse
from django_celery_beat.models import PeriodicTask

from accounts.models import User
from checks.models import Tick
from checks.outcomes.rollup_counts import count_ticks
from monitors.models import Monitor, Region
from monitors.validation import number_messages
from tests.conftest import PASSWORD
from tests.factories import admin_monitor_form, make_monitor, personal


@pytest.fixture
def admin_client(client, db):
    User.objects.create_superuser(email="root@example.com", password=PASSWORD)
    client.login(email="root@example.com", password=PASSWORD)
    return client


@pytest.fixture
def some_data(alice):
    monitor = make_monitor(alice, "https://a.example/", regions=("india", "usa"))
    from datetime import UTC, datetime

    tick = Tick.objects.create(
        monitor=monitor,
        region=Region.objects.get(slug="india"),
        status="up",
        status_code=200,
        response_time_ms=12,
        scheduled_at=datetime.now(UTC),
        checked_at=datetime.now(UTC),
    )
    count_ticks([tick])
    return monitor


def test_every_changelist_add_and_change_page_renders(admin_client, some_data):
    for model, model_admin in admin.site._registry.items():
        meta = model._meta
        changelist = reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist")
        assert admin_client.get(changelist).status_code == 200, changelist
        assert admin_client.get(changelist, {"q": "a"}).status_code == 200, changelist
        obj = model.objects.first()
        if obj is not None:
            change = reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[obj.pk])
            assert admin_client.get(change).status_code == 200, change
        if model_admin.has_add_permission(type("R", (), {"user": User.objects.get(email="root@example.com")})()):
            add = reverse(f"admin:{meta.app_label}_{meta.model_name}_add")
            assert admin_client.get(add).status_code == 200, add


def test_monitor_list_shows_status_regions_and_24h_uptime(admin_client, some_data):
    page = admin_client.get(reverse("admin:monitors_monitor_changelist")).content.decode()
    assert "india, usa" in page
    assert "100.00%" in page


def test_adding_a_monitor_in_the_admin_schedules_it(admin_client, alice):
    response = admin_client.post(reverse("admin:monitors_monitor_add"), admin_monitor_form(personal(alice)))
    assert response.status_code == 302, response.content.decode()[:2000]
    monitor = Monitor.objects.get(name="From admin")
    assert list(
        PeriodicTask.objects.filter(name__startswith=f"check monitor {monitor.pk} ").values_list("queue", flat=True)
    ) == ["india"]


def test_admin_refuses_a_timeout_longer_than_the_interval(admin_client, alice):
    form = admin_monitor_form(personal(alice), name="Bad", timeout_seconds=60)
    response = admin_client.post(reverse("admin:monitors_monitor_add"), form)
    assert response.status_code == 200
    assert "Timeout must be shorter than the interval." in response.content.decode()
    assert not Monitor.objects.filter(name="Bad").exists()


def test_pause_resume_and_check_now_actions(admin_client, some_data, broker, django_capture_on_commit_callbacks):
    changelist = reverse("admin:monitors_monitor_changelist")
    admin_client.post(changelist, {"action": "pause", "_selected_action": [some_data.pk]})
    some_data.refresh_from_db()
    assert some_data.status == "paused"
    assert not PeriodicTask.objects.filter(name__startswith=f"check monitor {some_data.pk} ", enabled=True).exists()

    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(changelist, {"action": "resume", "_selected_action": [some_data.pk]})
    some_data.refresh_from_db()
    assert some_data.status == "pending"
    assert broker.llen("india") == 1  # a resumed monitor is checked at once

    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(changelist, {"action": "check_now", "_selected_action": [some_data.pk]})
    assert broker.llen("india") == 2
    assert broker.llen("usa") == 2


def test_ticks_are_read_only_in_the_admin(admin_client, some_data):
    tick = Tick.objects.get()
    page = admin_client.get(reverse("admin:checks_tick_change", args=[tick.pk]))
    assert page.status_code == 200
    assert admin_client.get(reverse("admin:checks_tick_add")).status_code == 403


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("interval_seconds", 99_999_999_999),
        ("interval_seconds", -1),
        ("interval_seconds", "soon"),
        ("timeout_seconds", 0),
        ("retries", 70_000),
        ("retry_interval_seconds", -5),
        ("tls_expiry_warning_days", 40_000),
    ],
)
def test_admin_range_errors_give_the_rule_not_the_column_limit(admin_client, alice, field, value):
    """One message per field, the documented rule's, as the API gives it: not the
    database column's 2147483647 or 0 beside it."""
    response = admin_client.post(
        reverse("admin:monitors_monitor_add"), admin_monitor_form(personal(alice), name="Bad", **{field: value})
    )
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert errors[field] == [number_messages()[field]]
    page = response.content.decode()
    assert "2147483647" not in page and "32767" not in page and "greater than or equal to" not in page
    assert not Monitor.objects.filter(name="Bad").exists()
