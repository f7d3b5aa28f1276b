"""A status page on its own domain: a request whose Host is a page's domain is answered by
that page's addresses at the root (web/status_domain_urls.py) instead of the whole site.

The host must also be in ALLOWED_HOSTS (Django refuses others before any view); the docs
say so. Our own host (PUBLIC_URL's) and the local names are never looked up."""

from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.http.request import split_domain_port

from statuspages.services import slug_for_domain

LOCAL_HOSTS = {"localhost", "127.0.0.1", "[::1]", "::1", "testserver"}


class StatusPageDomainMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self.own_hosts = LOCAL_HOSTS | {urlsplit(settings.PUBLIC_URL).hostname or ""}

    def __call__(self, request: HttpRequest) -> HttpResponse:
        host, _ = split_domain_port(request.get_host())
        if host and host not in self.own_hosts and (slug := slug_for_domain(host)) is not None:
            request.urlconf = "web.status_domain_urls"
            request.status_page_slug = slug  # type: ignore[attr-defined]
        return self.get_response(request)
