from django.apps import AppConfig
from django.db.models.signals import post_save, pre_delete


def give_personal_organization(sender, instance, created, raw=False, **kwargs) -> None:
    """Every account starts with an organization of its own, however it is made (sign-up,
    the admin, createsuperuser)."""
    if created and not raw:
        from .organizations import create_personal_organization

        create_personal_organization(instance)


def hand_over_organizations(sender, instance, **kwargs) -> None:
    from .organizations import hand_over

    hand_over(instance)


class AccountsConfig(AppConfig):
    name = "accounts"

    def ready(self) -> None:
        user = self.get_model("User")
        post_save.connect(give_personal_organization, sender=user, dispatch_uid="accounts-personal-organization")
        pre_delete.connect(hand_over_organizations, sender=user, dispatch_uid="accounts-hand-over")
