"""Issue 8, items 4-6 on real servers: writes need the token and pass the shapes before they commit,
hostile labels render inert, named-query parameters cannot inject SPARQL, paths cannot leave the
queries folder, and SERVICE reaches only allow-listed endpoints (and never hangs the server).

One "secure" server (module scope) runs on a private store copy holding an ingested document whose
title and first statement carry `<script>` markup, with a token file, a copy of the shipped queries
in a folder that has a secret file beside it, and a 3-second deadline.
"""
from __future__ import annotations

import inspect
import shutil
import socket
import threading
import time
import urllib.parse

import pytest

from conftest import REPO, start_server, wsiskg
from httpclient import assert_clean_error, get, post, request
from timing import allowed

ID = "https://w3id.org/wsis-kg/id/"
WSIS = "https://w3id.org/wsis-kg/ontology#"
SKOS = "http://www.w3.org/2004/02/skos/core#"
XSD = "http://www.w3.org/2001/XMLSchema#"
TOKEN = "security-token-0123456789-abcdefgh"
SCRIPT = "<script>alert('wsiskg-xss')</script>"
SECRET_MARKER = "wsiskg-secret-marker"
SLUG = "xss-session"
STATEMENT = f"{ID}statement/{SLUG}/1"
COUNT = "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }"
VERSION = f"SELECT ?v WHERE {{ GRAPH <{ID}graph/meta> {{ ?s <{WSIS}storeVersion> ?v }} }}"


@pytest.fixture(scope="module")
def secure(built_store, tmp_path_factory):
    work = tmp_path_factory.mktemp("secure")
    root = work / "store"
    shutil.copytree(built_store, root, symlinks=True)
    # a document whose title (an entity label) and first statement hold markup, ingested as a curator would
    source = (REPO / "tests" / "fixtures" / "reworded_session_440.txt").read_text(encoding="utf-8")
    lines = source.splitlines()
    lines = [f"Session Title: Dialogue {SCRIPT} on Action Lines" if l.startswith("Session Title:") else l
             for l in lines]
    first = next(i for i, l in enumerate(lines) if l.startswith("- "))
    lines[first] = f"- {SCRIPT} " + lines[first][2:]
    document = work / f"{SLUG}.txt"
    document.write_text("\n".join(lines) + "\n", encoding="utf-8")
    wsiskg("ingest", document, store=root, check=True)
    # the served queries folder, with a secret beside it that no URL may reach
    queries = work / "served" / "queries"
    queries.mkdir(parents=True)
    for rq in (REPO / "queries").glob("*.rq"):
        shutil.copy(rq, queries / rq.name)
    (work / "served" / "secret.rq").write_text(f"#+ summary: {SECRET_MARKER}\nASK {{}}\n")
    (queries / "nested").mkdir()
    (queries / "nested" / "hidden.rq").write_text(f"#+ summary: {SECRET_MARKER}\nASK {{}}\n")
    token_file = work / "token"
    token_file.write_text(TOKEN + "\n")
    # 10 s: an update is checked on a scratch copy of the whole store (165k quads since the GA's texts and UNBIS)
    srv = start_server(["--store", root, "serve", "--token-file", token_file, "--queries-dir", queries,
                        "--timeout", "10"])
    yield srv
    srv.stop()


def auth(token: str = TOKEN) -> dict:
    return {"Authorization": f"Bearer {token}"}


def select(server, query: str) -> list[dict]:
    reply = get(server.url + "/sparql", params={"query": query}, headers={"Accept": "application/json"})
    assert reply.status == 200, reply.text
    return [{k: v["value"] for k, v in b.items()} for b in reply.json()["results"]["bindings"]]


def state(server) -> tuple[int, int]:
    """(quads in the store, store version): what a write changes."""
    return int(select(server, COUNT)[0]["n"]), int(select(server, VERSION)[0]["v"])


def update(server, text: str, token: str | None = TOKEN, accept: str = "application/json"):
    headers = {"Content-Type": "application/sparql-update", "Accept": accept}
    if token is not None:
        headers.update(auth(token))
    return post(server.url + "/update", data=text, headers=headers)


