"""Reproducible benchmarks and the fault suite (see bench/README.md); never part of the test run."""
