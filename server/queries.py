"""`/queries`: the named-query library over HTTP, and its OpenAPI description.

`GET /queries` lists the `.rq` files (HTML or JSON); `GET /queries/<name>?param=value` runs one.
Values are typed by graph/library.py and bound by the Store, each as exactly one checked RDF term
(nothing a user types becomes query syntax), so `/queries/<name>?...` is a stable URL to share.
"""
from __future__ import annotations

import logging
import re

from flask import Blueprint, Response, json, request, url_for

from wsiskg.graph import library
from wsiskg.graph import namespaces as ns
from wsiskg.graph.store import QuerySyntaxError

from .context import services
from .errors import ApiError, scrub
from .negotiation import GRAPH, JSON_OR_HTML, SOLUTIONS, choose
from .respond import download_links, html_response, machine_response, offers_for
from .validation import RDF_BODIES, REPORT_OFFERS
from .views import present
from .policy import declare
from wsiskg.graph.sparqltext import analyse

bp = declare(Blueprint("queries", __name__), cors=True, cached=True)
log = logging.getLogger("wsiskg.server")

RESERVED = {"format", "output"}
# the media types each kind of answer is sent in (with HTML last), from graph/results.py's formats
RESULT_TYPES = {kind: [o.media_type for o in offers] for kind, offers in (("solutions", SOLUTIONS), ("graph", GRAPH))}
OPENAPI_TYPES = {"iri": {"type": "string", "format": "iri"}, "integer": {"type": "integer"},
                 "decimal": {"type": "number"}, "boolean": {"type": "boolean"},
                 "date": {"type": "string", "format": "date"}, "string": {"type": "string"},
                 "literal": {"type": "string"}}


def _folder():
    return services().config.queries_dir


def _get(name: str) -> library.NamedQuery:
    try:
        return library.get(name, _folder())
    except library.UnknownQuery:
        raise ApiError(404, f"no named query {name!r}; GET /queries lists them") from None
    except ValueError as exc:  # a header that is not valid YAML: the file's fault, said plainly
        raise ApiError(500, f"the named query {name!r} cannot be read: {exc}") from None


def _kind(q: library.NamedQuery) -> str:
    return analyse(q.text).result_kind


@bp.route("/queries")
def index():
    queries = library.all_queries(_folder())
    offer = choose(JSON_OR_HTML)
    if offer.name == "json":
        items = []
        for q in queries:
            item = q.as_dict()
            item["url"] = url_for("queries.run", name=q.name, _external=True)
            items.append(item)
        return Response(json.dumps({"queries": items}, ensure_ascii=False, indent=1) + "\n",
                        content_type="application/json; charset=utf-8", headers={"Vary": "Accept"})
    return html_response("queries.html", queries=[{**q.as_dict(), "url": url_for("queries.run", name=q.name)}
                                                  for q in queries])


@bp.route("/queries/<name>")
def run(name: str):
    q = _get(name)
    values = {}
    for key in request.args:
        if key in RESERVED:
            continue
        given = request.args.getlist(key)
        if len(given) > 1:
            raise ApiError(400, f"parameter {key} is given {len(given)} times; give it once")
        values[key] = given[0]
    kind = _kind(q)
    offer = choose(offers_for(kind))
    page = {"query": q.as_dict(), "text": q.text, "values": values,
            "choices": choices(q) if offer.name == "html" else {}}
    if offer.name == "html" and not values and any(p.required and p.default is None for p in q.parameters):
        return html_response("named_query.html", **page)  # a form to fill in
    try:
        bindings = q.bind(values)
    except library.ParameterError as exc:
        if offer.name == "html":
            return html_response("named_query.html", status=400, error=str(exc), **page)
        raise ApiError(400, str(exc)) from None
    svc = services()
    svc.service_guard.check(analyse(q.text).services)
    try:
        result = svc.backend.query(q.text, bindings=bindings)
    except QuerySyntaxError as exc:  # the shipped file is at fault, not the caller
        log.error("named query %s does not run: %s", name, exc)
        raise ApiError(500, f"the named query {name!r} cannot run as written ({scrub(str(exc))}); "
                            "its file needs fixing") from None
    if result.kind != kind:
        offer = choose(offers_for(result.kind))
    if offer.name == "html":
        params = [(k, v) for k, v in values.items()]
        return html_response("named_query.html", result=result, max_rows=svc.config.max_rows, view=present(q, result),
                             downloads=download_links(url_for("queries.run", name=name), params, result.kind), **page)
    return machine_response(result, offer, svc.config.max_rows)


