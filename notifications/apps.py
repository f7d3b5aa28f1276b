from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "notifications"

    def ready(self) -> None:
        from audit.recording import audit_saves

        # A webhook's or Apprise URL may hold the receiver's token: never in the log.
        audit_saves(self.get_model("Channel"), "channel", secret=frozenset({"url", "apprise_url", "secret"}))
