"""The root page: where the admin, the API's docs, its schema and health are, and how to
sign in. A placeholder until the dashboard takes its place."""

from pathlib import Path

from django.http import HttpRequest, HttpResponse
from django.template import engines

# uptime/ is no installed app, so the template loaders do not look here: the page reads
# its template itself, and renders it with the project's template engine.
TEMPLATE = Path(__file__).resolve().parent / "templates" / "home.html"


def home(request: HttpRequest) -> HttpResponse:
    template = engines["django"].from_string(TEMPLATE.read_text())
    return HttpResponse(template.render({}, request))
