"""Dedicated pages for the entities a reader comes to the graph for (issue 16.4).

An Action Line's page is its road map (A/RES/80/173 para 113): SDGs by goal in goal order, its
facilitators and their roles, the GDC items, the mandates, and the statements grouped by document and
type with their uptake; a GDC item, a UN body and a resolution paragraph get a shorter page of the same
kind, and a resolution lists its paragraphs in order with its mandates marked. Each is drawn from named queries and small queries here, above the generic property list
(templates/entity.html), which every other entity keeps as its whole page.
"""
from __future__ import annotations

import re
from collections import OrderedDict

import pyoxigraph as ox

from wsiskg.graph import library
from wsiskg.graph import namespaces as ns
from wsiskg.graph.paths import QUERIES_DIR

from .context import services
from .render import term_view

W = ns.WSIS
PREFIXES = f"""PREFIX wsis: <{W}> PREFIX skos: <{ns.SKOS}> PREFIX dcterms: <{ns.DCTERMS}> PREFIX prov: <{ns.PROV}>
PREFIX rdf: <{ns.RDF}> PREFIX rdfs: <{ns.RDFS}> PREFIX sdgo: <http://metadata.un.org/sdg/ontology#>
"""
GOALS = PREFIXES + """SELECT ?goal ?title WHERE { ?goal a sdgo:Goal ; skos:altLabel ?title .
  FILTER(LANGMATCHES(LANG(?title), "en")) }"""
STATEMENT_KINDS = ("Achievement", "Challenge", "Recommendation", "Key issue", "Commitment")


def _rows(sparql: str, bindings: dict | None = None) -> list[dict]:
    result = services().backend.query(sparql, bindings=bindings, capped=False)
    return [dict(zip(result.variables, row)) for row in result.rows]


def _named(name: str, **values) -> list[dict]:
    q = library.get(name, QUERIES_DIR)
    return _rows(q.text, q.bind(values))


def _text(row: dict, key: str) -> str:
    term = row.get(key)
    return "" if term is None else term.value


def _link(term, label: str | None = None) -> dict:
    view = term_view(term)
    if label:
        view["label"] = label
    return view


def _goal_order(code: str):
    return [int(p) if p.isdigit() else 100 + ord(p[0]) for p in re.split(r"\.", code) if p]


def action_line(iri: str) -> dict:
    rows = _named("actionline-roadmap", actionLine=iri)
    titles = {_text(r, "goal"): _text(r, "title") for r in _rows(GOALS)}
    goals: dict[str, dict] = {}
    facilitators, gdc, mandates = [], [], []
    documents: "OrderedDict[str, OrderedDict[str, list]]" = OrderedDict()
    for r in rows:
        section = _text(r, "section")
        if section == "facilitator":
            facilitators.append({"body": _link(r["item"], _text(r, "itemLabel")), "role": _text(r, "detail")})
        elif section == "SDG":
            code = _text(r, "detail")
            goal = code.split(".")[0]
            entry = goals.setdefault(goal, {"number": int(goal), "goal": _link(
                ox.NamedNode(f"http://metadata.un.org/sdg/{goal}"),
                f"{goal} {titles.get(f'http://metadata.un.org/sdg/{goal}', '')}".strip()), "targets": []})
            if "." in code:
                entry["targets"].append({"code": code, "target": _link(r["item"], _text(r, "itemLabel"))})
        elif section == "GDC commitment":
            gdc.append({"item": _link(r["item"], _text(r, "itemLabel")), "how": _text(r, "detail"),
                        "statements": _text(r, "count")})
        elif section == "mandate":
            mandates.append({"item": _link(r["item"], _text(r, "itemLabel")), "what": _text(r, "detail")})
        elif section in STATEMENT_KINDS:
            kinds = documents.setdefault(_text(r, "detail"), OrderedDict((k, []) for k in STATEMENT_KINDS))
            kinds[section].append({"item": _link(r["item"], _text(r, "itemLabel")),
                                   "uptake": [u for u in _text(r, "uptake").split("; ") if u]})
    for goal in goals.values():
        goal["targets"].sort(key=lambda t: _goal_order(t["code"]))
    statements = [{"document": d, "kinds": [(k, v) for k, v in kinds.items() if v]} for d, kinds in documents.items()]
    counted = [s for d in statements for _, items in d["kinds"] for s in items]
    return {"template": "entity_actionline.html",
            "roadmap": {"sdgs": sorted(goals.values(), key=lambda g: g["number"]), "facilitators": facilitators,
                        "gdc": gdc, "mandates": mandates, "statements": statements,
                        "taken_up": sum(1 for s in counted if s["uptake"]), "statement_count": len(counted)}}


