from django.contrib import admin
from django.utils import timezone

from checks.models import Gap, Incident, RegionImpairment, StatusChange, Tick
from uptime.record_admin import RecordAdmin


@admin.register(Tick)
class TickAdmin(RecordAdmin):
    list_display = (
        "scheduled_at",
        "monitor",
        "region",
        "status",
        "status_code",
        "response_time_ms",
        "attempts",
        "in_maintenance",
        "error",
    )
    list_filter = ("status", "in_maintenance", "region", "scheduled_at")
    search_fields = ("monitor__name", "monitor__url", "error")
    date_hierarchy = "scheduled_at"
    list_select_related = ("monitor", "region")


class IncidentStateFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [("open", "Open"), ("resolved", "Resolved")]

    def queryset(self, request, queryset):
        if self.value() == "open":
            return queryset.filter(resolved_at__isnull=True)
        if self.value() == "resolved":
            return queryset.filter(resolved_at__isnull=False)
        return queryset


@admin.register(Incident)
class IncidentAdmin(RecordAdmin):
    list_display = ("started_at", "monitor", "resolved_at", "duration", "first_error", "region_list", "resolution")
    list_filter = (IncidentStateFilter, "started_at")
    search_fields = ("monitor__name", "monitor__url", "first_error")
    date_hierarchy = "started_at"
    list_select_related = ("monitor",)

    @admin.display(description="duration")
    def duration(self, incident: Incident) -> str:
        seconds = int(incident.duration_at(timezone.now()))
        text = f"{seconds // 3600}h {seconds % 3600 // 60:02d}m {seconds % 60:02d}s"
        return text if incident.resolved_at else f"{text} (open)"

    @admin.display(description="regions")
    def region_list(self, incident: Incident) -> str:
        return ", ".join(incident.regions)


@admin.register(StatusChange)
class StatusChangeAdmin(RecordAdmin):
    list_display = ("changed_at", "monitor", "from_status", "to_status", "reason")
    list_filter = ("to_status", "changed_at")
    search_fields = ("monitor__name", "reason")
    date_hierarchy = "changed_at"
    list_select_related = ("monitor",)


@admin.register(Gap)
class GapAdmin(RecordAdmin):
    list_display = ("starts_at", "monitor", "region", "ends_at", "slots_missed", "detected_at")
    list_filter = ("region", "starts_at")
    search_fields = ("monitor__name", "monitor__url")
    date_hierarchy = "starts_at"
    list_select_related = ("monitor", "region")


@admin.register(RegionImpairment)
class RegionImpairmentAdmin(RecordAdmin):
    list_display = ("started_at", "region", "ended_at", "detail")
    list_filter = ("region", "started_at")
    date_hierarchy = "started_at"
    list_select_related = ("region",)
