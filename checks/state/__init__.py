"""Run inside the outcome writer's transaction: verdicts, status changes, incidents, certificates."""
