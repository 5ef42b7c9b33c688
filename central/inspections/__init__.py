"""Keeper's rounds and supervisory inspections with rectification deadlines (issue 14 item 6)."""
