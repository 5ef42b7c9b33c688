"""The lots' scheduled job, picked up by `central.jobs.all_jobs()`."""

from central.lots.alerts import stock_rules_job

LOTS_JOBS = {"stock_rules": (stock_rules_job, None)}
