"""Creating, editing, pausing, resuming, checking now and deleting a monitor from the web
pages. Saving goes through the API's MonitorSerializer (web/api_forms.py), the actions
through monitors/services.py, as the API's do."""

import json
import math

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from accounts.actors import acting
from monitors import services
from monitors.api.serializers import MonitorSerializer
from monitors.models import Monitor, Region
from notifications.models import Channel

from .api_forms import FormField, confirm_delete, model_field, posted_values, render_form, save
from .rate_limits import wait_seconds
from .roles import editor_required

BASIC, CHECK, REQUEST = "What to check", "How to check", "The request (HTTP)"


def form_fields(organization, editing: Monitor | None = None) -> list[FormField]:
    regions = [(region.slug, region.name) for region in Region.objects.order_by("slug")]
    channels = [(str(channel.pk), str(channel)) for channel in Channel.objects.owned_by(organization)]
    # A monitor is never its own parent: the one edited is not offered.
    others = Monitor.objects.owned_by(organization).exclude(pk=editing.pk if editing else None)
    monitors = [(str(pk), name) for pk, name in others.values_list("pk", "name")]
    return [
        model_field(Monitor, "name", "text", required=True, group=BASIC),
        model_field(Monitor, "kind", "select", group=BASIC),
        model_field(Monitor, "url", "text", required=True, group=BASIC, label="URL"),
        model_field(Monitor, "interval_seconds", "number", group=BASIC, label="Interval (seconds)"),
        FormField("regions", "Regions", "checkboxes", "Where it is checked from.", regions, required=True, group=BASIC),
        model_field(Monitor, "quorum", "number", group=BASIC),
        FormField("channels", "Alert channels", "checkboxes", "Where its alerts go.", channels, group=BASIC),
        model_field(Monitor, "timeout_seconds", "number", group=CHECK, label="Timeout (seconds)"),
        model_field(Monitor, "retries", "number", group=CHECK, help="Attempts after a failed one, within the slot."),
        model_field(Monitor, "retry_interval_seconds", "number", group=CHECK, label="Retry interval (seconds)"),
        model_field(Monitor, "expected_status", "text", group=CHECK),
        model_field(Monitor, "keyword", "text", group=CHECK),
        model_field(Monitor, "keyword_mode", "select", group=CHECK),
        model_field(Monitor, "tls_expiry_warning_days", "number", group=CHECK, label="TLS expiry warning (days)"),
        model_field(Monitor, "failures_before_down", "number", group=CHECK),
        model_field(Monitor, "successes_before_up", "number", group=CHECK),
        FormField("parents", "Depends on", "checkboxes", str(Monitor.parents.field.help_text), monitors, group=CHECK),
        model_field(Monitor, "method", "select", group=REQUEST),
        model_field(Monitor, "follow_redirects", "checkbox", group=REQUEST),
        model_field(Monitor, "request_headers", "textarea", group=REQUEST),
        model_field(Monitor, "request_body", "textarea", group=REQUEST),
        model_field(Monitor, "request_content_type", "text", group=REQUEST),
        model_field(Monitor, "auth_username", "text", group=REQUEST, label="Basic auth username"),
        model_field(
            Monitor,
            "auth_password",
            "password",
            group=REQUEST,
            label="Basic auth password",
            help="Never shown again once saved; leave empty to keep the stored one.",
        ),
    ]


def _shown(monitor: Monitor | None) -> dict:
    """The values a form starts with: the monitor's, or a new monitor's defaults."""
    if monitor is None:
        monitor = Monitor()
        # Checked from everywhere unless told otherwise: one region's network trouble then
        # cannot page anyone alone (the quorum is a majority).
        regions = list(Region.objects.order_by("slug").values_list("slug", flat=True))
        channels: list[str] = []
        parents: list[str] = []
    else:
        regions = [region.slug for region in monitor.regions.all()]
        channels = [str(channel.pk) for channel in monitor.channels.all()]
        parents = [str(pk) for pk in monitor.parents.values_list("pk", flat=True)]
    values = {name: getattr(monitor, name) for name in services.EDITABLE_FIELDS}
    values.update(
        regions=regions,
        channels=channels,
        parents=parents,
        request_headers=json.dumps(monitor.request_headers or {}, indent=1) if monitor.request_headers else "",
        quorum="" if monitor.quorum is None else monitor.quorum,
        auth_password="",
    )
    return values


