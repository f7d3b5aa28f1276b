"""The OpenAPI document: it generates without warnings, validates, and the API keeps to it.

The fuzz test sends schemathesis's generated requests for every operation through Django's
real WSGI application, as alice with a real JWT and a real monitor, and checks each answer:
no 5xx, a documented status code, content type and body. Nothing reaches the outside
world: with the suite's ALLOW_PRIVATE_TARGETS no URL is resolved when entered, nothing is
committed inside the test's transaction so no check is ever queued, and no worker runs.
"""

import json
import os
import re
from datetime import UTC, datetime, timedelta

import pytest
import schemathesis
from django.conf import settings as django_settings
from django.core.management import call_command
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections, transaction
from django.test import Client
from hypothesis import HealthCheck, Phase
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from rest_framework_simplejwt.tokens import RefreshToken

from checks.models import Tick
from monitors.models import Region
from tests.conftest import queued_checks
from tests.factories import make_monitor
from uptime.parsers import MAX_DEPTH

# The suite's run is short and the same every time; `FUZZ_EXAMPLES=150 FUZZ_RANDOM=1`
# makes the longer, exploring run described in docs/api.md.
FUZZ_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "25"))
FUZZ_RANDOM = os.environ.get("FUZZ_RANDOM", "") == "1"


def test_schema_generates_without_warnings_and_validates(capsys):
    # --fail-on-warn turns every generator warning and error into a failure.
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", os.devnull)
    assert "Warning" not in capsys.readouterr().err


