"""`/.well-known/void`: the VoID description of the dataset (RFC 5785 well-known location)."""
from __future__ import annotations

from flask import Blueprint

from .context import services
from .self_description import graph_statistics, void_description
from .negotiation import GRAPH, choose
from .respond import html_response, machine_response
from .policy import declare

bp = declare(Blueprint("void", __name__), cors=True, cached=True)


@bp.route("/.well-known/void")
def void():
    offer = choose(GRAPH)
    if offer.name == "html":
        stats = graph_statistics()
        return html_response("void.html", graphs=sorted(stats.items()),
                             total=sum(s.get("triples", 0) for s in stats.values()))
    return machine_response(void_description(), offer, services().config.max_rows)
