"""Modbus polling: one worker per bus, reads planned by `protocols.modbus.planner`."""
