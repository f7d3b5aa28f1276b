"""The owner's status page pages, as the browser posts them: making a page by ticking
monitors, the API's messages when refused, opening incidents and posting updates (which
subscribers are sent), and nobody else's page."""

import pytest
from django.test import Client

from notifications.models import Delivery
from statuspages.models import PageIncident, StatusPage, Subscriber
from statuspages.services import confirm, save_page, subscribe
from tests.factories import make_monitor, personal
from tests.test_web_pages import signed_in


@pytest.fixture
def monitors(alice):
    return [
        make_monitor(alice, "https://shop.example/", name="shop-prod"),
        make_monitor(alice, "https://api.example/", name="api-prod"),
        make_monitor(alice, "https://blog.example/", name="blog"),
    ]


def page_form(monitors, **changes) -> dict:
    shop, api, _ = monitors
    form = {
        "title": "Acme status",
        "slug": "acme",
        "description": "",
        "domain": "",
        "show": [str(shop.pk), str(api.pk)],
        f"section_{shop.pk}": "Website",
        f"name_{shop.pk}": "Shop",
        f"section_{api.pk}": "Developers",
        f"name_{api.pk}": "",
    }
    return {**form, **changes}


def test_the_owner_makes_a_page_by_ticking_monitors(alice, monitors):
    client = signed_in(alice)
    assert client.get("/status-pages/new/").status_code == 200

    response = client.post("/status-pages/new/", page_form(monitors))

    assert response.status_code == 302 and response["Location"] == "/status-pages/"
    page = StatusPage.objects.get()
    # Rows come by monitor name (api-prod first), and sections in the order of their first row.
    assert [(s.name, [(c.monitor.name, c.name) for c in s.components.all()]) for s in page.sections.all()] == [
        ("Developers", [("api-prod", "api-prod")]),
        ("Website", [("shop-prod", "Shop")]),
    ]
    listing = client.get("/status-pages/").content.decode()
    assert "Acme status" in listing and "/status/acme/" in listing
    edit = client.get(f"/status-pages/{page.pk}/edit/").content.decode()
    assert 'value="Shop"' in edit and 'value="Website"' in edit


def test_a_refused_page_shows_the_apis_messages_and_saves_nothing(alice, bob, monitors):
    bobs = make_monitor(bob, "https://bob.example/")
    response = signed_in(alice).post(
        "/status-pages/new/", page_form(monitors, slug="not a slug", show=[str(monitors[0].pk), str(bobs.pk)])
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "letters, numbers, underscores or hyphens" in html
    assert "bob.example" not in html
    assert not StatusPage.objects.exists()


def test_the_owner_opens_an_incident_and_posts_updates_that_subscribers_get(alice, monitors):
    page = save_page(
        personal(alice),
        None,
        {"slug": "acme", "title": "Acme"},
        [{"name": "", "components": [{"monitor": monitors[0]}]}],
    )
    subscriber = subscribe(page, "email", "fan@example.com")
    confirm(subscriber.token)
    client = signed_in(alice)
    component = page.sections.get().components.get()

    opened = client.post(
        f"/status-pages/{page.pk}/incidents/",
        {"title": "Checkout slow", "status": "investigating", "message": "Looking.", "components": [component.pk]},
    )
    assert opened.status_code == 302
    incident = PageIncident.objects.get()
    refused = client.post(
        f"/status-pages/{page.pk}/incidents/", {"incident": incident.pk, "status": "fixed", "message": ""}
    )
    assert refused.status_code == 400 and "is not a valid choice" in refused.content.decode()
    client.post(
        f"/status-pages/{page.pk}/incidents/", {"incident": incident.pk, "status": "resolved", "message": "Done."}
    )

    incident.refresh_from_db()
    assert incident.status == "resolved" and [u.message for u in incident.updates.all()] == ["Done.", "Looking."]
    events = list(Delivery.objects.filter(channel__subscriber=subscriber).values_list("event", flat=True))
    assert events.count("statuspage.incident.update") == 2
    assert "Done." in client.get(f"/status-pages/{page.pk}/incidents/").content.decode()


def test_another_users_page_is_404_on_every_owner_page(alice, bob, monitors):
    page = save_page(personal(alice), None, {"slug": "acme", "title": "Acme"}, [])
    client = signed_in(bob)
    for path in (
        f"/status-pages/{page.pk}/edit/",
        f"/status-pages/{page.pk}/incidents/",
        f"/status-pages/{page.pk}/delete/",
    ):
        assert client.get(path).status_code == 404, path
        assert client.post(path, {"title": "mine", "status": "resolved", "message": "x"}).status_code == 404, path
    assert "Acme" not in client.get("/status-pages/").content.decode()
    assert StatusPage.objects.get().title == "Acme" and not PageIncident.objects.exists()
    assert Client().get("/status-pages/").status_code == 302  # signed out: to the sign-in page


def test_deleting_a_page_from_its_page(alice, monitors):
    page = save_page(personal(alice), None, {"slug": "acme", "title": "Acme"}, [])
    subscribe(page, "email", "fan@example.com")
    response = signed_in(alice).post(f"/status-pages/{page.pk}/delete/")
    assert response.status_code == 302
    assert not StatusPage.objects.exists() and not Subscriber.objects.exists()
