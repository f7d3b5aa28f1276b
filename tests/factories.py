"""Small factories: a monitor made through the same domain function the API uses."""

from monitors.models import Monitor, Region
from monitors.services import create_monitor


def make_monitor(owner, url: str, regions=("india",), **fields) -> Monitor:
    settings = {"name": "site", "interval_seconds": 60, "timeout_seconds": 2, "retries": 0, "retry_interval_seconds": 1}
    settings.update(fields)
    return create_monitor(owner, Region.objects.filter(slug__in=regions), url=url, **settings)
