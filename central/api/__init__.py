"""The central HTTP API (FastAPI): `central.api.app.create_app(settings)`."""
