"""The depot edge agent. One reading's path: `modbus/` reads a unit, `readings/` stamps it
into messages, `outbox/` commits them, `uplink/` publishes them; `agent.py` wires the parts."""

AGENT_VERSION = "0.1.0"
