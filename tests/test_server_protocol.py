"""The SPARQL 1.1 Protocol on /sparql, over HTTP on 127.0.0.1, against the embedded store and
against a real Oxigraph server in remote mode (`wsiskg serve --endpoint`): the same tests, both ways.

Written against the reference data (17 SDG goals, 169 targets, 19 Action Lines, ITU's label), which
is stable while the curated entries change.
"""
from __future__ import annotations

import csv
import io
import warnings
import xml.dom.minidom

import pytest
import rdflib
from SPARQLWrapper import CSV, JSON, JSONLD, POST, POSTDIRECTLY, TSV, TURTLE, XML, SPARQLWrapper

from httpclient import assert_clean_error, get, post, request

SDGO = "http://metadata.un.org/sdg/ontology#"
WSIS = "https://w3id.org/wsis-kg/ontology#"
ID = "https://w3id.org/wsis-kg/id/"
REFERENCE = ID + "graph/reference"
GOALS = f"PREFIX sdgo: <{SDGO}>\nSELECT ?goal WHERE {{ ?goal a sdgo:Goal }} ORDER BY ?goal"
ACTION_LINES_CONSTRUCT = (f"PREFIX wsis: <{WSIS}>\nCONSTRUCT {{ ?al a wsis:ActionLine }} "
                          f"WHERE {{ ?al a wsis:ActionLine }}")
# Our .rq header style, with a word ("address") that SPARQLWrapper mistakes for the ADD update.
COMMENTED = f"""#+ summary: which address in the SDG namespace does each goal have?
#+ description: >-
#+   A header in the grlc style, as our named queries have; users send these files as they are.
#+ tags: [test]
# add nothing, insert nothing: this is a query
PREFIX sdgo: <{SDGO}>
SELECT ?goal WHERE {{
  ?goal a sdgo:Goal .   # the UN's own IRIs
}}
ORDER BY ?goal
"""


@pytest.fixture(scope="module", params=["embedded", "remote"])
def base(request):
    """The server's base URL: the embedded store, then remote mode over a real Oxigraph server."""
    server = request.getfixturevalue("server" if request.param == "embedded" else "remote_server")
    return server.url


def wrapper(base: str, query: str, fmt) -> SPARQLWrapper:
    w = SPARQLWrapper(base + "/sparql")
    w.setQuery(query)
    w.setReturnFormat(fmt)
    return w


# -- SPARQLWrapper ------------------------------------------------------------------------------

def test_sparqlwrapper_select_json(base):
    result = wrapper(base, GOALS, JSON).query().convert()
    goals = [b["goal"]["value"] for b in result["results"]["bindings"]]
    assert len(goals) == 17
    assert "http://metadata.un.org/sdg/4" in goals


def test_sparqlwrapper_select_xml(base):
    document = wrapper(base, GOALS, XML).query().convert()
    assert isinstance(document, xml.dom.minidom.Document)
    assert len(document.getElementsByTagName("result")) == 17


def test_sparqlwrapper_select_csv(base):
    text = wrapper(base, GOALS, CSV).query().convert().decode("utf-8")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["goal"]
    assert len(rows) == 18


def test_sparqlwrapper_select_tsv(base):
    lines = wrapper(base, GOALS, TSV).query().convert().decode("utf-8").splitlines()
    assert lines[0] == "?goal"
    assert "<http://metadata.un.org/sdg/4>" in lines


def test_sparqlwrapper_ask(base):
    yes = wrapper(base, f"ASK {{ <http://metadata.un.org/sdg/4> a <{SDGO}Goal> }}", JSON).query().convert()
    no = wrapper(base, f"ASK {{ <http://metadata.un.org/sdg/4.4> a <{SDGO}Goal> }}", JSON).query().convert()
    assert yes["boolean"] is True and no["boolean"] is False


def test_sparqlwrapper_construct(base):
    graph = wrapper(base, ACTION_LINES_CONSTRUCT, TURTLE).query().convert()
    g = rdflib.Graph().parse(data=graph, format="turtle")
    assert len(set(g.subjects(rdflib.RDF.type, rdflib.URIRef(WSIS + "ActionLine")))) == 19


