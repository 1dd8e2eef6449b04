"""One way to send a query result: decided status, negotiated format, truncation said plainly.

The `Result` is complete before this runs (the workers read it whole, capped at the row limit),
so the status is known before the first byte; no error ever hides inside a 200 (docs/traps.md #9).
"""
from __future__ import annotations

import urllib.parse

from flask import Response, render_template, request

from wsiskg.graph.results import serialize
from wsiskg.graph.store import Result

from .negotiation import GRAPH, SOLUTIONS, Offer, content_type
from .render import result_table

TRUNCATED_HEADER = "X-WSISKG-Truncated"


def offers_for(kind: str) -> list[Offer]:
    return GRAPH if kind == "graph" else SOLUTIONS


def machine_response(result: Result, offer: Offer, max_rows: int) -> Response:
    body = serialize(result, offer.name)
    response = Response(body, status=200, content_type=content_type(offer))
    mark_truncation(response, result, max_rows)
    response.headers["Vary"] = "Accept"
    return response


def mark_truncation(response: Response, result: Result, max_rows: int) -> None:
    response.headers[TRUNCATED_HEADER] = "true" if result.truncated else "false"
    if result.truncated:
        response.headers["X-WSISKG-Row-Limit"] = str(max_rows)


def download_links(base_path: str, params: list[tuple[str, str]], kind: str) -> list[dict]:
    """A link per machine format, for the same request (a stable URL a user can share)."""
    links = []
    for offer in offers_for(kind):
        if offer.name == "html":
            continue
        query = urllib.parse.urlencode([(k, v) for k, v in params if k not in ("format", "output")]
                                       + [("format", offer.aliases[0] if offer.aliases else offer.name)])
        links.append({"label": offer.aliases[0].upper() if offer.aliases else offer.name, "media_type": offer.media_type,
                      "href": f"{base_path}?{query}"})
    return links


def html_response(template: str, status: int = 200, result: Result | None = None, **context) -> Response:
    max_rows = context.get("max_rows", 0)
    if result is not None:
        context["table"] = result_table(result)
        context["truncated"] = result.truncated
        context["row_count"] = len(result.triples) if result.kind == "graph" else len(result.rows)
    response = Response(render_template(template, **context), status=status, content_type="text/html; charset=utf-8")
    if result is not None:
        mark_truncation(response, result, max_rows)
    response.headers["Vary"] = "Accept"
    return response


def request_params() -> list[tuple[str, str]]:
    """The request's parameters (query string, then form body) as pairs, in order."""
    pairs = list(request.args.items(multi=True))
    if request.method == "POST" and request.mimetype == "application/x-www-form-urlencoded":
        pairs += list(request.form.items(multi=True))
    return pairs
