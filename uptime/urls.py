from django.contrib import admin
from django.urls import include, path
from rest_framework.routers import DefaultRouter

from checks.api.views import (
    HealthView,
    IncidentViewSet,
    MonitorGapsView,
    MonitorStatusChangesView,
    MonitorTicksView,
    MonitorUptimeView,
    metrics_view,
)
from monitors.api.views import MaintenanceWindowViewSet, MonitorViewSet, RegionViewSet
from notifications.api.views import ChannelViewSet

router = DefaultRouter()
router.register("regions", RegionViewSet, basename="region")
router.register("monitors", MonitorViewSet, basename="monitor")
router.register("incidents", IncidentViewSet, basename="incident")
router.register("maintenance-windows", MaintenanceWindowViewSet, basename="maintenance-window")
router.register("channels", ChannelViewSet, basename="channel")

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
    path("api/", include(router.urls)),
]
