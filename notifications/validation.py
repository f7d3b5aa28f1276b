"""The rules a channel's settings must meet, shared by the API and the admin."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from probe.urls import url_error

MAX_REMINDER_MINUTES = 7 * 24 * 60
POSTING_KINDS = {"webhook", "slack"}


def channel_errors(values: dict) -> dict[str, str]:
    """Return {field: message} for every rule the given (complete) channel settings break.

    A webhook's or Slack's URL is the user's input that our workers will post to, so it
    meets the monitors' URL rules, the refusal of private addresses included.
    """
    errors: dict[str, str] = {}
    kind = values["kind"]
    if kind in POSTING_KINDS:
        url = values.get("url") or ""
        if not url:
            errors["url"] = f"A {kind} channel needs a URL."
        elif (message := url_error(url, allow_private=settings.ALLOW_PRIVATE_TARGETS)) is not None:
            errors["url"] = message
    elif kind == "email":
        email = values.get("email") or ""
        if not email:
            errors["email"] = "An email channel needs an address."
        else:
            try:
                validate_email(email)
            except ValidationError:
                errors["email"] = "Enter a valid email address."
    else:
        errors["kind"] = "Kind must be webhook, email or slack."
    minutes = values.get("reminder_minutes") or 0
    if not 0 <= minutes <= MAX_REMINDER_MINUTES:
        errors["reminder_minutes"] = f"Reminders run from 1 to {MAX_REMINDER_MINUTES} minutes apart; 0 turns them off."
    return errors
