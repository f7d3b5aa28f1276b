from django.urls import path

from .organizations import (
    AcceptInvitationView,
    InvitationDetailView,
    InvitationListView,
    MemberDetailView,
    MemberListView,
    OrganizationDetailView,
    OrganizationListView,
)

urlpatterns = [
    path("organizations/", OrganizationListView.as_view(), name="organization-list"),
    path("organizations/<slug:organization_slug>/", OrganizationDetailView.as_view(), name="organization-detail"),
    path("organizations/<slug:organization_slug>/members/", MemberListView.as_view(), name="member-list"),
    path("organizations/<slug:organization_slug>/members/<int:pk>/", MemberDetailView.as_view(), name="member-detail"),
    path("organizations/<slug:organization_slug>/invitations/", InvitationListView.as_view(), name="invitation-list"),
    path(
        "organizations/<slug:organization_slug>/invitations/<int:pk>/",
        InvitationDetailView.as_view(),
        name="invitation-detail",
    ),
    path("invitations/accept/", AcceptInvitationView.as_view(), name="invitation-accept"),
]
