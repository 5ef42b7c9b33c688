"""The numbered SQL migrations (a package so the .sql files ship in the wheel)."""
