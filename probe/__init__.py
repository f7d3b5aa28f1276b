"""The check itself, run by region workers: HTTP and TCP probes and the address guard. No Django."""
