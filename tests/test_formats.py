"""Issue 18 (item 1): one table of formats (graph/results.py's FORMATS). Every format it names is
served by every route that should serve it, and named where a client reads what is offered: the
CLI's `--format`, /sparql and the named-query routes (by the kind of answer), entity pages, VoID,
/validate's report (graph formats), the query page's download links, and /openapi.json. The app runs
in process (Flask's test client, real query workers) on a small real store."""
from __future__ import annotations

import json
import urllib.parse

import click
import pyoxigraph as ox
import pytest

from wsiskg.graph import library
from wsiskg.graph.cli import cli
from wsiskg.graph.results import FORMATS
from wsiskg.graph.sparqltext import analyse
from wsiskg.graph.store import EmbeddedStore, activate_database, new_database_path
from wsiskg.server.app import create_app
from wsiskg.server.backend import Backend
from wsiskg.server.config import ServerConfig

ID = "https://w3id.org/wsis-kg/id/"
SKOS = "http://www.w3.org/2004/02/skos/core#"
ENTITY = ID + "org/itu"
DATA = f"""<{ENTITY}> <{SKOS}prefLabel> "International Telecommunication Union"@en <{ID}graph/reference/orgs> .
<{ENTITY}> <{SKOS}notation> "ITU" <{ID}graph/reference/orgs> .
"""
ASK = {"solutions": f"SELECT ?label WHERE {{ <{ENTITY}> <{SKOS}prefLabel> ?label }}",
       "graph": f"CONSTRUCT {{ <{ENTITY}> ?p ?o }} WHERE {{ <{ENTITY}> ?p ?o }}"}
ENTRY = f"<{ID}org/example> a <https://w3id.org/wsis-kg/ontology#Organization> .\n"


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    root = tmp_path_factory.mktemp("formats-store")
    db = new_database_path(root)
    store = EmbeddedStore(ox.Store(str(db)), root)
    store.bulk_load([(f"{ID}graph/reference/orgs", DATA.replace(f" <{ID}graph/reference/orgs> .", " .").encode())])
    store.set_version(1)
    store.close()
    activate_database(root, db)
    config = ServerConfig(store_root=root, workers=1, warm=False, cache_mb=0, timeout=20)
    backend = Backend(config)
    try:
        yield create_app(config, backend).test_client()
    finally:
        backend.close()


def _params(fmt):
    return [pytest.param(f, id=f"{f.kind}-{f.name}") for f in FORMATS if fmt is None or f.kind == fmt]


def _served(response, fmt) -> bool:
    return response.status_code == 200 and response.mimetype == fmt.media_type and len(response.data) > 0


@pytest.mark.parametrize("fmt", _params(None))
def test_sparql_serves_the_format_by_accept_and_by_name(client, fmt):
    query = ASK[fmt.kind]
    assert _served(client.get("/sparql", query_string={"query": query}, headers={"Accept": fmt.media_type}), fmt)
    assert _served(client.get("/sparql", query_string={"query": query, "format": fmt.aliases[0]}), fmt)
    assert _served(client.post("/sparql", data=query, headers={"Content-Type": "application/sparql-query",
                                                               "Accept": fmt.media_type}), fmt)


@pytest.mark.parametrize("fmt", _params("graph"))
def test_graph_routes_serve_every_graph_format(client, fmt):
    assert _served(client.get("/id/org/itu", headers={"Accept": fmt.media_type}), fmt)
    assert _served(client.get("/queries/describe-entity", query_string={"iri": ENTITY, "format": fmt.aliases[0]}), fmt)
    assert _served(client.get("/.well-known/void", headers={"Accept": fmt.media_type}), fmt)
    # /validate's report is a graph too (its JSON summary is another offer, first)
    report = client.post("/validate", data=ENTRY, headers={"Content-Type": "text/turtle", "Accept": fmt.media_type})
    assert _served(report, fmt)


@pytest.mark.parametrize("fmt", _params("solutions"))
def test_a_named_select_serves_every_solutions_format(client, fmt):
    select = next(q.name for q in library.all_queries() if analyse(q.text).result_kind == "solutions"
                  and all(p.default is not None or not p.required for p in q.parameters))
    assert _served(client.get(f"/queries/{select}", headers={"Accept": fmt.media_type}), fmt)


@pytest.mark.parametrize("fmt", _params(None))
def test_the_query_page_offers_a_download_in_the_format(client, fmt):
    page = client.get("/sparql", query_string={"query": ASK[fmt.kind]}, headers={"Accept": "text/html"})
    assert page.status_code == 200
    assert f'type="{fmt.media_type}"' in page.get_data(as_text=True)
    assert urllib.parse.quote(f"format={fmt.aliases[0]}", safe="=") in page.get_data(as_text=True)


