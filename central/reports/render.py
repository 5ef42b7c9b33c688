"""CSV and printable HTML from rows of plain values: one place for every report's format."""

from __future__ import annotations

import csv
import html
import io
from collections.abc import Sequence

STYLE = ("body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;margin:1em 0}"
         "td,th{border:1px solid #888;padding:3px 6px;text-align:right}th{background:#eee}"
         "td:first-child{text-align:left}@media print{body{margin:0}}")


# A spreadsheet runs a cell starting with one of these as a formula (tab and CR too: some
# programs drop them and read what follows).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value):
    """A cell value a spreadsheet shows as text, never runs: text starting like a formula
    gets a leading apostrophe (the spreadsheet's own "this is text" mark). Numbers, dates
    and None pass unchanged. Every CSV and Excel writer puts its cells through this."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def to_csv(columns: Sequence[str], rows: Sequence[Sequence]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow([spreadsheet_safe(c) for c in columns])
    writer.writerows(["" if v is None else spreadsheet_safe(v) for v in row] for row in rows)
    return buf.getvalue()


def html_table(headers: Sequence[str], rows: Sequence[Sequence]) -> str:
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{html.escape('' if v is None else str(v))}</td>" for v in row)
                   + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def html_page(title: str, sections: Sequence[tuple[str, str]]) -> str:
    """A printable page: a title, then (heading, html) sections."""
    parts = "".join(f"<h2>{html.escape(h)}</h2>{content}" for h, content in sections)
    return (f"<!doctype html><html lang=zh-CN><meta charset=utf-8><title>{html.escape(title)}</title>"
            f"<style>{STYLE}</style><h1>{html.escape(title)}</h1>{parts}</html>")
