"""`field__any=[...]`, the one-parameter form of `__in` the writer's batch queries use."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from monitors.models import Monitor
from tests.factories import make_monitor, personal

pytestmark = pytest.mark.django_db


def test_any_matches_what_in_matches_with_one_array_parameter(alice):
    monitors = [make_monitor(alice, f"https://example.com/{n}") for n in range(4)]
    wanted = [monitors[0].pk, monitors[2].pk, 10**9]
    with CaptureQueriesContext(connection) as queries:
        found = sorted(Monitor.objects.filter(pk__any=wanted).values_list("pk", flat=True))
    assert found == sorted(Monitor.objects.filter(pk__in=wanted).values_list("pk", flat=True))
    assert found == [monitors[0].pk, monitors[2].pk]
    assert "= ANY(" in queries[0]["sql"] and "::bigint[])" in queries[0]["sql"]
    assert not Monitor.objects.filter(pk__any=[]).exists()


def test_any_follows_relations(alice):
    monitor = make_monitor(alice, "https://example.com/")
    other = make_monitor(alice, "https://example.org/")
    organization = personal(alice)
    assert list(Monitor.objects.filter(organization__id__any=[organization.pk], pk__any=[other.pk])) == [other]
    assert not Monitor.objects.filter(organization__id__any=[organization.pk + 1000]).filter(pk=monitor.pk).exists()
