"""LS/T 1812 data model over Modbus (project profile): register profiles, their codec, the
read planner and wire timing. Pure: no I/O."""