def test_schema_documents_the_custom_actions_and_errors(client):
    document = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    paths = document["paths"]

    assert document["components"]["securitySchemes"]["jwtAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
    }
    check = paths["/api/monitors/{id}/check/"]["post"]
    # 403: a viewer's role; 404: a monitor or an organization (X-Organization) not of yours.
    assert set(check["responses"]) == {"202", "401", "403", "404", "409", "429"}
    assert "requestBody" not in check

    uptime = paths["/api/monitors/{id}/uptime/"]["get"]
    window = next(p for p in uptime["parameters"] if p["name"] == "window")
    assert sorted(window["schema"]["enum"]) == ["24h", "30d", "7d", "90d"]
    assert window["schema"]["default"] == "24h"
    summary = document["components"]["schemas"]["UptimeSummary"]
    assert {"window", "uptime_percent", "checks", "regions"} <= set(summary["required"])

    ticks = paths["/api/monitors/{id}/ticks/"]["get"]
    assert {p["name"] for p in ticks["parameters"]} == {
        "id",
        "page",
        "region",
        "status",
        "in_maintenance",
        "since",
        "until",
        "X-Organization",
    }
    assert ticks["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith("/PaginatedTickList")

    health = paths["/api/health/"]["get"]
    assert set(health["responses"]) == {"200", "503"}
    assert health.get("security") == [{}]

    create = paths["/api/monitors/"]["post"]
    assert {"201", "400", "401", "403", "413", "415"} <= set(create["responses"])
    assert set(paths["/api/auth/token/"]["post"]["responses"]) == {"200", "400", "401", "413", "415", "429"}
    assert set(paths["/api/auth/logout/"]["post"]["responses"]) == {"205", "400", "401", "413", "415"}
    # Every operation that acts in an organization takes the header; the organizations'
    # own (named in the path) and those that need none do not.
    listing = {p["name"]: p for p in paths["/api/monitors/"]["get"]["parameters"]}
    assert listing["X-Organization"]["in"] == "header"
    assert not listing["X-Organization"]["required"]
    assert "X-Organization" not in {p["name"] for p in paths["/api/auth/me/"]["get"].get("parameters", [])}
    members = paths["/api/organizations/{organization_slug}/members/"]["get"]["parameters"]
    assert "X-Organization" not in {p["name"] for p in members}

    monitor = document["components"]["schemas"]["MonitorRequest"]["properties"]
    assert (monitor["timeout_seconds"]["minimum"], monitor["timeout_seconds"]["maximum"]) == (1, 60)
    assert monitor["retries"]["maximum"] == 5


def test_every_request_body_is_json_only(client):
    """The API parses JSON bodies alone (a form or multipart body is a 415), and says so;
    the config file's endpoints YAML too."""
    document = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    bodies = {
        (method.upper(), path): set(operation["requestBody"]["content"])
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
        if "requestBody" in operation
    }
    assert ("PATCH", "/api/monitors/{id}/") in bodies
    # A config file is YAML (or JSON) as written (docs/config-file.md).
    config_file = {"application/json", "application/yaml"}
    files = {("POST", "/api/config/plan"): config_file, ("POST", "/api/config/apply"): config_file}
    assert {operation: media for operation, media in bodies.items() if media != {"application/json"}} == files


def test_schema_and_docs_are_public_and_ignore_a_stale_token(client):
    for path in ("/api/schema/", "/api/docs/"):
        assert client.get(path).status_code == 200
        assert client.get(path, HTTP_AUTHORIZATION="Bearer expired.or.bad").status_code == 200


def test_docs_page_loads_its_assets_from_this_server(settings, tmp_path):
    """Swagger UI comes from our static files (whitenoise, DEBUG off as in production), no CDN."""
    settings.STATIC_ROOT = tmp_path
    call_command("collectstatic", "--no-input", "-v", "0")
    client = Client()  # a new handler, so whitenoise indexes the files just collected
    response = client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "/api/schema/" in html
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert any(a.endswith("swagger-ui-bundle.js") for a in assets), assets
    assert not [a for a in assets if a.startswith(("http:", "https:", "//"))]
    for asset in assets:
        served = client.get(asset)
        assert served.status_code == 200, asset
        assert b"".join(served.streaming_content), asset


# --- Fuzzing ---------------------------------------------------------------------------


@pytest.fixture
def requests_keep_the_test_connection():
    """The WSGI handler closes a connection left in a transaction when a request ends,
    which would end the test's transaction; Django's own test client unhooks it likewise."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def alice_monitor(alice):
    monitor = make_monitor(alice, "http://127.0.0.1:9/never-checked", regions=("india", "usa"))
    now = datetime.now(UTC).replace(microsecond=0)
    for minutes, region, status in [(1, "india", "up"), (2, "usa", "down"), (3, "india", "up")]:
        slot = now - timedelta(minutes=minutes)
        Tick.objects.create(
            monitor=monitor,
            region=Region.objects.get(slug=region),
            status=status,
            status_code=200 if status == "up" else 503,
            response_time_ms=120 if status == "up" else None,
            error="" if status == "up" else "unexpected status 503",
            scheduled_at=slot,
            checked_at=slot,
        )
    return monitor


# Loaded at collection through the app, so the document fuzzed is the one served; the
# fuzz tests run under the settings it was generated with.
schema = schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application())
# The API ignores query parameters it does not know, as HTTP APIs commonly do; the
# document does not forbid them, so they are no "negative" case.
schema.config.generation.update(allow_extra_parameters=False)
# A body over REQUEST_MAX_BYTES is refused with 413 before anything else of the request is
# read, the token included: a rejection of bad input like any other (the document lists 413).
schema.config.checks.negative_data_rejection.expected_statuses = [
    *schema.config.checks.negative_data_rejection.expected_statuses,
    "413",
]
SCHEMA_MIN_INTERVAL_SECONDS = django_settings.MONITOR_MIN_INTERVAL_SECONDS


@pytest.fixture
def schema_settings(settings):
    settings.MONITOR_MIN_INTERVAL_SECONDS = SCHEMA_MIN_INTERVAL_SECONDS


# Besides the bodies the document describes, some of the generated ones are sent nested far
# deeper than the API reads, or with a lone surrogate (a "\ud800" escape, not Unicode) in one
# of their strings, a key or a value: each must be a 400, on every operation that reads a body.
JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')


def nested(body, depth: int) -> bytes:
    return b"[" * depth + json.dumps(body).encode() + b"]" * depth


def with_a_lone_surrogate(body, surrogate: str, choice: int) -> bytes:
    text = json.dumps(body)  # ASCII: the surrogate is written as its escape
    strings = [match.start() for match in JSON_STRING.finditer(text)]
    if not strings:
        return json.dumps([surrogate, body]).encode()
    at = strings[choice % len(strings)] + 1
    return (text[:at] + json.dumps(surrogate)[1:-1] + text[at:]).encode()


@schema.hook
def flatmap_body(context, body):
    as_generated = st.just(body)
    try:
        json.dumps(body)
    except TypeError:  # raw bytes (a negative case): not JSON already
        return as_generated
    return st.one_of(
        as_generated,
        as_generated,
        as_generated,
        st.integers(MAX_DEPTH + 1, 20_000).map(lambda depth: nested(body, depth)),
        st.builds(with_a_lone_surrogate, st.just(body), st.integers(0xD800, 0xDFFF).map(chr), st.integers(0)),
    )


@schema.parametrize()
@hypothesis_settings(
    max_examples=FUZZ_EXAMPLES,
    deadline=None,
    derandomize=not FUZZ_RANDOM,
    database=None,
    phases=[Phase.explicit, Phase.generate] if not FUZZ_RANDOM else list(Phase),
    suppress_health_check=list(HealthCheck),
)
def test_every_operation_keeps_to_the_schema(
    case, alice, alice_monitor, broker, schema_settings, requests_keep_the_test_connection
):
    # A generated id would almost always be a 404: aim the well-formed ones at alice's
    # monitor so the operations run on a real object.
    if isinstance(case.path_parameters.get("id"), int):
        case.path_parameters["id"] = alice_monitor.pk
    token = RefreshToken.for_user(alice).access_token
    # Each request's writes are undone, so every example starts from the same data (a
    # DELETE does not leave the next examples with nothing to read).
    with transaction.atomic():
        case.call_and_validate(
            headers={"Authorization": f"Bearer {token}"},
            # "Valid per the schema, so it must be accepted" cannot hold here: a token
            # must be one we issued, an email unused, a region slug one that exists, a
            # timeout shorter than the interval. Those answer 400, which is documented.
            excluded_checks=[schemathesis.checks.positive_data_acceptance],
        )
        transaction.set_rollback(True)
    for region in Region.objects.values_list("slug", flat=True):
        assert queued_checks(broker, region) == []


@pytest.mark.parametrize("path", ["/api/monitors/1.5/", "/api/monitors/-1/ticks/", "/api/nothing-here/"])
def test_an_unknown_api_path_is_a_json_404(alice_client, path):
    response = alice_client.get(path)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "Not found."}


def test_an_unknown_page_outside_the_api_stays_html(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
