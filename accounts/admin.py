from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import UserChangeForm, UserCreationForm

from .keys import revoke_key
from .models import ApiKey, Invitation, Membership, Organization, User


class EmailUserCreationForm(UserCreationForm):
    class Meta:
        model = User
        fields = ("email",)


class EmailUserChangeForm(UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    form = EmailUserChangeForm
    add_form = EmailUserCreationForm
    ordering = ("email",)
    list_display = ("email", "is_active", "is_staff", "date_joined")
    search_fields = ("email", "first_name", "last_name")
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Personal info", {"fields": ("first_name", "last_name")}),
        ("Permissions", {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
        ("Important dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    """Keys are made through the API or the web pages, which show the new key once; here
    they are looked up and revoked. Never deleted: a revoked key stays on record."""

    list_display = (
        "name",
        "organization",
        "made_by",
        "role",
        "prefix",
        "created_at",
        "last_used_at",
        "expires_at",
        "revoked_at",
    )
    list_filter = (("organization", admin.RelatedOnlyFieldListFilter), "role")
    search_fields = ("name", "prefix", "made_by__email", "organization__name")
    list_select_related = ("made_by", "organization")
    readonly_fields = (
        "organization",
        "made_by",
        "name",
        "role",
        "prefix",
        "created_at",
        "expires_at",
        "last_used_at",
        "revoked_at",
    )
    exclude = ("secret_hash",)
    actions = ("revoke",)

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.action(description="Revoke the selected keys")
    def revoke(self, request, queryset) -> None:
        keys = list(queryset.filter(revoked_at__isnull=True))
        for key in keys:
            revoke_key(key)
        self.message_user(request, f"{len(keys)} key(s) revoked.")


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ("user",)
    fields = ("user", "role", "created_at")
    readonly_fields = ("created_at",)


class InvitationInline(admin.TabularInline):
    """Invitations are sent from the API or the web pages, which mail the link."""

    model = Invitation
    extra = 0
    fields = ("email", "role", "invited_by", "created_at", "expires_at", "accepted_at", "revoked_at")
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    """The operator sets an organization's own monitor quota here (empty: the default,
    MONITOR_QUOTA_PER_ORGANIZATION) and sees or changes who is in it."""

    list_display = ("name", "slug", "monitor_quota", "created_at")
    search_fields = ("name", "slug", "memberships__user__email")
    readonly_fields = ("created_at",)
    inlines = (MembershipInline, InvitationInline)
