from django.apps import AppConfig
from django.db.models.signals import post_save


def give_personal_organization(sender, instance, created, raw=False, **kwargs) -> None:
    """Every account starts with an organization of its own, however it is made (sign-up,
    the admin, createsuperuser)."""
    if created and not raw:
        from .organizations import create_personal_organization

        create_personal_organization(instance)


class AccountsConfig(AppConfig):
    name = "accounts"

    def ready(self) -> None:
        post_save.connect(
            give_personal_organization, sender=self.get_model("User"), dispatch_uid="accounts-personal-organization"
        )
