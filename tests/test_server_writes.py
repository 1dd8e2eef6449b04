"""POST /validate, and the write routes /update and /data (off without a token; bearer token when on;
shapes checked before a graph is written)."""
from __future__ import annotations

import json
import time
import shutil

import pytest
import rdflib

from conftest import start_server
from httpclient import assert_clean_error, get, post, request

ID = "https://w3id.org/wsis-kg/id/"
TOKEN = "test-token-0123456789-abcdefghij"
PREFIXES = """@prefix wsis: <https://w3id.org/wsis-kg/ontology#> .
@prefix prov: <http://www.w3.org/ns/prov#> .
@prefix dcterms: <http://purl.org/dc/terms/> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
"""
DOC = ID + "doc/http-upload-test"


def entry(action_line: str) -> str:
    """A small entry: a document and one statement that speaks to `action_line`."""
    return PREFIXES + f"""
<{DOC}> a wsis:SourceDocument ;
    dcterms:title "A test document" ;
    dcterms:identifier "http-upload-test.txt" .

<{ID}statement/http-upload-test/1> a wsis:KeyIssue ;
    wsis:text "Affordable broadband for every school."@en ;
    prov:wasDerivedFrom <{DOC}> ;
    wsis:sourceLine "3"^^xsd:positiveInteger ;
    wsis:sourceSection "Key issues" ;
    wsis:addressesActionLine <{action_line}> ;
    wsis:hasTheme <{ID}theme/connectivity> .
"""


GOOD = entry(ID + "action-line/C2")
BAD = entry("http://metadata.un.org/sdg/4")  # a goal is not an Action Line: only the stored context shows it


@pytest.fixture(scope="module")
def writable(built_store, tmp_path_factory):
    root = tmp_path_factory.mktemp("writable") / "store"
    shutil.copytree(built_store, root, symlinks=True)
    token_file = root.parent / "token"
    token_file.write_text(TOKEN + "\n")
    srv = start_server(["--store", root, "serve", "--token-file", token_file])
    yield srv
    srv.stop()


def auth(token: str = TOKEN) -> dict:
    return {"Authorization": f"Bearer {token}"}


def ask(server, query: str) -> bool:
    reply = get(server.url + "/sparql", params={"query": query}, headers={"Accept": "application/json"})
    assert reply.status == 200, reply.text
    return reply.json()["boolean"]


# -- /validate (on the shared, read-only server) -------------------------------------------------

def test_validate_conforming_turtle(server):
    reply = post(server.url + "/validate", data=GOOD, headers={"Content-Type": "text/turtle"})
    assert reply.status == 200 and reply.mimetype == "application/json"
    report = reply.json()
    assert report["conforms"] is True, report
    assert report["violations"] == 0


def test_validate_uses_stored_context(server):
    reply = post(server.url + "/validate", data=BAD, headers={"Content-Type": "text/turtle"})
    assert reply.status == 200
    report = reply.json()
    assert report["conforms"] is False
    problem = [p for p in report["problems"] if p["severity"] == "Violation"][0]
    assert problem["path"] == "https://w3id.org/wsis-kg/ontology#addressesActionLine"
    assert problem["focus"] == ID + "statement/http-upload-test/1"
    assert problem["line"] == GOOD.splitlines().index(f"<{ID}statement/http-upload-test/1> a wsis:KeyIssue ;") + 1


def test_validate_other_syntaxes(server):
    g = rdflib.Graph().parse(data=BAD, format="turtle")
    for content_type, fmt in (("application/n-triples", "nt"), ("application/ld+json", "json-ld")):
        reply = post(server.url + "/validate", data=g.serialize(format=fmt), headers={"Content-Type": content_type})
        assert reply.status == 200, reply.text
        assert reply.json()["conforms"] is False


def test_validate_report_formats(server):
    turtle = post(server.url + "/validate", data=BAD, headers={"Content-Type": "text/turtle", "Accept": "text/turtle"})
    assert turtle.status == 200 and turtle.mimetype == "text/turtle"
    g = rdflib.Graph().parse(data=turtle.body, format="turtle")
    sh = rdflib.Namespace("http://www.w3.org/ns/shacl#")
    report = next(g.subjects(rdflib.RDF.type, sh.ValidationReport))
    assert g.value(report, sh.conforms).toPython() is False
    assert len(list(g.objects(report, sh.result))) >= 1
    html = post(server.url + "/validate", data=BAD, headers={"Content-Type": "text/turtle", "Accept": "text/html"})
    assert html.status == 200 and "Does not conform" in html.text


