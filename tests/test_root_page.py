"""The root page: a browser that opens the server's address finds where everything is."""

import re

from django.test import Client


def test_the_root_page_links_to_the_admin_the_api_docs_schema_and_health(db):
    response = Client().get("/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    page = response.content.decode()
    links = dict((label.strip(), href) for href, label in re.findall(r'<a href="([^"]+)">([^<]+)</a>', page))
    assert links == {
        "Admin": "/admin/",
        "API docs": "/api/docs/",
        "API schema": "/api/schema/",
        "Health": "/api/health/",
    }
    # How to sign in, for the admin and for the API.
    assert "Sign in to the admin" in page
    assert "POST /api/auth/token/" in page
    assert "Authorization: Bearer &lt;access&gt;" in page


def test_every_link_on_the_root_page_answers_without_a_token(db):
    client = Client()
    page = client.get("/").content.decode()
    hrefs = re.findall(r'<a href="([^"]+)"', page)
    assert len(hrefs) == 4
    for href in hrefs:
        response = client.get(href, follow=True)
        # The admin sends a browser to its login page; health answers 200 or 503 (its own verdict).
        assert response.status_code in {200, 503}, href


def test_the_root_page_loads_nothing_from_elsewhere(db):
    response = Client().get("/")
    assert response.status_code == 200
    page = response.content.decode()
    assert not re.search(r"""(?:src|href)=["']?(?:https?:)?//""", page)
    assert "<script" not in page
