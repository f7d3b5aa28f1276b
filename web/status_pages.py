"""Public status pages: the page (HTML, JSON, an Atom feed of its incidents), subscribing to
its incidents by email or webhook, confirming and unsubscribing. No sign-in, no cookie: the
answers are the same for every visitor, so they are cached for STATUS_PAGE_CACHE_SECONDS
(and a CDN may hold them as long), and an owner's write drops the cached copy at once.

The subscribe form carries no CSRF token: it is posted by visitors who have no session to
forge, a token would make every copy of the page different, and what it asks for is only
an email or webhook that must confirm before anything else is sent to it."""

import gzip
import json
from math import ceil

from django.conf import settings
from django.contrib.syndication.views import Feed
from django.core.cache import cache
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.feedgenerator import Atom1Feed
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from statuspages import public, services
from statuspages.messages import page_link
from statuspages.models import PageIncident, StatusPage, Subscriber
from statuspages.validation import subscription_errors

from .rate_limits import wait_seconds
from .status_components import component_items

# A visitor's page fetches its live part this often at most.
MIN_REFRESH_SECONDS = 10


def _page(slug: str) -> StatusPage:
    return get_object_or_404(StatusPage.objects.only("id", "slug", "title", "description", "show_regions"), slug=slug)


def _answer(request: HttpRequest, slug: str, form: str, make) -> HttpResponse:
    """The page's answer in `form` (`make` gives its body and content type), from the cache
    while fresh. Cached gzipped: a 180 KB page is 11 KB so, which is what the cache hands
    over, unpickles and the worker writes for each of its many requests; browsers and CDNs
    take it as it is, anyone else gets it unpacked."""
    seconds = settings.STATUS_PAGE_CACHE_SECONDS
    key = services.cache_key(slug, form)
    found = cache.get(key) if seconds else None
    if found is None:
        body, content_type = make()
        if not seconds:
            return _response(HttpResponse(body, content_type=content_type))
        # Level 1: a page is made every few seconds at most, and read far more often.
        found = (gzip.compress(body, compresslevel=1, mtime=0), content_type)
        cache.set(key, found, seconds)
    packed, content_type = found
    if "gzip" not in request.META.get("HTTP_ACCEPT_ENCODING", ""):
        return _response(HttpResponse(gzip.decompress(packed), content_type=content_type))
    response = _response(HttpResponse(packed, content_type=content_type))
    response["Content-Encoding"] = "gzip"
    return response


def _response(response: HttpResponse) -> HttpResponse:
    response["Cache-Control"] = f"public, max-age={settings.STATUS_PAGE_CACHE_SECONDS}"
    # A shared cache keeps a packed and a plain copy apart.
    patch_vary_headers(response, ["Accept-Encoding"])
    return response


def _html(slug: str, on_domain: bool, template: str) -> tuple[bytes, str]:
    shown = public.read(_page(slug))
    sections = [(section, component_items(section)) for section in shown.sections]
    base = "/" if on_domain else reverse("web:status-page", args=[slug])
    # Polling faster than the cache turns over would fetch the same copy again.
    refresh = max(settings.STATUS_PAGE_CACHE_SECONDS, MIN_REFRESH_SECONDS)
    context = {"shown": shown, "page": shown.page, "sections": sections, "base": base, "refresh_seconds": refresh}
    return render_to_string(template, context).encode(), "text/html; charset=utf-8"


@require_GET
def status_page(request: HttpRequest, slug: str, on_domain: bool = False) -> HttpResponse:
    form = "html-domain" if on_domain else "html"
    return _answer(request, slug, form, lambda: _html(slug, on_domain, "web/status/page.html"))


@require_GET
def status_live(request: HttpRequest, slug: str, on_domain: bool = False) -> HttpResponse:
    """The page's changing part alone, for live.js to swap in."""
    form = "live-domain" if on_domain else "live"
    return _answer(request, slug, form, lambda: _html(slug, on_domain, "web/status/_live.html"))


