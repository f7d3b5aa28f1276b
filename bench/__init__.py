"""Reproducible benchmarks and the fault suite; never part of the test run."""
