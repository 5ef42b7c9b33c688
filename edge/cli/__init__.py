"""`grainlink edge run|check|status|history|probe`; `register` is what `grainlink` calls."""

from edge.cli.main import register

__all__ = ["register"]