def test_validate_syntax_error_names_line_and_column(server):
    broken = PREFIXES + "\n<https://w3id.org/wsis-kg/id/x> a wsis:Theme ;\n    skos:prefLabel \"x\"@en ;;; ]\n"
    reply = post(server.url + "/validate", data=broken, headers={"Content-Type": "text/turtle",
                                                                 "Accept": "application/json"})
    assert_clean_error(reply, 400, "line")
    body = reply.json()
    assert body["line"] == 8
    assert "column" in body


def test_validate_refuses_unknown_body_types_and_empty_bodies(server):
    assert_clean_error(post(server.url + "/validate", data="<html/>", headers={"Content-Type": "text/html"}), 415, "text/turtle")
    assert_clean_error(post(server.url + "/validate", data="  ", headers={"Content-Type": "text/turtle"}), 400, "empty")


def test_validate_jsonld_remote_context_not_fetched(server):
    doc = json.dumps({"@context": "http://169.254.169.254/context.jsonld", "@id": ID + "x", "name": "x"})
    reply = post(server.url + "/validate", data=doc, headers={"Content-Type": "application/ld+json",
                                                              "Accept": "application/json"})
    assert_clean_error(reply, 400)


# -- writes off ------------------------------------------------------------------------------------

def test_writes_off_without_a_token(server):
    for method, path in (("POST", "/update"), ("GET", "/update"), ("PUT", "/data?graph=" + ID + "graph/x"),
                         ("POST", "/data?graph=" + ID + "graph/x"), ("GET", "/data?graph=" + ID + "graph/reference")):
        reply = request(method, server.url + path, data="INSERT DATA { <a:b> <a:c> <a:d> }",
                        headers={"Content-Type": "application/sparql-update", "Accept": "application/json", **auth()})
        assert_clean_error(reply, 403, "token")


# -- writes on -----------------------------------------------------------------------------------

def test_update_needs_the_token(writable):
    update = f"INSERT DATA {{ GRAPH <{ID}graph/test> {{ <{ID}test/a> <http://www.w3.org/2004/02/skos/core#prefLabel> \"a\" }} }}"
    for headers in ({}, auth("wrong-token-0123456789-xxxxxxx"), {"Authorization": f"Basic {TOKEN}"}):
        reply = post(writable.url + "/update", data=update,
                     headers={"Content-Type": "application/sparql-update", "Accept": "application/json", **headers})
        assert_clean_error(reply, 401, "Bearer")
        assert "bearer" in reply.headers.get("www-authenticate", "").lower()
    assert ask(writable, f"ASK {{ <{ID}test/a> ?p ?o }}") is False


def test_update_with_token_is_visible_to_queries(writable):
    update = f"INSERT DATA {{ GRAPH <{ID}graph/test> {{ <{ID}test/b> <http://www.w3.org/2004/02/skos/core#prefLabel> \"b\" }} }}"
    reply = post(writable.url + "/update", data=update, headers={"Content-Type": "application/sparql-update", **auth()})
    assert reply.status == 200, reply.text
    assert ask(writable, f"ASK {{ <{ID}test/b> ?p ?o }}") is True  # every worker reloads after the write
    assert ask(writable, f"ASK {{ <{ID}test/b> ?p ?o }}") is True
    form = post(writable.url + "/update", form={"update": f"DELETE DATA {{ GRAPH <{ID}graph/test> {{ <{ID}test/b> "
                                                          f"<http://www.w3.org/2004/02/skos/core#prefLabel> \"b\" }} }}"},
                headers=auth())
    assert form.status == 200
    assert ask(writable, f"ASK {{ <{ID}test/b> ?p ?o }}") is False


def test_update_errors(writable):
    headers = {"Content-Type": "application/sparql-update", "Accept": "application/json", **auth()}
    syntax = post(writable.url + "/update", data="INSERT DATA { <a:b> <a:c> }", headers=headers)
    assert_clean_error(syntax, 400, "line", "column")
    load = post(writable.url + "/update", data="LOAD <http://169.254.169.254/latest/meta-data>", headers=headers)
    assert_clean_error(load, 400, "allow-list")
    service = post(writable.url + "/update", data="INSERT { GRAPH <a:g> { ?s ?p ?o } } WHERE { SERVICE <http://10.0.0.1/q> { ?s ?p ?o } }",
                   headers=headers)
    assert_clean_error(service, 400, "allow-list")
    query = post(writable.url + "/update", data="SELECT * WHERE { ?s ?p ?o }", headers=headers)
    assert_clean_error(query, 400, "/sparql")
    assert_clean_error(post(writable.url + "/update", data="x", headers={**headers, "Content-Type": "text/plain"}), 415)
    assert_clean_error(get(writable.url + "/update", headers={"Accept": "application/json"}), 405)


