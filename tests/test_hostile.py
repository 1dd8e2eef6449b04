"""Issue 14 items 1-3 on a real server: a memory-hungry query is stopped at its worker's limit, cheap
requests stay fast while runaway clients keep resending, and slow connections do not shut others out.

The cheap-request bound is the issue's 200 ms, widened on a machine slower than that allows: it is
derived from the same probe run alone just before the attack (bench/hostile.py measures both), so a
busy machine loosens it rather than failing the test. A short run (about 20 s); the full figures, with
how they were measured, are in BENCHMARKS.md.
"""
from __future__ import annotations

import select
import socket
import sys
import time
from pathlib import Path

import pytest

from conftest import child_pids, start_server
from httpclient import assert_clean_error, get
from timing import allowed

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
import hostile  # noqa: E402

MEMORY_MB = 400
TIMEOUT = 5


@pytest.fixture(scope="module")
def exposed(built_store):
    srv = start_server(["--store", built_store, "serve", "--timeout", TIMEOUT, "--workers", "2",
                        "--worker-memory", f"{MEMORY_MB}M", "--no-warm", "--connections-per-client", "20",
                        "--read-timeout", "4"])
    yield srv
    srv.stop()


def pool(server) -> dict:
    reply = get(server.url + "/health", headers={"Accept": "application/json"})
    assert reply.status == 200
    return reply.json()["pool"]


def wait_ready(server, seconds: float = 60) -> set[int]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        state = pool(server)
        if state["ready"] >= state["workers"]:
            return set(child_pids(server.proc.pid))
        time.sleep(0.2)
    raise AssertionError(f"the pool did not become ready: {pool(server)}")


def bound(figures: dict) -> float:
    """200 ms, or more where the machine answers the probe alone slowly (p50 x 50, p99 x 5)."""
    alone = figures["baseline"]["all"]
    return max(0.2, 50 * alone["p50_ms"] / 1000, 5 * alone["p99_ms"] / 1000)


def test_a_query_past_the_memory_limit_gets_503_and_its_worker_is_replaced(exposed):
    before = wait_ready(exposed)
    assert pool(exposed)["memory_mb"] == MEMORY_MB
    query = "SELECT ?a ?c ?f WHERE { ?a ?b ?c . ?d ?e ?f } ORDER BY ?c ?f LIMIT 10"
    started = time.monotonic()
    reply = get(exposed.url + "/sparql", params={"query": query}, headers={"Accept": "application/json"},
                timeout=60)
    seconds = time.monotonic() - started
    assert_clean_error(reply, 503, f"more than {MEMORY_MB} MB")
    assert reply.json()["memory_mb"] == MEMORY_MB
    assert seconds < TIMEOUT, f"stopped after {seconds:.1f} s: the deadline, not the memory limit, stopped it"
    # other requests are served at once, and the pool is whole again with a new process
    quick = get(exposed.url + "/sparql", params={"query": "ASK { ?s ?p ?o }"}, headers={"Accept": "application/json"})
    assert quick.status == 200 and quick.json()["boolean"] is True
    after = wait_ready(exposed)
    assert len(before - after) == 1, (before, after)


def test_cheap_requests_stay_fast_while_runaway_clients_resend(exposed):
    wait_ready(exposed)
    for runaways, settle in ((2, 8.0), (10, 3.0)):  # the first sight of a runaway: a slice and a restart
        figures = hostile.attack(exposed.url, runaways=runaways, seconds=6.0, settle=settle)
        cheap = figures["under_attack"]
        limit = bound(figures)
        for kind in ("cached", "uncached", "health"):
            assert cheap[kind]["statuses"] == {"200": cheap[kind]["count"]}, (runaways, kind, cheap[kind])
        assert cheap["all"]["p99_ms"] / 1000 <= limit, (runaways, limit, cheap, figures["baseline"])
        # the attack was real: runaways were refused or stopped, never answered
        assert figures["runaway_replies"] and set(figures["runaway_replies"]) <= {"503"}, figures["runaway_replies"]
        wait_ready(exposed)


def closed_by_server(socks: list) -> int:
    """How many of `socks` the server has closed (readable at end of file, or reset), looked at all at once."""
    poller = select.poll()  # not select.select: it takes no descriptor above 1,023
    by_fd = {sock.fileno(): sock for sock in socks}
    for fd in by_fd:
        poller.register(fd, select.POLLIN)
    closed = 0
    for fd, _ in poller.poll(500):
        sock = by_fd[fd]
        try:
            closed += sock.recv(1) == b""
        except OSError:
            closed += 1
    return closed


def test_slow_connections_do_not_shut_out_a_probe(exposed):
    wait_ready(exposed)
    host, port = "127.0.0.1", exposed.port
    # one address: beyond its 20 connections the server closes new ones at once
    greedy = []
    for _ in range(60):
        sock = socket.socket()
        sock.bind(("127.0.0.3", 0))
        sock.connect((host, port))
        sock.send(b"GET /health HTTP/1.1\r\n")
        greedy.append(sock)
    time.sleep(1.0)
    assert closed_by_server(greedy) == 40, f"{closed} of 60 connections from one address were closed (20 allowed)"
    # 500 trickling connections from 50 addresses: a probe from another address is answered
    trickle = []
    for i in range(500):
        sock = socket.socket()
        sock.bind((f"127.0.0.{100 + i % 50}", 0))
        sock.connect((host, port))
        sock.send(b"GET /health HTTP/1.1\r\nX-Slow: ")
        trickle.append(sock)
    started = time.monotonic()
    reply = get(exposed.url + "/health", headers={"Accept": "application/json"}, timeout=10)
    assert reply.status == 200
    assert time.monotonic() - started < allowed(2.0)
    # requests that never finish arriving are cut at the read timeout (4 s), not held for ever
    for _ in range(8):
        for sock in trickle:
            try:
                sock.send(b"a")
            except OSError:
                pass
        time.sleep(1.0)
    cut = closed_by_server(trickle)
    assert cut >= 490, f"only {cut} of 500 trickling connections were closed after 8 s (read timeout 4 s)"
    for sock in greedy + trickle:
        sock.close()
    assert get(exposed.url + "/health").status == 200
