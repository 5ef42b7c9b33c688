"""The API's routers, one module each (a FastAPI `router`, paths relative to /api/v1 unless
central/wiring.py mounts it elsewhere). central/wiring.py lists them: adding one is one line
there."""
