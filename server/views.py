"""Readable presentations of named-query answers: a matrix or grouped lists instead of a long table.

A query's header may declare one (data, not code):

    #+ view: {kind: matrix, row: actionLineNotation, column: goal, cell: [statements, matrixStatus], link: actionLine}
    #+ view: {kind: grouped, group: section}

`present` turns a solutions Result into what templates/query_view.html draws. Only the HTML page
uses it: the JSON, CSV and other machine formats of the same URL are unchanged.
"""
from __future__ import annotations

import re

from wsiskg.graph import library

from .render import term_view

KINDS = ("matrix", "grouped")


def declared(q) -> dict | None:
    """The view the query's header declares, or None (no view, or one the page cannot draw)."""
    view = library.parse_header(q.text).get("view")
    if not isinstance(view, dict) or view.get("kind") not in KINDS:
        return None
    return view


def _natural(text: str):
    """Sort key: C2 before C10, 4.4 before 16.2, and text after numbers."""
    return [(0, int(part), "") if part.isdigit() else (1, 0, part) for part in re.split(r"(\d+)", text) if part]


def _value(row: dict, name: str) -> str:
    term = row.get(name)
    return "" if term is None else term.value


def present(q, result) -> dict | None:
    """The declared view of a solutions result, ready for the template; None when there is none."""
    view = declared(q)
    if view is None or result.kind != "solutions":
        return None
    rows = [dict(zip(result.variables, row)) for row in result.rows]
    if view["kind"] == "matrix":
        row_var, column_var = view.get("row"), view.get("column")
        cells = view.get("cell") or []
        cells = [cells] if isinstance(cells, str) else list(cells)
        if row_var not in result.variables or column_var not in result.variables:
            return None
        row_keys, columns, grid = [], set(), {}
        row_views = {}
        for row in rows:
            key, column = _value(row, row_var), _value(row, column_var)
            if key not in row_views:
                row_keys.append(key)
                link = row.get(view.get("link", ""))  # an IRI variable the row's label links to
                row_views[key] = {**term_view(link), "label": key} if link is not None else term_view(row.get(row_var))
            if not column:
                continue  # a row with no column value (e.g. a commitment linked to no Action Line) stays a row
            columns.add(column)
            text = " · ".join(v for v in (_value(row, c) for c in cells) if v and v != "0")
            grid.setdefault((key, column), []).append(text or "✓")
        ordered = sorted(columns, key=_natural)
        return {"kind": "matrix", "row": row_var, "column": column_var, "cell": cells, "columns": ordered,
                "rows": [{"head": row_views[k], "cells": ["; ".join(grid.get((k, c), [])) for c in ordered]}
                         for k in row_keys]}
    group_var = view.get("group")
    if group_var not in result.variables:
        return None
    shown = [v for v in result.variables if v != group_var]
    groups, index = [], {}
    for row in rows:
        name = _value(row, group_var) or "(none)"
        if name not in index:
            index[name] = len(groups)
            groups.append({"name": name, "rows": []})
        groups[index[name]]["rows"].append([term_view(row.get(v)) for v in shown])
    return {"kind": "grouped", "group": group_var, "variables": shown, "groups": groups}
