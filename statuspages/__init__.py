"""Public status pages: the web process serves them; the housekeeping worker tells their subscribers."""
