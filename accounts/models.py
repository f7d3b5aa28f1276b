"""The user (an email address is the login; there is no username), the organizations that own
monitors, channels, maintenance windows and status pages, their members with a role each,
invitations, and API keys."""

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


class Role(models.TextChoices):
    """A member's role in an organization, and an API key's. Lowest first: each may do what
    the one before may, and more (accounts/roles.py)."""

    VIEWER = "viewer"
    EDITOR = "editor"
    ADMIN = "admin"
    OWNER = "owner"


class Organization(models.Model):
    """What owns monitors, channels, windows and pages. Every user has a personal one, made
    with the account (accounts/organizations.py), and may be invited into others."""

    name = models.CharField(max_length=100)
    slug = models.SlugField(max_length=60, unique=True)
    # Monitors this organization may have; empty: MONITOR_QUOTA_PER_ORGANIZATION.
    monitor_quota = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=10, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [models.UniqueConstraint(fields=["organization", "user"], name="membership_once")]
        indexes = [models.Index(fields=["user", "created_at"], name="membership_user_first")]

    def __str__(self) -> str:
        return f"{self.user} in {self.organization} ({self.role})"


class Invitation(models.Model):
    """An email address asked into an organization with a role. The link's token is shown
    once, in the email; only its hash is stored. Accepted by a signed-in user with that
    address, once, before it expires."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField()
    role = models.CharField(max_length=10, choices=Role.choices)
    invited_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["organization", "-created_at"], name="invitation_org_recent")]

    def __str__(self) -> str:
        return f"{self.email} to {self.organization} ({self.role})"

    def is_open_at(self, now) -> bool:
        return self.accepted_at is None and self.revoked_at is None and self.expires_at > now


class ApiKeyQuerySet(models.QuerySet):
    def owned_by(self, organization) -> "ApiKeyQuerySet":
        return self.filter(organization=organization)


class ApiKey(models.Model):
    """A long-lived key for scripts and CI, sent as `Authorization: Bearer upt_...` beside
    JWTs. Only a hash of it is stored: it is shown once, when made (accounts/keys.py). It acts
    in its organization with its role, and never above its maker's role there now: a maker
    who leaves takes their keys' power with them."""

    Role = Role  # a key's roles are a member's

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="api_keys")
    made_by = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_keys")
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
        indexes = [
            models.Index(fields=["made_by", "-created_at"], name="apikey_maker_recent"),
            models.Index(fields=["organization", "-created_at"], name="apikey_org_recent"),
        ]

    def __str__(self) -> str:
        return f"{self.name} (upt_{self.prefix}_…)"

    def is_active_at(self, now) -> bool:
        """Neither revoked nor expired (its maker's own state aside)."""
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)
