"""Alarm state in the database: alarms, their history and actions, thresholds, inspections."""
