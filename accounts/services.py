"""Account domain logic: registration."""

from django.contrib.auth.password_validation import validate_password
from django.db import transaction

from .models import User


@transaction.atomic
def register_user(email: str, password: str) -> User:
    """Create an ordinary (non-staff) user; the caller has validated the email's form."""
    email = User.objects.normalize_email(email).lower()
    validate_password(password, User(email=email))
    return User.objects.create_user(email=email, password=password)
