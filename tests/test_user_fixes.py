"""Issue 13 (items 10, 13, 14, 15, 16) and 14 (items 5 and 13): what a user trips on, over HTTP (the
app in process: Flask's test client on `create_app`, real query workers on a real store) and on the
command line: linker links count against the "not linked" warning, unknown prefixes named, entity
pages and named-query pages read well, the Stocktaking import has a query, report CSVs cannot run
formulas, SERVICE failures are 502, IRIs survive error messages, the cache counts its real memory,
UTF-16 documents ingest, and `link --dry-run` works beside a writer."""
from __future__ import annotations

import csv
import http.server
import io
import json
import re
import subprocess
import sys
import threading
import urllib.parse
from pathlib import Path

import pyoxigraph as ox
import pytest

from conftest import REPO, wsiskg
from test_external import LINK_MAPPING, STOCKTAKING_CSV, STOCKTAKING_MAPPING, external_endpoint  # noqa: F401
from wsiskg.server.app import create_app
from wsiskg.server.backend import Backend
from wsiskg.server.config import ServerConfig

ID = "https://w3id.org/wsis-kg/id/"
WSIS = "https://w3id.org/wsis-kg/ontology#"
SKOS = "http://www.w3.org/2004/02/skos/core#"
LINK_PROPERTIES = ["addressesActionLine", "supportsSDG", "relatesToGDC", "hasTheme"]
FIXTURE_DOC = REPO / "tests" / "fixtures" / "reworded_session_440.txt"
PAYLOADS = ["=cmd|' /C calc'!A0", "+SUM(1)", "-2+3+cmd|x", "@SUM(1)", "\tTAB", "\rCR"]


class FailingEndpoint:
    """An HTTP server on 127.0.0.1 that answers every request with 500, as a broken SPARQL endpoint."""

    def __init__(self):
        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                self.send_response(500)
                self.end_headers()
                self.wfile.write(b"internal failure")

            do_POST = do_GET

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        # a path with several segments: error messages used to cut such IRIs into "<path>"
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/broken/endpoint/sparql"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def failing():
    endpoint = FailingEndpoint()
    yield endpoint
    endpoint.close()


def make_app(store_root: Path, **options):
    config = ServerConfig(store_root=store_root, workers=1, warm=False, cache_mb=0, timeout=20, **options)
    backend = Backend(config)
    return create_app(config, backend), backend


@pytest.fixture(scope="module")
def client(built_store, failing):
    app, backend = make_app(built_store, allow_service=[failing.url])
    yield app.test_client()
    backend.close()


def sparql_json(client, query: str) -> dict:
    reply = client.get("/sparql", query_string={"query": query}, headers={"Accept": "application/sparql-results+json"})
    assert reply.status_code == 200, reply.get_data(as_text=True)
    return reply.get_json()


def values(data: dict, var: str) -> list[str]:
    return [b[var]["value"] for b in data["results"]["bindings"] if var in b]


# -- 13.10: statements the linker linked are not "linked to nothing" ---------------------------------

def unlinked_in_store(store: Path, tmp_path: Path, doc_prefix: str | None = None) -> set[str]:
    """Statements of entry files (not imports) with none of the four links anywhere in the store."""
    where = f'FILTER(STRSTARTS(STR(?s), "{ID}statement/{doc_prefix}"))' if doc_prefix else ""
    path = tmp_path / "unlinked.rq"
    path.write_text(f"""PREFIX wsis: <{WSIS}>
SELECT ?s WHERE {{ ?s wsis:text ?t ; a ?type . VALUES ?type {{ wsis:KeyIssue wsis:Achievement wsis:Challenge
  wsis:Recommendation wsis:Commitment }} {where}
  OPTIONAL {{ ?s {"|".join("wsis:" + p for p in LINK_PROPERTIES)} ?linked }} FILTER(!BOUND(?linked)) }}""")
    out = wsiskg("query", path, "--format", "json", store=store, check=True).stdout
    return set(values(json.loads(out), "s"))


