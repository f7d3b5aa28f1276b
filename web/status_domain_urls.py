"""The addresses of a status page served on its own domain (web/status_domains.py): the
page's own, at the root. Static files are served before any URL is matched."""

from django.urls import path

from . import badges, status_pages


def _on_domain(view, **extra):
    def answer(request, **kwargs):
        return view(request, slug=request.status_page_slug, **extra, **kwargs)

    return answer


urlpatterns = [
    path("", _on_domain(status_pages.status_page, on_domain=True), name="status-domain-page"),
    path("live", _on_domain(status_pages.status_live, on_domain=True), name="status-domain-live"),
    path("status.json", _on_domain(status_pages.status_json, on_domain=True), name="status-domain-json"),
    path("feed.atom", _on_domain(status_pages.status_feed, on_domain=True), name="status-domain-feed"),
    path("subscribe", _on_domain(status_pages.subscribe, on_domain=True), name="status-domain-subscribe"),
    path("badges/<int:component>/<str:kind>.svg", _on_domain(badges.component_badge), name="status-domain-badge"),
]
