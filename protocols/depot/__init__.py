"""The depot configuration file: model, loader with line-exact errors, layout message."""

from protocols.depot.layout import layout_message
from protocols.depot.loader import ConfigErrors, ConfigProblem, parse_depot_config, resolve_path
from protocols.depot.model import DepotConfig, Granary

__all__ = [
    "ConfigErrors", "ConfigProblem", "DepotConfig", "Granary", "layout_message",
    "parse_depot_config", "resolve_path",
]
