from typing import TYPE_CHECKING, TypedDict, cast

from django import forms
from django.contrib import admin, messages
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import connection
from django.db.models import F, Field, Q
from django.db.models.functions import NullIf
from django.utils import timezone

from checks.figures.stats import uptime_24h_annotation

from . import maintenance, services
from .models import MaintenanceWindow, Monitor, Region
from .request_validation import HTTP_ONLY_FIELDS
from .validation import number_messages, parent_errors

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations


class Counts24h(TypedDict):
    """What uptime_24h_annotation adds to each monitor of the admin's list."""

    checks_24h: int
    up_24h: int


@admin.register(Region)
class RegionAdmin(admin.ModelAdmin):
    list_display = ("slug", "name")
    search_fields = ("slug", "name")


class LateFilter(admin.SimpleListFilter):
    """Monitors whose checks stopped arriving in some region (the watchdog's flag)."""

    title = "checks"
    parameter_name = "checks"

    def lookups(self, request, model_admin):
        return [("late", "Late in some region")]

    def queryset(self, request, queryset):
        return queryset.exclude(late_regions=[]) if self.value() == "late" else queryset


class MonitorForm(forms.ModelForm):
    auth_password = forms.CharField(
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False),
        help_text="Leave empty to keep the stored password; clearing the username clears it.",
    )

    # No Meta: the admin builds the form for Monitor from its fieldsets.

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # A number the column cannot hold fails here, before Monitor.clean sees it: it gets
        # the rule's message, as in the API, not the column's limit (2147483647, 0). Values
        # the column holds are judged by the rule itself, in Monitor.clean.
        for name, message in number_messages().items():
            if field := self.fields.get(name):
                field.error_messages["invalid"] = message
                column = cast(Field, Monitor._meta.get_field(name))
                low, high = connection.ops.integer_field_range(column.get_internal_type())
                field.validators = [MinValueValidator(low, message), MaxValueValidator(high, message)]

    def clean_request_headers(self):
        return self.cleaned_data["request_headers"] or {}

    def clean_auth_password(self):
        # The password is never rendered back, so an empty field means "unchanged"; without
        # a username there is no password to keep.
        typed = self.cleaned_data["auth_password"]
        if typed or not self.cleaned_data.get("auth_username"):
            return typed
        return self.instance.auth_password

    def clean(self):
        super().clean()
        cleaned = self.cleaned_data  # what ModelForm.clean returns
        # The M2M is not on the instance yet, so Monitor.clean cannot see it: the same rule
        # as the API's, on the form's values.
        organization, parents = cleaned.get("organization"), cleaned.get("parents")
        if organization is not None and parents is not None:
            for name, message in parent_errors(self.instance.pk, organization.pk, list(parents)).items():
                self.add_error(name, message)
        return cleaned


