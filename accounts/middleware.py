"""Who acts on a signed-in web page (and the admin): the person, in the organization they
last chose (kept in the session), else their personal one. The API sets its own from the
header or the path (accounts/api/authentication.py)."""

from django.utils.functional import SimpleLazyObject

from .actors import actor_for_user

SESSION_KEY = "organization"


def actor_for_session(request):
    if not request.user.is_authenticated:
        return None
    chosen = request.session.get(SESSION_KEY)
    actor = actor_for_user(request.user, chosen) if isinstance(chosen, int) else None
    return actor or actor_for_user(request.user)  # left, or never chosen: the personal one


class ActorMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.actor = SimpleLazyObject(lambda: actor_for_session(request))
        return self.get_response(request)
