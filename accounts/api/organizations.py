"""The organizations API: one's organizations, a new one, its members with their roles,
invitations by email and accepting one. The organization is in the path here
(/api/organizations/<slug>/...); elsewhere the `X-Organization` header names it. The rules
are accounts/organizations.py's, which also write each change to the audit log."""

from typing import cast

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import organizations
from accounts.actors import acting, memberships_of
from accounts.models import Invitation, Membership, Organization, Role, User
from accounts.organizations import monitor_quota
from uptime.openapi import ValidationErrors, error


def _invalid(exc: DjangoValidationError) -> serializers.ValidationError:
    return serializers.ValidationError(exc.message_dict)


class OrganizationSerializer(serializers.ModelSerializer):
    role = serializers.SerializerMethodField(help_text="Your role in it.")
    monitor_quota = serializers.SerializerMethodField(help_text="Monitors it may have; 0: no limit.")

    class Meta:
        model = Organization
        fields = ["slug", "name", "role", "monitor_quota", "created_at"]
        read_only_fields = ["slug", "created_at"]

    def to_internal_value(self, data):
        # DRF's CharField takes a number as its digits; the document says a string.
        if isinstance(data, dict) and "name" in data and not isinstance(data["name"], str):
            raise serializers.ValidationError({"name": ["Give the name as a string."]})
        return super().to_internal_value(data)

    def get_role(self, organization: Organization) -> str:
        return self.context["roles"].get(organization.pk, "")

    def get_monitor_quota(self, organization: Organization) -> int:
        return monitor_quota(organization)


class MembershipSerializer(serializers.ModelSerializer):
    email = serializers.EmailField(source="user.email", read_only=True)
    role = serializers.ChoiceField(choices=Role.choices)

    class Meta:
        model = Membership
        fields = ["id", "email", "role", "created_at"]
        read_only_fields = ["created_at"]


class InvitationSerializer(serializers.ModelSerializer):
    role = serializers.ChoiceField(choices=Role.choices)
    invited_by = serializers.EmailField(source="invited_by.email", read_only=True, default=None)

    class Meta:
        model = Invitation
        fields = ["id", "email", "role", "invited_by", "created_at", "expires_at", "accepted_at", "revoked_at"]
        read_only_fields = ["created_at", "expires_at", "accepted_at", "revoked_at"]


class OrganizationListView(generics.ListCreateAPIView):
    """Your organizations with your role in each; POST makes a new one, with you its owner."""

    serializer_class = OrganizationSerializer
    organization_free = True
    # A key acts in one organization: it neither lists its maker's others nor makes one.
    people_only = True
    pagination_class = None

    def get_queryset(self):
        return Organization.objects.filter(memberships__user=cast(User, self.request.user))

    def get_serializer_context(self):
        roles = {m.organization_id: m.role for m in memberships_of(cast(User, self.request.user))}
        return {**super().get_serializer_context(), "roles": roles}

    def perform_create(self, serializer) -> None:
        try:
            organization = organizations.create_organization(
                cast(User, self.request.user), serializer.validated_data["name"]
            )
        except DjangoValidationError as exc:
            raise _invalid(exc) from None
        serializer.instance = organization
        serializer.context["roles"][organization.pk] = Role.OWNER


class OrganizationDetailView(generics.RetrieveUpdateAPIView):
    """One organization; an admin renames it (PATCH name). Its monitor quota is the
    operator's to set, in the admin."""

    serializer_class = OrganizationSerializer
    write_role = Role.ADMIN
    http_method_names = ["get", "patch", "head", "options"]

    def get_object(self):
        return acting(self.request).organization

    def get_serializer_context(self):
        actor = acting(self.request)
        return {**super().get_serializer_context(), "roles": {actor.organization.pk: actor.role}}

    def perform_update(self, serializer) -> None:
        try:
            organization = organizations.rename_organization(acting(self.request), serializer.validated_data["name"])
        except DjangoValidationError as exc:
            raise _invalid(exc) from None
        serializer.instance = organization


class MemberListView(generics.ListAPIView):
    """The organization's members and their roles; any member may see them."""

    serializer_class = MembershipSerializer

    def get_queryset(self):
        return Membership.objects.filter(organization=acting(self.request).organization).select_related("user")


class MemberDetailView(generics.RetrieveUpdateDestroyAPIView):
    """PATCH role: an admin up to admin, an owner any; the last owner stays. DELETE removes
    the member (an admin; an owner only by an owner), or oneself: leaving."""

    serializer_class = MembershipSerializer
    http_method_names = ["get", "patch", "delete", "head", "options"]
    write_role = Role.ADMIN

    def get_queryset(self):
        return Membership.objects.filter(organization=acting(self.request).organization).select_related("user")

    def check_permissions(self, request) -> None:
        # Leaving takes no role: a viewer may go.
        if request.method == "DELETE" and request.user.is_authenticated:
            self.write_role = Role.VIEWER
        super().check_permissions(request)

    def perform_update(self, serializer) -> None:
        try:
            organizations.change_role(acting(self.request), serializer.instance, serializer.validated_data["role"])
        except DjangoValidationError as exc:
            raise _invalid(exc) from None

    def perform_destroy(self, instance: Membership) -> None:
        try:
            organizations.remove_member(acting(self.request), instance)
        except DjangoValidationError as exc:
            raise _invalid(exc) from None


class InvitationListView(generics.ListCreateAPIView):
    """Invitations (admins): the list, and POST email and role to invite someone; the link
    goes to that address only, valid for 7 days."""

    serializer_class = InvitationSerializer
    read_role = write_role = Role.ADMIN

    def get_queryset(self):
        return Invitation.objects.filter(organization=acting(self.request).organization).select_related("invited_by")

    def perform_create(self, serializer) -> None:
        data = serializer.validated_data
        try:
            invitation, _token = organizations.invite(acting(self.request), data["email"], data["role"])
        except DjangoValidationError as exc:
            raise _invalid(exc) from None
        serializer.instance = invitation


class InvitationDetailView(generics.RetrieveDestroyAPIView):
    """DELETE revokes the invitation: its link stops working."""

    serializer_class = InvitationSerializer
    read_role = write_role = Role.ADMIN

    def get_queryset(self):
        return Invitation.objects.filter(organization=acting(self.request).organization)

    def perform_destroy(self, instance: Invitation) -> None:
        organizations.revoke_invitation(acting(self.request), instance)


class AcceptInvitationSerializer(serializers.Serializer):
    token = serializers.CharField(max_length=100, help_text="From the invitation's link.")


class AcceptInvitationView(APIView):
    """Join an organization: the token from the invitation's link, sent by the person it was
    addressed to, signed in."""

    organization_free = True
    people_only = True

    @extend_schema(
        request=AcceptInvitationSerializer,
        responses={
            201: MembershipSerializer,
            400: error("The invitation is unknown, used, revoked, expired or not yours.", ValidationErrors),
        },
    )
    def post(self, request):
        query = AcceptInvitationSerializer(data=request.data)
        query.is_valid(raise_exception=True)
        token = query.validated_data["token"]
        try:
            membership = organizations.accept_invitation(request.user, token)
        except DjangoValidationError as exc:
            raise _invalid(exc) from None
        body = {**MembershipSerializer(membership).data, "organization": membership.organization.slug}
        return Response(body, status=status.HTTP_201_CREATED)