def test_script_in_a_label_renders_inert(writable):
    label = "<script>alert('x')</script>"
    update = (f"INSERT DATA {{ GRAPH <{ID}graph/test> {{ <{ID}test/xss> "
              f"<http://www.w3.org/2004/02/skos/core#prefLabel> \"{label}\"@en }} }}")
    assert post(writable.url + "/update", data=update, headers={"Content-Type": "application/sparql-update", **auth()}).status == 200
    page = get(writable.url + "/id/test/xss", headers={"Accept": "text/html"})
    for _ in range(30):  # the warmer's slow work may turn a page away at once with 503 + Retry-After
        if page.status != 503:
            break
        time.sleep(float(page.headers.get("retry-after", "1")))
        page = get(writable.url + "/id/test/xss", headers={"Accept": "text/html"})
    assert page.status == 200
    assert "<script>alert" not in page.text
    assert "&lt;script&gt;alert(" in page.text
    results = get(writable.url + "/sparql", params={"query": f"SELECT ?l WHERE {{ <{ID}test/xss> ?p ?l }}"},
                  headers={"Accept": "text/html"})
    assert "<script>alert" not in results.text and "&lt;script&gt;" in results.text


def test_data_put_validates_first(writable):
    graph = ID + "graph/doc/http-upload-test"
    url = writable.url + "/data?graph=" + graph
    bad = request("PUT", url, data=BAD, headers={"Content-Type": "text/turtle", "Accept": "application/json", **auth()})
    assert bad.status == 422
    assert bad.json()["conforms"] is False
    assert ask(writable, f"ASK {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}") is False  # nothing changed
    good = request("PUT", url, data=GOOD, headers={"Content-Type": "text/turtle", **auth()})
    assert good.status == 201, good.text
    assert ask(writable, f"ASK {{ GRAPH <{graph}> {{ <{DOC}> a ?type }} }}") is True
    # read it back through the Graph Store Protocol
    back = get(url, headers={"Accept": "application/n-triples"})
    assert back.status == 200
    assert len(rdflib.Graph().parse(data=back.body, format="nt")) == len(rdflib.Graph().parse(data=GOOD, format="turtle"))
    # a second PUT replaces; a breaking POST changes nothing
    again = request("PUT", url, data=GOOD, headers={"Content-Type": "text/turtle", **auth()})
    assert again.status == 200
    extra = f"<{ID}statement/http-upload-test/1> <https://w3id.org/wsis-kg/ontology#addressesActionLine> <http://metadata.un.org/sdg/5> ."
    breaking = post(url, data=extra, headers={"Content-Type": "application/n-triples", "Accept": "application/json", **auth()})
    assert breaking.status == 422
    assert ask(writable, f"ASK {{ ?s ?p <http://metadata.un.org/sdg/5> . FILTER(?s = <{ID}statement/http-upload-test/1>) }}") is False
    # its page exists now
    page = get(writable.url + "/id/statement/http-upload-test/1", headers={"Accept": "text/html"})
    assert page.status == 200 and "Affordable broadband for every school." in page.text
    # delete
    assert request("DELETE", url, headers=auth()).status == 200
    assert ask(writable, f"ASK {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}") is False
    assert request("DELETE", url, headers={"Accept": "application/json", **auth()}).status == 404


def test_data_guards(writable):
    base = writable.url + "/data"
    assert_clean_error(request("PUT", base, data=GOOD, headers={"Content-Type": "text/turtle", **auth()}), 400, "graph")
    assert_clean_error(request("PUT", base + "?default", data=GOOD, headers={"Content-Type": "text/turtle", **auth()}),
                       400, "union")
    assert_clean_error(request("PUT", base + "?graph=" + ID + "graph/meta", data=GOOD,
                               headers={"Content-Type": "text/turtle", **auth()}), 403)
    assert_clean_error(request("PUT", base + "?graph=" + ID + "graph/x", data=GOOD,
                               headers={"Content-Type": "text/turtle"}), 401)
    assert_clean_error(request("PUT", base + "?graph=" + ID + "graph/x", data="{}",
                               headers={"Content-Type": "application/json", **auth()}), 415)


# -- writes in remote mode (wsiskg serve --endpoint ... --update-endpoint ...) --------------------

