"""The web pages' addresses (namespace "web")."""

from django.urls import path

from . import (
    accounts,
    api_key_pages,
    badges,
    channel_pages,
    dashboard,
    maintenance_pages,
    monitor_forms,
    monitor_page,
    organization_pages,
    status_page_forms,
    status_pages,
)

app_name = "web"

urlpatterns = [
    path("", dashboard.dashboard, name="dashboard"),
    path("dashboard/rows/", dashboard.dashboard_rows, name="dashboard-rows"),
    path("login/", accounts.LoginView.as_view(), name="login"),
    path("logout/", accounts.LogoutView.as_view(), name="logout"),
    path("password/", accounts.PasswordChangeView.as_view(), name="password-change"),
    path("password/done/", accounts.PasswordChangeDoneView.as_view(), name="password-change-done"),
    path("password-reset/", accounts.PasswordResetView.as_view(), name="password-reset"),
    path("password-reset/sent/", accounts.PasswordResetDoneView.as_view(), name="password-reset-done"),
    path(
        "password-reset/<uidb64>/<token>/",
        accounts.PasswordResetConfirmView.as_view(),
        name="password-reset-confirm",
    ),
    path("password-reset/done/", accounts.PasswordResetCompleteView.as_view(), name="password-reset-complete"),
    path("monitors/new/", monitor_forms.create, name="monitor-create"),
    path("monitors/<int:pk>/", monitor_page.monitor_page, name="monitor"),
    path("monitors/<int:pk>/edit/", monitor_forms.edit, name="monitor-edit"),
    path("monitors/<int:pk>/pause/", monitor_forms.pause, name="monitor-pause"),
    path("monitors/<int:pk>/resume/", monitor_forms.resume, name="monitor-resume"),
    path("monitors/<int:pk>/check/", monitor_forms.check_now, name="monitor-check"),
    path("monitors/<int:pk>/delete/", monitor_forms.delete, name="monitor-delete"),
    path("channels/", channel_pages.channel_list, name="channels"),
    path("channels/new/", channel_pages.create, name="channel-create"),
    path("channels/<int:pk>/edit/", channel_pages.edit, name="channel-edit"),
    path("channels/<int:pk>/test/", channel_pages.send_test, name="channel-test"),
    path(
        "channels/<int:pk>/deliveries/<int:delivery_pk>/replay/", channel_pages.replay, name="channel-delivery-replay"
    ),
    path("channels/<int:pk>/delete/", channel_pages.delete, name="channel-delete"),
    path("maintenance/", maintenance_pages.window_list, name="maintenance"),
    path("maintenance/new/", maintenance_pages.create, name="maintenance-create"),
    path("maintenance/<int:pk>/edit/", maintenance_pages.edit, name="maintenance-edit"),
    path("maintenance/<int:pk>/delete/", maintenance_pages.delete, name="maintenance-delete"),
    path("keys/", api_key_pages.key_list, name="api-keys"),
    path("members/", organization_pages.members, name="members"),
    path("organizations/switch/", organization_pages.switch, name="organization-switch"),
    path("invitations/<str:token>/", organization_pages.accept, name="invitation"),
    path("keys/<int:pk>/revoke/", api_key_pages.revoke, name="api-key-revoke"),
    path("status-pages/", status_page_forms.page_list, name="status-pages"),
    path("status-pages/new/", status_page_forms.create, name="status-page-create"),
    path("status-pages/<int:pk>/edit/", status_page_forms.edit, name="status-page-edit"),
    path("status-pages/<int:pk>/incidents/", status_page_forms.incidents, name="status-page-incidents"),
    path("status-pages/<int:pk>/delete/", status_page_forms.delete, name="status-page-delete"),
    # Public, by the monitor's badge key: no sign-in, no cookie (web/badges.py).
    path("badge/<str:key>/<str:kind>.svg", badges.badge, name="badge"),
    # Public: no sign-in.
    path("status/<slug:slug>/", status_pages.status_page, name="status-page"),
    path("status/<slug:slug>/live", status_pages.status_live, name="status-live"),
    path("status/<slug:slug>/status.json", status_pages.status_json, name="status-json"),
    path("status/<slug:slug>/feed.atom", status_pages.status_feed, name="status-feed"),
    path("status/<slug:slug>/subscribe", status_pages.subscribe, name="status-subscribe"),
    path("status/<slug:slug>/badges/<int:component>/<str:kind>.svg", badges.component_badge, name="status-badge"),
    path("subscriptions/<str:token>/confirm/", status_pages.confirm, name="status-confirm"),
    path("subscriptions/<str:token>/unsubscribe/", status_pages.unsubscribe, name="status-unsubscribe"),
]