def _sections(*sections) -> dict:
    return {"template": "entity_sections.html", "sections": [s for s in sections if s["items"]]}


def _section(title: str, rows: list[dict], item: str, label: str, detail: str = "") -> dict:
    return {"title": title, "items": [{"item": _link(r[item], _text(r, label) or None), "detail": _text(r, detail) if detail else ""}
                                      for r in rows if r.get(item) is not None]}


def gdc_item(iri: str) -> dict:
    node = {"x": ox.NamedNode(iri)}
    action_lines = _rows(PREFIXES + """SELECT ?al ?label (GROUP_CONCAT(DISTINCT ?how; separator=", ") AS ?detail) WHERE {
        { ?x wsis:addressesActionLine ?al BIND("the paragraph's own link" AS ?how) }
        UNION { ?s wsis:relatesToGDC ?x ; wsis:addressesActionLine ?al BIND("consultation statements" AS ?how) }
        UNION { ?s wsis:takenUpBy ?x ; wsis:addressesActionLine ?al BIND("statements it takes up" AS ?how) }
        ?al skos:notation ?label } GROUP BY ?al ?label ORDER BY ?label""", node)
    related = _rows(PREFIXES + """SELECT ?s ?text WHERE { ?s wsis:relatesToGDC ?x ; wsis:text ?text ; prov:wasDerivedFrom ?d }
        ORDER BY ?s""", node)
    taken = _rows(PREFIXES + """SELECT ?s ?text ?score WHERE { ?s wsis:takenUpBy ?x ; wsis:text ?text .
        ?l rdf:subject ?s ; rdf:predicate wsis:takenUpBy ; rdf:object ?x ; wsis:score ?score } ORDER BY DESC(?score)""", node)
    mandates = _rows(PREFIXES + """SELECT ?m ?what WHERE { ?m wsis:inParagraph ?x ; wsis:mandateVerb ?v ; wsis:deliverable ?d
        BIND(CONCAT(STR(?v), ": ", STR(?d)) AS ?what) } ORDER BY ?m""", node)
    return _sections(_section("Action Lines (WSIS-GDC matrix row)", action_lines, "al", "label", "detail"),
                     _section("Mandates in this paragraph", mandates, "m", "what"),
                     _section("Consultation statements that take it up (uptake)", taken, "s", "text", "score"),
                     _section("Consultation statements that relate to it", related, "s", "text"))


def un_body(iri: str) -> dict:
    node = {"x": ox.NamedNode(iri)}
    roles = _rows(PREFIXES + """SELECT ?al ?label ?role WHERE {
        VALUES (?p ?role) { (wsis:leadFacilitator "lead facilitator") (wsis:coFacilitator "co-facilitator") }
        ?x ?p ?al . ?al skos:notation ?label } ORDER BY ?label""", node)
    mandates = _rows(PREFIXES + """SELECT ?m ?where ?what WHERE { ?m a wsis:Mandate ; wsis:addressedTo ?x ;
        wsis:inResolution ?r ; wsis:inParagraph ?p ; wsis:mandateVerb ?v ; wsis:deliverable ?d .
        ?r dcterms:identifier ?sym . ?p wsis:paragraphNumber ?n
        BIND(CONCAT(STR(?sym), " para ", STR(?n)) AS ?where) BIND(CONCAT(STR(?v), ": ", STR(?d)) AS ?what) }
        ORDER BY ?sym ?m""", node)
    return _sections(_section("Action Lines it facilitates", roles, "al", "label", "role"),
                     _section("What the General Assembly asks of it (mandates)", mandates, "m", "where", "what"))


