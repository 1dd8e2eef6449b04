"""Linked-data pages (/id/..., /resource?iri=...), VoID, on the shared embedded server."""
from __future__ import annotations

import re

import pytest
import rdflib

from httpclient import assert_clean_error, get

ID = "https://w3id.org/wsis-kg/id/"
ITU = ID + "org/itu"
SKOS = rdflib.Namespace("http://www.w3.org/2004/02/skos/core#")
VOID = rdflib.Namespace("http://rdfs.org/ns/void#")
WSIS = rdflib.Namespace("https://w3id.org/wsis-kg/ontology#")
ITU_LABEL = rdflib.Literal("International Telecommunication Union", lang="en")
BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


def test_entity_html(server):
    page = get(server.url + "/id/org/itu", headers=BROWSER)
    assert page.status == 200 and page.mimetype == "text/html"
    assert '<h1 id="entity-label">International Telecommunication Union</h1>' in page.text
    assert ITU in page.text
    # its properties, linked: the Action Lines it facilitates have pages here
    assert 'href="/id/action-line/C5"' in page.text
    # external IRIs (Wikidata) link out, not to a page of ours
    assert 'href="http://www.wikidata.org/entity/' in page.text
    # links to every machine format of the same description
    for fmt in ("turtle", "jsonld", "ntriples"):
        assert f"format={fmt}" in page.text


@pytest.mark.parametrize("accept,rdflib_format", [("text/turtle", "turtle"), ("application/ld+json", "json-ld"),
                                                  ("application/n-triples", "nt"), ("application/rdf+xml", "xml")])
def test_entity_rdf_negotiation(server, accept, rdflib_format):
    reply = get(server.url + "/id/org/itu", headers={"Accept": accept})
    assert reply.status == 200 and reply.mimetype == accept
    g = rdflib.Graph().parse(data=reply.body, format=rdflib_format)
    assert (rdflib.URIRef(ITU), SKOS.prefLabel, ITU_LABEL) in g
    # what points to it is part of the description too, and the names of its neighbours
    assert (rdflib.URIRef(ITU), WSIS.leadFacilitator, rdflib.URIRef(ID + "action-line/C5")) in g
    assert (rdflib.URIRef(ID + "action-line/C5"), SKOS.prefLabel, None) in g


def test_entity_format_parameter(server):
    reply = get(server.url + "/id/org/itu", params={"format": "ntriples"}, headers=BROWSER)
    assert reply.status == 200 and reply.mimetype == "application/n-triples"
    assert f'<{ITU}> <{SKOS.prefLabel}> "International Telecommunication Union"@en .' in reply.text


def test_entity_404(server):
    assert_clean_error(get(server.url + "/id/org/no-such-body", headers=BROWSER), 404)
    assert_clean_error(get(server.url + "/id/org/no-such-body", headers={"Accept": "application/json"}), 404)
    assert_clean_error(get(server.url + "/id/org/%3Cscript%3E", headers={"Accept": "text/turtle"}), 404)


def test_action_line_page_links_sdgs_through_resource_route(server):
    page = get(server.url + "/id/action-line/C3", headers=BROWSER)
    assert page.status == 200
    assert re.search(r'href="/resource\?iri=http(:|%3A)(//|%2F%2F)metadata\.un\.org(/|%2F)sdg(/|%2F)[0-9.a-z]+"', page.text)


def test_sdg_resource_page(server):
    en = get(server.url + "/resource", params={"iri": "http://metadata.un.org/sdg/4"},
             headers={**BROWSER, "Accept-Language": "en"})
    assert en.status == 200
    assert 'href="http://metadata.un.org/sdg/4"' in en.text and "official page" in en.text
    title_en = re.search(r'<h1 id="entity-label">([^<]*)</h1>', en.text).group(1)
    fr = get(server.url + "/resource", params={"iri": "sdg:4"}, headers={**BROWSER, "Accept-Language": "fr-CH, fr;q=0.9"})
    title_fr = re.search(r'<h1 id="entity-label">([^<]*)</h1>', fr.text).group(1)
    assert title_en != title_fr
    assert "éducation" in title_fr.lower() and "education" in title_en.lower()
    turtle = get(server.url + "/resource", params={"iri": "http://metadata.un.org/sdg/4", "format": "turtle"})
    g = rdflib.Graph().parse(data=turtle.body, format="turtle")
    assert (rdflib.URIRef("http://metadata.un.org/sdg/4"), rdflib.RDF.type,
            rdflib.URIRef("http://metadata.un.org/sdg/ontology#Goal")) in g


