from django.apps import AppConfig


class MonitorsConfig(AppConfig):
    name = "monitors"

    def ready(self):
        # Registers the `__any` lookup the writer's batch queries use.
        from uptime import lookups  # noqa: F401
