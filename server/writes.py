"""`/update` (SPARQL 1.1 Update) and `/data` (SPARQL 1.1 Graph Store HTTP Protocol).

Off unless the server was started with a token file; then every write needs
`Authorization: Bearer <token>` (compared in constant time). Every write, whichever route and
method, is one path: it is expressed as a SPARQL Update, run on a scratch copy of the data in a
query worker (under the deadline), and the state that results is judged before anything is
committed:
- the meta graph is never written; the ontology and reference graphs only with
  `serve --allow-reference-writes`;
- a write that removes more than `--max-removal-share` of the store, or empties a graph built from
  the shipped sources, needs `?confirm=large-removal`;
- a write whose result breaks a shape (what it adds, and links left pointing at what it removed)
  changes nothing and answers 422 with the report.
Then exactly the change that was checked is committed, and kept in the journal (graph/journal.py)
so a rebuild replays it. While a build holds the store, a write answers 503 with Retry-After.
"""
from __future__ import annotations

import hmac

import pyoxigraph as ox
from flask import Blueprint, Response, json, request

from wsiskg.graph import namespaces as ns
from wsiskg.graph.build import entry_files
from wsiskg.graph.journal import StoreBusy
from wsiskg.graph.store import QuerySyntaxError
from wsiskg.graph.validate import UpdateRejected

from .context import services
from .errors import ApiError, scrub, syntax_error
from .negotiation import GRAPH, NotAcceptable, choose
from .respond import machine_response
from wsiskg.graph.sparqltext import analyse
from .validation import REPORT_OFFERS, checked, read_rdf_body, report_response
from .policy import declare

bp = declare(Blueprint("writes", __name__), body="data")

OFF = ("writes are off on this server: start it with `wsiskg serve --token-file FILE` to enable /update and /data")


def _enabled() -> None:
    svc = services()
    if not svc.config.token:
        raise ApiError(403, OFF)
    if not svc.backend.writable:
        raise ApiError(403, "writes are off: the remote endpoint was configured without an update URL "
                            "(wsiskg serve --endpoint URL --update-endpoint URL)")


def _authorised() -> None:
    expected = services().config.token.encode("utf-8")
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode("utf-8"), expected):
        raise ApiError(401, "this write needs the server's token: send Authorization: Bearer <token>",
                       {"WWW-Authenticate": 'Bearer realm="wsiskg"'})


def _ok(message: str, status: int = 200, **extra) -> Response:
    body = {"ok": True, "message": message, **extra}
    if services().backend.version is not None:
        body["version"] = services().backend.version
    return Response(json.dumps(body) + "\n", status=status, content_type="application/json; charset=utf-8")


@bp.route("/update", methods=["GET", "POST", "PUT", "DELETE"])
def update():
    _enabled()
    if request.method != "POST":
        raise ApiError(405, "POST a SPARQL 1.1 Update to /update", {"Allow": "POST"})
    _authorised()
    if request.mimetype == "application/sparql-update":
        try:
            texts = [request.get_data(cache=False).decode("utf-8")]
        except UnicodeDecodeError as exc:
            raise ApiError(400, f"the update is not UTF-8 text (byte {exc.start})") from None
    elif request.mimetype == "application/x-www-form-urlencoded":
        texts = request.form.getlist("update")
        if request.form.getlist("query"):
            raise ApiError(400, "this is a query: send it to /sparql")
    else:
        raise ApiError(415, f"cannot read a {request.mimetype or 'untyped'} body: POST an update as "
                            "application/sparql-update or application/x-www-form-urlencoded (update=...)")
    if len(texts) != 1:
        raise ApiError(400, f"give exactly one update parameter; this request has {len(texts)}")
    if request.values.getlist("using-graph-uri") or request.values.getlist("using-named-graph-uri"):
        raise ApiError(400, "using-graph-uri and using-named-graph-uri are not supported: write USING in the update")
    text = texts[0]
    if not text.strip():
        raise ApiError(400, "the update is empty")
    analysis = analyse(text)
    if analysis.operation == "query":
        raise ApiError(400, "this is a query, not an update: send it to /sparql")
    services().service_guard.check(analysis.remote_targets)
    outcome = _checked_write(text, "POST /update")
    if not outcome.report.conforms:
        return _report_422(outcome.report)
    return _ok("update applied", added=outcome.added, removed=outcome.removed,
               derived={"added": outcome.derived_added, "removed": outcome.derived_removed})


def _target_graph() -> str:
    if "default" in request.args:
        raise ApiError(400, "the default graph here is the union of the named graphs and cannot be written or "
                            "read on its own: name a graph with ?graph=IRI")
    graphs = request.args.getlist("graph")
    if len(graphs) != 1:
        raise ApiError(400, "name exactly one graph: /data?graph=https://w3id.org/wsis-kg/id/graph/...")
    try:
        return ox.NamedNode(graphs[0].strip()).value
    except ValueError:
        raise ApiError(400, f"graph must be an absolute IRI; got {graphs[0][:200]!r}") from None


