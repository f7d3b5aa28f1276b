"""The admin's base for records of what happened (ticks, incidents, deliveries): every app's
admin shares it, so it lives with the project rather than in one app."""

from django.contrib import admin


class RecordAdmin(admin.ModelAdmin):
    """Records of what happened: readable and filterable, never added or edited by hand."""

    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in self.model._meta.fields]
