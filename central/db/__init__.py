"""PostgreSQL: connections (pool), schema migrations, storage paths (plain / TimescaleDB)."""
