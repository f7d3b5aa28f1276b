"""How a message reaches a channel: one class per kind behind one registry, each raising
TransportError, whatever went wrong, so the delivery logic records every outcome alike."""

import hashlib
import hmac
import json
from dataclasses import dataclass

import requests
from apprise import NotifyType
from django.conf import settings
from django.core.mail import EmailMessage, get_connection

from probe.errors import classify_error
from probe.guard import guarded_session
from probe.target import ProbeTarget

from . import apprise_urls
from .models import Channel

SIGNATURE_HEADER = "X-Uptime-Signature"
DELIVERY_HEADER = "X-Uptime-Delivery"
EVENT_HEADER = "X-Uptime-Event"


class TransportError(Exception):
    def __init__(self, message: str, status_code: int | None = None):
        super().__init__(message)
        self.status_code = status_code


@dataclass(frozen=True)
class Message:
    delivery_id: str
    event: str
    title: str
    text: str
    payload: dict


def sign(secret: str, body: bytes) -> str:
    """The signature header's value: HMAC-SHA256 of the exact body bytes."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class Transport:
    def __init__(self, channel: Channel):
        self.channel = channel

    def send(self, message: Message) -> int | None:
        """Send; return the receiver's status code where there is one. TransportError on failure."""
        raise NotImplementedError


class HttpTransport(Transport):
    """Posts JSON to the user's URL through the checks' hardened session: unless
    ALLOW_PRIVATE_TARGETS is on, the address connected to is vetted again, so a URL whose
    DNS answer changed since it was entered cannot reach into our network."""

    def body(self, message: Message) -> bytes:
        raise NotImplementedError

    def headers(self, message: Message, body: bytes) -> dict[str, str]:
        return {}

    def send(self, message: Message) -> int | None:
        timeout = settings.NOTIFY_TIMEOUT_SECONDS
        target = ProbeTarget(
            url=self.channel.url, timeout_seconds=timeout, allow_private=settings.ALLOW_PRIVATE_TARGETS
        )
        body = self.body(message)
        headers = {
            "Content-Type": "application/json",
            "User-Agent": settings.PROBE_USER_AGENT,
            **self.headers(message, body),
        }
        session = guarded_session(target)
        try:
            # No redirects: a receiver that moved must be edited, not followed with our body.
            # Streamed and closed unread: only the status matters, and no body can hold us.
            response = session.post(
                self.channel.url,
                data=body,
                headers=headers,
                timeout=(timeout, timeout),
                allow_redirects=False,
                stream=True,
            )
            response.close()
        except requests.exceptions.RequestException as exc:
            raise TransportError(classify_error(exc, target)) from exc
        finally:
            session.close()
        if not 200 <= response.status_code < 300:
            raise TransportError(f"unexpected status {response.status_code}", response.status_code)
        return response.status_code


class WebhookTransport(HttpTransport):
    def body(self, message: Message) -> bytes:
        return json.dumps({"delivery_id": message.delivery_id, **message.payload}, separators=(",", ":")).encode()

    def headers(self, message: Message, body: bytes) -> dict[str, str]:
        return {
            SIGNATURE_HEADER: sign(self.channel.secret, body),
            DELIVERY_HEADER: message.delivery_id,
            EVENT_HEADER: message.event,
        }


class SlackTransport(HttpTransport):
    """Slack's incoming webhooks, and everything that speaks their {"text": ...} (Mattermost,
    Rocket.Chat, Discord's /slack endpoint)."""

    def body(self, message: Message) -> bytes:
        return json.dumps({"text": f"*{message.title}*\n{message.text}"}).encode()


class EmailTransport(Transport):
    def send(self, message: Message) -> int | None:
        connection = get_connection(timeout=settings.NOTIFY_TIMEOUT_SECONDS)
        email = EmailMessage(
            subject=message.title,
            body=message.text,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[self.channel.email],
            # A message may carry headers of its own: a status page's List-Unsubscribe.
            headers={DELIVERY_HEADER: message.delivery_id, **message.payload.get("email_headers", {})},
            connection=connection,
        )
        try:
            email.send()
        except (OSError, ValueError) as exc:  # smtplib's errors are OSErrors
            raise TransportError(f"email: {exc}") from exc
        return None


class AppriseTransport(Transport):
    """Any service Apprise supports, through the channel's Apprise URL: the alert's title,
    and its text as the body. Held to the address guard as notifications.apprise_urls says."""

    NOTIFY_TYPES = {
        "incident.opened": NotifyType.FAILURE,
        "incident.reminder": NotifyType.FAILURE,
        "incident.resolved": NotifyType.SUCCESS,
    }

    def send(self, message: Message) -> int | None:
        try:
            apprise_urls.send(
                self.channel.apprise_url,
                title=message.title,
                body=message.text,
                notify_type=self.NOTIFY_TYPES.get(message.event, NotifyType.INFO),
                allow_private=settings.ALLOW_PRIVATE_TARGETS,
                timeout_seconds=settings.NOTIFY_TIMEOUT_SECONDS,
            )
        except apprise_urls.AppriseFailure as exc:
            raise TransportError(str(exc)) from None
        return None


TRANSPORTS: dict[str, type[Transport]] = {
    Channel.Kind.WEBHOOK: WebhookTransport,
    Channel.Kind.SLACK: SlackTransport,
    Channel.Kind.EMAIL: EmailTransport,
    Channel.Kind.APPRISE: AppriseTransport,
}


def transport_for(channel: Channel) -> Transport:
    return TRANSPORTS[channel.kind](channel)
