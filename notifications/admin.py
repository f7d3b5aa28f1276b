from django.contrib import admin, messages

from uptime.record_admin import RecordAdmin

from . import services
from .models import Channel, Delivery, DeliveryAttempt


@admin.register(Channel)
class ChannelAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "target", "owner", "audience", "is_default", "reminder_minutes")
    list_filter = ("kind", "audience", "is_default")
    search_fields = ("name", "url", "email", "owner__email")
    list_select_related = ("owner",)
    autocomplete_fields = ("owner",)
    filter_horizontal = ("monitors",)
    readonly_fields = ("secret", "audience", "created_at", "updated_at")
    actions = ("send_test",)

    @admin.action(description="Send a test message to the selected channels")
    def send_test(self, request, queryset):
        for channel in queryset:
            services.send_test(channel)
        self.message_user(request, f"Queued a test message to {queryset.count()} channel(s).", messages.SUCCESS)


class DeliveryAttemptInline(admin.TabularInline):
    model = DeliveryAttempt
    fields = ("at", "ok", "status_code", "error", "duration_ms")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Delivery)
class DeliveryAdmin(RecordAdmin):
    """The log of what was sent where: read-only."""

    list_display = ("created_at", "event", "channel", "monitor", "status", "attempts", "finished_at", "last_error")
    list_filter = ("status", "event", "channel__kind")
    search_fields = ("channel__name", "monitor__name", "last_error", "uid")
    list_select_related = ("channel", "monitor")
    date_hierarchy = "created_at"
    inlines = (DeliveryAttemptInline,)
