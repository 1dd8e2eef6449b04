"""Issue 6: linking external datasets.

`wsiskg link` and a federated query run against a real second SPARQL server (Oxigraph, on 127.0.0.1,
loaded with tests/fixtures/external/wikidata-sample.ttl); a Stocktaking-style CSV with good and bad
rows is imported; an export round-trips into a fresh store with the same triples per named graph.
"""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from decimal import Decimal
from pathlib import Path

import pyoxigraph as ox
import pytest
from rdflib import Graph, URIRef
from rdflib.namespace import DCTERMS, RDF

from conftest import REPO, free_port, stop_process, wsiskg

FIXTURES = REPO / "tests" / "fixtures"
SAMPLE_TTL = FIXTURES / "external" / "wikidata-sample.ttl"
LINK_MAPPING = FIXTURES / "external" / "link-un-entities.yaml"
STOCKTAKING_CSV = FIXTURES / "stocktaking-sample.csv"
STOCKTAKING_MAPPING = REPO / "graph" / "mappings" / "stocktaking.yaml"
FEDERATED = REPO / "queries" / "federated-entity-facts.rq"

ID = "https://w3id.org/wsis-kg/id/"
WSIS = "https://w3id.org/wsis-kg/ontology#"
SKOS = "http://www.w3.org/2004/02/skos/core#"
WD = "http://www.wikidata.org/entity/"
LINKS_GRAPH = ID + "graph/links/external-test-wikidata"
IMPORT_GRAPH = ID + "graph/import/wsis-stocktaking"


def oxigraph_binary() -> str:
    found = shutil.which("oxigraph") or str(Path(sys.executable).parent / "oxigraph")
    if not Path(found).exists():
        pytest.skip("the `oxigraph` server (test extra) is not installed")
    return found


