"""Issue 8 item 2, beyond tests/test_server_guards.py (which shows one runaway query stopped at the
deadline, its worker killed, and a cheap query answered meanwhile): runaway work on every worker at
once, and a runaway *update*, whose shape check runs in a worker under the same deadline.

After the deadline the CPU work has ended (the workers that ran it are gone and the pool is idle, read
from /proc), the clients got 503/504 with a message, and the store did not change.
"""
from __future__ import annotations

import os
import shutil
import threading
import time
from pathlib import Path

import pytest

from conftest import start_server
from httpclient import assert_clean_error, get, post
from timing import allowed

ID = "https://w3id.org/wsis-kg/id/"
SKOS = "http://www.w3.org/2004/02/skos/core#"
TOKEN = "runaway-token-0123456789-abcdefgh"
TIMEOUT = 2
# a cartesian product over the whole graph with a filter that never holds: minutes of pure CPU
RUNAWAY_WHERE = "?a ?b ?c . ?d ?e ?f . ?g ?h ?i FILTER(STR(?c) = CONCAT(STR(?f), STR(?i), \"#\"))"
RUNAWAY = f"SELECT (COUNT(*) AS ?n) WHERE {{ {RUNAWAY_WHERE} }}"
# in an update the default graph is the store's own (empty) default graph: name the graphs
RUNAWAY_UPDATE_WHERE = ("GRAPH ?x { ?a ?b ?c } GRAPH ?y { ?d ?e ?f } GRAPH ?z { ?g ?h ?i } "
                        "FILTER(STR(?c) = CONCAT(STR(?f), STR(?i), \"#\"))")
COUNT = "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }"


@pytest.fixture(scope="module")
def stoppable(built_store, tmp_path_factory):
    work = tmp_path_factory.mktemp("runaway")
    root = work / "store"
    shutil.copytree(built_store, root, symlinks=True)
    (work / "token").write_text(TOKEN)
    # no worker kept for quick queries and no per-client cap (issue 14.2): runaways may take every worker
    srv = start_server(["--store", root, "serve", "--timeout", TIMEOUT, "--workers", "2",
                        "--reserve-workers", "0", "--client-slow-queries", "4", "--token-file", work / "token"])
    yield srv
    srv.stop()


def children(pid: int) -> dict[int, tuple[str, int]]:
    """The server's child processes: pid -> (state, CPU ticks used so far)."""
    out = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            out[int(entry.name)] = (fields[0], int(fields[11]) + int(fields[12]))
    return out


def live_workers(pid: int) -> set[int]:
    return {p for p, (st, _) in children(pid).items() if st not in ("Z", "X")}


def count(server) -> int:
    reply = get(server.url + "/sparql", params={"query": COUNT}, headers={"Accept": "application/json"})
    assert reply.status == 200, reply.text
    return int(reply.json()["results"]["bindings"][0]["n"]["value"])


def wait_for_pool(server, size: int = 2, seconds: float = 60) -> set[int]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        pids = live_workers(server.proc.pid)
        if len(pids) >= size and get(server.url + "/sparql", params={"query": "ASK {}"},
                                     headers={"Accept": "application/json"}).status == 200:
            return pids
        time.sleep(0.2)
    raise AssertionError("the worker pool did not come back")


def test_runaway_queries_on_every_worker_are_all_stopped(stoppable):
    before = wait_for_pool(stoppable)
    replies: list = []

    def runaway():
        started = time.monotonic()
        reply = get(stoppable.url + "/sparql", params={"query": RUNAWAY}, headers={"Accept": "application/json"},
                    timeout=120)
        replies.append((reply, time.monotonic() - started))

    threads = [threading.Thread(target=runaway) for _ in range(4)]  # twice as many as there are workers
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert len(replies) == 4
    for reply, seconds in replies:
        # stopped at the deadline, or told the pool is busy: never a hang, never a 500
        assert reply.status in (503, 504), (reply.status, reply.text[:300])
        assert_clean_error(reply, reply.status)
        assert "limit" in reply.text or "busy" in reply.text, reply.text
        assert reply.headers.get("retry-after")
        assert seconds < 2 * TIMEOUT + allowed(10), f"a client waited {seconds:.1f} s against a {TIMEOUT} s deadline"
    assert sum("limit" in r.text for r, _ in replies) >= 2

    # the processes that ran the work are gone, and the pool is whole again
    after = wait_for_pool(stoppable)
    killed = before - after
    assert len(killed) >= 2, f"workers before {before}, after {after}"
    for pid in killed:
        assert not Path(f"/proc/{pid}").exists() or children(stoppable.proc.pid).get(pid, ("X",))[0] in ("Z", "X")
    # ... and nothing is still burning CPU: once the fresh workers have loaded the store, the server's
    # children use (almost) none. A runaway left running would keep a core busy for minutes.
    deadline = time.monotonic() + 30
    used = None
    while time.monotonic() < deadline:
        first = children(stoppable.proc.pid)
        time.sleep(1.0)
        second = children(stoppable.proc.pid)
        used = sum(ticks - first[p][1] for p, (_, ticks) in second.items() if p in first)
        if used < 0.2 * os.sysconf("SC_CLK_TCK"):
            break
    assert used is not None and used < 0.2 * os.sysconf("SC_CLK_TCK"), \
        f"the workers still use {used} CPU ticks a second, 30 s after the deadline"
    assert not [p for p, (st, _) in second.items() if st == "Z"], "zombie workers left behind"
    # a cheap query is answered at once
    started = time.monotonic()
    assert count(stoppable) > 0
    assert time.monotonic() - started < allowed(2)


def test_a_runaway_update_is_stopped_and_changes_nothing(stoppable):
    wait_for_pool(stoppable)
    before = count(stoppable)
    started = time.monotonic()
    reply = post(stoppable.url + "/update", timeout=120,
                 data=f"INSERT {{ GRAPH <{ID}graph/test> {{ ?a <{SKOS}note> ?c }} }} WHERE {{ {RUNAWAY_UPDATE_WHERE} }}",
                 headers={"Content-Type": "application/sparql-update", "Accept": "application/json",
                          "Authorization": f"Bearer {TOKEN}"})
    seconds = time.monotonic() - started
    assert reply.status in (503, 504), (reply.status, reply.text[:300])
    assert_clean_error(reply, reply.status, "limit")
    assert seconds < TIMEOUT + allowed(10)
    assert count(stoppable) == before
    # the write lock was let go: the next write goes through at once
    wait_for_pool(stoppable)
    started = time.monotonic()
    ok = post(stoppable.url + "/update", timeout=30,
              data=f"INSERT DATA {{ GRAPH <{ID}graph/test> {{ <{ID}test/after-runaway> <{SKOS}note> \"ok\" }} }}",
              headers={"Content-Type": "application/sparql-update", "Authorization": f"Bearer {TOKEN}"})
    assert ok.status == 200, ok.text
    assert time.monotonic() - started < allowed(10)
    assert count(stoppable) == before + 1
