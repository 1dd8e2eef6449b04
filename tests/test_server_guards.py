"""Guards: the per-query deadline stops the work (not just the response), truncation is said
plainly, request sizes are capped, SERVICE reaches only allow-listed endpoints.

A dedicated server runs with a 2-second limit, a 5-row cap and small request caps.
"""
from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from conftest import start_server
from httpclient import assert_clean_error, get, post

SDGO = "http://metadata.un.org/sdg/ontology#"
# A cartesian product over the reference data with a filter that never holds: minutes of pure CPU.
RUNAWAY = ("SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i "
           "FILTER(STR(?c) = CONCAT(STR(?f), STR(?i), \"#\")) }")
TARGETS = f"PREFIX sdgo: <{SDGO}>\nSELECT ?target WHERE {{ ?target a sdgo:Target }} ORDER BY ?target"


@pytest.fixture(scope="module")
def guarded(built_store, oxigraph_server):
    srv = start_server(["--store", built_store, "serve", "--timeout", "2", "--max-rows", "5",
                        "--max-query-bytes", "4000", "--max-data-bytes", "20000",
                        "--allow-service", oxigraph_server.query_url])
    yield srv
    srv.stop()


def worker_pids(server_pid: int) -> set[int]:
    """The server's query workers: its child processes started by multiprocessing."""
    pids = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ")
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        state = stat.rsplit(")", 1)[1].split()[0]
        if ppid == server_pid and b"spawn_main" in cmdline and state != "Z":
            pids.add(int(entry.name))
    return pids


def alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def wait_for_workers(server, count: int) -> set[int]:
    """Poll until the pool is back to `count` ready workers (a query answered by each)."""
    import time
    deadline = time.time() + 60
    while time.time() < deadline:
        pids = worker_pids(server.proc.pid)
        if len(pids) >= count:
            return pids
        time.sleep(0.2)
    raise AssertionError("the worker pool did not recover")


def test_runaway_query_is_stopped_and_the_worker_killed(guarded):
    before = wait_for_workers(guarded, 2)
    assert len(before) == 2
    outcome = {}

    def runaway():
        outcome["reply"] = get(guarded.url + "/sparql", params={"query": RUNAWAY},
                               headers={"Accept": "application/json"}, timeout=120)

    thread = threading.Thread(target=runaway)
    thread.start()
    # while it runs, the other worker still answers other clients
    quick = get(guarded.url + "/sparql", params={"query": f"ASK {{ ?g a <{SDGO}Goal> }}"},
                headers={"Accept": "application/json"})
    still_running = thread.is_alive()
    thread.join(timeout=120)
    assert quick.status == 200 and quick.json()["boolean"] is True
    assert still_running, "the quick query should have been answered while the runaway one ran"

    reply = outcome["reply"]
    assert_clean_error(reply, 503, "2 s limit", "stopped")
    assert reply.json()["timeout"] == 2
    assert reply.headers.get("retry-after")
    # the worker that ran it is gone: its CPU work ended with it
    gone = [pid for pid in before if not alive(pid)]
    assert len(gone) == 1, f"expected one killed worker, workers before {before}, alive now {worker_pids(guarded.proc.pid)}"
    # the next query is answered normally, and the pool is whole again
    after = get(guarded.url + "/sparql", params={"query": f"SELECT (COUNT(?g) AS ?n) WHERE {{ ?g a <{SDGO}Goal> }}"},
                headers={"Accept": "text/csv"})
    assert after.status == 200 and after.text.split() == ["n", "17"]
    recovered = wait_for_workers(guarded, 2)
    assert gone[0] not in recovered


def test_timeout_in_plain_text_for_other_clients(guarded):
    reply = get(guarded.url + "/sparql", params={"query": RUNAWAY}, headers={"Accept": "text/csv"}, timeout=120)
    assert_clean_error(reply, 503, "limit")
    assert reply.mimetype == "text/plain"