@pytest.fixture(scope="module")
def external_endpoint(tmp_path_factory):
    """A real Oxigraph server on 127.0.0.1 holding the Wikidata-shaped sample; stopped afterwards."""
    binary = oxigraph_binary()
    location = tmp_path_factory.mktemp("external-oxigraph")
    subprocess.run([binary, "load", "--location", str(location), "--file", str(SAMPLE_TTL)],
                   check=True, capture_output=True, timeout=120)
    port = free_port()
    proc = subprocess.Popen([binary, "serve", "--location", str(location), "--bind", f"127.0.0.1:{port}"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/query"
    try:
        deadline = time.time() + 60
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"oxigraph serve exited with {proc.returncode}")
            try:
                with urllib.request.urlopen(url + "?" + urllib.parse.urlencode({"query": "ASK {}"}), timeout=2):
                    break
            except Exception:
                if time.time() > deadline:
                    raise RuntimeError("oxigraph serve did not start in 60 s")
                time.sleep(0.2)
        yield url
    finally:
        stop_process(proc)


def query(store: Path, text: str, tmp_path: Path) -> list[dict]:
    path = tmp_path / f"q{time.monotonic_ns()}.rq"
    path.write_text(text, encoding="utf-8")
    result = wsiskg("query", path, "--format", "json", store=store, check=True)
    return [{k: v["value"] for k, v in row.items()} for row in json.loads(result.stdout)["results"]["bindings"]]


def export_nquads(store: Path) -> list[str]:
    result = wsiskg("export", "--format", "nquads", store=store, check=True)
    return sorted(line for line in result.stdout.splitlines() if line.strip())


def graph_sizes(store: Path, tmp_path: Path) -> dict[str, int]:
    rows = query(store, "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g", tmp_path)
    return {row["g"]: int(row["n"]) for row in rows}


def federated_copy(endpoint: str, tmp_path: Path) -> Path:
    """The named federated query with its SERVICE IRI changed, as its header tells users to do."""
    text = FEDERATED.read_text(encoding="utf-8")
    assert "SERVICE <http://127.0.0.1:7878/query>" in text
    path = tmp_path / "federated.rq"
    path.write_text(text.replace("http://127.0.0.1:7878/query", endpoint), encoding="utf-8")
    return path


LINKS_QUERY = f"""
PREFIX wsis: <{WSIS}>
PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
PREFIX dcterms: <http://purl.org/dc/terms/>
PREFIX prov: <http://www.w3.org/ns/prov#>
SELECT ?s ?p ?o ?score ?method ?source ?matched ?evidence ?time WHERE {{
  GRAPH <{LINKS_GRAPH}> {{
    ?a a wsis:LinkAssertion ; rdf:subject ?s ; rdf:predicate ?p ; rdf:object ?o ; wsis:score ?score ;
       wsis:method ?method ; dcterms:source ?source ; wsis:matchedLabel ?matched ; wsis:evidenceText ?evidence ;
       prov:generatedAtTime ?time .
    ?s ?p ?o .
  }}
}} ORDER BY ?s"""

EXPECTED_LINKS = {
    # entity, relation, resource, score, our label, their label
    ("org/unctad", "exactMatch", "Q900000001", Decimal("1.000"),
     "United Nations Conference on Trade and Development (UN Trade and Development)",
     "United Nations Conference on Trade and Development"),
    ("org/ungis", "exactMatch", "Q900000002", Decimal("1.000"),
     "United Nations Group on the Information Society", "United Nations Group on the Information Society"),
    # acronym on both sides: 1.0 x 0.9 (our altLabel) x 0.9 (their altLabel)
    ("org/ceb", "closeMatch", "Q900000003", Decimal("0.810"), "CEB", "CEB"),
    # 4 shared words of 5: Jaccard 0.8
    ("org/bbcom", "closeMatch", "Q900000004", Decimal("0.800"),
     "Broadband Commission for Sustainable Development", "Broadband Commission for Sustainable Digital Development"),
}


# -- the outbound guard ------------------------------------------------------------------------------

@pytest.mark.parametrize("url", [
    "http://127.0.0.1:7878/query", "http://localhost/sparql", "http://169.254.169.254/latest/meta-data",
    "http://10.0.0.8/sparql", "http://192.168.1.1/", "http://[::1]:7878/query", "http://[::ffff:127.0.0.1]/",
    "http://100.64.0.1/", "http://0.0.0.0:7878/",
])
def test_netguard_refuses_private_addresses(url):
    from wsiskg.graph.netguard import OutboundRefused, check_outbound
    with pytest.raises(OutboundRefused, match="refused"):
        check_outbound(url, [])
    check_outbound(url, ["*"])  # explicitly allowed
    check_outbound(url, [url])  # this endpoint named on an allow-list


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://example.org/x", "gopher://127.0.0.1/", "/relative", ""])
def test_netguard_refuses_other_schemes_even_when_private_is_allowed(url):
    from wsiskg.graph.netguard import OutboundRefused, check_outbound
    with pytest.raises(OutboundRefused):
        check_outbound(url, ["*"])


def test_netguard_checks_public_literal_addresses_without_dns():
    from wsiskg.graph.netguard import check_outbound
    check_outbound("https://8.8.8.8/sparql", [])
    check_outbound("http://[2001:4860:4860::8888]/sparql", [])


# -- wsiskg link -----------------------------------------------------------------------------------

def test_link_refuses_a_loopback_endpoint_unless_allowed(fresh_store, external_endpoint, tmp_path):
    before = export_nquads(fresh_store)
    result = wsiskg("link", "--endpoint", external_endpoint, "--mapping", LINK_MAPPING, store=fresh_store)
    assert result.returncode == 1, result.stderr
    assert "loopback" in result.stderr and "--allow-private" in result.stderr
    assert "Traceback" not in result.stderr
    assert export_nquads(fresh_store) == before
    for bad in ("file:///etc/passwd", "http://169.254.169.254/sparql"):
        result = wsiskg("link", "--endpoint", bad, "--mapping", LINK_MAPPING, store=fresh_store)
        assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr


def test_link_proposes_scored_links_and_leaves_curated_ones(fresh_store, external_endpoint, tmp_path):
    curated_query = (f"SELECT ?s ?o WHERE {{ GRAPH <{ID}graph/reference> {{ ?s <{SKOS}exactMatch> ?o }} "
                     f"FILTER(STRSTARTS(STR(?o), \"{WD}\")) }}")
    curated_before = {(r["s"], r["o"]) for r in query(fresh_store, curated_query, tmp_path)}
    assert (ID + "org/itu", WD + "Q376150") in curated_before

    result = wsiskg("link", "--endpoint", external_endpoint, "--mapping", LINK_MAPPING, "--allow-private",
                    store=fresh_store)
    assert result.returncode == 0, result.stderr
    assert "2 exactMatch, 2 closeMatch" in result.stdout
    assert "Skipped" in result.stdout and "id:org/itu (Q376150)" in result.stdout
    assert f"written to <{LINKS_GRAPH}>" in result.stdout

    rows = query(fresh_store, LINKS_QUERY, tmp_path)
    got = {(r["s"][len(ID):], r["p"][len(SKOS):], r["o"][len(WD):], Decimal(r["score"]), r["evidence"], r["matched"])
           for r in rows}
    assert got == EXPECTED_LINKS
    assert {r["method"] for r in rows} == {"label-similarity"}
    assert {r["source"] for r in rows} == {external_endpoint}
    assert all(r["time"].endswith("Z") for r in rows)

    # curated links untouched; no entity with a curated Wikidata link got another; decoys unused
    assert {(r["s"], r["o"]) for r in query(fresh_store, curated_query, tmp_path)} == curated_before
    linked = {r["s"] for r in rows}
    assert not linked & {s for s, _ in curated_before}
    assert not {r["o"] for r in rows} & {WD + q for q in ("Q900000005", "Q900000006", "Q900000007", "Q900000011")}
    # (the shipped theme -> UNBIS mapping has closeMatch links of its own, in id:graph/unbis)
    graphs = query(fresh_store, f"""SELECT DISTINCT ?g WHERE {{ GRAPH ?g {{ ?s <{SKOS}closeMatch> ?o }}
                                    FILTER(STRSTARTS(STR(?o), "{WD}")) }}""", tmp_path)
    assert [g["g"] for g in graphs] == [LINKS_GRAPH]

    # a second run replaces the graph (same links, not twice as many)
    sizes = graph_sizes(fresh_store, tmp_path)
    result = wsiskg("link", "--endpoint", external_endpoint, "--mapping", LINK_MAPPING, "--allow-private",
                    store=fresh_store)
    assert result.returncode == 0, result.stderr
    assert graph_sizes(fresh_store, tmp_path)[LINKS_GRAPH] == sizes[LINKS_GRAPH]

    # the proposed UNGIS link now lets the federated query reach UNGIS too
    rows = query(fresh_store, federated_copy(external_endpoint, tmp_path).read_text(), tmp_path)
    assert ID + "org/ungis" in {r["entity"] for r in rows}

    # the links graph survives a rebuild
    wsiskg("build", store=fresh_store, check=True)
    assert graph_sizes(fresh_store, tmp_path)[LINKS_GRAPH] == sizes[LINKS_GRAPH]
    assert {(r["s"][len(ID):], r["o"][len(WD):]) for r in query(fresh_store, LINKS_QUERY, tmp_path)} == \
        {(e, q) for e, _, q, *_ in EXPECTED_LINKS}


def test_link_dry_run_writes_nothing(fresh_store, external_endpoint, tmp_path):
    before = export_nquads(fresh_store)
    result = wsiskg("link", "--endpoint", external_endpoint, "--mapping", LINK_MAPPING, "--allow-private",
                    "--dry-run", "--graph-name", "trial", store=fresh_store)
    assert result.returncode == 0, result.stderr
    assert "dry run: nothing written" in result.stdout
    assert "id:org/unctad  skos:exactMatch  <http://www.wikidata.org/entity/Q900000001>  1.000" in result.stdout
    assert export_nquads(fresh_store) == before
    assert not (fresh_store / "graphs" / "links" / "external-trial.nt").exists()


def test_link_caps_the_response_size_and_checks_the_mapping(fresh_store, external_endpoint, tmp_path):
    small = tmp_path / "small.yaml"
    small.write_text(LINK_MAPPING.read_text().replace("max_response_bytes: 1000000", "max_response_bytes: 200"))
    result = wsiskg("link", "--endpoint", external_endpoint, "--mapping", small, "--allow-private", store=fresh_store)
    assert result.returncode == 1 and "larger than 200 bytes" in result.stderr, result.stderr
    broken = tmp_path / "broken.yaml"
    broken.write_text(LINK_MAPPING.read_text().replace("close: 0.7", "close: 1.5"))
    result = wsiskg("link", "--endpoint", external_endpoint, "--mapping", broken, "--allow-private", store=fresh_store)
    assert result.returncode == 1 and "thresholds" in result.stderr and "Traceback" not in result.stderr


def test_link_gives_up_on_a_silent_endpoint(fresh_store, tmp_path):
    """A server that accepts the connection and never answers: the mapping's timeout ends the wait."""
    import socket
    import threading
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)
    accepted = []
    stop = threading.Event()

    def accept():
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        mapping = tmp_path / "slow.yaml"
        mapping.write_text(LINK_MAPPING.read_text().replace("timeout: 20", "timeout: 1"))
        endpoint = f"http://127.0.0.1:{listener.getsockname()[1]}/query"
        started = time.monotonic()
        result = wsiskg("link", "--endpoint", endpoint, "--mapping", mapping, "--allow-private", store=fresh_store)
        assert result.returncode == 1 and "did not answer within 1 s" in result.stderr, result.stderr
        assert time.monotonic() - started < 30
    finally:
        stop.set()
        thread.join(timeout=5)
        for conn in accepted:
            conn.close()
        listener.close()