def test_ingested_statements_the_linker_linked_are_not_called_unlinked(fresh_store, tmp_path):
    result = wsiskg("ingest", FIXTURE_DOC, store=fresh_store, check=True)
    links = int(re.search(r"(\d+) links", result.stdout).group(1))
    assert links > 0
    entry = fresh_store / "entries" / "reworded-session-440.ttl"
    checked = wsiskg("validate", entry, "--format", "json", store=fresh_store)
    problems = json.loads(checked.stdout)["problems"]
    unlinked = {p["focus"] for p in problems if "not linked to anything" in p["message"]}
    assert unlinked == unlinked_in_store(fresh_store, tmp_path, "reworded-session-440/")
    # the build counts the same way: its warnings are the statements with no link in the store
    built = wsiskg("build", store=fresh_store, check=True)
    count = int(re.search(r"the (\d+) warning\(s\) of entry files", built.stdout).group(1))
    assert count == len(unlinked_in_store(fresh_store, tmp_path))


def test_an_unlinked_statement_is_still_warned_about(built_store, tmp_path):
    path = tmp_path / "bare.ttl"
    path.write_text(f"@prefix wsis: <{WSIS}> .\n@prefix prov: <http://www.w3.org/ns/prov#> .\n"
                    f"@prefix dcterms: <http://purl.org/dc/terms/> .\n"
                    f"<{ID}doc/bare> a wsis:SourceDocument ; dcterms:title \"Bare\" ; dcterms:identifier \"b.txt\" .\n"
                    f"<{ID}statement/bare/1> a wsis:KeyIssue ; wsis:text \"Nothing links this.\"@en ;\n"
                    f"    prov:wasDerivedFrom <{ID}doc/bare> ; wsis:sourceLine 3 .\n")
    checked = wsiskg("validate", path, "--format", "json", store=built_store)
    assert [p["focus"] for p in json.loads(checked.stdout)["problems"]] == [f"{ID}statement/bare/1"]


# -- 13.13: an unknown prefix over HTTP -------------------------------------------------------------

def test_an_unknown_prefix_is_a_short_400(client):
    reply = client.get("/sparql", query_string={"query": "SELECT * WHERE {\n  ?s dcterms:title ?t }"},
                       headers={"Accept": "application/json"})
    assert reply.status_code == 400
    body = reply.get_json()
    assert body["line"] == 2 and body["column"] == 6
    assert "unknown prefix dcterms:" in body["message"]
    assert "PREFIX dcterms: <http://purl.org/dc/terms/>" in body["message"]
    assert "\\u{" not in body["message"] and len(body["message"]) < 300


# -- 13.14: entity pages, favicon -------------------------------------------------------------------

def test_linked_from_reads_as_a_role(client):
    html = client.get("/id/action-line/C3", headers={"Accept": "text/html"}).get_data(as_text=True)
    incoming = html[html.index('id="incoming"'):]
    incoming = incoming[:incoming.index("</table>")]
    headers = [re.sub(r"<[^>]+>", "", h).strip() for h in re.findall(r'<th scope="row">(.*?)</th>', incoming, re.S)]
    assert " of of" not in incoming
    assert "lead facilitator" in headers and "co-facilitator" in headers, headers


def test_favicon(client):
    reply = client.get("/favicon.ico")
    assert reply.status_code == 200
    data = reply.get_data()
    assert data[:4] == b"\x00\x00\x01\x00" and reply.mimetype in ("image/vnd.microsoft.icon", "image/x-icon")


# -- 13.15: named-query pages -----------------------------------------------------------------------

def test_numbers_show_plainly(client):
    html = client.get("/queries/actionline-sdg-coverage", headers={"Accept": "text/html"}).get_data(as_text=True)
    assert "^^xsd:integer" not in html
    assert re.search(r'<span class="literal number" title="xsd:integer">\d+</span>', html)


@pytest.mark.parametrize("query, param, cls", [("session-summary", "session", "Session"),
                                                ("actionline-profile", "actionLine", "ActionLine"),
                                                ("theme-across-processes", "theme", "Theme")])
