from django.apps import AppConfig


class StatusPagesConfig(AppConfig):
    name = "statuspages"
    verbose_name = "Status pages"

    def ready(self) -> None:
        from audit.recording import audit_saves

        audit_saves(self.get_model("StatusPage"), "status page")
