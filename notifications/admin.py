from django import forms
from django.contrib import admin, messages

from uptime.record_admin import RecordAdmin

from . import dead_letter, services
from .models import Channel, Delivery, DeliveryAttempt


class ChannelForm(forms.ModelForm):
    apprise_url = forms.CharField(
        label="Apprise URL",
        required=False,
        max_length=2000,
        widget=forms.PasswordInput(render_value=False),
        help_text="For an Apprise channel. Never shown again: leave empty to keep the stored one.",
    )

    # No Meta: the admin builds the form for Channel from its fields.

    def clean_apprise_url(self):
        # The URL is never rendered back, so an empty field means "unchanged" (for an
        # Apprise channel; Channel.clean asks for one if there is none). Another kind keeps none.
        if self.cleaned_data.get("kind") != Channel.Kind.APPRISE:
            return ""
        return self.cleaned_data["apprise_url"] or self.instance.apprise_url


@admin.register(Channel)
class ChannelAdmin(admin.ModelAdmin):
    form = ChannelForm
    list_display = ("name", "kind", "target", "organization", "audience", "is_default", "reminder_minutes")
    list_filter = (("organization", admin.RelatedOnlyFieldListFilter), "kind", "audience", "is_default")
    # Not the Apprise URL: a search would tell its secrets one guess at a time.
    search_fields = ("name", "url", "email", "organization__name")
    list_select_related = ("organization",)
    autocomplete_fields = ("organization",)
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


class DeadLetterFilter(admin.SimpleListFilter):
    title = "dead letter"
    parameter_name = "dead_letter"

    def lookups(self, request, model_admin):
        return [("waiting", "Dead, not replayed"), ("replayed", "Dead, replayed")]

    def queryset(self, request, queryset):
        if self.value() == "waiting":
            return queryset.filter(status=Delivery.Status.DEAD, replayed_at__isnull=True)
        if self.value() == "replayed":
            return queryset.filter(status=Delivery.Status.DEAD, replayed_at__isnull=False)
        return queryset


@admin.register(Delivery)
class DeliveryAdmin(RecordAdmin):
    """The log of what was sent where: read-only, but for replaying dead deliveries."""

    list_display = (
        "created_at",
        "event",
        "channel",
        "monitor",
        "status",
        "attempts",
        "finished_at",
        "replayed_at",
        "last_error",
    )
    list_filter = (DeadLetterFilter, "status", "event", "channel__kind")
    search_fields = ("channel__name", "monitor__name", "last_error", "uid")
    list_select_related = ("channel", "monitor")
    date_hierarchy = "created_at"
    inlines = (DeliveryAttemptInline,)
    actions = ("replay",)

    @admin.action(description="Replay the selected dead deliveries")
    def replay(self, request, queryset):
        replays = [new for delivery in queryset if (new := dead_letter.replay(delivery)) is not None]
        skipped = len(queryset) - len(replays)
        self.message_user(request, f"Queued {len(replays)} replay(s).", messages.SUCCESS)
        if skipped:
            self.message_user(
                request, f"Skipped {skipped}: only dead deliveries not replayed yet are replayed.", messages.WARNING
            )
