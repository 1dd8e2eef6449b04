"""`/sparql`: the SPARQL 1.1 Protocol (query operation), the query page, the service description.

GET with `query=`, POST form-encoded, POST `application/sparql-query`; `default-graph-uri` and
`named-graph-uri`; content negotiation with a `format=` override; no query: the query page for
browsers, the service description for everyone else. Updates belong to `/update`. The dataset is
exactly the graphs a request names (Protocol 2.1.4), else the query's FROM, else the union of the
named graphs; relative IRIs resolve against the endpoint's own URL.
"""
from __future__ import annotations

import re

import pyoxigraph as ox
from flask import Blueprint, request, url_for

from wsiskg.graph import library
from wsiskg.graph import namespaces as ns

from .context import services
from .self_description import service_description
from .errors import ApiError
from .negotiation import GRAPH, choose, prefers_html
from .respond import download_links, html_response, machine_response, offers_for, request_params
from .policy import declare
from wsiskg.graph.sparqltext import Analysis, analyse
from wsiskg.graph.store import QuerySyntaxError

bp = declare(Blueprint("sparql", __name__), cors=True, cached=True, cached_post=True)

_FIRST_LINE = re.compile(r"error at 1:(\d+):")  # the engine's position, on the line a BASE was put before

UPDATE_HINT = ("SPARQL updates are not accepted on the query endpoint /sparql: POST them to /update "
               "(enabled only when the server has a token; see `wsiskg serve --token-file`)")

EXAMPLE_QUERY = """SELECT ?actionLine ?notation ?label WHERE {
  ?actionLine a wsis:ActionLine ;
              skos:notation ?notation ;
              skos:prefLabel ?label .
  FILTER(LANG(?label) = "en" || LANG(?label) = "")
}
ORDER BY ?notation"""


class ProtocolRequest:
    def __init__(self, text: str | None, default_graphs: list[str], named_graphs: list[str], analysis: Analysis | None):
        self.text = text
        self.default_graphs = default_graphs
        self.named_graphs = named_graphs
        self.analysis = analysis


def _graph_iris(values: list[str], name: str) -> list[str]:
    out = []
    for value in values:
        value = value.strip()
        try:
            ox.NamedNode(value)
        except ValueError:
            raise ApiError(400, f"{name} must be an absolute IRI; got {value[:200]!r}") from None
        out.append(value)
    return out


def read_request() -> ProtocolRequest:
    """The protocol request, checked to the letter of SPARQL 1.1 Protocol section 2.1."""
    args = request.args
    queries = args.getlist("query")
    updates = args.getlist("update")
    default_graphs = args.getlist("default-graph-uri")
    named_graphs = args.getlist("named-graph-uri")
    if request.method == "POST":
        mimetype = request.mimetype
        if mimetype == "application/x-www-form-urlencoded":
            form = request.form
            queries = queries + form.getlist("query")
            updates = updates + form.getlist("update")
            default_graphs = default_graphs + form.getlist("default-graph-uri")
            named_graphs = named_graphs + form.getlist("named-graph-uri")
        elif mimetype == "application/sparql-query":
            try:
                queries = queries + [request.get_data(cache=False).decode("utf-8")]
            except UnicodeDecodeError as exc:
                raise ApiError(400, f"the query is not UTF-8 text (byte {exc.start})") from None
        elif mimetype == "application/sparql-update":
            raise ApiError(400, UPDATE_HINT)
        elif mimetype or request.content_length:
            raise ApiError(415, f"cannot read a {mimetype or 'untyped'} body: POST a query as "
                                "application/x-www-form-urlencoded (query=...) or as application/sparql-query")
    if len(queries) > 1:
        raise ApiError(400, f"give exactly one query parameter; this request has {len(queries)}")
    if updates:
        if queries:
            raise ApiError(400, "give a query or an update, not both; updates go to /update")
        if len(updates) > 1:
            raise ApiError(400, UPDATE_HINT)
        # SPARQLWrapper takes a query whose comment header holds a word such as "address" for an
        # ADD update and sends it as update= (docs/traps.md #1). If it is really a query, answer it.
        analysis = analyse(updates[0])
        if analysis.operation != "query":
            raise ApiError(400, UPDATE_HINT)
        queries = updates
    if not queries:
        return ProtocolRequest(None, default_graphs, named_graphs, None)
    text = queries[0]
    if not text.strip():
        raise ApiError(400, "the query parameter is empty")
    analysis = analyse(text)
    if analysis.operation == "update":
        raise ApiError(400, UPDATE_HINT)
    return ProtocolRequest(text, _graph_iris(default_graphs, "default-graph-uri"),
                           _graph_iris(named_graphs, "named-graph-uri"), analysis)


def page_context(query_text: str | None = None) -> dict:
    svc = services()
    try:
        named = [q for q in library.all_queries(svc.config.queries_dir)]
    except (OSError, ValueError):
        named = []
    return {
        "prefixes": ns.sparql_prefixes(),
        "query_text": query_text if query_text is not None else ns.sparql_prefixes() + "\n" + EXAMPLE_QUERY,
        "examples": [{"name": q.name, "summary": q.summary, "text": q.text, "form": q.form,
                      "parameters": [p.name for p in q.parameters], "url": url_for("queries.run", name=q.name)}
                     for q in named],
        "timeout": svc.config.timeout,
        "max_rows": svc.config.max_rows,
    }


def run(req: ProtocolRequest):
    svc = services()
    kind = req.analysis.result_kind
    offer = choose(offers_for(kind))
    svc.service_guard.check(req.analysis.services)
    text, shift = req.text, 0
    if req.analysis.relative_iris:
        # relative IRIs resolve against the endpoint's own URL (SPARQL 1.1 Query 4.1.1.1, as the W3C
        # protocol tests expect); a query's own BASE, relative or not, then resolves against it
        prefix = f"BASE <{url_for('sparql.endpoint', _external=True)}> "
        text, shift = prefix + text, len(prefix)
    try:
        result = svc.backend.query(text, default_graphs=req.default_graphs, named_graphs=req.named_graphs)
    except QuerySyntaxError as exc:  # name the position in the text the client sent
        if not shift:
            raise
        raise QuerySyntaxError(_FIRST_LINE.sub(lambda m: f"error at 1:{max(1, int(m.group(1)) - shift)}:",
                                               str(exc), count=1)) from None
    if result.kind != kind:  # the lexer guessed the form wrong: negotiate again for what we have
        offer = choose(offers_for(result.kind))
    if offer.name == "html":
        params = [(k, v) for k, v in request_params() if k in ("query", "default-graph-uri", "named-graph-uri")]
        if request.method == "POST" and request.mimetype == "application/sparql-query":
            params = [("query", req.text)] + params
        return html_response("query.html", result=result,
                             downloads=download_links(url_for("sparql.endpoint"), params, result.kind),
                             **page_context(req.text))
    return machine_response(result, offer, svc.config.max_rows)


@bp.route("/sparql", methods=["GET", "POST"])
def endpoint():
    req = read_request()
    if req.text is None:
        if prefers_html():
            return html_response("query.html", **page_context())
        offer = choose(GRAPH, html=False)
        return machine_response(service_description(), offer, services().config.max_rows)
    return run(req)


@bp.route("/")
def home():
    if request.args.get("query") or request.form.get("query"):
        return endpoint()
    return html_response("query.html", **page_context())
