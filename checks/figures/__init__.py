"""Run by the web process: uptime and latency from rollups, health, metrics."""
