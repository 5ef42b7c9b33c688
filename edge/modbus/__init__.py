"""Modbus polling: one worker per bus, reads planned by `protocols.modbus.planner`, sent by the
edge's own small client (`frames` the codec, `serial_line` RTU over pyserial, `tcp_line` Modbus TCP)."""
