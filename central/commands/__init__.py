"""Commands to the depots' edge agents as central remembers them (issued, answered)."""
