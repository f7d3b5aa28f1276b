"""The rules a channel's settings must meet, shared by the API and the admin."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from probe.urls import url_error

from .apprise_urls import apprise_url_error

MAX_REMINDER_MINUTES = 7 * 24 * 60
POSTING_KINDS = {"webhook", "slack"}
# For a value out of range and for one that is no whole number alike.
REMINDER_MINUTES_MESSAGE = (
    f"Reminders run from 1 to {MAX_REMINDER_MINUTES} minutes apart (a whole number); 0 turns them off."
)


def channel_errors(values: dict, stored: dict | None = None) -> dict[str, str]:
    """Return {field: message} for every rule the given (complete) channel settings break.

    A webhook's or Slack's URL is the user's input that our workers will post to, so it
    meets the monitors' URL rules, the refusal of private addresses included; an Apprise
    URL must be one Apprise reads, held to the same refusal where it can be
    (notifications.apprise_urls). For an edit, `stored` holds the stored settings: a URL the
    edit leaves as it was is not judged again (it was accepted when entered; private targets
    may have been switched off since, or its host moved), so the channel's other settings
    can still be changed.
    """
    errors: dict[str, str] = {}
    kind = values["kind"]
    url_changed = stored is None or values.get("url") != stored.get("url") or kind != stored.get("kind")
    apprise_changed = (
        stored is None or values.get("apprise_url") != stored.get("apprise_url") or kind != stored.get("kind")
    )
    if kind in POSTING_KINDS:
        url = values.get("url") or ""
        if not url:
            errors["url"] = f"A {kind} channel needs a URL."
        elif url_changed and (message := url_error(url, allow_private=settings.ALLOW_PRIVATE_TARGETS)) is not None:
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
    elif kind == "apprise":
        apprise_url = values.get("apprise_url") or ""
        if not apprise_url:
            errors["apprise_url"] = "An Apprise channel needs an Apprise URL."
        elif apprise_changed and (
            message := apprise_url_error(apprise_url, allow_private=settings.ALLOW_PRIVATE_TARGETS)
        ):
            errors["apprise_url"] = message
    else:
        errors["kind"] = "Kind must be webhook, email, slack or apprise."
    minutes = values.get("reminder_minutes") or 0
    if not 0 <= minutes <= MAX_REMINDER_MINUTES:
        errors["reminder_minutes"] = REMINDER_MINUTES_MESSAGE
    return errors