# -- item 4: writes ---------------------------------------------------------------------------------

def test_write_routes_are_off_without_a_token(server):
    before = select(server, COUNT)
    attempts = [("POST", "/update", "application/sparql-update", f"DROP GRAPH <{ID}graph/reference>"),
                ("POST", "/update", "application/x-www-form-urlencoded",
                 urllib.parse.urlencode({"update": "CLEAR ALL"})),
                ("PUT", f"/data?graph={ID}graph/reference", "text/turtle", "<a:b> <a:c> <a:d> ."),
                ("POST", f"/data?graph={ID}graph/x", "text/turtle", "<a:b> <a:c> <a:d> ."),
                ("DELETE", f"/data?graph={ID}graph/reference", None, None)]
    for method, path, content_type, body in attempts:
        for headers in ({}, auth()):  # a token the server does not have changes nothing either
            if content_type:
                headers = {**headers, "Content-Type": content_type}
            reply = request(method, server.url + path, data=body, headers={**headers, "Accept": "application/json"})
            assert_clean_error(reply, 403, "token")
    assert select(server, COUNT) == before


@pytest.mark.parametrize("authorization", [
    None, "", "Bearer", "Bearer ", f"Basic {TOKEN}", f"Bearer {TOKEN[:-1]}", f"Bearer {TOKEN}x",
    f"Bearer {TOKEN.upper()}", "Bearer wrong-token-0123456789-abcdefgh", f"Token {TOKEN}",
    f"Bearer {TOKEN[:8]}",
])
def test_writes_need_the_exact_bearer_token(secure, authorization):
    before = state(secure)
    headers = {"Content-Type": "application/sparql-update", "Accept": "application/json"}
    if authorization is not None:
        headers["Authorization"] = authorization
    text = f"INSERT DATA {{ GRAPH <{ID}graph/test> {{ <{ID}test/intruder> <{SKOS}prefLabel> \"x\" }} }}"
    reply = post(secure.url + "/update", data=text, headers=headers)
    assert reply.status in (401, 403), reply.text
    assert_clean_error(reply, reply.status, "Bearer")
    put = request("PUT", f"{secure.url}/data?graph={ID}graph/test",
                  data=f"<{ID}test/intruder> <{SKOS}prefLabel> \"x\" .",
                  headers={"Content-Type": "application/n-triples", "Accept": "application/json",
                           **({"Authorization": authorization} if authorization is not None else {})})
    assert put.status in (401, 403), put.text
    assert state(secure) == before


def test_the_token_is_compared_in_constant_time():
    from wsiskg.server import writes
    source = inspect.getsource(writes._authorised)
    assert "hmac.compare_digest(" in source
    code = inspect.getsource(writes)
    for unsafe in ("== expected", "expected ==", "!= expected", "== services().config.token",
                   "token ==", "== token"):
        assert unsafe not in code, f"a plain comparison of the token: {unsafe!r}"


def test_a_conforming_update_commits_and_bumps_the_version(secure):
    count, version = state(secure)
    text = (f"PREFIX wsis: <{WSIS}>\nINSERT DATA {{ GRAPH <{ID}graph/doc/{SLUG}> {{ "
            f"<{STATEMENT}> wsis:hasTheme <{ID}theme/connectivity> }} }}")
    reply = update(secure, text)
    assert reply.status == 200, reply.text
    assert reply.json()["added"] in (0, 1)  # the update's own quads; what follows from them is counted apart
    derived = reply.json()["derived"]
    assert state(secure) == (count + reply.json()["added"] + derived["added"] - derived["removed"], version + 1)


