"""API keys from the web pages: the list, a form to make one (saved through the API's
ApiKeySerializer, so the same rules and messages), the new key shown once, and revoking."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse

from accounts.actors import acting
from accounts.api.serializers import ApiKeySerializer
from accounts.keys import keys_seen_by, revoke_key
from accounts.models import ApiKey

from .api_forms import FormField, confirm_delete, form_context, model_field, posted_values, save

ROLE_HELP = "Viewer reads only; editor also writes; admin and owner also manage members and everyone's keys."


def form_fields() -> list[FormField]:
    return [
        model_field(ApiKey, "name", "text", help="Where the key is used, e.g. “CI deploys”.", required=True),
        model_field(ApiKey, "role", "select", help=ROLE_HELP, required=True),
        model_field(ApiKey, "expires_at", "datetime-local", label="Expires (UTC)", help="Empty: never."),
    ]


@login_required
def key_list(request: HttpRequest) -> HttpResponse:
    fields = form_fields()
    values: dict = {"name": "", "role": ApiKey.Role.VIEWER, "expires_at": ""}
    errors: dict[str, list[str]] = {}
    made = None
    if request.method == "POST":
        values = posted_values(request.POST, fields)
        # A datetime-local input sends no zone: the API reads it as UTC, as the label says.
        data = {**values, "expires_at": values["expires_at"] or None}
        made, errors = save(ApiKeySerializer(data=data, context={"request": request}))
        if made is not None:
            values = {"name": "", "role": ApiKey.Role.VIEWER, "expires_at": ""}
    keys = keys_seen_by(acting(request))
    context = {
        **form_context(fields, values, errors),
        "keys": keys,
        "made": made,
        "nav": "keys",
    }
    # The new key is on this answer only: no cache may keep it.
    response = render(request, "web/api_keys.html", context, status=400 if errors else 200)
    response["Cache-Control"] = "no-store"
    return response


@login_required
def revoke(request: HttpRequest, pk: int) -> HttpResponse:
    key = get_object_or_404(keys_seen_by(acting(request)).filter(revoked_at__isnull=True), pk=pk)
    return confirm_delete(
        request,
        key,
        revoke_key,
        done="web:api-keys",
        said=f"API key “{key.name}” is revoked.",
        kind="API key",
        verb="Revoke",
        cancel_url=reverse("web:api-keys"),
        nav="keys",
    )
