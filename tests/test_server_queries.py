"""Named queries over HTTP: /queries, /queries/<name> with typed parameters, /openapi.json.

A server with its own queries folder (`wsiskg serve --queries-dir`) holds small queries written
here; the shipped describe-entity query is tested on the shared server.
"""
from __future__ import annotations

import csv
import io

import pytest
import rdflib

from conftest import start_server
from httpclient import assert_clean_error, get

ITU = "https://w3id.org/wsis-kg/id/org/itu"
SKOS = "http://www.w3.org/2004/02/skos/core#"

LABEL_QUERY = """#+ summary: Things with a given English label
#+ description: Finds what carries exactly this skos:prefLabel (test query).
#+ tags: [test]
#+ example: wsiskg query by-label --param label="International Telecommunication Union"
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
SELECT ?thing ?label ?_label_string WHERE {
  ?thing skos:prefLabel ?label .
  FILTER(STR(?label) = ?_label_string)
}
ORDER BY ?thing
"""
GOAL_QUERY = """#+ summary: One SDG goal by number
#+ defaults:
#+   - goal: 4
PREFIX sdgo: <http://metadata.un.org/sdg/ontology#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
SELECT ?goal ?_goal_integer WHERE {
  ?goal a sdgo:Goal .
  FILTER(STR(?goal) = CONCAT("http://metadata.un.org/sdg/", STR(?_goal_integer)))
}
"""
ASK_QUERY = """#+ summary: Is this IRI an SDG goal?
PREFIX sdgo: <http://metadata.un.org/sdg/ontology#>
ASK { ?_thing_iri a sdgo:Goal }
"""


@pytest.fixture(scope="module")
def library_server(built_store, tmp_path_factory):
    folder = tmp_path_factory.mktemp("queries")
    (folder / "by-label.rq").write_text(LABEL_QUERY, encoding="utf-8")
    (folder / "goal-by-number.rq").write_text(GOAL_QUERY, encoding="utf-8")
    (folder / "is-goal.rq").write_text(ASK_QUERY, encoding="utf-8")
    (folder / "notes.txt").write_text("not a query", encoding="utf-8")
    srv = start_server(["--store", built_store, "serve", "--queries-dir", folder])
    yield srv
    srv.stop()


def test_list_json_and_html(library_server):
    reply = get(library_server.url + "/queries", headers={"Accept": "application/json"})
    assert reply.status == 200 and reply.mimetype == "application/json"
    queries = {q["name"]: q for q in reply.json()["queries"]}
    assert set(queries) == {"by-label", "goal-by-number", "is-goal"}
    label = queries["by-label"]
    assert label["summary"] == "Things with a given English label"
    assert label["parameters"] == [{"name": "label", "type": "string", "required": True, "default": None,
                                    "description": None}]
    assert queries["goal-by-number"]["parameters"][0]["default"] == "4"
    assert label["url"].endswith("/queries/by-label")
    assert get(library_server.url + "/queries", params={"format": "json"}).mimetype == "application/json"
    html = get(library_server.url + "/queries", headers={"Accept": "text/html"})
    assert html.status == 200 and 'href="/queries/by-label"' in html.text


def test_run_with_string_parameter(library_server):
    reply = get(library_server.url + "/queries/by-label", params={"label": "International Telecommunication Union"},
                headers={"Accept": "application/sparql-results+json"})
    assert reply.status == 200
    things = [b["thing"]["value"] for b in reply.json()["results"]["bindings"]]
    assert things == [ITU]


def test_parameters_are_bound_not_pasted(library_server):
    """Query syntax in a value stays a value: no error, no extra rows."""
    for attack in ['") || true || STR("', '" ) } UNION { ?thing ?p ?label } #', "International Telecommunication Union\\"]:
        reply = get(library_server.url + "/queries/by-label", params={"label": attack},
                    headers={"Accept": "application/sparql-results+json"})
        assert reply.status == 200, reply.text
        assert reply.json()["results"]["bindings"] == []


def test_typed_parameters(library_server):
    four = get(library_server.url + "/queries/goal-by-number", params={"goal": "4", "format": "csv"})
    assert four.status == 200
    assert {row[0] for row in list(csv.reader(io.StringIO(four.text)))[1:]} == {"http://metadata.un.org/sdg/4"}
    default = get(library_server.url + "/queries/goal-by-number", params={"format": "csv"})
    assert default.text == four.text  # the header's default is 4
    bad = get(library_server.url + "/queries/goal-by-number", params={"goal": "four"}, headers={"Accept": "application/json"})
    assert_clean_error(bad, 400, "goal", "integer")
    yes = get(library_server.url + "/queries/is-goal", params={"thing": "sdg:4"}, headers={"Accept": "application/json"})
    no = get(library_server.url + "/queries/is-goal", params={"thing": "http://metadata.un.org/sdg/4.4"},
             headers={"Accept": "application/json"})
    assert yes.json()["boolean"] is True and no.json()["boolean"] is False
    not_iri = get(library_server.url + "/queries/is-goal", params={"thing": "<x> } ; DROP ALL ; {"},
                  headers={"Accept": "application/json"})
    assert_clean_error(not_iri, 400, "thing", "IRI")


