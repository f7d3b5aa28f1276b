"""Maintenance windows from the web pages: the list (in force, coming, over), the form
(saved through the API's MaintenanceWindowSerializer) and delete. Times are UTC, as
everywhere in the product."""

from datetime import UTC

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone

from accounts.actors import acting
from monitors.api.serializers import MaintenanceWindowSerializer
from monitors.models import MaintenanceWindow, Monitor

from .api_forms import FormField, confirm_delete, model_field, posted_values, render_form, save
from .roles import editor_required

# What a datetime-local input sends and shows: minutes, no zone (the label says UTC).
INPUT_FORMAT = "%Y-%m-%dT%H:%M"


def form_fields(organization) -> list[FormField]:
    monitors = [(str(pk), name) for pk, name in Monitor.objects.owned_by(organization).values_list("pk", "name")]
    return [
        model_field(MaintenanceWindow, "name", "text", required=True),
        FormField("monitors", "Monitors", "checkboxes", "Checks go on; nobody is alerted.", monitors, required=True),
        model_field(MaintenanceWindow, "starts_at", "datetime-local", label="Starts (UTC)", required=True),
        model_field(MaintenanceWindow, "ends_at", "datetime-local", label="Ends (UTC)", required=True),
        model_field(MaintenanceWindow, "recurrence", "select", help="Weekly: at the same UTC times every week."),
    ]


def _owned(request: HttpRequest, pk: int) -> MaintenanceWindow:
    return get_object_or_404(MaintenanceWindow.objects.owned_by(acting(request).organization), pk=pk)


@login_required
def window_list(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    rows = []
    for window in MaintenanceWindow.objects.owned_by(acting(request).organization).prefetch_related("monitors"):
        occurrence = window.occurrence(now)
        rows.append(
            {
                "window": window,
                "occurrence": occurrence,
                "current": occurrence is not None and occurrence[0] <= now,
            }
        )
    return render(request, "web/maintenance.html", {"rows": rows, "nav": "maintenance"})


def _shown(window: MaintenanceWindow | None) -> dict:
    if window is None:
        return {"name": "", "monitors": [], "starts_at": "", "ends_at": "", "recurrence": "none"}
    return {
        "name": window.name,
        "monitors": [str(monitor.pk) for monitor in window.monitors.all()],
        "starts_at": window.starts_at.astimezone(UTC).strftime(INPUT_FORMAT),
        "ends_at": window.ends_at.astimezone(UTC).strftime(INPUT_FORMAT),
        "recurrence": window.recurrence,
    }


def _form(request: HttpRequest, window: MaintenanceWindow | None) -> HttpResponse:
    fields = form_fields(acting(request).organization)
    if request.method == "POST":
        values = posted_values(request.POST, fields)
        data = {name: (value or None) if name in ("starts_at", "ends_at") else value for name, value in values.items()}
        serializer = MaintenanceWindowSerializer(window, data=data, context={"request": request})
        saved, errors = save(serializer)
        if saved is not None:
            messages.success(request, f"Maintenance window “{saved.name}” saved.")
            return redirect("web:maintenance")
    else:
        values, errors = _shown(window), {}
    return render_form(
        request,
        fields,
        values,
        errors,
        title=f"Edit “{window.name}”" if window else "New maintenance window",
        submit="Save window" if window else "Create window",
        cancel_url=reverse("web:maintenance"),
        nav="maintenance",
    )


@login_required
@editor_required
def create(request: HttpRequest) -> HttpResponse:
    return _form(request, None)


@login_required
@editor_required
def edit(request: HttpRequest, pk: int) -> HttpResponse:
    return _form(request, _owned(request, pk))


@login_required
@editor_required
def delete(request: HttpRequest, pk: int) -> HttpResponse:
    window = _owned(request, pk)
    return confirm_delete(
        request,
        window,
        MaintenanceWindow.delete,
        done="web:maintenance",
        said=f"Maintenance window “{window.name}” is deleted.",
        kind="window",
        cancel_url=reverse("web:maintenance"),
        nav="maintenance",
    )
