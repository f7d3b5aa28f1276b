"""Run by region workers: a bundle's checks from the monitor cache, liveness and reclaiming."""
