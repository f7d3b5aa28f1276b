"""The fault suite: real processes, injected failures, lost and doubled checks counted (python -m bench.faults)."""
