"""Status pages from the web pages: the organization's list, the page's form (its settings, and which
monitors it shows, under which names and sections), posting incidents and their updates,
and delete. Everything is saved through the API's serializers and statuspages.services."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse

from accounts.actors import acting
from accounts.models import Role
from monitors.models import Monitor
from statuspages import services
from statuspages.api.serializers import IncidentUpdateSerializer, PageIncidentSerializer, StatusPageSerializer
from statuspages.models import Component, PageIncident, StatusPage

from .api_forms import FormField, confirm_delete, error_messages, form_context, model_field, posted_values, save
from .roles import editor_required, needs_role

STATUSES = PageIncident.Status.choices


def page_fields() -> list[FormField]:
    return [
        model_field(StatusPage, "title", "text", required=True),
        model_field(StatusPage, "slug", "text", required=True, help="The page's address: /status/<slug>/."),
        model_field(StatusPage, "description", "textarea"),
        model_field(StatusPage, "domain", "text", help="Optional: a host name of yours the page answers on too."),
        model_field(StatusPage, "show_regions", "checkbox", label="Name the regions that saw an outage"),
    ]


def _owned(request: HttpRequest, pk: int) -> StatusPage:
    return get_object_or_404(StatusPage.objects.owned_by(acting(request).organization), pk=pk)


@login_required
def page_list(request: HttpRequest) -> HttpResponse:
    pages = StatusPage.objects.owned_by(acting(request).organization).prefetch_related(
        "sections__components", "incidents"
    )
    rows = [
        {
            "page": page,
            "components": sum(len(section.components.all()) for section in page.sections.all()),
            "open_incidents": sum(1 for incident in page.incidents.all() if incident.is_open),
        }
        for page in pages
    ]
    return render(request, "web/status_pages.html", {"rows": rows, "nav": "status"})


def _component_rows(request: HttpRequest, page: StatusPage | None, posted: bool) -> list[dict]:
    """One row per monitor of the user: shown or not, its section and its shown name; the
    page's components first, in their order."""
    shown = {}
    if page is not None:
        for component in Component.objects.filter(section__page=page).select_related("section"):
            shown[component.monitor_id] = (component.section.name, component.name)
    monitors = sorted(
        Monitor.objects.owned_by(acting(request).organization).only("id", "name"),
        key=lambda m: (m.pk not in shown, list(shown).index(m.pk) if m.pk in shown else 0, m.name.lower()),
    )
    rows = []
    for monitor in monitors:
        if posted:
            section, name = request.POST.get(f"section_{monitor.pk}", ""), request.POST.get(f"name_{monitor.pk}", "")
            on = str(monitor.pk) in request.POST.getlist("show")
        else:
            section, name = shown.get(monitor.pk, ("", ""))
            on = monitor.pk in shown
        rows.append({"monitor": monitor, "shown": on, "section": section, "name": name})
    return rows


def _sections(rows: list[dict]) -> list[dict]:
    """The API's `sections` from the rows ticked: sections in the order they first appear."""
    sections: dict[str, list[dict]] = {}
    for row in rows:
        if row["shown"]:
            sections.setdefault(row["section"].strip(), []).append({"monitor": row["monitor"].pk, "name": row["name"]})
    return [{"name": name, "components": components} for name, components in sections.items()]


def _form(request: HttpRequest, page: StatusPage | None) -> HttpResponse:
    fields = page_fields()
    posted = request.method == "POST"
    rows = _component_rows(request, page, posted)
    if posted:
        values = posted_values(request.POST, fields)
        data = {**values, "domain": values["domain"].strip() or None, "sections": _sections(rows)}
        saved, errors = save(StatusPageSerializer(page, data=data, context={"request": request}))
        if saved is not None:
            messages.success(request, f"Status page “{saved.title}” saved.")
            return redirect("web:status-pages")
    else:
        values = {name.name: getattr(page, name.name) if page else "" for name in fields}
        values["show_regions"] = bool(page and page.show_regions)
        errors = {}
    context = {
        **form_context(fields, values, errors),
        "rows": rows,
        "section_names": sorted({row["section"] for row in rows if row["section"]}),
        "sections_errors": errors.get("sections", []),
        "title": f"Edit “{page.title}”" if page else "New status page",
        "submit": "Save page" if page else "Create page",
        "cancel_url": reverse("web:status-pages"),
        "nav": "status",
    }
    return render(request, "web/status_page_form.html", context, status=400 if errors else 200)


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
    page = _owned(request, pk)
    return confirm_delete(
        request,
        page,
        services.delete_page,
        done="web:status-pages",
        said=f"Status page “{page.title}” is deleted, with its incidents and subscribers.",
        kind="status page",
        cancel_url=reverse("web:status-pages"),
        nav="status",
    )


@login_required
@needs_role(Role.EDITOR, posts_only=True)
def incidents(request: HttpRequest, pk: int) -> HttpResponse:
    """The page's incidents with their updates; a form to open one and, on each open one, a
    form to post an update. Subscribers are told of each."""
    page = _owned(request, pk)
    new_errors: dict[str, list[str]] = {}
    update_errors: dict[str, list[str]] = {}
    update_for = None
    if request.method == "POST":
        context = {"request": request, "page": page}
        if (incident_id := request.POST.get("incident")) is not None:
            incident = get_object_or_404(PageIncident, page=page, pk=incident_id)
            update = IncidentUpdateSerializer(data={key: request.POST.get(key, "") for key in ("status", "message")})
            if update.is_valid():
                services.post_update(incident, **update.validated_data)
                messages.success(request, f"Update posted to “{incident.title}”.")
                return redirect("web:status-page-incidents", pk=page.pk)
            update_for, update_errors = incident.pk, error_messages(update.errors)
        else:
            data = {
                "title": request.POST.get("title", ""),
                "status": request.POST.get("status", ""),
                "message": request.POST.get("message", ""),
                "components": request.POST.getlist("components"),
            }
            saved, new_errors = save(PageIncidentSerializer(data=data, context=context))
            if saved is not None:
                messages.success(request, f"Incident “{saved.title}” opened.")
                return redirect("web:status-page-incidents", pk=page.pk)
    listed = PageIncident.objects.filter(page=page).prefetch_related("updates", "components")
    components = Component.objects.filter(section__page=page)
    return render(
        request,
        "web/status_page_incidents.html",
        {
            "page": page,
            "incidents": sorted(listed, key=lambda incident: not incident.is_open),
            "components": components,
            "statuses": STATUSES,
            "new_errors": new_errors,
            "update_errors": update_errors,
            "update_for": update_for,
            "posted": request.POST if request.method == "POST" else {},
            "nav": "status",
        },
        status=400 if new_errors or update_errors else 200,
    )