def test_sparqlwrapper_construct_jsonld(base):
    g = wrapper(base, ACTION_LINES_CONSTRUCT, JSONLD).query().convert()
    assert len(set(g.subjects(rdflib.RDF.type, rdflib.URIRef(WSIS + "ActionLine")))) == 19


@pytest.mark.parametrize("fmt", [JSON, XML])
def test_sparqlwrapper_commented_query(base, fmt):
    """docs/traps.md #1: SPARQLWrapper takes this SELECT for an ADD and posts it as `update=`; it must still work."""
    w = wrapper(base, COMMENTED, fmt)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = w.query().convert()
    if fmt == JSON:
        assert len(result["results"]["bindings"]) == 17
    else:
        assert len(result.getElementsByTagName("result")) == 17


def test_sparqlwrapper_post_methods(base):
    for method in (POST, POSTDIRECTLY):
        w = wrapper(base, COMMENTED.replace("address", "IRI"), JSON)
        w.setMethod(POST)
        if method == POSTDIRECTLY:
            w.setRequestMethod(POSTDIRECTLY)
        assert len(w.query().convert()["results"]["bindings"]) == 17


# -- the three ways to send a query ---------------------------------------------------------------

def _count(reply) -> int:
    assert reply.status == 200, reply.text[:500]
    return len(reply.json()["results"]["bindings"])


def test_get_post_form_and_direct_post(base):
    accept = {"Accept": "application/sparql-results+json"}
    assert _count(get(base + "/sparql", params={"query": COMMENTED}, headers=accept)) == 17
    assert _count(post(base + "/sparql", form={"query": COMMENTED}, headers=accept)) == 17
    assert _count(post(base + "/sparql", data=COMMENTED,
                       headers={**accept, "Content-Type": "application/sparql-query"})) == 17
    # charset parameter on the media type is fine
    assert _count(post(base + "/sparql", data=COMMENTED,
                       headers={**accept, "Content-Type": "application/sparql-query; charset=utf-8"})) == 17


def test_commented_query_sent_as_update_parameter_is_answered(base):
    """What SPARQLWrapper actually sends for a query it misreads: a form POST with update=."""
    reply = post(base + "/sparql", form={"update": COMMENTED}, headers={"Accept": "application/sparql-results+json"})
    assert _count(reply) == 17


def test_dataset_parameters(base):
    count = "SELECT (COUNT(*) AS ?n) WHERE { ?s a ?type }"
    accept = {"Accept": "application/sparql-results+json"}

    def n(reply):
        assert reply.status == 200, reply.text
        return int(reply.json()["results"]["bindings"][0]["n"]["value"])

    everything = n(get(base + "/sparql", params={"query": count}, headers=accept))
    reference = n(get(base + "/sparql", params={"query": count, "default-graph-uri": REFERENCE}, headers=accept))
    ontology = n(get(base + "/sparql", params={"query": count, "default-graph-uri": ID + "graph/ontology"}, headers=accept))
    both = n(get(base + "/sparql", params={"query": count, "default-graph-uri": [REFERENCE, ID + "graph/ontology"]},
                 headers=accept))
    assert 0 < reference < everything and 0 < ontology < everything
    assert both >= max(reference, ontology)
    named = get(base + "/sparql", params={"query": "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }",
                                          "named-graph-uri": REFERENCE}, headers=accept)
    assert named.status == 200
    assert [b["g"]["value"] for b in named.json()["results"]["bindings"]] == [REFERENCE]
    # and in a form body
    assert n(post(base + "/sparql", form={"query": count, "default-graph-uri": REFERENCE}, headers=accept)) == reference


def test_bad_graph_iri_is_400(base):
    reply = get(base + "/sparql", params={"query": "ASK {}", "default-graph-uri": "not an iri"},
                headers={"Accept": "application/json"})
    assert_clean_error(reply, 400, "default-graph-uri")


