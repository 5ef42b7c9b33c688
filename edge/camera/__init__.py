"""Cameras and NVR channels over ONVIF: health, stills, the T/RH overlay, pull-point events."""
