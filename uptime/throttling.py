"""API rate limits, kept in the shared cache (Redis) so every web process counts together."""

from django.conf import settings
from rest_framework.throttling import ScopedRateThrottle


class ScopedThrottle(ScopedRateThrottle):
    """DRF's scoped throttle, reading its rates from API_THROTTLE_RATES at request time
    (DRF binds them once at import, which settings changes then cannot reach)."""

    def get_rate(self) -> str | None:
        if self.scope is None:  # DRF asks only once the view named its scope
            return None
        return settings.API_THROTTLE_RATES.get(self.scope)
