"""Public status pages: what the owner writes through the API, what a signed-out visitor
sees (HTML, JSON, Atom, on the page's own domain), that nothing private reaches them, and
subscriptions from the form to a confirmed address receiving updates (Django's mail outbox,
a real local webhook receiver, the notifications' real delivery path)."""

import gzip
import json
import re
import xml.etree.ElementTree as ET
from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from checks.models import Incident
from monitors.models import Monitor
from notifications.models import Channel, Delivery
from statuspages.models import PageIncident, StatusPage, Subscriber
from tests.factories import make_monitor, make_tick
from tests.receivers import verified_json
from tests.test_notifications import deliver_due

SECRET_URL = "https://shop.example/internal/health?token=s3cret"
PRIVATE_ERROR = "connection refused by 10.1.2.3"


@pytest.fixture
def shop(alice):
    return make_monitor(alice, SECRET_URL, regions=("india", "usa"), name="shop-prod-eu-1")


@pytest.fixture
def api(alice):
    return make_monitor(alice, "https://api.example/ping", name="api-internal")


def make_page(client, shop, api, **fields) -> dict:
    body = {
        "slug": "acme",
        "title": "Acme status",
        "description": "Everything Acme runs.",
        "sections": [
            {"name": "Website", "components": [{"monitor": shop.pk, "name": "Shop"}]},
            {"name": "Developers", "components": [{"monitor": api.pk}]},
        ],
        **fields,
    }
    response = client.post("/api/status-pages/", body, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def visit(path: str, **headers):
    return Client().get(path, **headers)


# --- the owner's API ---------------------------------------------------------------------


def test_alice_makes_a_page_with_sections_and_components(alice_client, shop, api):
    page = make_page(alice_client, shop, api)

    assert page["url"].endswith("/status/acme/")
    website, developers = page["sections"]
    assert website["name"] == "Website" and website["components"][0]["name"] == "Shop"
    # Left out, a component is shown under its monitor's name.
    assert developers["components"][0]["name"] == "api-internal"
    assert alice_client.get(f"/api/status-pages/{page['id']}/").json()["sections"] == page["sections"]


def test_rewriting_the_sections_keeps_a_moved_components_id(alice_client, shop, api):
    page = make_page(alice_client, shop, api)
    shop_component = page["sections"][0]["components"][0]["id"]

    moved = alice_client.patch(
        f"/api/status-pages/{page['id']}/",
        {"sections": [{"name": "All", "components": [{"monitor": api.pk, "name": "API"}, {"monitor": shop.pk}]}]},
        format="json",
    ).json()

    (section,) = moved["sections"]
    assert [c["name"] for c in section["components"]] == ["API", "shop-prod-eu-1"]
    assert section["components"][1]["id"] == shop_component


@pytest.mark.parametrize(
    "change, field, message",
    [
        ({"slug": "no spaces"}, "slug", "letters, numbers, underscores or hyphens"),
        ({"domain": "10.0.0.1"}, "domain", "full DNS name"),
        ({"domain": "Status.Example.com"}, "domain", "lowercase"),
        ({"domain": "127.0.0.1"}, "domain", "full DNS name"),
        ({"title": ""}, "title", "may not be blank"),
    ],
)
def test_bad_pages_get_a_message_per_field(alice_client, shop, api, change, field, message):
    body = {"slug": "acme", "title": "Acme", "sections": [], **change}
    response = alice_client.post("/api/status-pages/", body, format="json")
    assert response.status_code == 400
    assert message in str(response.json()[field])
    assert not StatusPage.objects.exists()


def test_a_monitor_is_shown_once_and_only_the_owners_monitors(alice_client, bob, shop):
    twice = {"slug": "a", "title": "A", "sections": [{"components": [{"monitor": shop.pk}, {"monitor": shop.pk}]}]}
    assert "shown twice" in str(alice_client.post("/api/status-pages/", twice, format="json").json()["sections"])
    bobs = make_monitor(bob, "https://bob.example/")
    theirs = {"slug": "b", "title": "B", "sections": [{"components": [{"monitor": bobs.pk}]}]}
    response = alice_client.post("/api/status-pages/", theirs, format="json")
    assert response.status_code == 400 and "does not exist" in str(response.json())
    assert not StatusPage.objects.exists()


def test_another_users_page_its_incidents_and_subscribers_are_404(alice_client, bob_client, anon_client, shop, api):
    page = make_page(alice_client, shop, api)
    base = f"/api/status-pages/{page['id']}/"
    assert bob_client.get(base).status_code == 404
    assert bob_client.patch(base, {"title": "mine"}, format="json").status_code == 404
    assert bob_client.get(base + "incidents/").status_code == 404
    assert (
        bob_client.post(base + "incidents/", {"title": "x", "status": "investigating", "message": "m"}).status_code
        == 404
    )
    assert bob_client.get(base + "subscribers/").status_code == 404
    assert bob_client.delete(base).status_code == 404
    assert anon_client.get(base).status_code == 401
    assert bob_client.get("/api/status-pages/").json()["results"] == []


def test_an_incident_names_only_its_own_pages_components(alice_client, bob_client, shop, api):
    page = make_page(alice_client, shop, api)
    other = make_page(alice_client, shop, api, slug="other")
    foreign = other["sections"][0]["components"][0]["id"]
    response = alice_client.post(
        f"/api/status-pages/{page['id']}/incidents/",
        {"title": "Slow checkout", "status": "investigating", "message": "Looking.", "components": [foreign]},
        format="json",
    )
    assert response.status_code == 400 and "components" in response.json()
    assert not PageIncident.objects.exists()


# --- what a visitor sees ---------------------------------------------------------------------


def test_a_signed_out_visitor_sees_the_components_states_and_90_days(alice_client, shop, api):
    make_page(alice_client, shop, api)
    now = timezone.now()
    for days_ago in (0, 1, 2, 3):
        make_tick(shop, "india", now - timedelta(days=days_ago), "up" if days_ago != 2 else "down", 120)
    Monitor.objects.filter(pk=shop.pk).update(status="down")
    Monitor.objects.filter(pk=api.pk).update(status="up")

    response = visit("/status/acme/")

    assert response.status_code == 200
    html = response.content.decode()
    assert "Acme status" in html and "Shop" in html
    assert "Major outage" in html  # the overall state and the shop's
    assert html.count('class="day-bars"') == 2
    assert "75% uptime" in html
    assert "Set-Cookie" not in response.headers and "Cookie" not in response.get("Vary", "")
    assert response["Cache-Control"] == "public, max-age=10"


def test_nothing_private_reaches_the_page_its_json_or_its_feed(alice, alice_client, shop, api):
    page = make_page(alice_client, shop, api)
    other = make_monitor(alice, "https://other.example/admin-panel", name="project-nightjar")
    now = timezone.now()
    make_tick(shop, "india", now, "down", None)
    Incident.objects.create(
        monitor=shop, started_at=now - timedelta(minutes=5), first_error=PRIVATE_ERROR, regions=["india"]
    )
    Incident.objects.create(monitor=other, started_at=now, first_error="nightjar failure")
    alice_client.post(
        f"/api/status-pages/{page['id']}/incidents/",
        {"title": "Checkout errors", "status": "identified", "message": "A bad deploy; rolling back."},
        format="json",
    )
    paths = ("/status/acme/", "/status/acme/live", "/status/acme/status.json", "/status/acme/feed.atom")

    answers = {path: visit(path).content.decode() for path in paths}

    private = (SECRET_URL, "shop.example", "s3cret", PRIVATE_ERROR, "10.1.2.3", "shop-prod-eu-1", "api.example")
    others = ("other.example", "project-nightjar", "nightjar failure")
    for path, body in answers.items():
        assert "Checkout errors" in body, path
        for text in private + others:
            assert text not in body, (path, text)
        for region in ("india", "usa"):  # as words: "focusable" is no region
            assert not re.search(rf"\b{region}\b", body, re.IGNORECASE), (path, region)
    data = json.loads(answers["/status/acme/status.json"])
    assert [outage["components"] for outage in data["outages"]] == [["Shop"]]
    assert "regions" not in data["outages"][0]


# The cached copy is dropped when a write commits: the on-commit callbacks run as a commit would.
def test_regions_are_shown_only_when_the_owner_says_so(alice_client, shop, api, django_capture_on_commit_callbacks):
    page = make_page(alice_client, shop, api, show_regions=True)
    Incident.objects.create(monitor=shop, started_at=timezone.now(), regions=["india"])
    assert "india" in visit("/status/acme/").content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        alice_client.patch(f"/api/status-pages/{page['id']}/", {"show_regions": False}, format="json")
    assert "india" not in visit("/status/acme/").content.decode()


def test_an_incident_update_shows_at_once_despite_the_cache(
    alice_client, shop, api, django_capture_on_commit_callbacks
):
    page = make_page(alice_client, shop, api)
    assert "All systems" not in visit("/status/acme/").content.decode()  # pending: not known yet; now cached
    with django_capture_on_commit_callbacks(execute=True):
        opened = alice_client.post(
            f"/api/status-pages/{page['id']}/incidents/",
            {
                "title": "Login failures",
                "status": "investigating",
                "message": "We are looking into it.",
                "components": [page["sections"][0]["components"][0]["id"]],
            },
            format="json",
        )
    assert opened.status_code == 201
    html = visit("/status/acme/").content.decode()
    assert "Login failures" in html and "We are looking into it." in html and "Happening now" in html

    with django_capture_on_commit_callbacks(execute=True):
        resolved = alice_client.post(
            f"/api/status-pages/{page['id']}/incidents/{opened.json()['id']}/updates/",
            {"status": "resolved", "message": "Fixed by a rollback."},
            format="json",
        )
    assert resolved.status_code == 201
    incident = PageIncident.objects.get()
    assert incident.status == "resolved" and incident.resolved_at is not None
    html = visit("/status/acme/").content.decode()
    assert "Happening now" not in html and "Fixed by a rollback." in html  # in the last 14 days
    feed = ET.fromstring(visit("/status/acme/feed.atom").content)
    atom = "{http://www.w3.org/2005/Atom}"
    assert [e.find(f"{atom}title").text for e in feed.iter(f"{atom}entry")] == ["Login failures (Resolved)"]


def test_a_status_changes_only_by_an_update(alice_client, shop, api):
    page = make_page(alice_client, shop, api)
    incident = alice_client.post(
        f"/api/status-pages/{page['id']}/incidents/",
        {"title": "x", "status": "investigating", "message": "m"},
        format="json",
    ).json()
    response = alice_client.patch(
        f"/api/status-pages/{page['id']}/incidents/{incident['id']}/", {"status": "resolved"}, format="json"
    )
    assert response.status_code == 400 and "updates/" in response.json()["status"][0]
    assert PageIncident.objects.get().status == "investigating"


def test_a_page_answers_on_its_own_domain(settings, alice_client, shop, api):
    settings.ALLOWED_HOSTS = ["testserver", "status.acme.example"]
    make_page(alice_client, shop, api, domain="status.acme.example")

    response = visit("/", HTTP_HOST="status.acme.example")
    assert response.status_code == 200 and "Acme status" in response.content.decode()
    assert visit("/status.json", HTTP_HOST="status.acme.example").json()["page"]["slug"] == "acme"
    # Nothing else of the site answers there.
    assert visit("/login/", HTTP_HOST="status.acme.example").status_code == 404
    assert visit("/api/status-pages/", HTTP_HOST="status.acme.example").status_code == 404


def test_an_unknown_page_is_404(db):
    assert visit("/status/nobody/").status_code == 404
    assert visit("/status/nobody/status.json").status_code == 404


def test_the_page_reads_the_same_few_queries_for_fifty_components(alice, alice_client, django_assert_max_num_queries):
    monitors = [make_monitor(alice, f"https://s{n}.example/", name=f"s{n}") for n in range(50)]
    sections = [
        {"name": f"Group {g}", "components": [{"monitor": m.pk} for m in monitors[g * 10 : g * 10 + 10]]}
        for g in range(5)
    ]
    alice_client.post("/api/status-pages/", {"slug": "big", "title": "Big", "sections": sections}, format="json")
    with django_assert_max_num_queries(8):
        response = visit("/status/big/")
    assert response.content.decode().count('class="component"') == 50


# --- subscriptions -------------------------------------------------------------------------


def test_an_email_subscriber_confirms_then_gets_each_update_with_a_one_click_unsubscribe(alice_client, shop, api):
    page = make_page(alice_client, shop, api)
    response = Client().post("/status/acme/subscribe", {"kind": "email", "email": "fan@example.com"})
    assert response.status_code == 200 and "fan@example.com" in response.content.decode()
    assert deliver_due() == ["sent"]
    (confirmation,) = mail.outbox
    assert confirmation.to == ["fan@example.com"] and "Confirm" in confirmation.subject
    confirm_url = next(word for word in confirmation.body.split() if "/confirm/" in word)

    # Nothing but the confirmation until it is confirmed.
    alice_client.post(
        f"/api/status-pages/{page['id']}/incidents/",
        {"title": "Early", "status": "investigating", "message": "m"},
        format="json",
    )
    assert deliver_due() == []
    assert Client().get(confirm_url.replace("http://127.0.0.1:8000", "")).status_code == 200
    assert Subscriber.objects.get().confirmed_at is not None

    alice_client.post(
        f"/api/status-pages/{page['id']}/incidents/",
        {"title": "Payments down", "status": "identified", "message": "Card payments fail."},
        format="json",
    )
    assert deliver_due() == ["sent"]
    update = mail.outbox[-1]
    assert update.subject == "[Acme status] Payments down: Identified" and "Card payments fail." in update.body
    unsubscribe = update.extra_headers["List-Unsubscribe"].strip("<>")
    assert update.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"

    # A link scanner's GET changes nothing; the mail client's one-click POST ends it.
    path = unsubscribe.replace("http://127.0.0.1:8000", "")
    assert Client().get(path).status_code == 200 and Subscriber.objects.exists()
    assert Client(enforce_csrf_checks=True).post(path, {"List-Unsubscribe": "One-Click"}).status_code == 200
    assert not Subscriber.objects.exists()
    assert not Channel.objects.filter(audience="subscriber").exists()


def test_subscribing_again_tells_nobody_anything_and_sends_no_flood(alice_client, shop, api):
    make_page(alice_client, shop, api)
    answers = [Client().post("/status/acme/subscribe", {"kind": "email", "email": "x@example.com"}) for _ in range(3)]
    assert {a.status_code for a in answers} == {200}
    assert len({a.content for a in answers}) == 1
    assert Delivery.objects.count() == 1  # one confirmation an hour, however often asked
    assert Subscriber.objects.count() == 1


def test_a_webhook_subscriber_gets_a_signed_confirmation_and_updates(alice_client, shop, api, receiver):
    page = make_page(alice_client, shop, api)
    url = receiver.url("/hook")
    assert Client().post("/status/acme/subscribe", {"kind": "webhook", "url": url}).status_code == 200
    assert deliver_due() == ["sent"]
    (request,) = receiver.at("/hook")
    body = json.loads(request["body"])
    assert body["page"]["slug"] == "acme" and "/confirm/" in body["confirm_url"]
    secret = body["signing_secret"]
    Client().get(body["confirm_url"].replace("http://127.0.0.1:8000", ""))

    alice_client.post(
        f"/api/status-pages/{page['id']}/incidents/",
        {"title": "API slow", "status": "monitoring", "message": "Better now."},
        format="json",
    )
    assert deliver_due() == ["sent"]
    update = verified_json(receiver.at("/hook")[-1], secret)
    assert update["incident"]["title"] == "API slow" and update["update"]["status"] == "monitoring"
    assert "email_headers" not in update


@pytest.mark.parametrize(
    "form, message",
    [
        ({"kind": "email", "email": "not-an-address"}, "valid email"),
        ({"kind": "webhook", "url": "http://10.0.0.5/hook"}, "private"),
        ({"kind": "webhook", "url": "ftp://example.com/"}, "http"),
        ({"kind": "pigeon"}, "email or by webhook"),
    ],
)
def test_bad_subscriptions_are_refused_with_a_reason(settings, alice_client, shop, api, form, message):
    settings.ALLOW_PRIVATE_TARGETS = False
    make_page(alice_client, shop, api)
    response = Client().post("/status/acme/subscribe", form)
    assert response.status_code == 400 and message in response.content.decode()
    assert not Subscriber.objects.exists()


def test_the_subscribe_form_is_rate_limited(settings, alice_client, shop, api):
    settings.API_THROTTLE_RATES = {**settings.API_THROTTLE_RATES, "subscribe": "2/hour"}
    make_page(alice_client, shop, api)
    codes = [
        Client().post("/status/acme/subscribe", {"kind": "email", "email": f"p{n}@example.com"}).status_code
        for n in range(3)
    ]
    assert codes == [200, 200, 429]


def test_subscriber_channels_are_not_the_owners(alice_client, shop, api):
    make_page(alice_client, shop, api)
    Client().post("/status/acme/subscribe", {"kind": "email", "email": "fan@example.com"})
    assert alice_client.get("/api/channels/").json()["results"] == []
    listed = alice_client.get(f"/api/status-pages/{StatusPage.objects.get().pk}/subscribers/").json()["results"]
    assert [(s["kind"], s["address"], s["confirmed_at"]) for s in listed] == [("email", "fan@example.com", None)]


def test_deleting_a_page_takes_its_subscribers_channels(alice_client, shop, api):
    page = make_page(alice_client, shop, api)
    Client().post("/status/acme/subscribe", {"kind": "email", "email": "fan@example.com"})
    assert alice_client.delete(f"/api/status-pages/{page['id']}/").status_code == 204
    assert not Channel.objects.exists() and not Delivery.objects.exists()
    assert visit("/status/acme/").status_code == 404


# --- badges of a page's components ---------------------------------------------------------------


def test_a_components_badge_is_public_and_another_pages_or_monitor_is_404(alice, alice_client, shop, api):
    page = make_page(alice_client, shop, api)
    other = make_monitor(alice, "https://other.example/", name="not shown")
    Monitor.objects.filter(pk=shop.pk).update(status="down")
    shop_component = page["sections"][0]["components"][0]["id"]

    response = visit(f"/status/acme/badges/{shop_component}/status.svg")

    assert response.status_code == 200 and response["Content-Type"] == "image/svg+xml"
    svg = response.content.decode()
    assert ">down<" in svg and "shop.example" not in svg and "shop-prod-eu-1" not in svg
    assert "Set-Cookie" not in response.headers
    make_page(alice_client, other, api, slug="elsewhere")
    elsewhere = StatusPage.objects.get(slug="elsewhere").sections.first().components.first()
    for path in (
        f"/status/acme/badges/{elsewhere.pk}/status.svg",  # on another page
        f"/status/nobody/badges/{shop_component}/status.svg",
        f"/status/acme/badges/{shop_component}/secrets.svg",
        f"/status/acme/badges/{shop_component + 1000}/uptime-24h.svg",
    ):
        assert visit(path).status_code == 404, path
    assert visit(f"/status/acme/badges/{shop_component}/uptime-24h.svg").status_code == 200


def test_the_cached_page_is_served_packed_to_who_takes_gzip_and_reads_nothing(
    alice_client, shop, api, django_assert_num_queries
):
    make_page(alice_client, shop, api)
    plain = visit("/status/acme/")
    with django_assert_num_queries(0):  # from the cache: not even the page's row
        packed = visit("/status/acme/", HTTP_ACCEPT_ENCODING="gzip, deflate, br")
        again = visit("/status/acme/")

    assert packed["Content-Encoding"] == "gzip" and "Accept-Encoding" in packed["Vary"]
    assert gzip.decompress(packed.content) == plain.content == again.content
    assert len(packed.content) < len(plain.content) / 3
    assert "Content-Encoding" not in again and "Accept-Encoding" in again["Vary"]


def test_the_admin_deletes_pages_and_subscribers_only_one_by_one_through_the_services(alice_client, shop, api):
    from django.contrib.admin.sites import site as admin_site
    from django.test import RequestFactory

    from accounts.models import User
    from statuspages.admin import StatusPageAdmin, SubscriberAdmin

    make_page(alice_client, shop, api)
    Client().post("/status/acme/subscribe", {"kind": "email", "email": "fan@example.com"})
    request = RequestFactory().get("/admin/")
    request.user = User.objects.create_superuser(email="root@example.com", password="x-long-password-1")
    for admin_class, model in ((StatusPageAdmin, StatusPage), (SubscriberAdmin, Subscriber)):
        assert "delete_selected" not in admin_class(model, admin_site).get_actions(request)
    SubscriberAdmin(Subscriber, admin_site).delete_model(request, Subscriber.objects.get())
    assert not Channel.objects.filter(audience="subscriber").exists()
