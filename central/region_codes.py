"""Region codes (GB/T 2260) as prefixes: the one place that says which leading digits every
code inside a region shares. (Not `central.users.region_prefix`, which is the prefix a user's
role covers.)"""

from __future__ import annotations


def code_prefix(code: str) -> str:
    """The prefix every code inside a region shares: 430000 → 43, 430100 → 4301, 430102 →
    430102 (trailing 00 pairs are the levels below)."""
    if code.endswith("0000"):
        return code[:2]
    if code.endswith("00"):
        return code[:4]
    return code