# -- content negotiation ----------------------------------------------------------------------------

@pytest.mark.parametrize("accept,expected", [
    ("application/sparql-results+json", "application/sparql-results+json"),
    ("application/json", "application/sparql-results+json"),
    ("application/sparql-results+xml", "application/sparql-results+xml"),
    ("text/csv", "text/csv"),
    ("text/tab-separated-values", "text/tab-separated-values"),
    ("*/*", "application/sparql-results+json"),
    ("text/html", "text/html"),
    ("image/png;q=1, text/csv;q=0.5", "text/csv"),
])
def test_select_negotiation(base, accept, expected):
    reply = get(base + "/sparql", params={"query": GOALS}, headers={"Accept": accept})
    assert reply.status == 200
    assert reply.mimetype == expected
    assert "Accept" in reply.headers.get("vary", "")


@pytest.mark.parametrize("accept,expected,rdflib_format", [
    ("text/turtle", "text/turtle", "turtle"),
    ("application/n-triples", "application/n-triples", "nt"),
    ("application/ld+json", "application/ld+json", "json-ld"),
    ("application/rdf+xml", "application/rdf+xml", "xml"),
    ("*/*", "text/turtle", "turtle"),
])
def test_construct_negotiation(base, accept, expected, rdflib_format):
    reply = get(base + "/sparql", params={"query": ACTION_LINES_CONSTRUCT}, headers={"Accept": accept})
    assert reply.status == 200 and reply.mimetype == expected
    g = rdflib.Graph().parse(data=reply.body, format=rdflib_format)
    assert len(g) == 19


@pytest.mark.parametrize("fmt,expected", [("json", "application/sparql-results+json"), ("xml", "application/sparql-results+xml"),
                                          ("csv", "text/csv"), ("tsv", "text/tab-separated-values")])
def test_format_parameter_overrides_accept(base, fmt, expected):
    reply = get(base + "/sparql", params={"query": GOALS, "format": fmt}, headers={"Accept": "text/html"})
    assert reply.status == 200 and reply.mimetype == expected


def test_ask_formats(base):
    ask = f"ASK {{ ?g a <{SDGO}Goal> }}"
    assert get(base + "/sparql", params={"query": ask}, headers={"Accept": "application/json"}).json()["boolean"] is True
    x = get(base + "/sparql", params={"query": ask}, headers={"Accept": "application/sparql-results+xml"})
    assert "<boolean>true</boolean>" in x.text
    c = get(base + "/sparql", params={"query": ask, "format": "csv"})
    assert c.text.split() == ["_askResult", "true"]


def test_406_when_nothing_acceptable(base):
    reply = get(base + "/sparql", params={"query": GOALS}, headers={"Accept": "image/png"})
    assert_clean_error(reply, 406, "application/sparql-results+json")
    # a graph format for a SELECT cannot be produced either
    reply = get(base + "/sparql", params={"query": GOALS, "format": "turtle"}, headers={"Accept": "application/json"})
    assert_clean_error(reply, 406)
    reply = get(base + "/sparql", params={"query": ACTION_LINES_CONSTRUCT}, headers={"Accept": "text/csv"})
    assert_clean_error(reply, 406, "text/turtle")


def test_unknown_format_name_is_400(base):
    reply = get(base + "/sparql", params={"query": GOALS, "format": "excel"}, headers={"Accept": "application/json"})
    assert_clean_error(reply, 400, "excel")


# -- errors -------------------------------------------------------------------------------------

def test_syntax_error_names_line_and_column(base):
    query = "PREFIX sdgo: <http://metadata.un.org/sdg/ontology#>\nSELECT ?goal WHERE {\n  ?goal a sdgo:Goal FILTER(?goal = )\n}"
    reply = get(base + "/sparql", params={"query": query}, headers={"Accept": "application/json"})
    assert_clean_error(reply, 400, "syntax error", "line", "column")
    body = reply.json()
    # the engine reports where it gave up: the empty comparison on line 3, or the brace after it
    assert body["line"] in (3, 4) and isinstance(body["column"], int)
    assert f"line {body['line']}, column {body['column']}" in body["message"]
    text = get(base + "/sparql", params={"query": query}, headers={"Accept": "text/csv"})
    assert_clean_error(text, 400, "syntax error", f"line {body['line']}")
    assert text.mimetype == "text/plain"