def test_label_similarity_rules():
    from wsiskg.graph.link import label_variants, similarity
    assert similarity("Food & Agriculture Organisation", "food and agriculture organisation") == 1.0
    assert similarity("UNESCO", "U.N.E.S.C.O.") == 0.0  # no acronym expansion: scores stay explainable
    assert similarity("United Nations Group on the Information Society",
                      "United Nations Group on Information Society") == 0.99  # equal words, not equal labels
    assert similarity("World Health Organisation", "World Health Organization") == pytest.approx(0.946, abs=0.001)
    assert label_variants("A Body (AB)") == ["A Body (AB)", "A Body", "AB"]


# -- federation --------------------------------------------------------------------------------------

def test_federated_query_joins_our_statements_with_the_external_endpoint(built_store, external_endpoint, tmp_path):
    listed = wsiskg("queries", "--format", "json", store=built_store, check=True)
    assert "federated-entity-facts" in {q["name"] for q in json.loads(listed.stdout)}

    rows = query(built_store, federated_copy(external_endpoint, tmp_path).read_text(), tmp_path)
    local = query(built_store, f"""
        PREFIX wsis: <{WSIS}>
        SELECT ?entity (COUNT(DISTINCT ?st) AS ?n) WHERE {{
          ?st wsis:mentionsEntity|wsis:voicedBy ?entity . ?entity a wsis:UNEntity .
        }} GROUP BY ?entity""", tmp_path)
    counts = {r["entity"]: int(r["n"]) for r in local}
    got = {r["entity"][len(ID):]: r for r in rows}
    # only what both sides know: our bodies with statements and a Wikidata link the endpoint holds
    assert set(got) == {e for e in ("org/itu", "org/unesco", "org/undp") if counts.get(ID + e)}
    assert got["org/itu"]["externalLabel"] == "International Telecommunication Union"
    assert got["org/itu"]["officialWebsite"] == "https://www.itu.int"
    assert got["org/itu"]["wikidata"] == WD + "Q376150"
    for entity, row in got.items():
        assert int(row["statements"]) == counts[ID + entity]
    assert [int(r["statements"]) for r in rows] == sorted((int(r["statements"]) for r in rows), reverse=True)


