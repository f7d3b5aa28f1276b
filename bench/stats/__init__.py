"""Stats benchmark: the uptime endpoint and the monitor list read from rollups, against
the same figures computed from raw ticks, in one run. `python -m bench.stats --help`."""
