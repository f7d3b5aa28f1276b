from django.contrib import admin

from .models import Tick


@admin.register(Tick)
class TickAdmin(admin.ModelAdmin):
    """Ticks are measurements: readable and filterable, never edited by hand."""

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
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in self.model._meta.fields]
