"""The SPARQL 1.1 Protocol's dataset rules and base IRI, over HTTP in process (issue 13, items 8 and 9).

A request that names graphs gets exactly those: only `named-graph-uri` leaves the default graph
empty, only `default-graph-uri` leaves no named graphs; `FROM <g>` reads <g> alone. Relative IRIs
resolve against the endpoint's own URL.
"""
from __future__ import annotations

import pyoxigraph as ox
import pytest

from wsiskg.graph import namespaces as ns
from wsiskg.graph.store import EmbeddedStore
from wsiskg.server.app import create_app
from wsiskg.server.config import ServerConfig

META, ONTOLOGY, REFERENCE = ns.GRAPH_META, ns.GRAPH_ONTOLOGY, ns.GRAPH_REFERENCE
JSON = {"Accept": "application/sparql-results+json"}
COUNT = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
PER_GRAPH = "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g ORDER BY ?g"


@pytest.fixture(scope="module")
def sizes(built_store) -> dict[str, int]:
    """Triples per named graph, read straight from the store (GRAPH <g>, no dataset tricks)."""
    store = EmbeddedStore.open(built_store, read_only=True)
    try:
        return store.graph_sizes()
    finally:
        store.close()


@pytest.fixture(scope="module")
def client(built_store):
    app = create_app(ServerConfig(store_root=built_store, workers=1, warm=False, timeout=60))
    yield app.test_client()
    app.extensions["wsiskg"].backend.close()


def rows(reply) -> list[tuple]:
    assert reply.status_code == 200, reply.get_data(as_text=True)
    data = reply.get_json()
    return [tuple(b[v]["value"] if v in b else None for v in data["head"]["vars"]) for b in data["results"]["bindings"]]


def ask(client, method: str, query: str, **graphs):
    params = {"query": query, **graphs}
    if method == "GET":
        return client.get("/sparql", query_string=params, headers=JSON)
    if method == "POST-form":
        return client.post("/sparql", data=params, headers=JSON)
    return client.post("/sparql", query_string=graphs, data=query.encode("utf-8"),
                       headers={**JSON, "Content-Type": "application/sparql-query"})


METHODS = ["GET", "POST-form", "POST-query"]


def test_the_store_has_the_graphs_these_tests_read(sizes):
    assert sizes[META] == 1 and sizes[ONTOLOGY] > 100 and sizes[REFERENCE] > 1000


@pytest.mark.parametrize("method", METHODS)
def test_only_named_graph_uri_leaves_the_default_graph_empty(client, sizes, method):
    assert rows(ask(client, method, COUNT, **{"named-graph-uri": ONTOLOGY})) == [("0",)]
    assert rows(ask(client, method, PER_GRAPH, **{"named-graph-uri": ONTOLOGY})) == [(ONTOLOGY, str(sizes[ONTOLOGY]))]


@pytest.mark.parametrize("method", METHODS)
def test_only_default_graph_uri_leaves_no_named_graphs(client, sizes, method):
    assert rows(ask(client, method, COUNT, **{"default-graph-uri": ONTOLOGY})) == [(str(sizes[ONTOLOGY]),)]
    assert rows(ask(client, method, PER_GRAPH, **{"default-graph-uri": ONTOLOGY})) == []


@pytest.mark.parametrize("method", METHODS)
def test_both_name_the_whole_dataset(client, sizes, method):
    graphs = {"default-graph-uri": [META, ONTOLOGY], "named-graph-uri": REFERENCE}
    assert rows(ask(client, method, COUNT, **graphs)) == [(str(sizes[META] + sizes[ONTOLOGY]),)]
    assert rows(ask(client, method, PER_GRAPH, **graphs)) == [(REFERENCE, str(sizes[REFERENCE]))]


def test_without_a_dataset_the_default_graph_is_the_union(client, sizes):
    assert rows(ask(client, "GET", COUNT)) == [(str(sum(sizes.values())),)]


def test_from_reads_that_graph_alone(client, sizes):
    assert rows(ask(client, "GET", f"SELECT (COUNT(*) AS ?n) FROM <{ONTOLOGY}> WHERE {{ ?s ?p ?o }}")) == [
        (str(sizes[ONTOLOGY]),)]
    version = f"SELECT ?p FROM <{META}> WHERE {{ ?s ?p ?o }}"
    assert rows(ask(client, "GET", version)) == [(ns.WSIS + "storeVersion",)]
    # FROM NAMED alone: an empty default graph, one named graph
    assert rows(ask(client, "GET", f"SELECT (COUNT(*) AS ?n) FROM NAMED <{META}> WHERE {{ ?s ?p ?o }}")) == [("0",)]
    assert rows(ask(client, "GET", f"SELECT ?g (COUNT(*) AS ?n) FROM NAMED <{META}> WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }}"
                                   " GROUP BY ?g")) == [(META, "1")]
    # the protocol's graphs override FROM
    assert rows(ask(client, "GET", version, **{"default-graph-uri": ONTOLOGY})) != [(ns.WSIS + "storeVersion",)]


def ntriples(reply) -> set[tuple[str, str, str]]:
    assert reply.status_code == 200, reply.get_data(as_text=True)
    return {(str(t.subject), str(t.predicate), str(t.object))
            for t in ox.parse(reply.get_data(), format=ox.RdfFormat.N_TRIPLES)}


@pytest.mark.parametrize("method", METHODS)
def test_relative_iris_resolve_against_the_endpoint_url(client, method):
    reply = (client.get if method == "GET" else client.post)(
        "/sparql", **({"query_string": {"query": "CONSTRUCT { <s> <p> 1 } WHERE {}"}} if method == "GET" else
                      {"data": {"query": "CONSTRUCT { <s> <p> 1 } WHERE {}"}} if method == "POST-form" else
                      {"data": b"CONSTRUCT { <s> <p> 1 } WHERE {}"}),
        headers={"Accept": "application/n-triples",
                 **({"Content-Type": "application/sparql-query"} if method == "POST-query" else {})})
    assert ntriples(reply) == {("<http://localhost/s>", "<http://localhost/p>",
                                '"1"^^<http://www.w3.org/2001/XMLSchema#integer>')}


def test_a_query_base_wins_and_a_relative_base_resolves_against_the_endpoint(client):
    accept = {"Accept": "application/n-triples"}
    own = client.get("/sparql", query_string={"query": "BASE <http://example.org/x/> CONSTRUCT { <s> <p> <o> } WHERE {}"},
                     headers=accept)
    assert ntriples(own) == {("<http://example.org/x/s>", "<http://example.org/x/p>", "<http://example.org/x/o>")}
    nested = client.get("/sparql", query_string={"query": "BASE <kg/> CONSTRUCT { <s> <p> <#o> } WHERE {}"}, headers=accept)
    assert ntriples(nested) == {("<http://localhost/kg/s>", "<http://localhost/kg/p>", "<http://localhost/kg/#o>")}


def engine_column(query: str) -> int:
    """Where Oxigraph, given the base directly, places the error."""
    with pytest.raises(SyntaxError) as caught:
        ox.Store().query(query, base_iri="http://localhost/sparql")
    return int(str(caught.value).split(":")[1])


def test_a_syntax_error_after_a_relative_iri_names_the_column_the_client_wrote(client):
    for query in ("SELECT * WHERE { <s> ?p }", "SELECT * WHERE { <http://e/s> ?p }"):
        reply = client.get("/sparql", query_string={"query": query}, headers=JSON)
        assert reply.status_code == 400
        assert (reply.get_json()["line"], reply.get_json()["column"]) == (1, engine_column(query))
    assert engine_column("SELECT * WHERE { <s> ?p }") == 26