@pytest.mark.parametrize("case", ["source-line-zero", "undefined-action-line", "removed-target", "wrong-class"])
def test_an_update_that_breaks_a_shape_changes_nothing_and_returns_the_report(secure, case):
    updates = {
        # a statement's line numbers are 1-based: replace its sourceLine with 0
        "source-line-zero": (f"PREFIX wsis: <{WSIS}>\nPREFIX xsd: <{XSD}>\n"
                             f"DELETE {{ GRAPH ?g {{ <{STATEMENT}> wsis:sourceLine ?l }} }}\n"
                             f"INSERT {{ GRAPH ?g {{ <{STATEMENT}> wsis:sourceLine \"0\"^^xsd:positiveInteger }} }}\n"
                             f"WHERE {{ GRAPH ?g {{ <{STATEMENT}> wsis:sourceLine ?l }} }}",
                             WSIS + "sourceLine", "0"),
        # a link to an IRI nothing defines
        "undefined-action-line": (f"PREFIX wsis: <{WSIS}>\nINSERT DATA {{ GRAPH <{ID}graph/doc/{SLUG}> {{\n"
                                  f"  <{STATEMENT}> wsis:addressesActionLine <{ID}action-line/C99> }} }}",
                                  WSIS + "addressesActionLine", ID + "action-line/C99"),
        # removing what others link to leaves them linking to an undefined IRI
        # (the reference graph is protected outright now: a document's description stands in)
        "removed-target": (f"DELETE WHERE {{ GRAPH <{ID}graph/doc/{SLUG}> {{ <{ID}doc/{SLUG}> ?p ?o }} }}",
                           "http://www.w3.org/ns/prov#wasDerivedFrom", ID + f"doc/{SLUG}"),
        # a link to the wrong class: an SDG goal is not an Action Line
        "wrong-class": (f"PREFIX wsis: <{WSIS}>\nINSERT DATA {{ GRAPH <{ID}graph/doc/{SLUG}> {{\n"
                        f"  <{STATEMENT}> wsis:addressesActionLine <http://metadata.un.org/sdg/4> }} }}",
                        WSIS + "addressesActionLine", "http://metadata.un.org/sdg/4"),
    }
    text, path, value = updates[case]
    before = state(secure)
    reply = update(secure, text)
    assert reply.status == 422, reply.text
    report = reply.json()
    assert report["conforms"] is False and report["violations"] >= 1
    assert any(p["path"] == path and p["value"] == value and p["severity"] == "Violation"
               for p in report["problems"]), report["problems"][:3]
    assert state(secure) == before, "a refused update changed the store"
    # the report in the other formats too
    html = update(secure, text, accept="text/html")
    assert html.status == 422 and "Does not conform" in html.text
    assert state(secure) == before


def test_an_update_cannot_rewrite_the_store_bookkeeping(secure):
    before = state(secure)
    for text in (f"DROP GRAPH <{ID}graph/meta>",
                 f"DELETE WHERE {{ GRAPH <{ID}graph/meta> {{ ?s ?p ?o }} }}",
                 f"INSERT DATA {{ GRAPH <{ID}graph/meta> {{ <{ID}store> <{WSIS}storeVersion> 0 }} }}",
                 "CLEAR ALL", "DROP ALL"):
        reply = update(secure, text)
        assert reply.status in (403, 422), (text, reply.text)
    assert state(secure) == before


def test_a_write_that_cannot_be_applied_is_a_clear_400(secure):
    before = state(secure)
    for text in (f"CREATE GRAPH <{ID}graph/reference>", "INSERT DATA { <a:b> <a:c> }", "DELETE DATA { _:b <a:c> <a:d> }"):
        reply = update(secure, text)
        assert_clean_error(reply, 400)
    assert state(secure) == before


# -- item 5: hostile input that reaches HTML pages -----------------------------------------------------

def assert_inert(reply, what: str) -> None:
    assert reply.status == 200, (what, reply.status, reply.text[:300])
    assert reply.mimetype == "text/html", what
    text = reply.text
    assert "<script>alert(" not in text, f"raw <script> label on {what}"
    assert "wsiskg-xss" in text, f"the hostile label is not on {what} at all: the check proves nothing"
    for at in range(len(text)):
        at = text.find("wsiskg-xss", at)
        if at < 0:
            break
        assert "<script>" not in text[max(0, at - 20):at], f"unescaped markup before the label on {what}"
        at += 1