def test_an_unreachable_service_is_a_clear_error(built_store, tmp_path):
    path = tmp_path / "down.rq"
    path.write_text(f"SELECT * WHERE {{ SERVICE <http://127.0.0.1:{free_port()}/query> {{ ?s ?p ?o }} }}")
    result = wsiskg("query", path, store=built_store)
    assert result.returncode == 1 and "query failed" in result.stderr and "Traceback" not in result.stderr


# -- wsiskg import -----------------------------------------------------------------------------------

BAD_ROWS = {
    7: ("Action Lines", "C12"),     # no such Action Line
    8: ("Year", "twenty-twenty"),   # not a year
    9: ("Title", None),             # required, empty
    10: ("SDGs", "4.4.1"),          # an indicator, not a goal or target
}


def _reported(stderr: str) -> dict[int, str]:
    found = {}
    for line in stderr.splitlines():
        if "row " in line and "column " in line:
            row = int(line.split("row ", 1)[1].split(",", 1)[0])
            found[row] = line.split("column '", 1)[1].split("'", 1)[0]
    return found


def test_import_fails_whole_and_leaves_the_store_unchanged(fresh_store, tmp_path):
    before = export_nquads(fresh_store)
    result = wsiskg("import", STOCKTAKING_CSV, "--mapping", STOCKTAKING_MAPPING, store=fresh_store)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert "4 of 10 row(s) have problems; nothing was imported" in result.stderr
    assert _reported(result.stderr) == {row: column for row, (column, _) in BAD_ROWS.items()}
    for row, (column, value) in BAD_ROWS.items():
        line = next(l for l in result.stderr.splitlines() if f"row {row}," in l)
        if value:
            assert repr(value) in line
    assert "C1 … C11" in result.stderr  # the shape's message, telling how to fix it
    assert export_nquads(fresh_store) == before
    assert not (fresh_store / "graphs" / "import").exists()


