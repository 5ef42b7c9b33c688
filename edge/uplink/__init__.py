"""From outbox rows to MQTT: the broker settings and paho client (`broker`), the publishing
thread (`uplink`) and the commands central sends back (`commands`)."""