def test_a_script_label_renders_inert_on_every_html_page(secure):
    html = {"Accept": "text/html"}
    doc = f"{ID}doc/{SLUG}"
    pages = {
        "entity page (document)": get(f"{secure.url}/id/doc/{SLUG}", headers=html),
        "entity page (statement)": get(f"{secure.url}/id/statement/{SLUG}/1", headers=html),
        "entity page (session)": get(f"{secure.url}/id/session/{SLUG}", headers=html),
        "entity page (a theme linking back)": None,
        "query page results": get(f"{secure.url}/sparql", headers=html, params={
            "query": "SELECT ?thing ?label WHERE { ?thing ?p ?label FILTER(CONTAINS(STR(?label), 'wsiskg-xss')) }"}),
        "named query results": get(f"{secure.url}/queries/search", headers=html, params={"words": "wsiskg xss"}),
        "named query results (statement provenance)": get(f"{secure.url}/queries/statement-provenance", headers=html,
                                                          params={"statement": STATEMENT}),
        "duplication report": get(f"{secure.url}/reports/duplication", headers=html),
        "resource page": get(f"{secure.url}/resource", headers=html, params={"iri": doc}),
    }
    pages.pop("entity page (a theme linking back)")
    for what, reply in pages.items():
        assert_inert(reply, what)
    # the list of named queries and the query page carry no data labels, but must be clean as well
    for path in ("/queries", "/", "/validate"):
        reply = get(secure.url + path, headers=html)
        assert reply.status == 200 and "<script>alert(" not in reply.text, path
    # markup echoed back from the request itself (a reflected label) is escaped too
    reflected = get(f"{secure.url}/queries/{urllib.parse.quote(SCRIPT, safe='')}", headers=html)
    assert reflected.status == 404 and "<script>alert(" not in reflected.text
    named = get(f"{secure.url}/queries/search", headers=html, params={"words": SCRIPT, "bogus": SCRIPT})
    assert named.status == 400 and "<script>alert(" not in named.text and "wsiskg-xss" in named.text
    report = post(f"{secure.url}/validate", headers={"Content-Type": "text/turtle", **html},
                  data=f"<{ID}statement/x/1> a <{WSIS}KeyIssue> ; <{WSIS}text> \"{SCRIPT}\" ; "
                       f"<{WSIS}sourceLine> \"{SCRIPT}\" .")
    assert report.status == 200 and "<script>alert(" not in report.text and "wsiskg-xss" in report.text
    # every HTML page says so to the browser as well
    assert "script-src 'self'" in pages["entity page (document)"].headers.get("content-security-policy", "")


INJECTIONS = {
    "string": ['") } ; DROP ALL ; #', "') } ; DROP ALL ; #", '""" } ; DROP ALL ; #', "\\\" } DROP ALL #",
               '" . ?s ?p ?o } ; CLEAR ALL ; SELECT * { "', "x\n} ; DROP ALL ; #", "${x}} ; DROP ALL"],
    "iri": ["http://example.org/x> ; DROP ALL", "> ; DROP ALL", f"{ID}theme/ai> }} ; DROP ALL ; #",
            "http://a.example/ } SERVICE <http://127.0.0.1:1/> { ?s ?p ?o", "id:theme/ai> } UNION { ?s ?p ?o",
            "<http://example.org/x>", "http://example.org/\"x", "http://example.org/x y", "javascript:alert(1)>"],
    "number": ["1 } ; DROP ALL ; #", "1) } DROP ALL #", "0x10", "1e3", "--1", "NaN", "1_000", "\u0661\u0662"],
}