def _api_data(request: HttpRequest, fields: list[FormField], editing: bool) -> tuple[dict, dict, dict]:
    """The posted form as the API's JSON; the values to show again; errors found on the way
    (headers that are no JSON)."""
    shown = posted_values(request.POST, fields)
    data = dict(shown)
    errors: dict[str, list[str]] = {}
    if not (editing or "channels" in request.POST):
        # No box ticked on a new monitor: the organization's default channels, as in the API.
        del data["channels"]
    data["quorum"] = data["quorum"].strip() or None
    for name in ("failures_before_down", "successes_before_up"):
        if not data[name].strip():
            del data[name]  # left empty: the default on a new monitor, the stored value on an edit
    if editing and not data["auth_password"]:
        del data["auth_password"]  # kept as stored
    shown["auth_password"] = ""
    headers = data["request_headers"].strip()
    try:
        data["request_headers"] = json.loads(headers) if headers else {}
    except ValueError:
        errors["request_headers"] = ['Give the headers as a JSON object, e.g. {"X-Token": "abc"}.']
    return data, shown, errors


def _form(request: HttpRequest, monitor: Monitor | None) -> HttpResponse:
    fields = form_fields(acting(request).organization, monitor)
    if request.method != "POST":
        return _render_form(request, monitor, fields, _shown(monitor), {})
    data, shown, errors = _api_data(request, fields, editing=monitor is not None)
    if not errors:
        serializer = MonitorSerializer(monitor, data=data, partial=monitor is not None, context={"request": request})
        saved, errors = save(serializer)
        if saved is not None:
            if monitor is None:
                messages.success(request, f"Monitor “{saved.name}” created; its first check is on its way.")
            else:
                messages.success(request, "Changes saved.")
            return redirect("web:monitor", pk=saved.pk)
    return _render_form(request, monitor, fields, shown, errors)


def _render_form(request, monitor, fields, values, errors) -> HttpResponse:
    return render_form(
        request,
        fields,
        values,
        errors,
        title=f"Edit “{monitor.name}”" if monitor else "New monitor",
        submit="Save changes" if monitor else "Create monitor",
        cancel_url=reverse("web:monitor", args=[monitor.pk]) if monitor else reverse("web:dashboard"),
        nav="new" if monitor is None else "",
    )


def _owned(request: HttpRequest, pk: int) -> Monitor:
    # Another user's monitor does not exist here, as in the API.
    return get_object_or_404(Monitor.objects.owned_by(acting(request).organization), pk=pk)


@login_required
@editor_required
def create(request: HttpRequest) -> HttpResponse:
    return _form(request, None)


@login_required
@editor_required
def edit(request: HttpRequest, pk: int) -> HttpResponse:
    return _form(request, _owned(request, pk))


@login_required
@require_POST
@editor_required
def pause(request: HttpRequest, pk: int) -> HttpResponse:
    monitor = services.pause_monitor(_owned(request, pk))
    messages.success(request, f"“{monitor.name}” is paused: no checks and no alerts until you resume it.")
    return redirect("web:monitor", pk=pk)


@login_required
@require_POST
@editor_required
def resume(request: HttpRequest, pk: int) -> HttpResponse:
    monitor = services.resume_monitor(_owned(request, pk))
    messages.success(request, f"“{monitor.name}” is running again; its first check is on its way.")
    return redirect("web:monitor", pk=pk)


@login_required
@require_POST
@editor_required
def check_now(request: HttpRequest, pk: int) -> HttpResponse:
    monitor = _owned(request, pk)
    if not monitor.is_active:
        messages.error(request, "The monitor is paused; resume it first.")
        return redirect("web:monitor", pk=pk)
    # The API's limit on checks on demand (they make requests to someone's site).
    wait = wait_seconds(request, "check_now")
    if wait is not None:
        messages.error(request, f"Too many checks on demand; try again in {math.ceil(wait)} seconds.")
        return redirect("web:monitor", pk=pk)
    regions = services.check_now(monitor)
    messages.success(request, f"Checking now from {', '.join(regions)}; the results appear below within seconds.")
    return redirect("web:monitor", pk=pk)


@login_required
@editor_required
def delete(request: HttpRequest, pk: int) -> HttpResponse:
    monitor = _owned(request, pk)
    return confirm_delete(
        request,
        monitor,
        services.delete_monitor,
        done="web:dashboard",
        said=f"“{monitor.name}” is deleted, with its checks and incidents.",
        kind="monitor",
        cancel_url=reverse("web:monitor", args=[pk]),
    )
