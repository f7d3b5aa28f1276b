"""Checks: scheduling a monitor's slots, running them, recording ticks, deciding status, figures."""
