"""Grain-condition alarms: state, evaluation, notifications."""
