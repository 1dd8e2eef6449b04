"""Linked-data pages: every IRI under `id:` dereferences here; other IRIs (the UN's SDG IRIs, our
ontology terms) get a page from `/resource?iri=...` that links back to the official IRI.

HTML for browsers, Turtle / JSON-LD / N-Triples / RDF/XML by negotiation (or `?format=`), all
rendered from one result: the named query `describe-entity`.
"""
from __future__ import annotations

import urllib.parse
from collections import defaultdict

import pyoxigraph as ox
from flask import Blueprint, redirect, request

from wsiskg.graph import library
from wsiskg.graph import namespaces as ns
from wsiskg.graph.paths import QUERIES_DIR

from .context import services
from .entity_pages import dedicated
from .errors import ApiError
from .negotiation import GRAPH, choose
from .render import compact, page_for, pick_label, reader_languages, term_view
from .respond import download_links, html_response, machine_response
from .policy import declare

bp = declare(Blueprint("pages", __name__), cors=True, cached=True)

DESCRIBE = "describe-entity"
RDF_TYPE = ns.RDF + "type"
LABELS = (ns.SKOS + "prefLabel", ns.RDFS + "label", ns.DCTERMS + "title")
NAME_PREDICATES = set(LABELS) | {ns.SKOS + "notation", ns.DCTERMS + "identifier", ns.WSIS + "text"}
RDF_SUBJECT, RDF_PREDICATE, RDF_OBJECT = ns.RDF + "subject", ns.RDF + "predicate", ns.RDF + "object"
LINK_ASSERTION = ns.WSIS + "LinkAssertion"
STATEMENT_FIELDS = {"text": ns.WSIS + "text", "document": ns.PROV + "wasDerivedFrom", "section": ns.WSIS + "sourceSection",
                    "line": ns.WSIS + "sourceLine", "end_line": ns.WSIS + "sourceEndLine", "session": ns.WSIS + "fromSession"}


def describe(iri: str):
    svc = services()
    offer = choose(GRAPH)
    query = library.get(DESCRIBE, QUERIES_DIR)
    try:
        bindings = query.bind({"iri": iri})
    except library.ParameterError:
        raise ApiError(404, "nothing is known about this IRI here") from None
    result = svc.backend.query(query.text, bindings=bindings)
    if not result.triples:
        raise ApiError(404, f"nothing is known about <{iri}> in this graph")
    if offer.name != "html":
        response = machine_response(result, offer, svc.config.max_rows)
        response.headers["Vary"] = "Accept"
        return response
    view = entity_view(iri, result.triples, reader_languages(request))
    special = dedicated(iri, view) or {"template": "entity.html"}  # road maps etc., server/entity_pages.py
    response = html_response(special.pop("template"), result=None, entity=view, truncated=result.truncated,
                             max_rows=svc.config.max_rows, **special,
                             downloads=download_links(request.path, list(request.args.items(multi=True)), "graph"))
    response.headers["X-WSISKG-Truncated"] = "true" if result.truncated else "false"
    response.headers["Vary"] = "Accept, Accept-Language"
    return response