def test_import_skip_bad_rows_lands_the_good_ones(fresh_store, tmp_path):
    result = wsiskg("import", STOCKTAKING_CSV, "--mapping", STOCKTAKING_MAPPING, "--skip-bad-rows", store=fresh_store)
    assert result.returncode == 0, result.stderr
    assert "Imported 6 of 10 row(s)" in result.stdout and "skipped 4 bad row(s): 7, 8, 9, 10" in result.stdout
    assert _reported(result.stderr) == {row: column for row, (column, _) in BAD_ROWS.items()}

    rows = query(fresh_store, f"""
        PREFIX wsis: <{WSIS}>
        PREFIX dcterms: <http://purl.org/dc/terms/>
        SELECT ?p ?id ?title ?year (GROUP_CONCAT(DISTINCT STR(?al); separator=" ") AS ?als)
               (GROUP_CONCAT(DISTINCT STR(?sdg); separator=" ") AS ?sdgs) WHERE {{
          GRAPH <{IMPORT_GRAPH}> {{
            ?p a wsis:StocktakingProject ; dcterms:identifier ?id ; dcterms:title ?title ; wsis:projectActionLine ?al .
            OPTIONAL {{ ?p wsis:projectYear ?year }} OPTIONAL {{ ?p wsis:projectSDG ?sdg }}
          }}
          ?al a wsis:ActionLine .
        }} GROUP BY ?p ?id ?title ?year ORDER BY ?id""", tmp_path)
    assert [r["id"] for r in rows] == ["ST-0001", "ST-0002", "ST-0003", "ST-0004", "ST-0005", "ST-0010"]
    first = rows[0]
    assert first["p"] == ID + "stocktaking/ST-0001"
    assert first["title"] == "Example Rural Broadband Pilot" and first["year"] == "2023"
    assert sorted(first["als"].split()) == [ID + "action-line/C2", ID + "action-line/C4"]
    assert sorted(first["sdgs"].split()) == ["http://metadata.un.org/sdg/4.4", "http://metadata.un.org/sdg/9.c"]
    assert rows[3]["als"] == ID + "action-line/C7-e-health"

    # the imported graph survives a rebuild, from its copy in <store>/graphs/import/
    assert (fresh_store / "graphs" / "import" / "wsis-stocktaking.nt").is_file()
    size = graph_sizes(fresh_store, tmp_path)[IMPORT_GRAPH]
    wsiskg("build", store=fresh_store, check=True)
    assert graph_sizes(fresh_store, tmp_path)[IMPORT_GRAPH] == size

    # re-importing replaces the graph
    wsiskg("import", STOCKTAKING_CSV, "--mapping", STOCKTAKING_MAPPING, "--skip-bad-rows", store=fresh_store, check=True)
    assert graph_sizes(fresh_store, tmp_path)[IMPORT_GRAPH] == size


def test_import_reports_range_header_and_duplicate_problems(fresh_store, tmp_path):
    csv_path = tmp_path / "more.csv"
    csv_path.write_text("Project ID,Title,Organisation,Country,Action Lines,SDGs,Year,Website\n"
                        "X-1,Old project,Org (synthetic),Chad,C3,4,1999,\n"
                        "X-2,Good project,Org (synthetic),Chad,C3,4,2024,ftp://example.org/x\n"
                        "X-2,Same id again,Org (synthetic),Chad,C3,4,2024,\n", encoding="utf-8")
    result = wsiskg("import", csv_path, "--mapping", STOCKTAKING_MAPPING, store=fresh_store)
    assert result.returncode == 1
    assert _reported(result.stderr) == {2: "Year", 3: "Website", 4: "Project ID"}
    assert "from 2003" in result.stderr and "as row 3" in result.stderr

    no_header = tmp_path / "no-title.csv"
    no_header.write_text("Project ID,Organisation\nX-1,Org\n", encoding="utf-8")
    result = wsiskg("import", no_header, "--mapping", STOCKTAKING_MAPPING, store=fresh_store)
    assert result.returncode == 1 and "lacks the column(s)" in result.stderr and "'Title'" in result.stderr
    result = wsiskg("import", tmp_path / "missing.csv", "--mapping", STOCKTAKING_MAPPING, store=fresh_store)
    assert result.returncode == 1 and "no such file" in result.stderr


# -- publishing --------------------------------------------------------------------------------------

