"""The API's rate limits for the pages: a page's request counts against the same scope,
with the same counters, as the API's (sign-in as the token endpoint, "check now", "send
test")."""

from rest_framework.views import APIView

from uptime.throttling import ScopedThrottle


class _Scoped(APIView):
    """What ScopedThrottle reads of a view: its scope."""

    def __init__(self, scope: str) -> None:
        super().__init__()
        self.throttle_scope = scope


def wait_seconds(request, scope: str) -> float | None:
    """Count this request against `scope`'s rate and return how many seconds to wait if it
    is over the rate, else None."""
    throttle = ScopedThrottle()
    if throttle.allow_request(request, _Scoped(scope)):
        return None
    return throttle.wait() or 1.0
