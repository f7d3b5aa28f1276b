"""Reproducible benchmarks (`python -m bench.scale --help`); not part of the test run."""