@pytest.mark.parametrize("fmt", _params(None))
def test_openapi_lists_the_format(client, fmt):
    spec = client.get("/openapi.json").get_json()
    for method in ("get", "post"):
        assert fmt.media_type in spec["paths"]["/sparql"][method]["responses"]["200"]["content"]
    assert fmt.aliases[0] in spec["paths"]["/sparql"]["get"]["parameters"][-1]["description"]
    if fmt.kind == "graph":
        for path in ("/id/{path}", "/queries/describe-entity", "/.well-known/void", "/validate"):
            assert fmt.media_type in spec["paths"][path]["get" if path != "/validate" else "post"]["responses"]["200"]["content"]


@pytest.mark.parametrize("fmt", _params(None))
def test_the_cli_offers_the_format(fmt):
    query = cli.get_command(click.Context(cli), "query")
    choice = next(p for p in query.params if p.name == "fmt").type
    assert fmt.name in choice.choices


# -- route policy, declared on the blueprints (issue 18.2) ----------------------------------------

def test_each_route_follows_the_policy_its_blueprint_declares(client):
    from wsiskg.server.policy import DEFAULT, policy_for_path
    app = client.application
    seen = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static" or "<" in rule.rule:
            continue
        blueprint = rule.endpoint.rpartition(".")[0]
        declared = getattr(app.blueprints.get(blueprint), "policy", DEFAULT)
        assert policy_for_path(app, rule.rule, sorted(rule.methods - {"OPTIONS", "HEAD"})[0]) == declared
        preflight = client.options(rule.rule)
        assert (preflight.headers.get("Access-Control-Allow-Origin") == "*") == declared.cors, rule.rule
        seen.add((rule.rule, declared.cors, declared.body))
    # what the routes had before the policies moved onto the blueprints
    assert {("/sparql", True, "query"), ("/", True, "query"), ("/validate", True, "data"), ("/update", False, "data"),
            ("/data", False, "data"), ("/health", False, "query"), ("/openapi.json", True, "query")} <= seen
    assert policy_for_path(app, "/id/org/itu").cached and not policy_for_path(app, "/data").cached
    assert not policy_for_path(app, "/no/such/route").cors


# -- SPARQL JSON results: written term by term, byte for byte what json.dumps writes ---------------------

def _json_reference(result) -> bytes:
    """The SPARQL 1.1 JSON results document for `result` as one json.dumps of the whole (the writer
    builds it from each distinct term's JSON instead, which is faster for answers that repeat terms)."""
    from wsiskg.graph.results import term_json
    body = {"head": {"vars": result.variables},
            "results": {"bindings": [{v: term_json(t) for v, t in zip(result.variables, row) if t is not None}
                                     for row in result.rows]}}
    if result.truncated:
        body["head"]["link"] = ["#truncated"]
        body["truncated"] = True
    return json.dumps(body, ensure_ascii=False).encode("utf-8")


TRICKY = [ox.NamedNode(ENTITY), ox.BlankNode("b1"), ox.Literal('quote " backslash \\ tab \t line\nend'),
          ox.Literal("\u2028 \x01 é 😀"), ox.Literal("42", datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer")),
          ox.Literal("مرحبا", language="ar", direction=ox.BaseDirection.RTL), ox.Literal("Accès", language="fr"),
          ox.Triple(ox.NamedNode(ENTITY), ox.NamedNode(SKOS + "notation"), ox.Literal("ITU")), None]


@pytest.mark.parametrize("truncated", [False, True])
def test_json_results_equal_one_dumps_of_the_whole_for_every_kind_of_term(truncated):
    from wsiskg.graph.results import serialize
    from wsiskg.graph.store import Result
    variables = [f"v{i}" for i in range(len(TRICKY))] + ['odd "name"']
    rows = [TRICKY + [TRICKY[2]], list(reversed(TRICKY)) + [None], [None] * (len(TRICKY) + 1),
            [ox.Literal(TRICKY[2].value)] * (len(TRICKY) + 1)]  # equal terms that are distinct objects
    for kept in (rows, []):
        result = Result("solutions", variables, kept, truncated=truncated)
        written = serialize(result, "json")
        assert written == _json_reference(result)
        assert json.loads(written)["head"]["vars"] == variables


def test_json_results_of_every_named_query_on_the_shipped_graph_equal_one_dumps(built_store):
    from wsiskg.graph.results import serialize
    with EmbeddedStore.open(built_store, read_only=True) as store:
        for named in library.all_queries():
            if named.form != "SELECT" or "SERVICE" in named.text:
                continue
            result = store.query(named.text, bindings=named.bind({}), limit=200)
            assert serialize(result, "json") == _json_reference(result), named.name