def test_named_query_parameters_cannot_inject_sparql(secure):
    before = state(secure)
    listed = get(secure.url + "/queries", headers={"Accept": "application/json"}).json()["queries"]
    checked = 0
    for q in listed:
        for p in q["parameters"]:
            kind = {"iri": "iri", "integer": "number", "decimal": "number"}.get(p["type"], "string")
            for value in INJECTIONS[kind]:
                values = {p["name"]: value}
                for other in q["parameters"]:  # required companions get a harmless value
                    if other["name"] != p["name"] and other["required"]:
                        values[other["name"]] = {"iri": f"{ID}theme/ai", "integer": "1"}.get(other["type"], "x")
                reply = get(f"{secure.url}/queries/{q['name']}", params={**values, "format": "json"})
                if kind != "string":
                    # not an IRI / not a number: a typed parameter error that names the parameter
                    assert_clean_error(reply, 400, p["name"])
                else:
                    # a string is one literal, whatever it holds: the query runs as written
                    assert reply.status == 200, (q["name"], p["name"], value, reply.status, reply.text[:300])
                    assert reply.json()["head"]["vars"], q["name"]
                checked += 1
    assert checked >= 60, f"only {checked} parameter values exercised"
    assert state(secure) == before


def test_an_iri_parameter_cannot_reach_a_service(secure):
    """A value bound as one IRI term can never become a SERVICE clause or a second pattern."""
    reply = get(f"{secure.url}/queries/actionline-profile",
                params={"actionLine": f"{ID}action-line/C3> }} SERVICE <http://169.254.169.254/> {{ ?a ?b ?c",
                        "format": "json"})
    assert_clean_error(reply, 400, "actionLine")


@pytest.mark.parametrize("path", [
    "/queries/..%2fsecret", "/queries/..%2Fsecret", "/queries/%2e%2e%2fsecret", "/queries/..%252fsecret",
    "/queries/nested%2fhidden", "/queries/nested/hidden", "/queries/..%5csecret", "/queries/....%2f%2fsecret",
    "/queries/..%2f..%2f..%2f..%2f..%2f..%2fetc%2fpasswd", "/queries/%2fetc%2fpasswd", "/queries/secret",
    "/queries/search.rq", "/queries/search%00", "/queries/search%2500.rq", "/queries/..", "/queries/.",
    "/queries/%2e%2e", "/queries/~", "/queries/search%3f", "/id/..%2f..%2f..%2fetc%2fpasswd",
    "/id/%2e%2e/%2e%2e/etc/passwd", "/static/..%2f..%2fqueries%2fsearch.rq", "/static/..%2fapp.py",
    "/reports/duplication/..%2f..%2fetc%2fpasswd.csv",
])
def test_paths_cannot_escape_the_queries_folder(secure, path):
    for accept in ("application/json", "text/html"):
        reply = get(secure.url + path, headers={"Accept": accept})
        assert reply.status in (400, 404), (path, reply.status, reply.text[:200])
        assert SECRET_MARKER not in reply.text and "root:x:0:0" not in reply.text
        assert "import " not in reply.text and "Traceback" not in reply.text
    # the folder's own queries are served
    assert get(secure.url + "/queries/search", params={"format": "json"}).status == 200


# -- item 6: outbound requests -----------------------------------------------------------------------

PRIVATE_ENDPOINTS = ["http://127.0.0.1:7878/query", "http://localhost/sparql", "http://169.254.169.254/latest/meta-data",
                     "http://10.0.0.8/sparql", "http://192.168.1.1/", "http://172.16.5.4/q", "http://[::1]:7878/query",
                     "http://[::ffff:127.0.0.1]/", "http://[fe80::1]/", "http://0.0.0.0:7878/", "http://100.64.0.1/",
                     "http://2130706433/", "http://0x7f.1/", f"http://{socket.gethostname()}/sparql"]


@pytest.mark.parametrize("endpoint", PRIVATE_ENDPOINTS)
def test_service_to_non_public_addresses_is_refused(server, endpoint):
    for query in (f"SELECT * WHERE {{ SERVICE <{endpoint}> {{ ?s ?p ?o }} }}",
                  f"SELECT * WHERE {{ SERVICE SILENT <{endpoint}> {{ ?s ?p ?o }} }}",
                  f"PREFIX e: <{endpoint}>\nASK {{ SERVICE e: {{ ?s ?p ?o }} }}"):
        reply = get(server.url + "/sparql", params={"query": query}, headers={"Accept": "application/json"})
        assert_clean_error(reply, 400, "allow")