@admin.register(Monitor)
class MonitorAdmin(admin.ModelAdmin):
    form = MonitorForm
    list_display = (
        "name",
        "kind",
        "url",
        "status",
        "region_list",
        "interval_seconds",
        "last_checked_at",
        "late",
        "uptime_24h",
        "organization",
    )
    list_filter = (
        ("organization", admin.RelatedOnlyFieldListFilter),
        "status",
        LateFilter,
        "is_active",
        "kind",
        "regions",
        "method",
    )
    search_fields = ("name", "url", "organization__name")
    list_select_related = ("organization",)
    readonly_fields = (
        "status",
        "status_changed_at",
        "last_checked_at",
        "late_regions",
        "checking_since",
        "tls_expires_at",
        "tls_expiry_warned_for",
        "failure_streak",
        "success_streak",
        "held_since",
        "created_at",
        "updated_at",
    )
    fieldsets = (
        (None, {"fields": ("organization", "name", "kind", "url", "regions", "is_active")}),
        (
            "Schedule",
            {"fields": ("interval_seconds", "timeout_seconds", "retries", "retry_interval_seconds", "quorum")},
        ),
        ("Confirmations and dependencies", {"fields": ("failures_before_down", "successes_before_up", "parents")}),
        (
            "HTTP request and response (HTTP monitors only)",
            {"fields": tuple(name for name in HTTP_ONLY_FIELDS if name != "tls_expiry_warning_days")},
        ),
        ("TLS certificate", {"fields": ("tls_expiry_warning_days", "tls_expires_at", "tls_expiry_warned_for")}),
        (
            "State",
            {
                "fields": (
                    "status",
                    "status_changed_at",
                    "last_checked_at",
                    "late_regions",
                    "checking_since",
                    "failure_streak",
                    "success_streak",
                    "held_since",
                    "created_at",
                    "updated_at",
                )
            },
        ),
    )
    autocomplete_fields = ("organization",)
    filter_horizontal = ("regions", "parents")
    actions = ("pause", "resume", "check_now")

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("regions").annotate(**uptime_24h_annotation())

    @admin.display(description="regions")
    def region_list(self, monitor: Monitor) -> str:
        return ", ".join(region.slug for region in monitor.regions.all())

    @admin.display(description="checks late in")
    def late(self, monitor: Monitor) -> str:
        return ", ".join(monitor.late_regions) or "-"

    # From the hourly rollups, over the API's "24h" window (this hour and the 23 before).
    @admin.display(description="24h uptime", ordering=F("up_24h") * 1.0 / NullIf(F("checks_24h"), 0))
    def uptime_24h(self, monitor: "WithAnnotations[Monitor, Counts24h]") -> str:
        if not monitor.checks_24h:
            return "-"
        return f"{100.0 * monitor.up_24h / monitor.checks_24h:.2f}%"

    # The monitor is saved with its regions, through the same function as the API, once
    # the form's many-to-many data is known: that is where its schedule is synced.
    def save_model(self, request, obj, form, change):
        pass

    def save_related(self, request, form, formsets, change):
        services.save_monitor(form.instance, form.cleaned_data["regions"], parents=form.cleaned_data["parents"])
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    def delete_model(self, request, obj):
        services.delete_monitor(obj)

    def delete_queryset(self, request, queryset):
        for monitor in queryset:
            services.delete_monitor(monitor)

    @admin.action(description="Pause the selected monitors")
    def pause(self, request, queryset):
        for monitor in queryset:
            services.pause_monitor(monitor)
        self.message_user(request, f"Paused {queryset.count()} monitor(s).", messages.SUCCESS)

    @admin.action(description="Resume the selected monitors")
    def resume(self, request, queryset):
        for monitor in queryset:
            services.resume_monitor(monitor)
        self.message_user(request, f"Resumed {queryset.count()} monitor(s).", messages.SUCCESS)

    @admin.action(description="Check the selected monitors now")
    def check_now(self, request, queryset):
        count = 0
        for monitor in queryset.filter(is_active=True):
            services.check_now(monitor)
            count += 1
        self.message_user(request, f"Queued checks for {count} active monitor(s).", messages.SUCCESS)


class MaintenanceStateFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [("active", "Active now"), ("upcoming", "Upcoming"), ("over", "Over")]

    def queryset(self, request, queryset):
        now = timezone.now()
        active = MaintenanceWindow.objects.covering(now).values("pk")
        if self.value() == "active":
            return queryset.filter(pk__in=active)
        if self.value() == "upcoming":
            # A weekly window not in force now always has an occurrence to come.
            return queryset.filter(Q(starts_at__gt=now) | Q(recurrence=MaintenanceWindow.Recurrence.WEEKLY)).exclude(
                pk__in=active
            )
        if self.value() == "over":
            return queryset.filter(recurrence=MaintenanceWindow.Recurrence.NONE, ends_at__lte=now)
        return queryset


class MaintenanceWindowForm(forms.ModelForm):
    class Meta:
        model = MaintenanceWindow
        fields = ["organization", "name", "monitors", "starts_at", "ends_at", "recurrence"]

    def clean(self):
        super().clean()
        cleaned = self.cleaned_data  # what ModelForm.clean returns
        organization, monitors = cleaned.get("organization"), cleaned.get("monitors")
        if organization is not None and monitors is not None:
            foreign = [monitor.name for monitor in monitors if monitor.organization_id != organization.pk]
            if foreign:
                self.add_error("monitors", f"Not monitors of {organization}: {', '.join(foreign)}.")
        return cleaned


@admin.register(MaintenanceWindow)
class MaintenanceWindowAdmin(admin.ModelAdmin):
    form = MaintenanceWindowForm
    list_display = ("name", "organization", "starts_at", "ends_at", "recurrence", "monitor_list", "active_now")
    list_filter = (("organization", admin.RelatedOnlyFieldListFilter), MaintenanceStateFilter, "recurrence")
    search_fields = ("name", "organization__name", "monitors__name")
    list_select_related = ("organization",)
    autocomplete_fields = ("organization",)
    filter_horizontal = ("monitors",)
    readonly_fields = ("created_at",)

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("monitors")

    @admin.display(description="monitors")
    def monitor_list(self, window: MaintenanceWindow) -> str:
        return ", ".join(monitor.name for monitor in window.monitors.all())

    @admin.display(description="active now", boolean=True)
    def active_now(self, window: MaintenanceWindow) -> bool:
        now = timezone.now()
        occurrence = maintenance.current_or_next([window], now)
        return occurrence is not None and occurrence.is_current(now)
