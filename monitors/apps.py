from django.apps import AppConfig


class MonitorsConfig(AppConfig):
    name = "monitors"

    def ready(self):
        from django.contrib.auth import get_user_model
        from django.db.models.signals import post_save, pre_save

        # Registers the `__any` lookup the writer's batch queries use.
        from uptime import lookups  # noqa: F401

        from .owners import follow_owner, remember_was_active

        # A deactivated account's monitors are paused, and resumed on reactivation.
        user = get_user_model()
        pre_save.connect(remember_was_active, sender=user, dispatch_uid="monitors-owner-was-active")
        post_save.connect(follow_owner, sender=user, dispatch_uid="monitors-follow-owner")

        from audit.recording import audit_saves

        from .services import STATUS_FIELDS

        # Never in the log: a password, headers that may carry a token, the badge's key; nor
        # what the checks write of a monitor's state.
        audit_saves(
            self.get_model("Monitor"),
            "monitor",
            secret=frozenset({"auth_password", "request_headers", "badge_key"}),
            not_chosen=frozenset({*STATUS_FIELDS, "paused_with_owner"}),
        )
        audit_saves(self.get_model("MaintenanceWindow"), "maintenance window")
