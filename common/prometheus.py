"""Prometheus text exposition format (version 0.0.4): one renderer for every registry."""

from __future__ import annotations

import math
from collections.abc import Iterable

Labels = tuple[tuple[str, str], ...]


def label_key(labels: dict[str, object]) -> Labels:
    """Labels as a sorted, hashable key (values as text)."""
    return tuple(sorted((k, str(v)) for k, v in labels.items()))


def escape_label_value(value: str) -> str:
    """Backslash, double quote and line feed escaped, as the format requires."""
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def format_labels(labels: Labels) -> str:
    if not labels:
        return ""
    return "{" + ",".join(f'{k}="{escape_label_value(v)}"' for k, v in labels) + "}"


def format_value(value: float) -> str:
    """Integers without a decimal point, other floats in their shortest exact form."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return str(int(value)) if value.is_integer() else repr(float(value))


def render_family(name: str, kind: str, help_text: str,
                  samples: Iterable[tuple[Labels, float]]) -> list[str]:
    """The HELP and TYPE lines of one metric, then one line per sample in label order."""
    help_escaped = help_text.replace("\\", "\\\\").replace("\n", "\\n")
    lines = [f"# HELP {name} {help_escaped}", f"# TYPE {name} {kind}"]
    lines += [f"{name}{format_labels(k)} {format_value(v)}" for k, v in sorted(samples)]
    return lines


def render_text(families: Iterable[list[str]]) -> str:
    """Rendered families joined into one exposition (empty when there are none)."""
    lines = [line for family in families for line in family]
    return "\n".join(lines) + ("\n" if lines else "")
