"""A deactivated account's monitors stop when no active member is left in their organization:
no checks, no alerts, no incident left open. On reactivation exactly the monitors that were
running come back. A team's monitors go on while one of its members is still active."""

from django_celery_beat.models import PeriodicTask

from accounts.models import Membership, Role
from accounts.organizations import create_organization
from checks.models import Incident
from checks.state.transitions import change_status
from monitors.models import Monitor
from monitors.services import pause_monitor
from tests.factories import make_monitor, personal


def scheduled(monitor) -> bool:
    return PeriodicTask.objects.filter(name__startswith=f"check monitor {monitor.pk} ", enabled=True).exists()


def test_deactivating_an_account_pauses_its_monitors_and_reactivating_resumes_them(alice, bob, target, slot):
    running = make_monitor(alice, target.url("/ok"), name="running")
    down = make_monitor(alice, target.url("/status/500"), name="down")
    change_status(down, "down", slot, "unexpected status 500", ["india"])
    down.save()
    own_pause = pause_monitor(make_monitor(alice, target.url("/ok"), name="paused by alice"))
    bobs = make_monitor(bob, target.url("/ok"), name="bob's")

    alice.is_active = False
    alice.save()

    for monitor in (running, down, own_pause):
        monitor.refresh_from_db()
        assert (monitor.is_active, monitor.status, scheduled(monitor)) == (False, "paused", False), monitor.name
    assert Incident.objects.get(monitor=down).resolution == "paused"
    assert Monitor.objects.get(pk=bobs.pk).is_active and scheduled(bobs)

    alice.is_active = True
    alice.save()

    for monitor in (running, down):
        monitor.refresh_from_db()
        assert (monitor.is_active, monitor.status, scheduled(monitor)) == (True, "pending", True), monitor.name
    own_pause.refresh_from_db()
    assert (own_pause.is_active, scheduled(own_pause)) == (False, False)
    # Saving the account again without a change moves nothing.
    alice.save()
    assert Monitor.objects.filter(organization=personal(alice), is_active=True).count() == 2


def test_saving_only_is_active_still_pauses_and_a_sign_in_reads_nothing(alice, target, django_assert_num_queries):
    running = make_monitor(alice, target.url("/ok"), name="running")
    alice.is_active = False
    alice.save(update_fields=["is_active"])
    running.refresh_from_db()
    assert not running.is_active

    # A sign-in saves last_login only: one UPDATE, no look at the stored account.
    with django_assert_num_queries(1):
        alice.save(update_fields=["last_login"])


def test_a_team_keeps_running_while_one_of_its_members_is_active(alice, bob, target):
    team = create_organization(alice, "Team")
    Membership.objects.create(organization=team, user=bob, role=Role.EDITOR)
    teams = make_monitor(team, target.url("/ok"), name="team's")
    alices = make_monitor(alice, target.url("/ok"), name="alice's")

    alice.is_active = False
    alice.save()

    teams.refresh_from_db()
    assert (teams.is_active, scheduled(teams)) == (True, True)
    alices.refresh_from_db()
    assert (alices.is_active, scheduled(alices)) == (False, False)

    # The last active member goes: the team's monitors stop; one coming back resumes them.
    bob.is_active = False
    bob.save()
    teams.refresh_from_db()
    assert (teams.is_active, teams.status, scheduled(teams)) == (False, "paused", False)

    bob.is_active = True
    bob.save()
    teams.refresh_from_db()
    assert (teams.is_active, teams.status, scheduled(teams)) == (True, "pending", True)
    alices.refresh_from_db()
    assert not alices.is_active
