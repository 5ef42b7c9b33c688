"""MQTT -> PostgreSQL ingest: decode (`prepare`), store (`store`), the worker (`worker`)."""