CHOICES_MAX = 1000  # more values than a pick-list helps with: the list shows the first ones, any IRI is still taken


def declared_classes(q: library.NamedQuery) -> dict[str, str]:
    """IRI parameter -> the class its values belong to, from the query header's `choices` key
    (`#+ choices:` / `#+   - session: wsis:Session`)."""
    iri_params = {p.name for p in q.parameters if p.type == "iri"}
    declared = {}
    for item in library.parse_header(q.text).get("choices") or []:
        if isinstance(item, dict):
            declared.update({str(k): library.expand_iri(str(v)) for k, v in item.items() if str(k) in iri_params})
    return declared


def choices(q: library.NamedQuery) -> dict[str, list[dict]]:
    """Each IRI parameter's valid values for the form's pick-list: the instances of its declared
    class, labelled (notation first, as "C3 Access to information ..."), in natural order."""
    from .pages import LABELS
    found = {}
    labels = " ".join(f"<{p}>" for p in LABELS)
    for name, cls in declared_classes(q).items():
        sparql = (f"SELECT ?v (SAMPLE(?n) AS ?notation) (SAMPLE(?l) AS ?label) WHERE {{ ?v a <{cls}> "
                  f"OPTIONAL {{ ?v <{ns.SKOS}notation> ?n }} "
                  f"OPTIONAL {{ VALUES ?lp {{ {labels} }} ?v ?lp ?l FILTER(LANG(?l) = \"\" || LANGMATCHES(LANG(?l), \"en\")) }} "
                  f"FILTER(isIRI(?v)) }} GROUP BY ?v LIMIT {CHOICES_MAX}")
        try:
            result = services().backend.query(sparql)
        except (QuerySyntaxError, ValueError) as exc:  # a class IRI that does not fit: no list, the box still works
            log.warning("no pick-list for %s of %s: %s", name, q.name, exc)
            continue
        options = []
        for iri, notation, label in result.rows:
            text = " ".join(t.value for t in (notation, label) if t is not None)
            options.append({"value": iri.value, "label": text or iri.value})
        options.sort(key=lambda o: [int(part) if part.isdigit() else part.lower()
                                    for part in re.split(r"(\d+)", o["label"])])
        found[name] = options
    return found


# /sparql's answers: solutions, then graphs, then its query page
SPARQL_TYPES = list(dict.fromkeys(RESULT_TYPES["solutions"] + RESULT_TYPES["graph"]))


