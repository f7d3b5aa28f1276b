"""The audit log: who created, changed, deleted, paused or applied what, when, and from where."""
