"""Depot identity from provisioning: the registry of depot codes and regions, and the layouts
kept aside for a supervisor when they disagree with it (contracts/mqtt.md, "Broker rules")."""