def test_export_round_trips_with_the_same_triples_per_graph(fresh_store, tmp_path):
    wsiskg("import", STOCKTAKING_CSV, "--mapping", STOCKTAKING_MAPPING, "--skip-bad-rows", store=fresh_store, check=True)
    expected = graph_sizes(fresh_store, tmp_path)
    assert IMPORT_GRAPH in expected and len(expected) > 5
    for fmt, rdf_format in (("nquads", ox.RdfFormat.N_QUADS), ("trig", ox.RdfFormat.TRIG)):
        result = subprocess.run([sys.executable, "-m", "wsiskg.graph.cli", "--store", str(fresh_store), "export",
                                 "--format", fmt], capture_output=True, timeout=300, cwd="/")
        assert result.returncode == 0, result.stderr
        copy = ox.Store()
        copy.bulk_load(result.stdout, format=rdf_format)
        got = {}
        for quad in copy:
            got[quad.graph_name.value] = got.get(quad.graph_name.value, 0) + 1
        assert got == expected, fmt
    one = subprocess.run([sys.executable, "-m", "wsiskg.graph.cli", "--store", str(fresh_store), "export",
                          "--graph", IMPORT_GRAPH, "--format", "turtle"], capture_output=True, timeout=300, cwd="/")
    assert len(list(ox.parse(one.stdout, format=ox.RdfFormat.TURTLE))) == expected[IMPORT_GRAPH]


def test_describe_gives_licence_sources_version_and_counts(fresh_store, tmp_path):
    wsiskg("import", STOCKTAKING_CSV, "--mapping", STOCKTAKING_MAPPING, "--skip-bad-rows", store=fresh_store, check=True)
    result = wsiskg("describe", "--base-url", "http://127.0.0.1:8000", store=fresh_store, check=True)
    g = Graph().parse(data=result.stdout, format="turtle")
    dataset = URIRef(ID + "dataset")
    void = "http://rdfs.org/ns/void#"
    assert (dataset, RDF.type, URIRef(void + "Dataset")) in g
    assert (dataset, DCTERMS.license, URIRef("https://creativecommons.org/licenses/by/4.0/")) in g
    assert (dataset, URIRef(void + "sparqlEndpoint"), URIRef("http://127.0.0.1:8000/sparql")) in g
    citation = str(g.value(URIRef("http://metadata.un.org/sdg"), DCTERMS.bibliographicCitation))
    assert "Amit Joshi" in citation and "2019" in citation
    sources = set(g.objects(dataset, DCTERMS.source))
    assert URIRef("https://www.itu.int/net4/wsis/sdg/") in sources and len(sources) >= 5
    assert all(g.value(s, DCTERMS.bibliographicCitation) for s in sources)
    assert str(g.value(dataset, URIRef("http://www.w3.org/2002/07/owl#versionInfo")))
    sizes = graph_sizes(fresh_store, tmp_path)
    sizes.pop(ID + "graph/meta", None)
    described = {str(s): int(g.value(s, URIRef(void + "triples"))) for s in g.objects(dataset, URIRef(void + "subset"))}
    assert described == sizes
    assert int(g.value(dataset, URIRef(void + "triples"))) == sum(sizes.values())
    assert (URIRef(IMPORT_GRAPH), DCTERMS.source, URIRef("https://www.wsis.org/stocktaking")) in g
    assert (URIRef(IMPORT_GRAPH), DCTERMS.license, None) not in g  # imported data keeps its source's terms


def test_action_lines_and_gdc_paragraphs_have_official_pages(built_store, tmp_path):
    rows = query(built_store, f"""
        PREFIX wsis: <{WSIS}>
        SELECT ?class (COUNT(DISTINCT ?e) AS ?all) (COUNT(DISTINCT ?page) AS ?withPage) WHERE {{
          VALUES ?class {{ wsis:ActionLine wsis:GDCCommitment wsis:GDCObjective }}
          ?e a ?class . OPTIONAL {{ ?e <http://schema.org/url> ?url BIND(?e AS ?page) }}
        }} GROUP BY ?class""", tmp_path)
    assert {r["class"][len(WSIS):]: (int(r["all"]), int(r["withPage"])) for r in rows} == {
        "ActionLine": (19, 19), "GDCCommitment": (74 + 89, 74 + 89), "GDCObjective": (5, 5)}  # the whole Compact
    missing = wsiskg("query", "entities-without-external-link", "--format", "json", store=built_store, check=True)
    kinds = {(b["kind"]["value"], b["missing"]["value"]) for b in json.loads(missing.stdout)["results"]["bindings"]}
    assert ("Action Line", "official web page") not in kinds and ("GDC paragraph", "official web page") not in kinds
