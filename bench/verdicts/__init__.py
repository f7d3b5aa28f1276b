"""Fault injection for verdicts: scripted outages against real beat and workers in two
regions, measuring false alarms, detection and recovery delays, and alerts sent
(python -m bench.verdicts)."""
