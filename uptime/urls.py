from django.contrib import admin
from django.http import JsonResponse
from django.urls import include, path
from django.views import defaults
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import DefaultRouter

from accounts.api.views import ApiKeyViewSet
from audit.api.views import AuditEventListView
from checks.api.views import (
    HealthView,
    IncidentViewSet,
    MonitorGapsView,
    MonitorStatusChangesView,
    MonitorTicksView,
    MonitorUptimeView,
    metrics_view,
)
from configfile.api.views import ConfigApplyView, ConfigExportView, ConfigPlanView, ConfigSchemaView
from monitors.api.views import MaintenanceWindowViewSet, MonitorViewSet, RegionViewSet
from notifications.api.views import ChannelViewSet
from statuspages.api.views import (
    IncidentUpdateCreateView,
    PageIncidentViewSet,
    StatusPageViewSet,
    SubscriberViewSet,
)

router = DefaultRouter()
router.register("regions", RegionViewSet, basename="region")
router.register("monitors", MonitorViewSet, basename="monitor")
router.register("incidents", IncidentViewSet, basename="incident")
router.register("maintenance-windows", MaintenanceWindowViewSet, basename="maintenance-window")
router.register("channels", ChannelViewSet, basename="channel")
router.register("status-pages", StatusPageViewSet, basename="status-page")
router.register("keys", ApiKeyViewSet, basename="api-key")

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/auth/", include("accounts.api.urls")),
    path("api/health/", HealthView.as_view(), name="health"),
    path("metrics", metrics_view, name="metrics"),
    path("api/monitors/<int:pk>/ticks/", MonitorTicksView.as_view(), name="monitor-ticks"),
    path("api/monitors/<int:pk>/uptime/", MonitorUptimeView.as_view(), name="monitor-uptime"),
    path(
        "api/monitors/<int:monitor_pk>/incidents/",
        IncidentViewSet.as_view({"get": "list"}),
        name="monitor-incidents",
    ),
    path("api/monitors/<int:pk>/gaps/", MonitorGapsView.as_view(), name="monitor-gaps"),
    path("api/monitors/<int:pk>/status-changes/", MonitorStatusChangesView.as_view(), name="monitor-status-changes"),
    path(
        "api/status-pages/<int:page_pk>/incidents/",
        PageIncidentViewSet.as_view({"get": "list", "post": "create"}),
        name="status-page-incident-list",
    ),
    path(
        "api/status-pages/<int:page_pk>/incidents/<int:pk>/",
        # No PUT: a status changes by an update with its message, never by rewriting.
        PageIncidentViewSet.as_view({"get": "retrieve", "patch": "partial_update", "delete": "destroy"}),
        name="status-page-incident-detail",
    ),
    path(
        "api/status-pages/<int:page_pk>/incidents/<int:pk>/updates/",
        IncidentUpdateCreateView.as_view(),
        name="status-page-incident-updates",
    ),
    path(
        "api/status-pages/<int:page_pk>/subscribers/",
        SubscriberViewSet.as_view({"get": "list"}),
        name="status-page-subscriber-list",
    ),
    path(
        "api/status-pages/<int:page_pk>/subscribers/<int:pk>/",
        SubscriberViewSet.as_view({"get": "retrieve", "delete": "destroy"}),
        name="status-page-subscriber-detail",
    ),
    path("api/", include("accounts.api.organization_urls")),
    path("api/audit/", AuditEventListView.as_view(), name="audit-events"),
    path("api/config/plan", ConfigPlanView.as_view(), name="config-plan"),
    path("api/config/apply", ConfigApplyView.as_view(), name="config-apply"),
    path("api/config/export", ConfigExportView.as_view(), name="config-export"),
    path("api/config/schema", ConfigSchemaView.as_view(), name="config-schema"),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("api/", include(router.urls)),
    path("", include("web.urls")),
]


def not_found(request, exception):
    # API clients read JSON: a path no route matches (/api/monitors/1.5/) answers like
    # any other 404 of the API, not with Django's HTML page.
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Not found."}, status=404)
    return defaults.page_not_found(request, exception)


handler404 = not_found


def server_error(request):
    # With DEBUG off, an unexpected exception under /api/ answers JSON as every other error
    # of the API does. Neither answer says what failed: the traceback goes to the log only.
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Server error."}, status=500)
    return defaults.server_error(request)


handler500 = server_error


def bad_request(request, exception):
    # Requests Django refuses before any view (a Host not in ALLOWED_HOSTS, too many fields)
    # answer an API client in JSON too.
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Bad request."}, status=400)
    return defaults.bad_request(request, exception)


handler400 = bad_request