@pytest.fixture(scope="module")
def remote_writable(built_store, tmp_path_factory):
    """A private in-memory Oxigraph server loaded with the built store, behind `wsiskg serve`."""
    import subprocess
    import sys
    import time
    import urllib.request
    from pathlib import Path

    from conftest import free_port

    work = tmp_path_factory.mktemp("remote-writable")
    dump = work / "dump.nq"
    with open(dump, "wb") as out:
        subprocess.run([sys.executable, "-m", "wsiskg.graph.cli", "--store", str(built_store), "export",
                        "--format", "nquads"], stdout=out, check=True, cwd="/", timeout=300)
    binary = shutil.which("oxigraph") or str(Path(sys.executable).with_name("oxigraph"))
    port = free_port()
    oxigraph = subprocess.Popen([binary, "serve", "--bind", f"127.0.0.1:{port}", "--union-default-graph"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 60
        while True:
            try:
                urllib.request.urlopen(base + "/query?query=ASK%7B%7D", timeout=2).read()
                break
            except Exception:
                if time.time() > deadline:
                    raise
                time.sleep(0.2)
        load = urllib.request.Request(base + "/store", data=dump.read_bytes(), method="POST",
                                      headers={"Content-Type": "application/n-quads"})
        urllib.request.urlopen(load, timeout=120).read()
        token_file = work / "token"
        token_file.write_text(TOKEN)
        srv = start_server(["serve", "--endpoint", base + "/query", "--update-endpoint", base + "/update",
                            "--token-file", token_file])
        yield srv
        srv.stop()
    finally:
        oxigraph.terminate()
        oxigraph.wait(timeout=15)


def test_remote_mode_writes(remote_writable):
    graph = ID + "graph/doc/http-upload-test"
    url = remote_writable.url + "/data?graph=" + graph
    assert_clean_error(request("PUT", url, data=GOOD, headers={"Content-Type": "text/turtle"}), 401)
    bad = request("PUT", url, data=BAD, headers={"Content-Type": "text/turtle", "Accept": "application/json", **auth()})
    assert bad.status == 422 and bad.json()["conforms"] is False
    good = request("PUT", url, data=GOOD, headers={"Content-Type": "text/turtle", **auth()})
    assert good.status == 201, good.text
    assert ask(remote_writable, f"ASK {{ GRAPH <{graph}> {{ <{DOC}> a ?type }} }}") is True
    update = f"INSERT DATA {{ GRAPH <{ID}graph/test> {{ <{ID}test/r> <http://www.w3.org/2004/02/skos/core#prefLabel> \"r\" }} }}"
    assert post(remote_writable.url + "/update", data=update,
                headers={"Content-Type": "application/sparql-update", **auth()}).status == 200
    assert ask(remote_writable, f"ASK {{ <{ID}test/r> ?p ?o }}") is True
    assert request("DELETE", url, headers=auth()).status == 200
    assert ask(remote_writable, f"ASK {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}") is False


def test_remote_mode_writes_keep_the_summaries(remote_writable):
    """A write through a remote endpoint recomputes its summaries in the same request: the named query
    (which reads them) answers as the raw-graph query does, before and after."""
    from pathlib import Path
    reference = (Path(__file__).parent / "fixtures" / "reference_queries" / "stakeholder-voice.rq").read_text()

    def both():
        kept = get(remote_writable.url + "/queries/stakeholder-voice", headers={"Accept": "application/sparql-results+json",
                                                                             "Cache-Control": "no-cache"}).json()
        raw = post(remote_writable.url + "/sparql", data=reference, headers={
            "Content-Type": "application/sparql-query", "Accept": "application/sparql-results+json"}).json()
        def rows(result):
            return sorted(tuple(sorted((k, v["value"]) for k, v in b.items())) for b in result["results"]["bindings"])
        return rows(kept), rows(raw)

    before, raw = both()
    assert before == raw and before
    graph = ID + "graph/doc/remote-voice-test"
    voiced = GOOD.replace("wsis:hasTheme", f"wsis:voicedBy <{ID}stakeholder/youth> ;\n    wsis:hasTheme")
    assert request("PUT", remote_writable.url + "/data?graph=" + graph, data=voiced,
                   headers={"Content-Type": "text/turtle", **auth()}).status == 201
    after, raw = both()
    assert after == raw and after != before
    assert request("DELETE", remote_writable.url + "/data?graph=" + graph, headers=auth()).status == 200
    assert both() == (before, before)


def test_validate_html_form(server):
    form_page = get(server.url + "/validate", headers={"Accept": "text/html"})
    assert form_page.status == 200 and 'name="data"' in form_page.text
    reply = post(server.url + "/validate", form={"data": BAD, "syntax": "turtle"}, headers={"Accept": "text/html"})
    assert reply.status == 200 and reply.mimetype == "text/html"
    assert "Does not conform" in reply.text and "addressesActionLine" in reply.text


def test_an_update_is_checked_beyond_one_querys_memory_cap(built_store, tmp_path):
    """The check copies the whole store and diffs it: memory that grows with the store, not with the
    update. Under one query's cap every /update at 1M triples was refused (503); here a cap far below
    the seed store's copy shows the same."""
    root = tmp_path / "store"
    shutil.copytree(built_store, root, symlinks=True)
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN + "\n")
    srv = start_server(["--store", root, "serve", "--token-file", token_file, "--worker-memory", "64M", "--no-warm"])
    try:
        update = f"INSERT DATA {{ GRAPH <{ID}graph/test> {{ <{ID}test/capped> <http://www.w3.org/2004/02/skos/core#prefLabel> \"c\" }} }}"
        reply = post(srv.url + "/update", data=update, headers={"Content-Type": "application/sparql-update", **auth()})
        assert reply.status == 200, reply.text
        assert ask(srv, f"ASK {{ <{ID}test/capped> ?p ?o }}") is True
    finally:
        srv.stop()


def test_workers_take_a_write_by_applying_it_and_answer_as_the_store_does(built_store, tmp_path):
    """After a write, a worker holding the store in memory applies the committed change to its copy
    (at 1M triples a new copy took 86 s); what it then answers is what the store holds."""
    from wsiskg.graph.store import EmbeddedStore
    root = tmp_path / "store"
    shutil.copytree(built_store, root, symlinks=True)
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN + "\n")
    srv = start_server(["--store", root, "serve", "--token-file", token_file, "--memory", "always", "--no-warm",
                        "--workers", "1"])

    def rows(query: str) -> list[list[str]]:
        reply = get(srv.url + "/sparql", params={"query": query}, headers={"Accept": "application/json",
                                                                           "Cache-Control": "no-cache"})
        assert reply.status == 200, reply.text
        body = reply.json()
        return [[b[v]["value"] for v in body["head"]["vars"] if v in b] for b in body["results"]["bindings"]]

    wsis, voice = "https://w3id.org/wsis-kg/ontology#", "https://w3id.org/wsis-kg/id/graph/summaries/stakeholder-voice"
    counts = "SELECT ?g ?p (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g ?p ORDER BY ?g ?p"
    summary = f"SELECT ?s ?p ?o WHERE {{ GRAPH <{voice}> {{ ?s ?p ?o }} }} ORDER BY ?s ?p ?o"
    version = f"SELECT ?v WHERE {{ GRAPH ?g {{ ?s <{wsis}storeVersion> ?v }} }}"
    try:
        statement, graph, group = rows(f"SELECT ?s ?g ?v WHERE {{ GRAPH ?g {{ ?s <{wsis}voicedBy> ?v }} "
                                       f"FILTER(STRSTARTS(STR(?g), '{ID}graph/doc/')) }} ORDER BY ?s ?v LIMIT 1")[0]
        other = ID + ("stakeholder/youth" if not group.endswith("/youth") else "stakeholder/academia")
        for old, new in ((group, other), (other, group), (group, other)):
            update = (f"DELETE DATA {{ GRAPH <{graph}> {{ <{statement}> <{wsis}voicedBy> <{old}> }} }} ;\n"
                      f"INSERT DATA {{ GRAPH <{graph}> {{ <{statement}> <{wsis}voicedBy> <{new}> }} }}")
            reply = post(srv.url + "/update", data=update, headers={"Content-Type": "application/sparql-update", **auth()})
            assert reply.status == 200, reply.text
            assert sum(reply.json()["derived"].values()) > 0  # the summaries' rows changed with it
            served_counts, served_summary, served_version = rows(counts), rows(summary), rows(version)
        reloads = get(srv.url + "/health", headers={"Accept": "application/json"}).json()["pool"]["reloads"]
        assert reloads["caught up"] >= 3 and reloads["copied"] == 0, reloads
    finally:
        srv.stop()
    with EmbeddedStore.open(root, read_only=True) as store:
        def stored(query):
            return [[t.value for t in row if t is not None] for row in store.query(query).rows]
        assert served_counts == stored(counts)
        assert served_summary == stored(summary)
        assert served_version == stored(version) == [[str(store.version())]]
