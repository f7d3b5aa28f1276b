"""Checks: the probe, the Celery tasks that run it, Ticks (results), stats and health."""
