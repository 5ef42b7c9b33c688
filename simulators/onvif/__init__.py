"""A simulated ONVIF camera/NVR over HTTP SOAP (see server.py)."""