def test_iri_parameters_offer_their_valid_values(client, query, param, cls):
    html = client.get(f"/queries/{query}", headers={"Accept": "text/html"}).get_data(as_text=True)
    assert f'list="choices-{param}"' in html
    datalist = re.search(rf'<datalist id="choices-{param}">(.*?)</datalist>', html, re.S).group(1)
    offered = re.findall(r'<option value="([^"]+)">', datalist)
    expected = values(sparql_json(client, f"SELECT ?v WHERE {{ ?v a <{WSIS}{cls}> FILTER(isIRI(?v)) }}"), "v")
    assert sorted(offered) == sorted(expected) and len(offered) == len(set(offered)) > 1
    if cls == "ActionLine":  # in Action Line order, labelled with their notation
        labels = re.findall(r'<option value="[^"]+">([^<]*)</option>', datalist)
        assert labels[0].startswith("C1 ") and labels[1].startswith("C2 ") and labels[10].startswith("C7")


# -- 13.16: the Stocktaking projects query ----------------------------------------------------------

def test_stocktaking_projects_per_action_line(fresh_store, tmp_path):
    wsiskg("import", STOCKTAKING_CSV, "--mapping", STOCKTAKING_MAPPING, "--skip-bad-rows", store=fresh_store, check=True)
    out = wsiskg("query", "stocktaking-projects", "--format", "json", store=fresh_store, check=True).stdout
    rows = {b["actionLineNotation"]["value"]: {k: v["value"] for k, v in b.items()}
            for b in json.loads(out)["results"]["bindings"]}
    # expected from the sample itself: the rows the import keeps (the four bad ones are skipped)
    expected: dict[str, set[str]] = {}
    with open(STOCKTAKING_CSV, newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if row["Project ID"] in ("ST-0006", "ST-0007", "ST-0008", "ST-0009"):
                continue
            for line in row["Action Lines"].split(";"):
                expected.setdefault(line, set()).add(row["Project ID"])
    assert set(rows) == set(expected)
    path = tmp_path / "count.rq"
    for notation, ids in expected.items():
        row = rows[notation]
        assert row["actionLine"] == f"{ID}action-line/{notation}"
        assert int(row["projects"]) == len(ids) and set(row["projectIds"].split(", ")) == ids
        path.write_text(f"PREFIX wsis: <{WSIS}>\nSELECT (COUNT(DISTINCT ?s) AS ?n) WHERE "
                        f"{{ ?s wsis:addressesActionLine <{ID}action-line/{notation}> ; "
                        f"<http://www.w3.org/ns/prov#wasDerivedFrom> ?document }}")  # statements, not GA paragraphs
        count = json.loads(wsiskg("query", path, "--format", "json", store=fresh_store, check=True).stdout)
        assert int(row["statements"]) == int(values(count, "n")[0]), notation
    assert int(rows["C1"]["statements"]) > 0 and rows["C1"]["exampleStatement"].startswith(ID + "statement/")
    # its order is the Action Lines' order
    assert list(rows) == sorted(rows, key=lambda n: (int(re.match(r"C(\d+)", n).group(1)), n))


def test_stocktaking_projects_is_empty_without_an_import(built_store):
    out = wsiskg("query", "stocktaking-projects", "--format", "json", store=built_store, check=True).stdout
    assert json.loads(out)["results"]["bindings"] == []


# -- 14.5: CSV formula injection -----------------------------------------------------------------------

@pytest.fixture
def poisoned_store(fresh_store):
    """Three UN bodies' labels replaced by formula payloads (the duplication report lists bodies)."""
    bodies = ["itu", "unesco", "undp"]
    store = ox.Store(str((fresh_store / "current").resolve()))
    for body, payload in zip(bodies, PAYLOADS):
        iri = ox.NamedNode(f"{ID}org/{body}")
        store.update(f"DELETE {{ GRAPH ?g {{ {iri} <{SKOS}prefLabel> ?l }} }} "
                     f"INSERT {{ GRAPH ?g {{ {iri} <{SKOS}prefLabel> {ox.Literal(payload, language='en')} }} }} "
                     f"WHERE {{ GRAPH ?g {{ {iri} <{SKOS}prefLabel> ?l }} }}")
    # written behind the writers' backs, so do what a writer does: the summaries that carry the labels
    from wsiskg.graph import summaries
    store.update(summaries.rebuild_update())
    store.flush()
    del store
    return fresh_store


def assert_neutral(text: str, where: str) -> int:
    """Every cell that starts like a formula is prefixed with ', as OWASP advises; returns how many."""
    neutralised = 0
    for row in csv.reader(io.StringIO(text)):
        for cell in row:
            assert not cell.startswith(("=", "+", "@", "\t", "\r")), (where, cell)
            assert not (cell.startswith("-") and not re.fullmatch(r"-[0-9.]+", cell)), (where, cell)
            neutralised += cell.startswith("'") and cell[1:] in PAYLOADS
    return neutralised


def test_report_csvs_cannot_run_formulas(poisoned_store, tmp_path):
    out = tmp_path / "report"
    wsiskg("report", "duplication", "--out", out, store=poisoned_store, check=True)
    body_table = (out / "body-actionline.csv").read_text(encoding="utf-8")
    assert assert_neutral(body_table, "body-actionline.csv") >= 3
    for path in out.glob("*.csv"):
        assert_neutral(path.read_text(encoding="utf-8"), path.name)
    # the data: links inside the HTML carry the same neutralised CSV
    html = (out / "duplication.html").read_text(encoding="utf-8")
    links = re.findall(r'href="data:text/csv;charset=utf-8,([^"]+)"', html)
    assert len(links) == len(list(out.glob("*.csv")))
    for link in links:
        assert_neutral(urllib.parse.unquote(link.replace("&amp;", "&")), "data: link")
    assert "'" + PAYLOADS[0] in urllib.parse.unquote(" ".join(links)).replace("&#x27;", "'").replace("&#39;", "'")

    # the server's CSV route too; SPARQL CSV results stay faithful to the W3C format (not a report)
    app, backend = make_app(poisoned_store)
    try:
        client = app.test_client()
        reply = client.get("/reports/duplication/body-actionline.csv")
        assert reply.status_code == 200
        assert assert_neutral(reply.get_data(as_text=True), "route") >= 3
        raw = client.get("/sparql", query_string={"query": f"SELECT ?l WHERE {{ <{ID}org/itu> <{SKOS}prefLabel> ?l }}"},
                         headers={"Accept": "text/csv"}).get_data(as_text=True)
        assert raw.splitlines()[1] == '"' + PAYLOADS[0].replace('"', '""') + '"' or raw.splitlines()[1] == PAYLOADS[0]
    finally:
        backend.close()


def test_plain_numbers_are_not_neutralised():
    from wsiskg.graph.results import neutralise_formula
    assert [neutralise_formula(v) for v in ["-2", "+3.5", "-1e3", "12", "text"]] == ["-2", "+3.5", "-1e3", "12", "text"]
    assert [neutralise_formula(v) for v in PAYLOADS] == ["'" + v for v in PAYLOADS]


# -- 14.13: smaller defects ------------------------------------------------------------------------------

def test_a_huge_named_query_limit_is_400(client):
    reply = client.get("/queries/search", query_string={"words": "youth", "limit": "9" * 30},
                       headers={"Accept": "application/json"})
    assert reply.status_code == 400
    message = reply.get_json()["message"]
    assert "parameter limit counts rows" in message and "needs fixing" not in message


def test_a_failing_service_endpoint_is_502_and_its_iri_is_whole(client, failing):
    reply = client.get("/sparql", query_string={"query": f"SELECT * WHERE {{ SERVICE <{failing.url}> {{ ?s ?p ?o }} }}"},
                       headers={"Accept": "application/json"})
    assert reply.status_code == 502, reply.get_data(as_text=True)
    message = reply.get_json()["message"]
    assert "SERVICE" in message and failing.url in message and "<path>" not in message


def test_error_messages_keep_iris_and_hide_paths():
    from wsiskg.server.errors import scrub
    iri = "https://w3id.org/wsis-kg/id/graph/doc/wsis-forum-2025-session-440"
    assert scrub(f"no graph <{iri}>") == f"no graph <{iri}>"
    assert scrub("cannot open /home/user/.local/share/wsiskg/store/db-1: IO error") == "cannot open <path>: IO error"
    assert scrub("at '/srv/data/store' and http://10.0.0.1:8890/a/b/sparql") == \
        "at '<path>' and http://10.0.0.1:8890/a/b/sparql"


MEASURE = r"""
import gc, json, sys
import pyoxigraph as ox
from wsiskg.graph.store import read_result
from wsiskg.server.cache import result_size

def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096

st = ox.Store()
data = "".join(f'<https://w3id.org/wsis-kg/id/statement/doc-{i % 50}/{i}> <https://w3id.org/wsis-kg/ontology#text> '
               f'"Statement {i} on digital cooperation and inclusion"@en <http://g> .\n' for i in range(60000))
st.load(data.encode(), format=ox.RdfFormat.N_QUADS)
del data
query = sys.argv[1]
read_result(st.query(query, use_default_graph_as_union=True))
gc.collect()
before = rss()
kept = [read_result(st.query(query, use_default_graph_as_union=True)) for _ in range(4)]
gc.collect()
print(json.dumps({"real": rss() - before, "counted": sum(result_size(r) for r in kept)}))
"""


@pytest.mark.parametrize("query", ["SELECT ?n WHERE { ?s ?p ?o BIND(STRLEN(?o) AS ?n) }",
                                   "SELECT ?s ?p ?o WHERE { ?s ?p ?o }",
                                   "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }"])
def test_the_result_cache_counts_its_real_memory(query):
    """Four answers kept, the process's resident memory measured: what the cache counts is within 25%."""
    out = subprocess.run([sys.executable, "-c", MEASURE, query], capture_output=True, text=True, timeout=120, check=True)
    measured = json.loads(out.stdout)
    ratio = measured["real"] / measured["counted"]
    assert 0.75 <= ratio <= 1.25, measured


def test_a_utf16_document_ingests_like_its_utf8_twin(fresh_store, tmp_path):
    text = FIXTURE_DOC.read_text(encoding="utf-8")
    for encoding, name in (("utf-16", "bom16.txt"), ("utf-16-le", "le16.txt")):
        (tmp_path / name).write_bytes(text.encode(encoding))
    twin = wsiskg("ingest", FIXTURE_DOC, "--slug", "utf8-twin", store=fresh_store, check=True).stdout
    for name in ("bom16.txt", "le16.txt"):
        result = wsiskg("ingest", tmp_path / name, store=fresh_store)
        assert result.returncode == 0, result.stderr
        assert "binary" not in result.stderr
        assert re.search(r": (\d+) statements \(([^)]*)\)", result.stdout).groups() == \
            re.search(r": (\d+) statements \(([^)]*)\)", twin).groups()


def test_link_dry_run_works_while_a_writer_holds_the_store(fresh_store, external_endpoint):  # noqa: F811
    writer = ox.Store(str((fresh_store / "current").resolve()))  # the write lock, as a running server holds it
    try:
        result = wsiskg("link", "--endpoint", external_endpoint, "--mapping", LINK_MAPPING, "--allow-private",
                        "--dry-run", store=fresh_store)
        assert result.returncode == 0, result.stderr
        assert "dry run: nothing written" in result.stdout and "skos:exactMatch" in result.stdout
        refused = wsiskg("link", "--endpoint", external_endpoint, "--mapping", LINK_MAPPING, "--allow-private",
                         store=fresh_store)
        assert refused.returncode == 1 and "in use by another process" in refused.stderr
    finally:
        del writer
