"""The user: an email address is the login; there is no username."""

from typing import ClassVar

from django.contrib.auth.base_user import BaseUserManager
from django.contrib.auth.models import AbstractUser
from django.db import models


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def _create_user(self, email, password, **extra_fields):
        if not email:
            raise ValueError("An email address is required")
        user = self.model(email=self.normalize_email(email).lower(), **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra_fields)

    def create_superuser(self, email, password=None, **extra_fields):
        extra_fields["is_staff"] = True
        extra_fields["is_superuser"] = True
        return self._create_user(email, password, **extra_fields)


class User(AbstractUser):
    username = None  # type: ignore[assignment]  # the field removed, which the stubs cannot express
    email = models.EmailField("email address", unique=True)

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    # Ours, without a username, in place of auth's UserManager (which the stubs expect here).
    objects: ClassVar[UserManager] = UserManager()  # type: ignore[assignment]

    def __str__(self) -> str:
        return self.email


class ApiKeyQuerySet(models.QuerySet):
    def owned_by(self, user) -> "ApiKeyQuerySet":
        return self.filter(owner=user) if user.is_authenticated else self.none()


class ApiKey(models.Model):
    """A long-lived key for scripts and CI, sent as `Authorization: Bearer upt_...` beside
    JWTs. Only a hash of it is stored: it is shown once, when made (accounts/keys.py)."""

    class Role(models.TextChoices):
        # Lowest first: a key may be given a role no higher than its maker's.
        VIEWER = "viewer"
        EDITOR = "editor"
        ADMIN = "admin"
        OWNER = "owner"

    owner = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=100)
    role = models.CharField(max_length=10, choices=Role.choices)
    # The key's public part ("upt_<prefix>_<secret>"): finds the row without the secret.
    prefix = models.CharField(max_length=12, unique=True, editable=False)
    secret_hash = models.CharField(max_length=64, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = ApiKeyQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["owner", "-created_at"], name="apikey_owner_recent")]

    def __str__(self) -> str:
        return f"{self.name} (upt_{self.prefix}_…)"

    def is_active_at(self, now) -> bool:
        """Neither revoked nor expired (its owner's own state aside)."""
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)