def test_truncation_is_said_plainly(guarded):
    json_reply = get(guarded.url + "/sparql", params={"query": TARGETS}, headers={"Accept": "application/json"})
    assert json_reply.status == 200
    assert json_reply.headers["x-wsiskg-truncated"] == "true"
    body = json_reply.json()
    assert body["truncated"] is True and len(body["results"]["bindings"]) == 5
    csv_reply = get(guarded.url + "/sparql", params={"query": TARGETS, "format": "csv"})
    assert csv_reply.headers["x-wsiskg-truncated"] == "true" and len(csv_reply.text.split()) == 6
    xml_reply = get(guarded.url + "/sparql", params={"query": TARGETS, "format": "xml"})
    assert '<link href="#truncated"/>' in xml_reply.text
    html_reply = get(guarded.url + "/sparql", params={"query": TARGETS}, headers={"Accept": "text/html"})
    assert "Truncated:" in html_reply.text and "first 5" in html_reply.text
    construct = get(guarded.url + "/sparql", params={"query": f"CONSTRUCT {{ ?t a <{SDGO}Target> }} WHERE {{ ?t a <{SDGO}Target> }}"},
                    headers={"Accept": "application/n-triples"})
    assert construct.headers["x-wsiskg-truncated"] == "true" and len(construct.text.strip().splitlines()) == 5
    # a complete answer says so too
    goals = get(guarded.url + "/sparql", params={"query": f"SELECT ?g WHERE {{ ?g a <{SDGO}Goal> }} LIMIT 5"},
                headers={"Accept": "application/json"})
    assert goals.headers["x-wsiskg-truncated"] == "false" and "truncated" not in goals.json()


def test_request_size_caps_are_configurable(guarded):
    query = "# " + "x" * 5000 + "\nASK {}"
    assert_clean_error(post(guarded.url + "/sparql", form={"query": query}, headers={"Accept": "application/json"}), 413)
    small = "# " + "x" * 100 + "\nASK {}"
    assert post(guarded.url + "/sparql", form={"query": small}, headers={"Accept": "application/json"}).status == 200
    data = "# " + "x" * 30000 + "\n"
    assert_clean_error(post(guarded.url + "/validate", data=data, headers={"Content-Type": "text/turtle"}), 413)


def test_service_to_allow_listed_endpoint(guarded, oxigraph_server):
    query = (f"SELECT ?g WHERE {{ SERVICE <{oxigraph_server.query_url}> {{ ?g a <{SDGO}Goal> }} }}")
    reply = get(guarded.url + "/sparql", params={"query": query}, headers={"Accept": "application/json"})
    assert reply.status == 200, reply.text
    assert len(reply.json()["results"]["bindings"]) == 5  # 17, cut at the 5-row cap
    # same host, another port or path: not on the list
    for other in (oxigraph_server.url + "/update", f"http://127.0.0.1:{oxigraph_server.port + 1}/query",
                  f"http://localhost:{oxigraph_server.port}/query"):
        query = f"SELECT * WHERE {{ SERVICE <{other}> {{ ?s ?p ?o }} }}"
        assert_clean_error(get(guarded.url + "/sparql", params={"query": query}), 400, "allow-list")


def test_service_guard_resolves_prefixed_names_and_base(guarded):
    query = "PREFIX ep: <http://169.254.169.254/>\nSELECT * WHERE { SERVICE SILENT ep:latest { ?s ?p ?o } }"
    assert_clean_error(get(guarded.url + "/sparql", params={"query": query}), 400, "169.254.169.254")
    query = "BASE <http://10.1.2.3/>\nSELECT * WHERE { SERVICE <sparql> { ?s ?p ?o } }"
    assert_clean_error(get(guarded.url + "/sparql", params={"query": query}), 400, "10.1.2.3")


def test_guard_unit_private_addresses():
    from wsiskg.server.guards import Refused, ServiceGuard
    guard = ServiceGuard(["https://sparql.example.invalid/query", "http://127.0.0.1:7878/query"])
    guard.check(["http://127.0.0.1:7878/query"])  # listed by address: allowed
    with pytest.raises(Refused):
        guard.check(["http://127.0.0.1:7879/query"])
    with pytest.raises(Refused):
        guard.check(["https://sparql.example.invalid/query"])  # listed, but does not resolve
    with pytest.raises(Refused):
        guard.check(["file:///etc/passwd"])


def test_no_internal_paths_in_errors(guarded, built_store):
    replies = [
        get(guarded.url + "/sparql", params={"query": "SELECT * WHERE { ?s ?p ?o"}),
        get(guarded.url + "/id/../../etc/passwd"),
        get(guarded.url + "/queries/../../etc/passwd"),
        post(guarded.url + "/validate", data="@prefix x: <y> .\nx:a x:b", headers={"Content-Type": "text/turtle"}),
    ]
    for reply in replies:
        assert 400 <= reply.status < 500
        assert str(built_store) not in reply.text and os.path.sep + "work" not in reply.text
        assert "Traceback" not in reply.text
