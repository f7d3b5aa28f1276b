"""Account domain logic: registration and changing one's password."""

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from .models import User


@transaction.atomic
def register_user(email: str, password: str) -> User:
    """Create an ordinary (non-staff) user; the caller has validated the email's form."""
    email = User.objects.normalize_email(email).lower()
    validate_password(password, User(email=email))
    return User.objects.create_user(email=email, password=password)


@transaction.atomic
def change_password(user: User, old_password: str, new_password: str) -> None:
    """Give `user` a new password, if `old_password` is theirs and the new one passes the
    password validators (a ValidationError with messages per field if not). Every refresh
    token issued to them is blacklisted, so a stolen one mints no more access tokens; an
    access token already issued lives out its JWT_ACCESS_MINUTES."""
    errors: dict[str, list[str]] = {}
    if not user.check_password(old_password):
        errors["old_password"] = ["This is not your current password."]
    try:
        validate_password(new_password, user)
    except ValidationError as exc:
        errors["new_password"] = list(exc.messages)
    if errors:
        raise ValidationError(errors)
    user.set_password(new_password)
    user.save(update_fields=["password"])
    outstanding = OutstandingToken.objects.filter(
        user=user, expires_at__gt=timezone.now(), blacklistedtoken__isnull=True
    )
    BlacklistedToken.objects.bulk_create(
        [BlacklistedToken(token=token) for token in outstanding], ignore_conflicts=True
    )
