"""Issue 14: how quickly a cheap request is answered while hostile clients attack the server.

A bounded run on 127.0.0.1 only. Each attacker is a client address of its own on the loopback network
(127.0.0.10, .11, ...; Linux routes all of 127/8 to lo), so per-client limits see them as the
distinct clients they would be. Runaway attackers resend a query without end (a cartesian product
with a filter that never holds: CPU until the deadline; or the issue's ORDER BY over a cartesian
product: memory, about 1 GB/s), each time with a new literal so no cache answers it. Slow attackers
open connections and trickle a request one byte a second. Meanwhile a probe client (127.0.0.2) sends
cheap requests in turn: a cached query, an uncached cheap query (a new LIMIT each time) and /health,
and records every latency and status. Before the attack the same probe runs alone: its p50 is the
machine's single-request speed, which the test derives its margin from.

    python bench/hostile.py --store STORE [--runaways 2] [--slow 0] [--seconds 20] [--settle 8] [--out hostile.json]
    python bench/hostile.py --url http://127.0.0.1:8000 ...   (a server already running)

Prints and writes JSON: per kind, count, statuses, p50/p99/max in ms; for the attack, replies by status.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request

RUNAWAY_CPU = ("SELECT (COUNT(*) AS ?n) WHERE {{ ?a ?b ?c . ?d ?e ?f . ?g ?h ?i "
               "FILTER(STR(?c) = CONCAT(STR(?f), STR(?i), \"{tag}\")) }}")
RUNAWAY_MEMORY = "SELECT ?a ?c ?f WHERE {{ ?a ?b ?c . ?d ?e ?f FILTER(?c != \"{tag}\") }} ORDER BY ?c ?f LIMIT 10"
CACHED = "SELECT (COUNT(*) AS ?n) WHERE { ?s a <https://w3id.org/wsis-kg/ontology#ActionLine> }"
CHEAP = ("SELECT ?s ?l WHERE {{ ?s a <https://w3id.org/wsis-kg/ontology#ActionLine> ; "
         "<http://www.w3.org/2004/02/skos/core#prefLabel> ?l }} LIMIT {n}")


def _connection(base: str, source: str, timeout: float) -> http.client.HTTPConnection:
    parts = urllib.parse.urlsplit(base)
    return http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout, source_address=(source, 0))


def _get(conn, path: str) -> tuple[int, bytes, dict]:
    conn.request("GET", path, headers={"Accept": "application/json"})
    response = conn.getresponse()
    return response.status, response.read(), dict(response.getheaders())


def sparql_path(query: str) -> str:
    return "/sparql?" + urllib.parse.urlencode({"query": query})


def probe(base: str, stop: threading.Event, out: list, interval: float = 0.05, limit: int | None = None) -> None:
    """Cheap requests in turn until `stop` (or `limit` requests): (kind, seconds, status)."""
    conn = _connection(base, "127.0.0.2", 30)
    n = 0
    kinds = ("cached", "uncached", "health")
    while not stop.is_set() and (limit is None or n < limit):
        kind = kinds[n % 3]
        path = {"cached": sparql_path(CACHED), "health": "/health",
                "uncached": sparql_path(CHEAP.format(n=1000 + random.randrange(10**6)))}[kind]
        started = time.perf_counter()
        try:
            status, _, _ = _get(conn, path)
        except (OSError, http.client.HTTPException):
            status = -1
            conn.close()
            conn = _connection(base, "127.0.0.2", 30)
        out.append((kind, time.perf_counter() - started, status))
        n += 1
        stop.wait(interval)
    conn.close()


def runaway(base: str, source: str, kind: str, stop: threading.Event, replies: list) -> None:
    """Resend a runaway query as soon as the last one is answered, until `stop`."""
    conn = _connection(base, source, 120)
    while not stop.is_set():
        query = (RUNAWAY_CPU if kind == "cpu" else RUNAWAY_MEMORY).format(tag=random.randrange(10**9))
        started = time.perf_counter()
        try:
            status, body, headers = _get(conn, sparql_path(query))
            if headers.get("Connection", "").lower() == "close":
                conn.close()
                conn = _connection(base, source, 120)
        except (OSError, http.client.HTTPException):
            status = -1
            conn.close()
            conn = _connection(base, source, 120)
        replies.append((status, time.perf_counter() - started))
        if status == 503:
            stop.wait(0.05)  # a hostile client ignores Retry-After, but not to the point of a busy loop
    conn.close()


def slow_clients(base: str, count: int, stop: threading.Event, report: dict) -> None:
    """`count` connections from 50 addresses, each sending a request one byte a second."""
    parts = urllib.parse.urlsplit(base)
    request = b"GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 4000 + b"\r\n\r\n"
    socks: list[tuple[socket.socket, int]] = []
    opened = refused = 0
    for i in range(count):
        sock = socket.socket()
        sock.settimeout(5)
        try:
            sock.bind((f"127.0.0.{100 + i % 50}", 0))
            sock.connect((parts.hostname, parts.port))
            socks.append((sock, 0))
            opened += 1
        except OSError:
            refused += 1
            sock.close()
    report.update(opened=opened, refused=refused)
    closed_by_server = 0
    while not stop.is_set() and socks:
        kept = []
        for sock, sent in socks:
            try:
                sock.send(request[sent:sent + 1])
                kept.append((sock, sent + 1))
            except OSError:
                closed_by_server += 1
                sock.close()
        socks = kept
        report["closed_by_server"] = closed_by_server
        report["still_open"] = len(socks)
        stop.wait(1.0)
    for sock, _ in socks:
        sock.close()


def summary(samples: list) -> dict:
    out = {}
    for kind in sorted({k for k, _, _ in samples}):
        times = sorted(t for k, t, _ in samples if k == kind)
        statuses: dict[str, int] = {}
        for k, _, status in samples:
            if k == kind:
                statuses[str(status)] = statuses.get(str(status), 0) + 1
        out[kind] = {"count": len(times), "statuses": statuses,
                     "p50_ms": round(statistics.median(times) * 1000, 1),
                     "p99_ms": round(times[min(len(times) - 1, int(len(times) * 0.99))] * 1000, 1),
                     "max_ms": round(times[-1] * 1000, 1)}
    every = sorted(t for _, t, _ in samples)
    if every:
        out["all"] = {"count": len(every), "p50_ms": round(statistics.median(every) * 1000, 1),
                      "p99_ms": round(every[min(len(every) - 1, int(len(every) * 0.99))] * 1000, 1),
                      "max_ms": round(every[-1] * 1000, 1),
                      "non_200": sum(1 for _, _, s in samples if s != 200)}
    return out


def attack(base: str, runaways: int = 2, slow: int = 0, seconds: float = 20.0, kind: str = "mixed",
           settle: float = 3.0) -> dict:
    """The whole measurement against a running server; a dict of figures."""
    seconds = min(seconds, 120.0)  # bounded, whatever is asked
    baseline: list = []
    probe(base, threading.Event(), baseline, interval=0.02, limit=60)
    stop = threading.Event()
    replies: list = []
    slow_report: dict = {}
    threads = [threading.Thread(target=runaway, daemon=True,
                                args=(base, f"127.0.0.{10 + i}",
                                      kind if kind != "mixed" else ("cpu", "memory")[i % 2], stop, replies))
               for i in range(runaways)]
    if slow:
        threads.append(threading.Thread(target=slow_clients, args=(base, slow, stop, slow_report), daemon=True))
    for t in threads:
        t.start()
    time.sleep(settle)  # let the attack take hold: the first runaways are still unknown to the pool
    samples: list = []
    probe_stop = threading.Event()
    prober = threading.Thread(target=probe, args=(base, probe_stop, samples), daemon=True)
    prober.start()
    time.sleep(seconds)
    probe_stop.set()
    prober.join(35)
    stop.set()
    for t in threads:
        t.join(130)
    attack_statuses: dict[str, int] = {}
    for status, _ in replies:
        attack_statuses[str(status)] = attack_statuses.get(str(status), 0) + 1
    return {"runaway_clients": runaways, "runaway_kind": kind, "slow_connections": slow, "seconds": seconds,
            "settle_seconds": settle, "cores": os.cpu_count(),
            "baseline": summary(baseline), "under_attack": summary(samples),
            "runaway_replies": attack_statuses, "slow": slow_report}


def start_server(store: str, extra: list[str]) -> tuple[subprocess.Popen, str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cmd = [sys.executable, "-m", "wsiskg.graph.cli", "--store", store, "serve", "--host", "127.0.0.1",
           "--port", str(port), *extra]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd="/")
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + 120
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(base + "/health", timeout=2) as reply:
                health = json.load(reply)
            pool = health.get("pool")  # (a server from before issue 14 does not report its pool)
            if (pool is None or pool["ready"] >= pool["workers"]) and (health.get("warm") or {}).get("current", True):
                return proc, base
        except (OSError, ValueError, KeyError):
            pass
        time.sleep(0.3)
    proc.kill()
    raise SystemExit("the server did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--store", help="start `wsiskg serve` on this store (127.0.0.1, a free port)")
    parser.add_argument("--url", help="or attack this server (must be on 127.0.0.1)")
    parser.add_argument("--runaways", type=int, default=2)
    parser.add_argument("--slow", type=int, default=0, help="slow connections to open")
    parser.add_argument("--kind", choices=["cpu", "memory", "mixed"], default="mixed")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--timeout", type=float, default=10.0, help="the server's --timeout (with --store)")
    parser.add_argument("--settle", type=float, default=8.0,
                        help="seconds of attack before the probe starts (the first sight of a runaway costs "
                             "one worker restart)")
    parser.add_argument("--out", help="write the figures here as JSON")
    args = parser.parse_args()
    if bool(args.store) == bool(args.url):
        parser.error("give --store or --url")
    proc = None
    if args.store:
        proc, base = start_server(args.store, ["--timeout", str(args.timeout)])
    else:
        base = args.url.rstrip("/")
        if urllib.parse.urlsplit(base).hostname not in ("127.0.0.1", "localhost"):
            parser.error("this attack runs against 127.0.0.1 only")
    try:
        figures = attack(base, args.runaways, args.slow, args.seconds, args.kind, settle=args.settle)
    finally:
        if proc is not None:
            proc.terminate()
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
    figures["server_timeout"] = args.timeout if args.store else None
    text = json.dumps(figures, indent=1)
    print(text)
    if args.out:
        with open(args.out, "w") as handle:
            handle.write(text + "\n")


if __name__ == "__main__":
    main()
