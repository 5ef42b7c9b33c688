"""Time-based alarm checks, run by the scheduler (central/jobs.py, listed in central/wiring.py)."""
