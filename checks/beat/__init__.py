"""Run by beat: which slot each monitor owes, the bundle message, broker outages, the lease."""