def _exists(graph: str) -> bool:
    result = services().backend.query(f"ASK {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}")
    return bool(result.boolean)


@bp.route("/data", methods=["GET", "HEAD", "PUT", "POST", "DELETE"])
def data():
    _enabled()
    graph = _target_graph()
    svc = services()
    if request.method in ("GET", "HEAD"):
        offer = choose(GRAPH, html=False)
        # the whole graph, never cut at the row cap (GET, edit, PUT must not lose triples)
        result = svc.backend.query(f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}", capped=False)
        if not result.triples:
            raise ApiError(404, f"no graph <{graph}> in the store")
        return machine_response(result, offer, svc.config.max_rows)
    _authorised()
    if graph == ns.GRAPH_META:
        raise ApiError(403, META)
    _refuse_protected([graph])  # before any work: the route names its graph
    existed = _exists(graph)
    if request.method == "DELETE":
        if not existed:
            raise ApiError(404, f"no graph <{graph}> in the store")
        outcome = _checked_write(f"DROP SILENT GRAPH <{graph}>", "DELETE /data")
        if not outcome.report.conforms:
            return _report_422(outcome.report)
        return _ok(f"graph <{graph}> deleted", removed=outcome.removed)
    offer = choose(REPORT_OFFERS)
    body, fmt = read_rdf_body()
    validated = checked(body, fmt, merge_graph=graph if request.method == "POST" and existed else None)
    if not validated.report.conforms:
        return report_response(validated.report, offer, status=422)
    text = validated.ntriples.decode("utf-8")
    insert = f"INSERT DATA {{ GRAPH <{graph}> {{\n{text}\n}} }}" if text.strip() else ""
    if request.method == "PUT":
        change = " ;\n".join(part for part in (f"DROP SILENT GRAPH <{graph}>", insert) if part)
    else:
        change = insert
    if change:  # the result as a whole (links left to what a PUT removed, too), checked and committed once
        outcome = _checked_write(change, f"{request.method} /data")
        if not outcome.report.conforms:
            return report_response(outcome.report, offer, status=422)
    triples = validated.ntriples.count(b"\n")
    verb = "replaced" if request.method == "PUT" else "added to"
    return _ok(f"{triples} triples {verb} graph <{graph}>", status=200 if existed else 201, graph=graph,
               triples=triples, warnings=len(validated.report.warnings))


# -- one path for every write -------------------------------------------------------------------------

META = (f"<{ns.GRAPH_META}> holds the store's own bookkeeping and cannot be written; nothing was changed")
PROTECTED = (ns.GRAPH_ONTOLOGY, ns.GRAPH_REFERENCE)
CONFIRM = "large-removal"


def shipped_graphs() -> set[str]:
    """Graphs a build makes from the shipped entries (emptying one needs confirmation)."""
    slugs = entry_files(None)
    return {ns.doc_graph(s) for s in slugs} | {ns.links_graph(s) for s in slugs} | {ns.links_graph("similarity")}


def _refuse_protected(graphs) -> None:
    protected = [g for g in graphs if g in PROTECTED]
    if protected and not services().config.allow_reference_writes:
        raise ApiError(403, f"the write would change <{protected[0]}>, which is built from the shipped sources "
                            "and protected; nothing was changed (an operator can allow it: "
                            "wsiskg serve --allow-reference-writes)")


def _judge(outcome) -> bool:
    """Refuse (raise) what no write may do; say whether the shapes allow the rest."""
    config = services().config
    if outcome.touches_meta:
        raise ApiError(403, f"the write would change {META}")
    _refuse_protected(outcome.graphs)
    if request.args.get("confirm") != CONFIRM:
        share = outcome.removed / max(outcome.total, 1)
        if outcome.removed and share > config.max_removal_share:
            raise ApiError(409, f"the write would remove {outcome.removed} of the store's {outcome.total} triples "
                                f"({share:.0%}), more than the {config.max_removal_share:.0%} one write may remove "
                                f"unconfirmed; nothing was changed: add ?confirm={CONFIRM} to the URL if you mean it")
        whole = sorted(set(outcome.emptied) & shipped_graphs())
        if whole:
            raise ApiError(409, f"the write would empty <{whole[0]}>, a graph built from the shipped sources; "
                                f"nothing was changed: add ?confirm={CONFIRM} to the URL if you mean it "
                                "(`wsiskg restore` can undo API writes)")
    return outcome.report.conforms


def _checked_write(update_text: str, route: str):
    try:
        return services().backend.checked_update(update_text, _judge, route)
    except QuerySyntaxError as exc:
        raise syntax_error(exc, "update") from None
    except UpdateRejected as exc:
        raise ApiError(400, f"the update cannot be applied: {scrub(str(exc))}") from None
    except StoreBusy as exc:
        raise ApiError(503, f"{exc}", {"Retry-After": "10"}) from None


def _report_422(report) -> Response:
    try:
        offer = choose(REPORT_OFFERS)
    except NotAcceptable:
        offer = REPORT_OFFERS[0]
    return report_response(report, offer, status=422)