@require_GET
def status_json(request: HttpRequest, slug: str, on_domain: bool = False) -> HttpResponse:
    def make() -> tuple[bytes, str]:
        page = _page(slug)
        return json.dumps(public.as_json(public.read(page), page_link(page))).encode(), "application/json"

    response = _answer(request, slug, "json", make)
    # Other sites' scripts may show the state (a widget): nothing in it is private.
    response["Access-Control-Allow-Origin"] = "*"
    return response


class IncidentFeed(Feed):
    """The page's incidents (the owner's, with their latest update) as Atom."""

    feed_type = Atom1Feed

    def get_object(self, request, slug: str, on_domain: bool = False) -> StatusPage:
        return _page(slug)

    def title(self, page: StatusPage) -> str:
        return f"{page.title}: incidents"

    def link(self, page: StatusPage) -> str:
        return page_link(page)

    def subtitle(self, page: StatusPage) -> str:
        return page.description

    def items(self, page: StatusPage):
        return (
            PageIncident.objects.filter(page=page)
            .select_related("page")
            .prefetch_related("updates")
            .order_by("-started_at", "-id")[:50]
        )

    def item_title(self, incident: PageIncident) -> str:
        return f"{incident.title} ({incident.get_status_display()})"

    def item_description(self, incident: PageIncident) -> str:
        return "\n\n".join(
            f"{update.get_status_display()} ({update.posted_at:%Y-%m-%d %H:%M UTC}): {update.message}"
            for update in incident.updates.all()
        )

    def item_link(self, incident: PageIncident) -> str:
        return f"{page_link(incident.page)}#incident-{incident.pk}"

    def item_pubdate(self, incident: PageIncident):
        return incident.started_at

    def item_updateddate(self, incident: PageIncident):
        latest = incident.updates.all()[:1]
        return latest[0].posted_at if latest else incident.started_at


incident_feed = IncidentFeed()


@require_GET
def status_feed(request: HttpRequest, slug: str, on_domain: bool = False) -> HttpResponse:
    def make() -> tuple[bytes, str]:
        response = incident_feed(request, slug=slug)
        return response.content, response["Content-Type"]

    return _answer(request, slug, "feed", make)


@csrf_exempt
@require_POST
def subscribe(request: HttpRequest, slug: str, on_domain: bool = False) -> HttpResponse:
    page = _page(slug)
    kind = request.POST.get("kind", "email")
    address = request.POST.get("email" if kind == "email" else "url", "").strip()
    context = {"page": page, "kind": kind, "address": address}
    if (seconds := wait_seconds(request, "subscribe")) is not None:
        response = render(
            request, "web/status/subscribed.html", {**context, "throttled_seconds": ceil(seconds)}, status=429
        )
        response["Retry-After"] = str(ceil(seconds))
        return response
    errors = subscription_errors(kind, address)
    if errors:
        return render(request, "web/status/subscribed.html", {**context, "errors": errors}, status=400)
    services.subscribe(page, kind, address)
    return render(request, "web/status/subscribed.html", context)


@require_GET
def confirm(request: HttpRequest, token: str) -> HttpResponse:
    subscriber = services.confirm(token)
    if subscriber is None:
        raise Http404("No subscription has this link: it may have been ended.")
    return render(request, "web/status/confirmed.html", {"page": subscriber.page, "subscriber": subscriber})


@csrf_exempt  # RFC 8058: the mail provider POSTs "List-Unsubscribe=One-Click", with no token
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """GET asks (a link scanner opening the mail must not end the subscription); POST ends it."""
    if request.method == "GET":
        subscriber = Subscriber.objects.select_related("page").filter(token=token).first()
        if subscriber is None:
            return render(request, "web/status/unsubscribed.html", {"gone": True})
        return render(request, "web/status/unsubscribe.html", {"page": subscriber.page, "subscriber": subscriber})
    page = services.unsubscribe(token)
    return render(request, "web/status/unsubscribed.html", {"page": page, "gone": page is None})
