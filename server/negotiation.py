"""Content negotiation: the client's `Accept` header, or a `format=` (or `output=`) override.

Each route offers an ordered list of formats for the kind of answer it has (the first is the
default for `*/*`), taken from graph/results.py's table of formats; `choose` returns the format name `graph/results.py` serialises, or "html".
"""
from __future__ import annotations

from dataclasses import dataclass

from flask import request

from wsiskg.graph.results import Format, formats_of


@dataclass(frozen=True)
class Offer:
    name: str  # the format name serialize() takes, or "html"/"text"
    media_type: str  # what we send
    also: tuple[str, ...] = ()  # other media types the client may ask for
    aliases: tuple[str, ...] = ()  # names accepted in format=


HTML = Offer("html", "text/html", ("application/xhtml+xml",), ("html", "htm"))



def offer(fmt: Format) -> Offer:
    """The offer of one of graph/results.py's formats."""
    return Offer(fmt.name, fmt.media_type, fmt.also, fmt.aliases)


# what a route with a query's answer offers: graph/results.py's formats for the answer's kind, then HTML
SOLUTIONS = [*map(offer, formats_of("solutions")), HTML]
GRAPH = [*map(offer, formats_of("graph")), HTML]

JSON_OR_HTML = [Offer("json", "application/json", (), ("json",)), HTML]

TEXT_TYPES = ("text/", "application/sparql-results+xml", "application/rdf+xml", "application/xml")


class NotAcceptable(Exception):
    def __init__(self, offers: list[Offer], asked: str):
        self.offers = offers
        self.asked = asked
        super().__init__(f"cannot answer in {asked}; this resource is available as: "
                         + ", ".join(o.media_type for o in offers))


class UnknownFormat(ValueError):
    pass


def _by_name(offers: list[Offer], value: str) -> Offer | None:
    value = value.lower()
    for offer in offers:
        if value == offer.name or value in offer.aliases or value == offer.media_type or value in offer.also:
            return offer
    return None


def choose(offers: list[Offer], html: bool = True) -> Offer:
    """The format to answer in; raises NotAcceptable (406) or UnknownFormat (400)."""
    if not html:
        offers = [o for o in offers if o.name != "html"]
    asked = [v.strip() for v in request.args.getlist("format") + request.args.getlist("output") if v.strip()]
    if request.mimetype == "application/x-www-form-urlencoded":
        asked += [v.strip() for v in request.form.getlist("format") + request.form.getlist("output") if v.strip()]
    if asked:
        for value in asked:
            offer = _by_name(offers, value)
            if offer:
                return offer
        every = [offer for group in (SOLUTIONS, GRAPH, JSON_OR_HTML) for offer in group]
        if any(_by_name(every, value) for value in asked):
            raise NotAcceptable(offers, f"format={asked[0]}")
        raise UnknownFormat(f"unknown format {asked[0]!r}; use one of: "
                            + ", ".join(o.aliases[0] if o.aliases else o.name for o in offers))
    accept = request.accept_mimetypes
    if not request.headers.get("Accept", "").strip():
        return offers[0]
    candidates = []
    for offer in offers:
        candidates.append(offer.media_type)
        candidates.extend(offer.also)
    best = accept.best_match(candidates)
    if best is None:
        raise NotAcceptable(offers, request.headers.get("Accept", ""))
    for offer in offers:
        if best == offer.media_type or best in offer.also:
            return offer
    raise NotAcceptable(offers, request.headers.get("Accept", ""))


def content_type(offer: Offer) -> str:
    if offer.media_type.startswith(TEXT_TYPES) or offer.media_type.endswith("json"):
        return f"{offer.media_type}; charset=utf-8"
    return offer.media_type


def prefers_html() -> bool:
    """A browser: asks for HTML at least as much as for anything else."""
    explicit = [(mt, q) for mt, q in request.accept_mimetypes if mt != "*/*"]
    html = max((q for mt, q in explicit if mt in ("text/html", "application/xhtml+xml")), default=0)
    return html > 0 and html >= max((q for mt, q in explicit), default=0)
