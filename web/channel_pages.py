"""Alert channels from the web pages: the list with each channel's latest deliveries (a
dead one with its Replay button), the form (saved through the API's ChannelSerializer),
"send test" and delete."""

import math

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from accounts.actors import acting
from notifications import dead_letter, services
from notifications.api.serializers import ChannelSerializer
from notifications.models import Channel, Delivery

from .api_forms import FormField, confirm_delete, model_field, posted_values, render_form, save
from .rate_limits import wait_seconds
from .roles import editor_required

LATEST_DELIVERIES = 10


def form_fields() -> list[FormField]:
    return [
        model_field(Channel, "name", "text", required=True),
        model_field(Channel, "kind", "select"),
        model_field(
            Channel, "url", "text", label="URL", help="For a webhook or Slack channel: where alerts are posted."
        ),
        model_field(Channel, "email", "email", help="For an email channel: where alerts are sent."),
        model_field(
            Channel,
            "apprise_url",
            "password",
            help="For an Apprise channel: the service's URL (tgram://…, discord://…, ntfy://…; see"
            " appriseit.com/services). It holds the service's tokens, so it is never shown again;"
            " leave it empty to keep the stored one.",
        ),
        model_field(Channel, "reminder_minutes", "number", label="Reminder (minutes)"),
        model_field(Channel, "is_default", "checkbox", label="Put on new monitors"),
    ]


def _owned(request: HttpRequest, pk: int) -> Channel:
    return get_object_or_404(Channel.objects.owned_by(acting(request).organization), pk=pk)


@login_required
def channel_list(request: HttpRequest) -> HttpResponse:
    channels = list(Channel.objects.owned_by(acting(request).organization).annotate(monitor_count=Count("monitors")))
    deliveries = Delivery.objects.filter(channel__in=channels).select_related("monitor").order_by("-created_at", "-id")
    latest: dict[int, list[Delivery]] = {}
    for delivery in deliveries[: LATEST_DELIVERIES * max(len(channels), 1)]:
        shown = latest.setdefault(delivery.channel_id, [])
        if len(shown) < LATEST_DELIVERIES:
            shown.append(delivery)
    rows = [{"channel": channel, "deliveries": latest.get(channel.pk, [])} for channel in channels]
    return render(request, "web/channels.html", {"rows": rows, "nav": "channels"})


def _form(request: HttpRequest, channel: Channel | None) -> HttpResponse:
    fields = form_fields()
    if request.method == "POST":
        values = posted_values(request.POST, fields)
        data = dict(values)
        if channel is not None and not data["apprise_url"]:
            del data["apprise_url"]  # kept as stored
        values["apprise_url"] = ""  # never sent back to the browser
        saved, errors = save(ChannelSerializer(channel, data=data, context={"request": request}))
        if saved is not None:
            messages.success(request, f"Channel “{saved.name}” saved. Send it a test to see it arrive.")
            return redirect("web:channels")
    else:
        current = channel or Channel()
        values = {form_field.name: getattr(current, form_field.name) for form_field in fields}
        values["apprise_url"] = ""
        errors = {}
    return render_form(
        request,
        fields,
        values,
        errors,
        title=f"Edit channel “{channel.name}”" if channel else "New channel",
        submit="Save channel" if channel else "Create channel",
        cancel_url=reverse("web:channels"),
        nav="channels",
    )


@login_required
@editor_required
def create(request: HttpRequest) -> HttpResponse:
    return _form(request, None)


@login_required
@editor_required
def edit(request: HttpRequest, pk: int) -> HttpResponse:
    return _form(request, _owned(request, pk))


@login_required
@require_POST
@editor_required
def send_test(request: HttpRequest, pk: int) -> HttpResponse:
    channel = _owned(request, pk)
    # The API's limit on test messages (each one posts or mails somewhere on demand).
    wait = wait_seconds(request, "channel_test")
    if wait is not None:
        messages.error(request, f"Too many test messages; try again in {math.ceil(wait)} seconds.")
    else:
        services.send_test(channel)
        messages.success(request, f"Test message queued for “{channel.name}”; its delivery shows below.")
    return redirect("web:channels")


@login_required
@require_POST
@editor_required
def replay(request: HttpRequest, pk: int, delivery_pk: int) -> HttpResponse:
    channel = _owned(request, pk)
    delivery = get_object_or_404(Delivery, channel=channel, pk=delivery_pk)
    if dead_letter.replay(delivery) is None:
        messages.error(request, dead_letter.NOT_DEAD)
    else:
        messages.success(request, f"Replay queued for “{channel.name}”; its delivery shows below.")
    return redirect("web:channels")


@login_required
@editor_required
def delete(request: HttpRequest, pk: int) -> HttpResponse:
    channel = _owned(request, pk)
    return confirm_delete(
        request,
        channel,
        Channel.delete,
        done="web:channels",
        said=f"Channel “{channel.name}” is deleted.",
        kind="channel",
        cancel_url=reverse("web:channels"),
        nav="channels",
    )