def test_parameter_errors_name_the_parameter(library_server):
    missing = get(library_server.url + "/queries/by-label", headers={"Accept": "application/json"})
    assert_clean_error(missing, 400, "label")
    unknown = get(library_server.url + "/queries/by-label", params={"label": "x", "lable": "y"},
                  headers={"Accept": "application/json"})
    assert_clean_error(unknown, 400, "lable")
    twice = get(library_server.url + "/queries/by-label?label=a&label=b", headers={"Accept": "application/json"})
    assert_clean_error(twice, 400, "label")


def test_every_result_format(library_server):
    url = library_server.url + "/queries/by-label"
    params = {"label": "International Telecommunication Union"}
    for accept, mimetype in (("application/sparql-results+json", "application/sparql-results+json"),
                             ("application/sparql-results+xml", "application/sparql-results+xml"),
                             ("text/csv", "text/csv"), ("text/tab-separated-values", "text/tab-separated-values"),
                             ("text/html", "text/html")):
        reply = get(url, params=params, headers={"Accept": accept})
        assert reply.status == 200 and reply.mimetype == mimetype
        assert ITU in reply.text
    assert_clean_error(get(url, params=params, headers={"Accept": "image/png"}), 406)


def test_stable_shareable_url(library_server):
    url = library_server.url + "/queries/by-label?label=International+Telecommunication+Union&format=json"
    first, second = get(url), get(url)
    assert first.status == second.status == 200 and first.body == second.body
    page = get(library_server.url + "/queries/by-label", params={"label": "International Telecommunication Union"},
               headers={"Accept": "text/html"})
    # the page links its own machine twins at stable URLs
    assert "/queries/by-label?label=International+Telecommunication+Union&amp;format=csv" in page.text


def test_form_page_when_parameters_missing(library_server):
    page = get(library_server.url + "/queries/by-label", headers={"Accept": "text/html"})
    assert page.status == 200 and 'name="label"' in page.text and "results-table" not in page.text


def test_unknown_and_escaping_names_are_404(library_server):
    for name in ("nope", "..%2Fconftest", "by-label.rq", "notes", "%2E%2E", "BY-LABEL"):
        reply = get(library_server.url + "/queries/" + name, headers={"Accept": "application/json"})
        assert reply.status == 404, name
        assert_clean_error(reply, 404)


def test_openapi(library_server):
    reply = get(library_server.url + "/openapi.json")
    assert reply.status == 200 and reply.mimetype == "application/json"
    spec = reply.json()
    assert spec["openapi"].startswith("3.")
    paths = spec["paths"]
    for path in ("/sparql", "/queries", "/queries/by-label", "/queries/goal-by-number", "/queries/is-goal",
                 "/validate", "/id/{path}", "/.well-known/void"):
        assert path in paths, path
    params = {p["name"]: p for p in paths["/queries/by-label"]["get"]["parameters"]}
    assert params["label"]["required"] is True and params["label"]["schema"]["type"] == "string"
    goal = {p["name"]: p for p in paths["/queries/goal-by-number"]["get"]["parameters"]}
    assert goal["goal"]["schema"] == {"type": "integer", "default": 4} and goal["goal"]["required"] is False
    thing = {p["name"]: p for p in paths["/queries/is-goal"]["get"]["parameters"]}["thing"]
    assert thing["schema"]["format"] == "iri"
    assert "text/csv" in paths["/queries/by-label"]["get"]["responses"]["200"]["content"]


def test_shipped_describe_entity(server):
    reply = get(server.url + "/queries/describe-entity", params={"iri": "id:org/itu"}, headers={"Accept": "text/turtle"})
    assert reply.status == 200 and reply.mimetype == "text/turtle"
    g = rdflib.Graph().parse(data=reply.body, format="turtle")
    assert (rdflib.URIRef(ITU), rdflib.URIRef(SKOS + "prefLabel"),
            rdflib.Literal("International Telecommunication Union", lang="en")) in g
    listing = get(server.url + "/queries", params={"format": "json"}).json()
    assert "describe-entity" in {q["name"] for q in listing["queries"]}
    assert "/queries/describe-entity" in get(server.url + "/openapi.json").json()["paths"]


def test_shipped_search_pages_over_http(server):
    url = server.url + "/queries/search"
    first = get(url, params={"words": "digital", "limit": "4"}, headers={"Accept": "application/json"})
    second = get(url, params={"words": "digital", "limit": "4", "offset": "4"}, headers={"Accept": "application/json"})
    both = get(url, params={"words": "digital", "limit": "8"}, headers={"Accept": "application/json"})
    rows = lambda reply: [b["statement"]["value"] for b in reply.json()["results"]["bindings"]]  # noqa: E731
    assert len(rows(first)) == 4 and rows(first) + rows(second) == rows(both)
    assert_clean_error(get(url, params={"words": "digital", "limit": "-3"}, headers={"Accept": "application/json"}),
                       400, "limit")
    spec = get(server.url + "/openapi.json").json()["paths"]["/queries/search"]["get"]["parameters"]
    limit = next(p for p in spec if p["name"] == "limit")
    assert limit["schema"] == {"type": "integer", "default": 100}
