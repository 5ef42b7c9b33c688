"""Alarm notifications: the alarms' outbox drained to MQTT and webhooks."""