def paragraph(iri: str) -> dict:
    node = {"x": ox.NamedNode(iri)}
    mandates = _rows(PREFIXES + """SELECT ?m ?what (GROUP_CONCAT(DISTINCT ?name; separator="; ") AS ?whom) WHERE {
        ?m wsis:inParagraph ?x ; wsis:mandateVerb ?v ; wsis:deliverable ?d ; wsis:addressedTo ?b .
        OPTIONAL { ?b skos:prefLabel ?bl FILTER(LANGMATCHES(LANG(?bl), "en")) }
        BIND(COALESCE(STR(?bl), STR(?b)) AS ?name) BIND(CONCAT(STR(?v), ": ", STR(?d)) AS ?what) }
        GROUP BY ?m ?what ORDER BY ?m""", node)
    taken = _rows(PREFIXES + """SELECT ?s ?text ?score WHERE { ?s wsis:takenUpBy ?x ; wsis:text ?text .
        ?l rdf:subject ?s ; rdf:predicate wsis:takenUpBy ; rdf:object ?x ; wsis:score ?score } ORDER BY DESC(?score)""", node)
    for row in mandates:
        row["what"] = ox.Literal(f"{_text(row, 'whom')} — {_text(row, 'what')}")
    return _sections(_section("Mandates in this paragraph", mandates, "m", "what"),
                     _section("Consultation statements it takes up (uptake)", taken, "s", "text", "score"))


def resolution(iri: str) -> dict:
    """Its paragraphs in the order of the text, each with its kind and, where it asks someone to act,
    whom (issue 15.7)."""
    node = {"x": ox.NamedNode(iri)}
    rows = _rows(PREFIXES + """SELECT ?p ?label ?line WHERE {
        ?p dcterms:isPartOf ?x ; a wsis:Paragraph ; wsis:paragraphNumber ?n ; wsis:sourceLine ?line ; wsis:text ?t .
        OPTIONAL { ?p a wsis:OperativeParagraph BIND("operative" AS ?operative) }
        BIND(CONCAT(STR(?n), " (", COALESCE(?operative, "preambular"), "): ", SUBSTR(STR(?t), 1, 160),
                    IF(STRLEN(STR(?t)) > 160, "…", "")) AS ?label)
    } ORDER BY ?line ?p""", node)
    asked: dict[str, set] = {}
    for m in _rows(PREFIXES + """SELECT ?p ?name WHERE { ?p dcterms:isPartOf ?x . ?m wsis:inParagraph ?p .
            OPTIONAL { ?m wsis:addressedTo ?b . OPTIONAL { ?b skos:prefLabel ?bl FILTER(LANGMATCHES(LANG(?bl), "en")) }
                       BIND(COALESCE(STR(?bl), STR(?b)) AS ?name) } }""", node):
        asked.setdefault(_text(m, "p"), set()).add(_text(m, "name"))
    for row in rows:
        whom = sorted(filter(None, asked.get(_text(row, "p"), ())))
        marked = _text(row, "p") in asked
        row["whom"] = ox.Literal(("mandate — asks " + "; ".join(whom) if whom else "mandate") if marked else "")
    return _sections(_section("Paragraphs, in the order of the text (mandates marked)", rows, "p", "label", "whom"))


def dedicated(iri: str, entity: dict) -> dict | None:
    """The dedicated page's template and context for this entity, or None for the generic page."""
    types = {t.get("iri") for t in entity.get("types", [])}
    if W + "ActionLine" in types:
        return action_line(iri)
    if W + "GDCCommitment" in types and iri.startswith(ns.ID + "gdc/paragraph/"):
        return gdc_item(iri)
    if W + "Paragraph" in types:
        return paragraph(iri)
    if W + "Resolution" in types:
        return resolution(iri)
    if W + "UNEntity" in types:
        return un_body(iri)
    return None
