"""Server-side sort, filter and page for the list routes that can hold thousands of rows
(depots, alarms): the query parameters, the whitelist of sort columns, the SQL pieces.

The body of a list stays a JSON list (contracts/api.md): a client that sends none of these
parameters gets what it always got; the total before paging goes in `X-Total-Count`.

Why a whitelist: `sort` becomes SQL, so only names of a fixed table may reach the ORDER BY;
anything else is a 422 that names the parameter (and the value when it is a plain word,
never raw input: the API does not echo what it was sent).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from fastapi import HTTPException, Response

# The page size a client may ask for: a bounded answer, a bounded query.
MAX_LIMIT = 500
TOTAL_HEADER = "X-Total-Count"
_WORD = re.compile(r"^[a-z_]{1,40}$")
_SPECIAL = re.compile(r"([\\%_])")


@dataclass(frozen=True)
class Order:
    sql: str        # "expr DESC, tie-breaker"
    column: str     # the name the client used, without the sign
    descending: bool


def parse_sort(sort: str | None, columns: Mapping[str, str], default: str, tie: str) -> Order:
    """`sort` ("name" or "-name") → ORDER BY text over the whitelisted `columns` (name → SQL
    expression); `tie` keeps pages stable when the sort column has equal values. Raises
    ValueError with a Chinese sentence naming the parameter."""
    text = (sort or default).strip()
    descending = text.startswith("-")
    name = text[1:] if descending else text
    if name not in columns:
        shown = name if _WORD.match(name) else "（无效值）"
        raise ValueError(f"sort：不支持按 {shown} 排序，可用：{'、'.join(columns)}（前加 - 为倒序）")
    direction = "DESC NULLS LAST" if descending else "ASC NULLS LAST"
    return Order(f"{columns[name]} {direction}, {tie}", name, descending)


def order_or_422(sort: str | None, columns: Mapping[str, str], default: str, tie: str) -> Order:
    try:
        return parse_sort(sort, columns, default, tie)
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from None


def like_pattern(q: str) -> str:
    """A text filter as an ILIKE pattern that matches it anywhere, its own % and _ literal."""
    escaped = _SPECIAL.sub(r"\\\1", q.strip())
    return f"%{escaped}%"


def page_sql(limit: int | None, offset: int, params: dict) -> str:
    """LIMIT/OFFSET text with named parameters put in `params`; no LIMIT when the client
    asked for none (the unpaged answer of before)."""
    text = ""
    if limit is not None:
        text += " LIMIT %(page_limit)s"
        params["page_limit"] = limit
    if offset:
        text += " OFFSET %(page_offset)s"
        params["page_offset"] = offset
    return text


def named_scope(scope_where: str, scope_params: list) -> tuple[str, dict]:
    """auth.scope_sql's condition (positional %s) rewritten with named parameters, so it
    combines with the named filters of a list query."""
    parts = scope_where.split("%s")
    params = {f"scope{i}": value for i, value in enumerate(scope_params)}
    return "".join(p + (f"%(scope{i})s" if i < len(parts) - 1 else "")
                   for i, p in enumerate(parts)), params


def split_total(rows: list[dict], key: str = "total_count") -> tuple[list[dict], int | None]:
    """Rows selected with `count(*) OVER () AS total_count` → (rows without it, the total);
    None when the page came back empty (the caller counts separately)."""
    total = rows[0][key] if rows else None
    for row in rows:
        row.pop(key, None)
    return rows, total


def with_total(response: Response, total: int) -> Response:
    response.headers[TOTAL_HEADER] = str(total)
    return response
