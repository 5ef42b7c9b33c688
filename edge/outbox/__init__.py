"""The SQLite edge database: the outbox every message passes through (`outbox`), its limits
(`limits`), its schema (`schema`) and the bounded local history for on-site viewing
(`history`)."""
