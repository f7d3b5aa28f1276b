"""Monitors: regions, monitors, and keeping their beat schedule in step."""