def test_allow_listed_host_names_must_resolve_to_public_addresses():
    """A name on the allow-list that resolves to a loopback address is refused by the one outbound
    guard (graph/netguard.py), whose message the server passes on; a listed address is allowed."""
    from wsiskg.server.guards import Refused, ServiceGuard
    host = socket.gethostname()
    if not any(info[4][0].startswith("127.") for info in socket.getaddrinfo(host, 80)):
        pytest.skip("this machine's host name does not resolve to a loopback address")
    guard = ServiceGuard([f"http://{host}:7878/query", "http://127.0.0.1:7878/query"])
    with pytest.raises(Refused, match="loopback"):
        guard.check([f"http://{host}:7878/query"])
    guard.check(["http://127.0.0.1:7878/query"])
    with pytest.raises(Refused):
        guard.check(["http://[zz]/query"])  # an unreadable URL is refused, not a crash
    with pytest.raises(Refused):
        guard.check(["http://a:99999/"])


class SilentEndpoint:
    """A TCP server that accepts connections and never answers."""

    def __init__(self):
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(16)
        self.port = self.listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}/sparql"
        self.connections: list[socket.socket] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self):
        self.listener.settimeout(0.2)
        while not self.stop.is_set():
            try:
                conn, _ = self.listener.accept()
            except OSError:
                continue
            self.connections.append(conn)

    def closed_by_peer(self, conn: socket.socket) -> bool:
        conn.settimeout(0.1)
        try:
            while True:
                data = conn.recv(65536)
                if not data:
                    return True
        except socket.timeout:
            return False
        except OSError:
            return True

    def close(self):
        self.stop.set()
        self.thread.join(timeout=5)
        for conn in self.connections:
            conn.close()
        self.listener.close()


@pytest.fixture(scope="module")
def silent():
    endpoint = SilentEndpoint()
    yield endpoint
    endpoint.close()


@pytest.fixture(scope="module")
def federating(built_store, silent):
    srv = start_server(["--store", built_store, "serve", "--timeout", "3", "--allow-service", silent.url])
    yield srv
    srv.stop()


def test_an_allow_listed_endpoint_that_never_answers_does_not_hang_the_server(federating, silent):
    outcome = {}

    def federated():
        started = time.monotonic()
        outcome["reply"] = get(federating.url + "/sparql", headers={"Accept": "application/json"}, timeout=60,
                               params={"query": f"SELECT * WHERE {{ SERVICE <{silent.url}> {{ ?s ?p ?o }} }}"})
        outcome["seconds"] = time.monotonic() - started

    thread = threading.Thread(target=federated)
    thread.start()
    deadline = time.monotonic() + 10
    while not silent.connections and time.monotonic() < deadline:
        time.sleep(0.05)
    assert silent.connections, "the allow-listed endpoint was never called"
    # while the outbound request hangs, other clients are served
    started = time.monotonic()
    quick = get(federating.url + "/sparql", params={"query": "ASK { ?s ?p ?o }"}, headers={"Accept": "application/json"})
    quick_seconds = time.monotonic() - started
    thread.join(timeout=60)
    assert quick.status == 200 and quick.json()["boolean"] is True
    assert quick_seconds < allowed(2.5), f"a cheap query waited {quick_seconds:.1f} s behind the hanging SERVICE call"
    reply = outcome["reply"]
    assert reply.status in (503, 504), (reply.status, reply.text[:300])
    assert_clean_error(reply, reply.status, "limit")
    assert outcome["seconds"] < 3 + allowed(5), f"the query took {outcome['seconds']:.1f} s against a 3 s deadline"
    # the outbound connection itself was dropped (the worker holding it was stopped)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not all(silent.closed_by_peer(c) for c in silent.connections):
        time.sleep(0.2)
    assert all(silent.closed_by_peer(c) for c in silent.connections), "the outbound request was left open"


def test_a_named_query_cannot_call_an_unlisted_service(server):
    # the shipped federation example names a loopback endpoint the shared server does not list
    reply = get(server.url + "/queries/federated-entity-facts", params={"format": "json"})
    assert_clean_error(reply, 400, "allow")
