"""Run by the housekeeping worker: the spool's outcomes written as ticks and rollup counts, and gaps."""