def test_two_query_parameters_are_400(base):
    reply = request("GET", base + "/sparql", params=[("query", GOALS), ("query", "ASK {}")],
                    headers={"Accept": "application/json"})
    assert_clean_error(reply, 400, "one query")
    reply = post(base + "/sparql?query=ASK%7B%7D", data=GOALS, headers={"Content-Type": "application/sparql-query"})
    assert_clean_error(reply, 400, "one query")


@pytest.mark.parametrize("how", ["get", "form", "direct"])
def test_updates_refused_on_query_endpoint(base, how):
    update = f"PREFIX wsis: <{WSIS}>\nINSERT DATA {{ GRAPH <{ID}graph/x> {{ <{ID}x> a wsis:Theme }} }}"
    if how == "get":
        reply = get(base + "/sparql", params={"update": update})
    elif how == "form":
        reply = post(base + "/sparql", form={"update": update})
    else:
        reply = post(base + "/sparql", data=update, headers={"Content-Type": "application/sparql-update"})
    assert_clean_error(reply, 400, "/update")
    # an update sent as query= is refused as well
    assert_clean_error(get(base + "/sparql", params={"query": update}), 400, "/update")
    # nothing was written
    check = get(base + "/sparql", params={"query": f"ASK {{ <{ID}x> ?p ?o }}"}, headers={"Accept": "application/json"})
    assert check.json()["boolean"] is False


def test_415_for_unsupported_body(base):
    for content_type in ("text/plain", "application/json", "multipart/form-data; boundary=x"):
        reply = post(base + "/sparql", data=GOALS, headers={"Content-Type": content_type, "Accept": "application/json"})
        assert_clean_error(reply, 415, "application/sparql-query")


def test_413_for_oversized_query(base):
    big = "# " + "x" * 1_100_000 + "\nASK {}"
    reply = post(base + "/sparql", data=big, headers={"Content-Type": "application/sparql-query",
                                                      "Accept": "application/json"})
    assert_clean_error(reply, 413)
    assert reply.json()["status"] == 413


def test_404(base):
    assert_clean_error(get(base + "/no/such/page", headers={"Accept": "application/json"}), 404)
    assert get(base + "/no/such/page", headers={"Accept": "application/json"}).json()["status"] == 404
    assert_clean_error(get(base + "/id/org/no-such-body", headers={"Accept": "text/turtle"}), 404)


def test_empty_query_is_400(base):
    assert_clean_error(get(base + "/sparql", params={"query": "  "}), 400, "empty")


def test_service_to_unlisted_endpoint_refused(base):
    for target in ("http://169.254.169.254/latest/meta-data", "http://127.0.0.1:1/sparql", "http://10.0.0.1/sparql",
                   "https://query.wikidata.org/sparql"):
        query = f"SELECT * WHERE {{ SERVICE <{target}> {{ ?s ?p ?o }} }}"
        assert_clean_error(get(base + "/sparql", params={"query": query}, headers={"Accept": "application/json"}),
                           400, "allow-list")
    # a variable endpoint cannot be checked, so it is refused too
    query = "SELECT * WHERE { BIND(<http://127.0.0.1:1/> AS ?e) SERVICE ?e { ?s ?p ?o } }"
    assert_clean_error(get(base + "/sparql", params={"query": query}), 400, "variable")
    # the word SERVICE in a comment or a string is not a SERVICE call
    query = '# SERVICE <http://127.0.0.1:1/>\nSELECT ("SERVICE <http://127.0.0.1:1/>" AS ?x) WHERE {}'
    assert get(base + "/sparql", params={"query": query}, headers={"Accept": "application/json"}).status == 200