def openapi() -> dict:
    """OpenAPI 3.0 for the read API, each named query a path with its typed parameters."""
    paths = {
        "/sparql": {
            "get": {"summary": "SPARQL 1.1 Protocol query", "operationId": "sparqlGet",
                    "parameters": [
                        {"name": "query", "in": "query", "required": False, "schema": {"type": "string"},
                         "description": "A SPARQL 1.1 query; without it the service description (or the query page)"},
                        {"name": "default-graph-uri", "in": "query", "schema": {"type": "array", "items": {"type": "string"}},
                         "style": "form", "explode": True},
                        {"name": "named-graph-uri", "in": "query", "schema": {"type": "array", "items": {"type": "string"}},
                         "style": "form", "explode": True},
                        {"name": "format", "in": "query", "schema": {"type": "string"},
                         "description": "Overrides Accept: " + ", ".join(dict.fromkeys(
                             o.aliases[0] for o in SOLUTIONS + GRAPH))}],
                    "responses": _responses(SPARQL_TYPES)},
            "post": {"summary": "SPARQL 1.1 Protocol query (form-encoded or application/sparql-query)",
                     "operationId": "sparqlPost",
                     "requestBody": {"required": True, "content": {
                         "application/x-www-form-urlencoded": {"schema": {"type": "object", "required": ["query"],
                                                                          "properties": {"query": {"type": "string"}}}},
                         "application/sparql-query": {"schema": {"type": "string"}}}},
                     "responses": _responses(SPARQL_TYPES, extra=("415",))},
        },
        "/queries": {"get": {"summary": "List the named queries", "operationId": "listQueries",
                             "responses": {"200": {"description": "The named queries",
                                                   "content": {"application/json": {}, "text/html": {}}}}}},
        "/validate": {"post": {"summary": "SHACL report for posted RDF", "operationId": "validate",
                               "requestBody": {"required": True, "content": {
                                   t: {"schema": {"type": "string"}} for t in RDF_BODIES}},
                               "responses": {"200": {"description": "The validation report (conforms or not)",
                                                     "content": {o.media_type: {} for o in REPORT_OFFERS}},
                                             "400": {"description": "The RDF does not parse (line and column given)"},
                                             "413": {"description": "Too large"},
                                             "415": {"description": "Unsupported RDF format"}}}},
        "/id/{path}": {"get": {"summary": "An entity of the graph (HTML, Turtle, JSON-LD, N-Triples)",
                               "operationId": "entity",
                               "parameters": [{"name": "path", "in": "path", "required": True,
                                               "schema": {"type": "string"}}],
                               "responses": _responses(RESULT_TYPES["graph"])}},
        "/.well-known/void": {"get": {"summary": "VoID description of the dataset", "operationId": "void",
                                      "responses": _responses(RESULT_TYPES["graph"][:-1])}},
    }
    for q in library.all_queries(_folder()):
        kind = _kind(q)
        parameters = []
        for p in q.parameters:
            schema = dict(OPENAPI_TYPES.get(p.type, {"type": "string"}))
            if p.default is not None:
                schema["default"] = _typed_default(p.default, p.type)
            description = p.description or (f"A literal in language {p.type}" if p.type not in OPENAPI_TYPES
                                            else f"xsd:{p.type}" if p.type not in ("iri", "string") else
                                            "An IRI (full, or prefixed as in id:theme/ai)" if p.type == "iri" else "")
            parameters.append({"name": p.name, "in": "query", "required": p.required and p.default is None,
                               "schema": schema, "description": description})
        parameters.append({"name": "format", "in": "query", "required": False,
                           "schema": {"type": "string"}, "description": "Overrides Accept (json, xml, csv, tsv, turtle, ...)"})
        paths[f"/queries/{q.name}"] = {"get": {
            "summary": q.summary or q.name, "description": q.description, "operationId": _operation_id(q.name),
            "tags": q.tags or ["queries"], "parameters": parameters,
            "responses": _responses(RESULT_TYPES[kind if kind == "graph" else "solutions"])}}
    return {"openapi": "3.0.3",
            "info": {"title": "WSIS Coherence Graph API", "version": "1",
                     "description": "SPARQL endpoint, named coherence queries and linked-data pages of the WSIS "
                                    "Coherence Graph. Every named query is a GET path whose query-string "
                                    "parameters are typed and bound safely."},
            "servers": [{"url": request.url_root.rstrip("/")}],
            "paths": paths}


def _typed_default(value: str, kind: str):
    try:
        if kind == "integer":
            return int(value)
        if kind == "decimal":
            return float(value)
        if kind == "boolean":
            return {"true": True, "false": False}[value]
    except (ValueError, KeyError):
        pass
    return value


def _operation_id(name: str) -> str:
    parts = name.split("-")
    return "query" + "".join(p[:1].upper() + p[1:] for p in parts)


def _responses(types: list[str], extra: tuple[str, ...] = ()) -> dict:
    out = {"200": {"description": "The result; a truncated answer carries X-WSISKG-Truncated: true",
                   "headers": {"X-WSISKG-Truncated": {"schema": {"type": "boolean"}}},
                   "content": {t: {} for t in types}},
           "400": {"description": "A bad query or parameter (the message names it)"},
           "404": {"description": "Unknown name"},
           "406": {"description": "None of the accepted formats can be produced"},
           "503": {"description": "The query passed the time limit and was stopped, or the server is busy"}}
    for code in extra:
        out[code] = {"description": "Unsupported body type"}
    return out


@bp.route("/openapi.json")
def openapi_json():
    return Response(json.dumps(openapi(), ensure_ascii=False, indent=1) + "\n",
                    content_type="application/json; charset=utf-8")
