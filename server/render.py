"""Turning RDF terms into what the HTML templates show: short names, safe links, labels.

Templates receive plain dicts; Jinja escapes every string, so a label holding markup stays text.
Links are only ever made to our own pages or to http(s) IRIs (never `javascript:` and the like).
"""
from __future__ import annotations

import re
import urllib.parse

import pyoxigraph as ox
from flask import url_for

from wsiskg.graph import namespaces as ns

_SAFE_ID_PATH = re.compile(r"^[A-Za-z0-9._~!$&'()*+,;=:@/-]+$")
DISPLAY_PREFIXES = sorted(ns.PREFIXES.items(), key=lambda item: -len(item[1]))


def compact(iri: str) -> str:
    for prefix, base in DISPLAY_PREFIXES:
        if iri.startswith(base) and len(iri) > len(base):
            return f"{prefix}:{iri[len(base):]}"
    return iri


def page_for(iri: str) -> str | None:
    """Where a browser should go for an IRI: our page, the official one, or nowhere."""
    if iri.startswith(ns.ID):
        rest = iri[len(ns.ID):]
        if rest and _SAFE_ID_PATH.match(rest) and "//" not in rest:
            return url_for("pages.entity", path=rest)
        return url_for("pages.resource", iri=iri)
    if iri.startswith((ns.SDG, ns.WSIS, ns.SDGO)):
        return url_for("pages.resource", iri=iri)
    if urllib.parse.urlsplit(iri).scheme in ("http", "https"):
        return iri
    return None


def term_view(term, labels: dict[str, str] | None = None) -> dict:
    """A term as a dict the templates render: text, optional href, kind, language/datatype."""
    if term is None:
        return {"kind": "unbound", "text": ""}
    if isinstance(term, ox.NamedNode):
        label = (labels or {}).get(term.value)
        return {"kind": "iri", "text": compact(term.value), "iri": term.value, "href": page_for(term.value),
                "label": label, "external": not term.value.startswith(ns.ID)}
    if isinstance(term, ox.BlankNode):
        return {"kind": "bnode", "text": f"_:{term.value}"}
    if isinstance(term, ox.Triple):
        return {"kind": "literal", "text": str(term)}
    view = {"kind": "literal", "text": term.value}
    if term.language:
        view["lang"] = term.language
    elif term.datatype.value != ns.XSD + "string":
        view["datatype"] = compact(term.datatype.value)
    return view


def result_table(result, labels: dict[str, str] | None = None) -> dict:
    """A Result as header + rows of term views (graph results as subject/predicate/object)."""
    if result.kind == "boolean":
        return {"boolean": result.boolean, "variables": [], "rows": []}
    if result.kind == "graph":
        return {"variables": ["subject", "predicate", "object"],
                "rows": [[term_view(t.subject, labels), term_view(t.predicate, labels), term_view(t.object, labels)]
                         for t in result.triples]}
    return {"variables": result.variables, "rows": [[term_view(t, labels) for t in row] for row in result.rows]}


def pick_label(literals: list, languages: list[str]) -> str | None:
    """The label in the reader's language: Accept-Language order, then English, then untagged, then any."""
    if not literals:
        return None
    by_lang: dict[str, str] = {}
    for lit in literals:
        lang = (lit.language or "").lower()
        by_lang.setdefault(lang, lit.value)
        by_lang.setdefault(lang.split("-")[0], lit.value)
    for lang in [*languages, "en", ""]:
        lang = lang.lower()
        if lang in by_lang:
            return by_lang[lang]
        if lang.split("-")[0] in by_lang:
            return by_lang[lang.split("-")[0]]
    return sorted(literals, key=lambda l: (l.language or "", l.value))[0].value


def reader_languages(request) -> list[str]:
    return [lang for lang, q in request.accept_languages if lang != "*" and q > 0]
