"""The central HTTP API (FastAPI); central/wiring.py assembles it (`build_app(settings)`)."""