# -- CORS, description, page ---------------------------------------------------------------------

def test_cors(base):
    reply = get(base + "/sparql", params={"query": GOALS}, headers={"Origin": "https://example.org"})
    assert reply.headers.get("access-control-allow-origin") == "*"
    preflight = request("OPTIONS", base + "/sparql", headers={
        "Origin": "https://example.org", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type"})
    assert preflight.status in (200, 204)
    assert preflight.headers.get("access-control-allow-origin") == "*"
    assert "POST" in preflight.headers.get("access-control-allow-methods", "")
    assert "content-type" in preflight.headers.get("access-control-allow-headers", "").lower()


def test_service_description(base):
    reply = get(base + "/sparql", headers={"Accept": "text/turtle"})
    assert reply.status == 200 and reply.mimetype == "text/turtle"
    g = rdflib.Graph().parse(data=reply.body, format="turtle")
    sd = rdflib.Namespace("http://www.w3.org/ns/sparql-service-description#")
    services = list(g.subjects(rdflib.RDF.type, sd.Service))
    assert len(services) == 1
    assert (services[0], sd.endpoint, rdflib.URIRef(base + "/sparql")) in g
    assert (services[0], sd.supportedLanguage, sd.SPARQL11Query) in g
    assert (services[0], sd.feature, sd.UnionDefaultGraph) in g
    names = {str(o) for o in g.objects(None, sd.name)}
    assert REFERENCE in names
    jsonld = get(base + "/sparql", headers={"Accept": "application/ld+json"})
    assert jsonld.status == 200 and len(rdflib.Graph().parse(data=jsonld.body, format="json-ld")) == len(g)


def test_query_page_for_browsers(base):
    reply = get(base + "/sparql", headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert reply.status == 200 and reply.mimetype == "text/html"
    assert 'id="query"' in reply.text and "PREFIX wsis: &lt;https://w3id.org/wsis-kg/ontology#&gt;" in reply.text
    assert "https://cdn" not in reply.text and "//unpkg" not in reply.text
    home = get(base + "/", headers={"Accept": "text/html"})
    assert home.status == 200 and 'id="query"' in home.text


def test_html_results_link_to_entity_pages(base):
    query = f"PREFIX wsis: <{WSIS}>\nSELECT ?al WHERE {{ ?al a wsis:ActionLine }} ORDER BY ?al"
    reply = get(base + "/sparql", params={"query": query}, headers={"Accept": "text/html"})
    assert reply.status == 200
    assert 'href="/id/action-line/C3"' in reply.text
    assert '<span id="row-count">19</span> rows' in reply.text
    assert "format=csv" in reply.text and "format=json" in reply.text  # downloads in every format
    assert reply.headers.get("x-wsiskg-truncated") == "false"


def test_a_query_naming_its_own_dataset_is_answered_over_it(server):
    """FROM / FROM NAMED in the query text choose its dataset (not the union of every graph)."""
    reference, ontology = ID + "graph/reference", ID + "graph/ontology"
    text = f"SELECT (COUNT(*) AS ?n) FROM <{ontology}> WHERE {{ ?s ?p ?o }}"
    union = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
    named = f"SELECT ?g (COUNT(*) AS ?n) FROM NAMED <{reference}> WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }} GROUP BY ?g"
    graphs = f"SELECT ?g (COUNT(*) AS ?n) WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }} GROUP BY ?g"

    def rows(q):
        reply = get(server.url + "/sparql", params={"query": q}, headers={"Accept": "application/sparql-results+json"})
        assert reply.status == 200, reply.text
        return [{k: v["value"] for k, v in b.items()} for b in reply.json()["results"]["bindings"]]

    sizes = {r["g"]: int(r["n"]) for r in rows(graphs)}
    assert int(rows(text)[0]["n"]) == sizes[ontology] < int(rows(union)[0]["n"])
    assert rows(named) == [{"g": reference, "n": str(sizes[reference])}]
