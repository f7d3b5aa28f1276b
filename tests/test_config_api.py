"""The config file over the API: plan and apply YAML or JSON bodies, export, the schema
(served, committed, and the docs' example valid against it), roles of API keys."""

import json
import re
from datetime import date, datetime
from pathlib import Path

import jsonschema  # type: ignore[import-untyped]
import yaml
from rest_framework.test import APIClient

from accounts.actors import actor_for_user
from accounts.keys import create_key
from configfile.schema import config_schema, schema_text
from monitors.models import Monitor
from tests.factories import personal

ROOT = Path(__file__).resolve().parent.parent
BODY = """\
version: 1
monitors:
  - name: Shop
    url: https://shop.example.com/
    regions: [india]
    auth_username: shop
    auth_password: hunter2-literal
"""


def key_client(owner, role: str) -> APIClient:
    _, token = create_key(actor_for_user(owner), f"{role} key", role)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def post(client, action: str, body: str, content_type: str = "application/yaml", prune: bool = False):
    return client.post(f"/api/config/{action}{'?prune=true' if prune else ''}", data=body, content_type=content_type)


def test_plan_then_apply_a_yaml_body(alice, alice_client):
    plan = post(alice_client, "plan", BODY)
    assert plan.status_code == 200, plan.content
    assert plan.json()["create"] == [{"kind": "monitor", "name": "Shop", "id": None}]
    assert not Monitor.objects.exists()

    applied = post(alice_client, "apply", BODY)
    assert applied.status_code == 200 and applied.json()["changes"] is True
    assert Monitor.objects.get(organization=personal(alice), name="Shop").auth_password == "hunter2-literal"

    again = post(alice_client, "apply", BODY)
    assert again.json()["changes"] is False and again.json()["summary"].startswith("No changes")


def test_a_change_is_shown_field_by_field_and_a_secret_is_masked(alice, alice_client):
    post(alice_client, "apply", BODY)
    changed = BODY.replace("hunter2-literal", "hunter3").replace("regions: [india]", "regions: [india, usa]")

    plan = post(alice_client, "plan", changed).json()

    (step,) = plan["change"]
    assert step["fields"] == {"auth_password": {"secret": True}, "regions": {"old": ["india"], "new": ["india", "usa"]}}
    assert "hunter" not in json.dumps(plan)


def test_a_json_body_is_read_too(alice, alice_client):
    document = yaml.safe_load(BODY)
    response = post(alice_client, "apply", json.dumps(document), "application/json")
    assert response.status_code == 200, response.content
    assert Monitor.objects.filter(organization=personal(alice), name="Shop").exists()


def test_errors_are_400_by_item_field_and_line(alice, alice_client):
    response = post(alice_client, "apply", BODY.replace("regions: [india]", "regions: [mars]\n    retries: 9"))

    assert response.status_code == 400
    assert response.json()["errors"] == [
        {
            "item": 'monitors[0] "Shop"',
            "field": "regions",
            "line": 5,
            "message": "No region mars; the regions are europe, india, usa.",
        },
        {
            "item": 'monitors[0] "Shop"',
            "field": "retries",
            "line": 6,
            "message": "Retries must be a whole number from 0 to 5.",
        },
    ]
    assert not Monitor.objects.exists()


def test_environment_references_are_refused_over_the_api(alice, alice_client):
    response = post(alice_client, "plan", BODY.replace("hunter2-literal", "${SHOP_PASSWORD}"))
    assert response.status_code == 400
    (error,) = response.json()["errors"]
    assert (error["field"], error["line"]) == ("auth_password", 7)
    assert "command line only" in error["message"]


def test_a_viewer_key_plans_and_exports_but_cannot_apply(alice):
    viewer = key_client(alice, "viewer")
    assert post(viewer, "plan", BODY).status_code == 200
    assert viewer.get("/api/config/export").status_code == 200
    refused = post(viewer, "apply", BODY)
    assert refused.status_code == 403
    assert not Monitor.objects.exists()
    assert post(key_client(alice, "editor"), "apply", BODY).status_code == 200


def test_no_token_no_plan(anon_client):
    assert post(anon_client, "plan", BODY).status_code == 401
    assert anon_client.get("/api/config/export").status_code == 401


def test_export_is_yaml_with_secrets_as_placeholders(alice, alice_client, bob_client):
    post(alice_client, "apply", BODY)
    response = alice_client.get("/api/config/export")
    assert response.status_code == 200 and response["Content-Type"].startswith("application/yaml")
    text = response.content.decode()
    assert "hunter2" not in text and "${UPTIME_MONITOR_SHOP_AUTH_PASSWORD}" in text
    # Bob's export is his own: empty.
    assert "Shop" not in bob_client.get("/api/config/export").content.decode()


def test_prune_is_a_query_parameter(alice, alice_client):
    post(alice_client, "apply", BODY)
    empty = "version: 1\n"
    assert post(alice_client, "apply", empty).json()["unmanaged"]["monitors"] == 1
    assert Monitor.objects.filter(organization=personal(alice)).count() == 1
    pruned = post(alice_client, "apply", empty, prune=True).json()
    assert pruned["delete"][0]["name"] == "Shop" and not Monitor.objects.filter(organization=personal(alice)).exists()


def test_the_schema_is_served_and_committed(anon_client):
    served = anon_client.get("/api/config/schema")
    assert served.status_code == 200 and served.json() == config_schema()
    jsonschema.Draft202012Validator.check_schema(config_schema())
    committed = (ROOT / "docs" / "config.schema.json").read_text()
    # Regenerate with: python manage.py uptime schema -o docs/config.schema.json
    assert committed == schema_text()


def _as_json(value):
    """A YAML document as its JSON form: times as ISO 8601 strings."""
    if isinstance(value, dict):
        return {key: _as_json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_as_json(item) for item in value]
    if isinstance(value, datetime | date):
        return value.isoformat().replace("+00:00", "Z")
    return value


def test_the_docs_example_is_valid_and_plans_cleanly(alice, alice_client, monkeypatch):
    text = (ROOT / "docs" / "config-file.md").read_text()
    example = re.search(r"```yaml\n(.*?)```", text, re.S)[1]  # type: ignore[index]
    jsonschema.validate(_as_json(yaml.safe_load(example)), config_schema())

    literal = example.replace("${OPS_APPRISE}", "json://hooks.example.com/apprise").replace("${SHOP_PASSWORD}", "pw")
    response = post(alice_client, "plan", literal)
    assert response.status_code == 200, response.content


def test_a_body_nested_thousands_deep_is_a_400_not_a_crash(alice_client):
    for media_type in ("application/json", "application/yaml"):
        response = alice_client.post("/api/config/plan", data="[" * 5000 + "]" * 5000, content_type=media_type)
        assert response.status_code == 400, media_type
