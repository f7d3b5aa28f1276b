"""The addresses of a status page served on its own domain (web/status_domains.py): the
page's own, at the root. Static files are served before any URL is matched."""

from django.urls import path

from . import status_pages


def _on_domain(view):
    def answer(request, **kwargs):
        return view(request, slug=request.status_page_slug, on_domain=True, **kwargs)

    return answer


urlpatterns = [
    path("", _on_domain(status_pages.status_page), name="status-domain-page"),
    path("live", _on_domain(status_pages.status_live), name="status-domain-live"),
    path("status.json", _on_domain(status_pages.status_json), name="status-domain-json"),
    path("feed.atom", _on_domain(status_pages.status_feed), name="status-domain-feed"),
    path("subscribe", _on_domain(status_pages.subscribe), name="status-domain-subscribe"),
]
