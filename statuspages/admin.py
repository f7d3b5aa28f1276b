from django.contrib import admin

from . import services
from .models import Component, IncidentUpdate, PageIncident, Section, StatusPage, Subscriber


class DeletedThroughServices(admin.ModelAdmin):
    """No bulk "delete selected": a queryset delete skips delete_model, and with it
    services' deleting of the subscribers' own channels (and their queued messages)."""

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions


class SectionInline(admin.TabularInline):
    model = Section
    extra = 0


@admin.register(StatusPage)
class StatusPageAdmin(DeletedThroughServices):
    list_display = ("title", "slug", "domain", "organization", "show_regions", "created_at")
    search_fields = ("title", "slug", "domain", "organization__name")
    list_filter = (("organization", admin.RelatedOnlyFieldListFilter),)
    list_select_related = ("organization",)
    autocomplete_fields = ("organization",)
    inlines = (SectionInline,)

    def save_model(self, request, obj, form, change):
        # Through the one writer, so the page's cached copies are dropped as the API's edits do.
        fields = {name: getattr(obj, name) for name in services.PAGE_FIELDS}
        fields["domain"] = fields["domain"] or None
        if not change:
            services.save_page(obj.organization, None, fields)
            return
        services.save_page(obj.organization, obj, fields)

    def delete_model(self, request, obj):
        services.delete_page(obj)


@admin.register(Component)
class ComponentAdmin(admin.ModelAdmin):
    list_display = ("name", "section", "monitor", "position")
    search_fields = ("name", "monitor__name", "section__page__title")
    list_select_related = ("section__page", "monitor")
    autocomplete_fields = ("monitor",)


class IncidentUpdateInline(admin.TabularInline):
    model = IncidentUpdate
    fields = ("status", "message", "posted_at")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        # An update is posted through the API or the owner's page, which tell subscribers.
        return False


@admin.register(PageIncident)
class PageIncidentAdmin(admin.ModelAdmin):
    list_display = ("title", "page", "status", "started_at", "resolved_at")
    list_filter = ("status",)
    search_fields = ("title", "page__title")
    list_select_related = ("page",)
    readonly_fields = ("status", "started_at", "resolved_at")
    filter_horizontal = ("components",)
    inlines = (IncidentUpdateInline,)

    def has_add_permission(self, request):
        return False  # opened with its first update through the API or the owner's page


@admin.register(Subscriber)
class SubscriberAdmin(DeletedThroughServices):
    list_display = ("address", "kind", "page", "confirmed_at", "created_at")
    list_filter = ("kind",)
    search_fields = ("address", "page__title")
    list_select_related = ("page",)
    readonly_fields = ("page", "channel", "kind", "address", "token", "confirmed_at", "created_at")

    def has_add_permission(self, request):
        return False  # a visitor subscribes and confirms; nobody subscribes them

    def delete_model(self, request, obj):
        services.unsubscribe(obj.token)
