"""The status pages owner API (the web process)."""
