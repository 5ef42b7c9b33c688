"""Alarm evaluation at ingest: one ingest batch of new scans → alarms raised or cleared."""