def entity_view(iri: str, triples: list, languages: list[str]) -> dict:
    names: dict[str, list] = defaultdict(list)
    notations: dict[str, str] = {}
    texts: dict[str, str] = {}
    for t in triples:
        if isinstance(t.subject, ox.NamedNode) and isinstance(t.object, ox.Literal):
            p = t.predicate.value
            if p in LABELS:
                names[t.subject.value].append(t.object)
            elif p == ns.SKOS + "notation":
                notations.setdefault(t.subject.value, t.object.value)
            elif p == ns.WSIS + "text":
                texts.setdefault(t.subject.value, t.object.value)
    labels: dict[str, str] = {}
    for subject in set(names) | set(notations) | set(texts):
        label = pick_label(names.get(subject, []), languages) or notations.get(subject)
        if label is None and subject in texts:
            text = texts[subject]
            label = text if len(text) <= 140 else text[:139] + "…"
        if label:
            labels[subject] = label

    outgoing: dict[str, list] = defaultdict(list)
    incoming: dict[str, list] = defaultdict(list)
    blank: dict[str, list] = defaultdict(list)
    assertions: dict[str, dict] = defaultdict(dict)
    for t in triples:
        s, p, o = t.subject, t.predicate.value, t.object
        if isinstance(s, ox.NamedNode) and s.value == iri:
            outgoing[p].append(o)
        elif isinstance(o, ox.NamedNode) and o.value == iri and p != RDF_SUBJECT:
            incoming[p].append(s)
        elif isinstance(s, ox.BlankNode):
            blank[s.value].append((p, o))
        if isinstance(s, ox.NamedNode) and s.value != iri:
            assertions[s.value][p] = o
    links = []
    for node, props in assertions.items():
        if props.get(RDF_SUBJECT) == ox.NamedNode(iri) and props.get(RDF_TYPE) == ox.NamedNode(LINK_ASSERTION):
            links.append({"iri": term_view(ox.NamedNode(node), labels),
                          "predicate": term_view(props.get(RDF_PREDICATE), labels) if props.get(RDF_PREDICATE) else None,
                          "object": term_view(props.get(RDF_OBJECT), labels) if props.get(RDF_OBJECT) else None,
                          "method": props[ns.WSIS + "method"].value if ns.WSIS + "method" in props else None,
                          "score": props[ns.WSIS + "score"].value if ns.WSIS + "score" in props else None,
                          "evidence": props[ns.WSIS + "evidenceText"].value if ns.WSIS + "evidenceText" in props else None})
    links.sort(key=lambda l: (l["predicate"]["text"] if l["predicate"] else "", -(float(l["score"] or 0))))

    def value_view(term):
        view = term_view(term, labels)
        if isinstance(term, ox.BlankNode):
            view["details"] = [{"predicate": term_view(ox.NamedNode(bp), labels), "value": term_view(bo, labels)}
                               for bp, bo in sorted(blank.get(term.value, []), key=lambda x: x[0])]
        return view

    def group(props: dict[str, list]) -> list[dict]:
        rows = []
        for p, values in props.items():
            ordered = sorted(values, key=lambda v: (labels.get(getattr(v, "value", ""), "") or str(v)).lower())
            rows.append({"predicate": term_view(ox.NamedNode(p), labels), "values": [value_view(v) for v in ordered]})
        rows.sort(key=lambda r: (r["predicate"]["iri"] != RDF_TYPE, (r["predicate"]["label"] or r["predicate"]["text"]).lower()))
        return rows

    statement = None
    if ns.WSIS + "text" in outgoing and ns.PROV + "wasDerivedFrom" in outgoing:
        statement = {}
        for key, p in STATEMENT_FIELDS.items():
            values = outgoing.get(p)
            if values:
                statement[key] = value_view(values[0])
        document = outgoing[ns.PROV + "wasDerivedFrom"][0]
        if isinstance(document, ox.NamedNode):
            for t in triples:
                if t.subject == document and t.predicate.value == ns.DCTERMS + "identifier":
                    statement["file"] = t.object.value
    label = labels.get(iri)
    if label is None:
        label = pick_label(outgoing.get(LABELS[0], []) + outgoing.get(LABELS[1], []), languages)
    types = [term_view(t, labels) for t in outgoing.get(RDF_TYPE, [])]
    return {"iri": iri, "label": label or compact(iri), "compact": compact(iri), "types": types,
            "official": not iri.startswith(ns.ID), "outgoing": group(outgoing), "incoming": inverse(group(incoming)),
            "links": links, "statement": statement, "page": page_for(iri)}


def inverse(rows: list[dict]) -> list[dict]:
    """Rows of "Linked from" read backwards: "X lead facilitator of" this entity. A label that
    already ends in "of" ("co-facilitator of") names the role itself on the other side:
    "co-facilitator", not "co-facilitator of of"."""
    for row in rows:
        predicate = dict(row["predicate"])
        label = predicate.get("label") or ""
        if label.endswith(" of"):
            predicate["label"], row["suffix"] = label[:-3], ""
        else:
            row["suffix"] = " of"
        row["predicate"] = predicate
    return rows


@bp.route("/favicon.ico")
def favicon():
    """Browsers ask every site for it; a 404 in every log and console otherwise."""
    from flask import current_app
    return current_app.send_static_file("favicon.ico")


@bp.route("/id/<path:path>")
def entity(path: str):
    return describe(ns.ID + path)


@bp.route("/resource")
def resource():
    raw = request.args.get("iri", "").strip()
    if not raw:
        raise ApiError(400, "give the IRI to describe: /resource?iri=http://metadata.un.org/sdg/4")
    try:
        iri = library.to_term(raw, "iri", "iri").value
    except library.ParameterError as exc:
        raise ApiError(400, str(exc)) from None
    if iri.startswith(ns.ID):
        target = page_for(iri)
        if target and target.startswith("/id/"):
            query = urllib.parse.urlencode([(k, v) for k, v in request.args.items(multi=True) if k == "format"])
            return redirect(target + (f"?{query}" if query else ""), code=303)
    return describe(iri)