def test_resource_route_redirects_our_iris_and_checks_input(server):
    import urllib.request

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener(NoRedirect)
    try:
        opener.open(server.url + "/resource?iri=" + ITU)
        raise AssertionError("expected a redirect")
    except urllib.error.HTTPError as exc:
        assert exc.code == 303 and exc.headers["Location"].endswith("/id/org/itu")
    assert_clean_error(get(server.url + "/resource", headers={"Accept": "application/json"}), 400, "iri")
    assert_clean_error(get(server.url + "/resource", params={"iri": "javascript:alert(1)"}, headers=BROWSER), 404)
    assert_clean_error(get(server.url + "/resource", params={"iri": "<bad iri>"}, headers={"Accept": "application/json"}),
                       400, "iri")


def test_statement_page_shows_source(server):
    query = """PREFIX wsis: <https://w3id.org/wsis-kg/ontology#>
PREFIX prov: <http://www.w3.org/ns/prov#>
SELECT ?s ?line ?section WHERE { ?s wsis:text ?t ; wsis:sourceLine ?line ; wsis:sourceSection ?section ;
  prov:wasDerivedFrom ?doc } ORDER BY ?s LIMIT 1"""
    rows = get(server.url + "/sparql", params={"query": query}, headers={"Accept": "application/json"}).json()
    bindings = rows["results"]["bindings"]
    if not bindings:
        pytest.skip("the curated entries hold no statements yet")
    statement = bindings[0]["s"]["value"]
    assert statement.startswith(ID)
    page = get(server.url + "/id/" + statement[len(ID):], headers=BROWSER)
    assert page.status == 200
    source = page.text[page.text.index('id="statement"'):]
    assert f'<dd id="source-line">{bindings[0]["line"]["value"]}' in source
    assert "source-text" in source and "Document" in source and "Section" in source
    assert re.search(r"<code>[^<]+\.txt</code>", source)  # the source file's name


def test_void(server):
    reply = get(server.url + "/.well-known/void", headers={"Accept": "text/turtle"})
    assert reply.status == 200 and reply.mimetype == "text/turtle"
    g = rdflib.Graph().parse(data=reply.body, format="turtle")
    datasets = set(g.subjects(rdflib.RDF.type, VOID.Dataset))
    reference = rdflib.URIRef(ID + "graph/reference")
    assert reference in datasets
    root = [d for d in datasets if (d, VOID.subset, reference) in g]
    assert len(root) == 1
    for prop in (VOID.triples, VOID.entities, VOID.classes):
        assert int(g.value(reference, prop)) > 0
    assert int(g.value(reference, VOID.entities)) >= 17 + 169 + 19
    assert g.value(root[0], rdflib.URIRef("http://purl.org/dc/terms/license")) is not None
    assert (root[0], VOID.sparqlEndpoint, rdflib.URIRef(server.url + "/sparql")) in g
    # the dataset's triples add up over its named graphs
    total = sum(int(g.value(d, VOID.triples)) for d in datasets if d != root[0])
    assert int(g.value(root[0], VOID.triples)) == total
    jsonld = get(server.url + "/.well-known/void", headers={"Accept": "application/ld+json"})
    assert jsonld.status == 200 and len(rdflib.Graph().parse(data=jsonld.body, format="json-ld")) == len(g)
    html = get(server.url + "/.well-known/void", headers=BROWSER)
    assert html.status == 200 and ID + "graph/reference" in html.text


def test_duplication_report(server):
    page = get(server.url + "/reports/duplication", headers=BROWSER)
    assert page.status == 200 and page.mimetype == "text/html"
    assert "Duplication map" in page.text and "<svg" in page.text
    assert 'href="/id/' in page.text or "no near-duplicate" in page.text
    index = get(server.url + "/reports/duplication", headers={"Accept": "text/plain"})
    tables = index.text.split()
    assert "/reports/duplication/body-overlap.csv" in tables
    for table in tables:
        reply = get(server.url + table)
        assert reply.status == 200 and reply.mimetype == "text/csv"
    assert_clean_error(get(server.url + "/reports/duplication/nope.csv"), 404)
