"""The benchmark: us and the baselines, on one generated graph of about N triples, in one run.

    python bench/run.py --triples 100000 --out bench/results/100k.json [--markdown BENCHMARKS.md]

Measures, in this order (every process it starts is stopped before it returns, on 127.0.0.1 only):

1. the graph: `bench/generate.py` (deterministic), written as a store's entry files and kept
   graphs, then the real `wsiskg` build (load, link, SHACL validation), timed with its peak memory
   (see bench/steps.py for what the build links); the linker and the similarity linker over every
   statement are timed apart;
2. `validate` of one new outcome document (tests/fixtures/reworded_session_440.txt as the entry
   file `ingest` would write) against the full graph: through the CLI and in-process;
3. each named query through the CLI (`wsiskg query NAME --format json`; process start included);
4. each named query through HTTP on `wsiskg serve` (`GET /queries/NAME`, and the same text through
   `POST /sparql`): warm-up runs, then the median of --reps runs; then 8 concurrent clients on a
   simple lookup and on a named query (bounded by time and count); the server's peak memory
   (VmHWM of the server and its worker processes);
5. the same HTTP requests (the same query text, parameters written in) on a standalone Oxigraph
   server (`oxigraph load` then `oxigraph serve --union-default-graph`), and the same concurrency;
6. the same query text on rdflib's default store (`rdflib.Dataset(default_union=True)`), each query
   capped at --query-timeout (recorded as "timeout");
7. `ingest` of one outcome document (last: it changes the store): through the CLI and in-process;
8. correctness: every engine's answer to each query, as sorted rows of term strings (bench/canon.py),
   compared with ours; a difference is recorded under "mismatches" and fails the run's "ok".

The JSON holds the contract's shape, `{"queries": {NAME: {"wsiskg_http": ms, "rdflib": ms,
"oxigraph_server": ms}}}` (a number, or "timeout" / "error" / null when not measured), plus
everything else under other keys. `--markdown FILE` re-renders FILE's results section from every
results file named by --results-glob (bench/report.py).
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, str(BENCH))
import canon  # noqa: E402

PYTHON = sys.executable
VENV_BIN = Path(sys.executable).parent
DOCUMENT = REPO / "tests" / "fixtures" / "reworded_session_440.txt"
NEW_SLUG = "bench-new-outcome"
HOST = "127.0.0.1"

# Values for parameters that have no default, so every query has work to do.
BENCH_PARAMS = {"statement-provenance": {"text": "youth"}}
LOOKUP = ("SELECT ?p ?o WHERE { <https://w3id.org/wsis-kg/id/statement/wsis-forum-2025-session-440/3> ?p ?o }")
ACCEPT = {"SELECT": "application/sparql-results+json", "ASK": "application/sparql-results+json",
          "CONSTRUCT": "application/n-triples", "DESCRIBE": "application/n-triples"}


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def tool(name: str) -> str:
    found = VENV_BIN / name
    return str(found) if found.exists() else (shutil.which(name) or name)


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def median(values: list[float]) -> float | None:
    return round(statistics.median(values), 2) if values else None


# -- processes -----------------------------------------------------------------------------------

MEMORY_LIMIT_GB = 12.0  # address-space cap for the steps (a quadratic step must not take the machine down)


def _limit_memory() -> None:
    import resource
    limit = int(MEMORY_LIMIT_GB * 1024 ** 3)
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def run_step(args: list[str], timeout: float, label: str) -> dict:
    """A bench/steps.py step in its own process: its JSON, plus the wall time seen from outside."""
    start = time.perf_counter()
    try:
        done = subprocess.run([PYTHON, str(BENCH / "steps.py"), *args], capture_output=True, text=True,
                              timeout=timeout, cwd="/", preexec_fn=_limit_memory if MEMORY_LIMIT_GB else None)
    except subprocess.TimeoutExpired:
        log(f"{label}: timed out after {timeout:g} s")
        return {"timeout": True, "limit_s": timeout}
    wall = round(time.perf_counter() - start, 3)
    try:
        out = json.loads(done.stdout.strip().splitlines()[-1])
    except (json.JSONDecodeError, IndexError):
        out = {"error": f"exit {done.returncode}: {done.stderr.strip()[-800:]}"}
    out["wall_s"] = wall
    log(f"{label}: {json.dumps(out)[:300]}")
    return out


def run_cli(args: list[str], timeout: float, limit_memory: bool = False) -> tuple[float | None, subprocess.CompletedProcess | None]:
    start = time.perf_counter()
    try:
        done = subprocess.run([tool("wsiskg"), *args], capture_output=True, timeout=timeout, cwd="/",
                              preexec_fn=_limit_memory if limit_memory and MEMORY_LIMIT_GB else None)
    except subprocess.TimeoutExpired:
        return None, None
    return (time.perf_counter() - start) * 1000, done


def descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                ppid = int(handle.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def status_kb(pid: int, field: str) -> int | None:
    try:
        with open(f"/proc/{pid}/status") as handle:
            for line in handle:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def memory_of(pid: int) -> dict:
    """Peak resident memory (VmHWM) of a process and each process under it, in MB."""
    procs = {pid: status_kb(pid, "VmHWM")}
    for child in descendants(pid):
        procs[child] = status_kb(child, "VmHWM")
    per = {str(p): round(kb / 1024, 1) for p, kb in procs.items() if kb}
    return {"main_mb": per.get(str(pid)), "processes_mb": per, "total_mb": round(sum(per.values()), 1)}


class Service:
    """A server process we started, in a session of its own, stopped by its own id."""

    def __init__(self, cmd: list[str], log_path: Path):
        self.log_path = log_path
        self.log_handle = open(log_path, "wb")
        self.proc = subprocess.Popen(cmd, stdout=self.log_handle, stderr=subprocess.STDOUT, cwd="/",
                                     start_new_session=True)
        self.pid = self.proc.pid

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self) -> None:
        if self.proc.poll() is None:
            try:
                os.kill(self.pid, signal.SIGTERM)
                self.proc.wait(15)
            except (subprocess.TimeoutExpired, ProcessLookupError):
                pass
        if self.proc.poll() is None:
            try:
                os.killpg(self.pid, signal.SIGKILL)  # the group we created: the server and its workers
            except ProcessLookupError:
                pass
            self.proc.wait(10)
        else:  # workers left behind by a server that exited: same process group, ours
            try:
                os.killpg(self.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        self.log_handle.close()

    def tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


# -- HTTP ----------------------------------------------------------------------------------------

class Endpoint:
    """One engine's HTTP face: how to ask a named query and a SPARQL text."""

    def __init__(self, name: str, port: int, sparql_path: str):
        self.name, self.port, self.sparql_path = name, port, sparql_path

    def connect(self, timeout: float) -> http.client.HTTPConnection:
        return http.client.HTTPConnection(HOST, self.port, timeout=timeout)

    @staticmethod
    def request(conn, method: str, path: str, body: bytes | None, headers: dict) -> tuple[int, bytes]:
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        return response.status, response.read()

    def sparql(self, conn, text: str, accept: str) -> tuple[int, bytes]:
        return self.request(conn, "POST", self.sparql_path, text.encode("utf-8"),
                            {"Content-Type": "application/sparql-query", "Accept": accept})


def timed(endpoint: Endpoint, conn_holder: list, timeout: float, call) -> tuple[str, float, bytes]:
    """Run one request; ("ok"|"timeout"|"error:<status>", ms, body). Reconnects after a failure."""
    if not conn_holder:
        conn_holder.append(endpoint.connect(timeout))
    start = time.perf_counter()
    try:
        status, body = call(conn_holder[0])
    except (socket.timeout, TimeoutError):
        conn_holder[0].close()
        conn_holder.clear()
        return "timeout", (time.perf_counter() - start) * 1000, b""
    except (http.client.HTTPException, OSError) as exc:
        conn_holder[0].close()
        conn_holder.clear()
        return f"error: {exc}", (time.perf_counter() - start) * 1000, b""
    ms = (time.perf_counter() - start) * 1000
    if status == 503 and b"limit" in body:
        return "timeout", ms, body
    if status != 200:
        return f"error: HTTP {status}: {body[:300].decode('utf-8', 'replace')}", ms, body
    return "ok", ms, body


def parse_answer(form: str, body: bytes) -> list[tuple]:
    if form in ("CONSTRUCT", "DESCRIBE"):
        return canon.from_ntriples(body)
    variables, rows, boolean = canon.from_sparql_json(body)
    return [(str(boolean),)] if boolean is not None else rows


def measure_http(endpoint: Endpoint, calls: dict, warmup: int, reps: int, timeout: float) -> dict:
    """calls: {name: (form, fn(conn) -> (status, body))}. Median of `reps` after `warmup` runs."""
    out = {}
    holder: list = []
    for name, (form, call) in calls.items():
        result = {"runs": 0}
        times, first = [], None
        for i in range(warmup + reps):
            state, ms, body = timed(endpoint, holder, timeout, call)
            if state != "ok":
                result["timeout" if state == "timeout" else "error"] = True if state == "timeout" else state
                break
            if first is None:
                first = round(ms, 2)
                try:
                    result["rows"] = parse_answer(form, body)
                except Exception as exc:  # noqa: BLE001 - an unreadable answer is a result too
                    result["error"] = f"unreadable answer: {exc}"
                    break
            if i >= warmup:
                times.append(ms)
        result["runs"] = len(times)
        result["first_ms"] = first
        if times:
            result["median_ms"] = median(times)
            result["min_ms"] = round(min(times), 2)
        out[name] = result
        summary = {k: v for k, v in result.items() if k != "rows"}
        log(f"{endpoint.name} {name}: {summary}")
    for conn in holder:
        conn.close()
    return out


def throughput(endpoint: Endpoint, call, clients: int, seconds: float, max_requests: int, timeout: float) -> dict:
    """`clients` threads, each with its own connection, until `seconds` pass or `max_requests` are sent."""
    lock = threading.Lock()
    state = {"sent": 0, "ok": 0, "errors": 0, "latencies": []}
    stop_at = time.perf_counter() + seconds

    def client():
        holder: list = []
        while True:
            with lock:
                if state["sent"] >= max_requests or time.perf_counter() >= stop_at:
                    break
                state["sent"] += 1
            result, ms, _ = timed(endpoint, holder, timeout, call)
            with lock:
                if result == "ok":
                    state["ok"] += 1
                    state["latencies"].append(ms)
                else:
                    state["errors"] += 1
        for conn in holder:
            conn.close()

    start = time.perf_counter()
    threads = [threading.Thread(target=client, daemon=True) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(seconds + timeout + 30)
    elapsed = time.perf_counter() - start
    lat = sorted(state["latencies"])
    pct = lambda q: round(lat[min(len(lat) - 1, int(q * len(lat)))], 2) if lat else None  # noqa: E731
    return {"clients": clients, "seconds": round(elapsed, 2), "requests": state["sent"], "ok": state["ok"],
            "errors": state["errors"], "requests_per_s": round(state["ok"] / elapsed, 1) if elapsed else None,
            "p50_ms": pct(0.5), "p95_ms": pct(0.95), "max_ms": round(lat[-1], 2) if lat else None}


def wait_ready(endpoint: Endpoint, service: Service, limit: float) -> float:
    """Seconds until the endpoint answers a real query (workers loaded)."""
    start = time.perf_counter()
    deadline = time.monotonic() + limit
    holder: list = []
    while time.monotonic() < deadline:
        if not service.alive():
            raise RuntimeError(f"{endpoint.name} exited:\n{service.tail()}")
        state, _, _ = timed(endpoint, holder, 30, lambda c: endpoint.sparql(c, "ASK { ?s ?p ?o }",
                                                                          ACCEPT["ASK"]))
        if state == "ok":
            for conn in holder:
                conn.close()
            return round(time.perf_counter() - start, 2)
        time.sleep(0.5)
    raise RuntimeError(f"{endpoint.name} did not answer within {limit:g} s:\n{service.tail()}")


def wait_warm(endpoint: Endpoint, limit: float) -> float | None:
    """Seconds until our server says its warmer has computed every named query's default answer."""
    start = time.perf_counter()
    deadline = time.monotonic() + limit
    holder: list = []
    while time.monotonic() < deadline:
        state, _, body = timed(endpoint, holder, 30, lambda c: endpoint.request(c, "GET", "/health", None, {}))
        if state == "ok":
            warm = json.loads(body).get("warm")
            if warm is None or warm.get("current"):
                for conn in holder:
                    conn.close()
                return round(time.perf_counter() - start, 2) if warm else None
        time.sleep(0.5)
    return None


# -- the queries ---------------------------------------------------------------------------------

def load_queries(selected: list[str] | None) -> tuple[dict, dict]:
    """{name: {text, substituted, form, params}} and {name: reason} for those left out."""
    from wsiskg.graph import library
    from wsiskg.graph.store import substitute_text
    queries, skipped = {}, {}
    for q in library.all_queries():
        if selected and q.name not in selected:
            continue
        if "SERVICE" in "\n".join(line for line in q.text.splitlines() if not line.lstrip().startswith("#")).upper():
            skipped[q.name] = "calls an outside endpoint (SERVICE); the benchmark stays on 127.0.0.1"
            continue
        params = BENCH_PARAMS.get(q.name, {})
        try:
            bindings = q.bind(params)
        except library.ParameterError as exc:
            skipped[q.name] = f"parameters: {exc}"
            continue
        given = {p.name: (params.get(p.name) or p.default) for p in q.parameters if params.get(p.name) or p.default}
        queries[q.name] = {"text": q.text, "substituted": substitute_text(q.text, bindings), "form": q.form,
                           "params": given}
    return queries, skipped


def named_path(name: str, params: dict) -> str:
    return f"/queries/{name}" + ("?" + urllib.parse.urlencode(params) if params else "")


# -- steps ---------------------------------------------------------------------------------------

def machine() -> dict:
    info = {"nproc": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()}
    try:
        with open("/proc/cpuinfo") as handle:
            info["cpu"] = next((line.split(":", 1)[1].strip() for line in handle if line.startswith("model name")), None)
        with open("/proc/meminfo") as handle:
            kb = int(next(line for line in handle if line.startswith("MemTotal")).split()[1])
            info["memory_gb"] = round(kb / 1024 / 1024, 1)
    except (OSError, StopIteration):
        pass
    from importlib import metadata
    versions = {}
    for package in ("wsiskg", "pyoxigraph", "oxigraph", "rdflib", "pyshacl", "flask", "waitress", "numpy", "scipy"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            pass
    try:
        versions["oxigraph_server"] = subprocess.run([tool("oxigraph"), "--version"], capture_output=True, text=True,
                                                     timeout=30).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        pass
    info["packages"] = versions
    try:
        head = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                              timeout=30).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(REPO), "status", "--porcelain", "--", "graph", "server", "queries",
                                "shapes", "ontology"], capture_output=True, text=True, timeout=30).stdout.strip()
        info["source"] = {"commit": head, "uncommitted_changes": bool(dirty)}
    except (OSError, subprocess.TimeoutExpired):
        pass
    return info


def measure_cli(store: Path, queries: dict, reps: int, timeout: float) -> dict:
    out = {}
    for name, spec in queries.items():
        fmt = "ntriples" if spec["form"] in ("CONSTRUCT", "DESCRIBE") else "json"
        args = ["--store", str(store), "query", name, "--format", fmt]
        for key, value in spec["params"].items():
            args += ["--param", f"{key}={value}"]
        times, result = [], {"runs": 0}
        for _ in range(reps):
            ms, done = run_cli(args, timeout)
            if ms is None:
                result["timeout"] = True
                break
            if done.returncode != 0:
                result["error"] = f"exit {done.returncode}: {done.stderr.decode('utf-8', 'replace').strip()[-300:]}"
                break
            if "rows" not in result:
                try:
                    result["rows"] = parse_answer(spec["form"], done.stdout)
                except Exception as exc:  # noqa: BLE001
                    result["error"] = f"unreadable answer: {exc}"
                    break
            times.append(ms)
        result["runs"] = len(times)
        if times:
            result["median_ms"] = median(times)
        out[name] = result
        log(f"cli {name}: {({k: v for k, v in result.items() if k != 'rows'})}")
    return out


def wsiskg_server(args, store: Path, work: Path, queries: dict, memory: str, full: bool = True) -> dict:
    """Our server: every named query (and, when `full`, the same text on /sparql and the throughput)."""
    port = free_port()
    cmd = [tool("wsiskg"), "--store", str(store), "serve", "--host", HOST, "--port", str(port),
           "--timeout", str(args.query_timeout), "--max-rows", str(args.max_rows), "--memory", memory]
    if args.server_workers:
        cmd += ["--workers", str(args.server_workers)]
    service = Service(cmd, work / f"wsiskg-serve-{memory}.log")
    endpoint = Endpoint("wsiskg_http" + ("" if full else f"_memory_{memory}"), port, "/sparql")
    out: dict = {"command": " ".join(cmd[1:])}
    try:
        out["ready_s"] = wait_ready(endpoint, service, args.startup_limit)
        out["warm_s"] = wait_warm(endpoint, args.startup_limit)
        log(f"wsiskg server ready in {out['ready_s']} s, its cache warm {out['warm_s']} s later")

        def named_calls(headers: dict) -> dict:
            return {name: (spec["form"], (lambda n, s: lambda c: endpoint.request(
                        c, "GET", named_path(n, s["params"]), None, {"Accept": ACCEPT[s["form"]], **headers}))(name, spec))
                    for name, spec in queries.items()}

        out["named"] = measure_http(endpoint, named_calls({}), args.warmup, args.reps, args.query_timeout + 5)
        if full and args.cold_reps > 0:  # the engine's own time: every request asks past both caches
            endpoint.name = "wsiskg_http_cold"
            out["named_cold"] = measure_http(endpoint, named_calls({"Cache-Control": "no-cache"}), 1, args.cold_reps,
                                             args.query_timeout + 5)
            endpoint.name = "wsiskg_http"
        if not full:
            out["memory"] = memory_of(service.pid)
            out["worker_mode"] = worker_modes(service)
            return out
        sparql = {name: (spec["form"], (lambda s: lambda c: endpoint.sparql(c, s["substituted"], ACCEPT[s["form"]]))(spec))
                  for name, spec in queries.items()}
        endpoint.name = "wsiskg_sparql"
        out["sparql"] = measure_http(endpoint, sparql, args.warmup, args.reps, args.query_timeout + 5)
        endpoint.name = "wsiskg_http"
        out["throughput"] = run_throughput(args, endpoint, queries, named_route=True)
        out["memory"] = memory_of(service.pid)
        out["worker_mode"] = worker_modes(service)
    finally:
        service.stop()
    return out


def worker_modes(service: Service) -> list[str]:
    return [line.split("ready (", 1)[1].rstrip(")") for line in
            service.log_path.read_text(errors="replace").splitlines() if "ready (" in line]


def run_throughput(args, endpoint: Endpoint, queries: dict, named_route: bool) -> dict:
    out = {}
    if args.throughput_seconds <= 0:
        return out
    lookup = lambda c: endpoint.sparql(c, LOOKUP, ACCEPT["SELECT"])  # noqa: E731
    out["lookup"] = throughput(endpoint, lookup, args.clients, args.throughput_seconds, args.throughput_requests,
                               args.query_timeout + 5)
    log(f"{endpoint.name} throughput lookup: {out['lookup']}")
    name = args.throughput_query
    if name in queries:
        spec = queries[name]
        if named_route:
            call = lambda c: endpoint.request(c, "GET", named_path(name, spec["params"]), None,  # noqa: E731
                                              {"Accept": ACCEPT[spec["form"]]})
        else:
            call = lambda c: endpoint.sparql(c, spec["substituted"], ACCEPT[spec["form"]])  # noqa: E731
        out["named_query"] = {"query": name, **throughput(endpoint, call, args.clients, args.throughput_seconds,
                                                          args.throughput_requests, args.query_timeout + 5)}
        log(f"{endpoint.name} throughput {name}: {out['named_query']}")
    return out


def oxigraph_server(args, data: Path, work: Path, queries: dict) -> dict:
    location = work / "oxigraph-db"
    shutil.rmtree(location, ignore_errors=True)
    out: dict = {}
    start = time.perf_counter()
    load = subprocess.run([tool("oxigraph"), "load", "--location", str(location), "--file", str(data)],
                          capture_output=True, text=True, timeout=args.step_timeout, cwd="/")
    out["load_s"] = round(time.perf_counter() - start, 3)
    if load.returncode != 0:
        out["error"] = f"oxigraph load failed: {load.stderr.strip()[-500:]}"
        return out
    log(f"oxigraph load: {out['load_s']} s")

    def start_server() -> tuple[Service, Endpoint]:
        port = free_port()
        cmd = [tool("oxigraph"), "serve", "--location", str(location), "--bind", f"{HOST}:{port}",
               "--union-default-graph", "--timeout-s", str(int(args.query_timeout))]
        service = Service(cmd, work / f"oxigraph-serve-{port}.log")
        endpoint = Endpoint("oxigraph_server", port, "/query")
        wait_ready(endpoint, service, args.startup_limit)
        return service, endpoint

    service, endpoint = start_server()
    out["command"] = f"oxigraph serve --location DIR --bind {HOST}:PORT --union-default-graph"
    peak: dict = {}
    try:
        results = {}
        for name, spec in queries.items():
            call = (lambda s: lambda c: endpoint.sparql(c, s["substituted"], ACCEPT[s["form"]]))(spec)
            results.update(measure_http(endpoint, {name: (spec["form"], call)}, args.warmup, args.reps,
                                        args.query_timeout + 5))
            if results[name].get("timeout"):
                # Oxigraph may keep computing after its own timeout (docs/traps.md #3): restart it so the
                # next query does not share the CPU with an abandoned one.
                peak = merge_peak(peak, memory_of(service.pid))
                service.stop()
                service, endpoint = start_server()
        out["queries"] = results
        out["throughput"] = run_throughput(args, endpoint, queries, named_route=False)
        out["memory"] = merge_peak(peak, memory_of(service.pid))
    finally:
        service.stop()
        shutil.rmtree(location, ignore_errors=True)
    return out


def merge_peak(a: dict, b: dict) -> dict:
    if not a:
        return b
    return b if (b.get("total_mb") or 0) >= (a.get("total_mb") or 0) else a


def rdflib_baseline(args, data: Path, work: Path, queries: dict) -> dict:
    spec_file, out_file = work / "rdflib-queries.json", work / "rdflib-out.json"
    spec_file.write_text(json.dumps({n: {"text": s["substituted"], "form": s["form"]} for n, s in queries.items()}))
    budget = 1800 + len(queries) * (args.query_timeout * 2 + 30)
    start = time.perf_counter()
    try:
        done = subprocess.run([PYTHON, str(BENCH / "rdflib_baseline.py"), "--data", str(data), "--queries", str(spec_file),
                               "--timeout", str(args.query_timeout), "--reps", str(args.rdflib_reps),
                               "--out", str(out_file)], timeout=budget, cwd="/", stderr=None)
    except subprocess.TimeoutExpired:
        return {"error": f"the rdflib baseline did not finish in {budget:g} s"}
    if done.returncode != 0 or not out_file.exists():
        return {"error": f"the rdflib baseline failed (exit {done.returncode})"}
    out = json.loads(out_file.read_text())
    out["wall_s"] = round(time.perf_counter() - start, 3)
    return out


def export_nquads(store: Path, target: Path) -> int:
    import pyoxigraph as ox
    from wsiskg.graph.store import EmbeddedStore
    with EmbeddedStore.open(store, read_only=True) as opened:
        target.write_bytes(opened.dump(ox.RdfFormat.N_QUADS))
        return opened.quad_count()


# -- correctness ---------------------------------------------------------------------------------

def compare(queries: dict, engines: dict[str, dict]) -> tuple[dict, list[dict]]:
    """Per query: each engine's row count and whether it agrees with wsiskg_http (the reference)."""
    table, mismatches = {}, []
    for name in queries:
        reference_engine = next((e for e in ("wsiskg_http", "wsiskg_sparql", "wsiskg_cli") if "rows" in
                                 engines.get(e, {}).get(name, {})), None)
        entry = {"reference": reference_engine, "rows": {}, "agree": {}}
        reference = engines[reference_engine][name]["rows"] if reference_engine else None
        for engine, results in engines.items():
            result = results.get(name)
            if not result or "rows" not in result:
                continue
            rows = result["rows"]
            entry["rows"][engine] = len(rows)
            if reference is None or engine == reference_engine:
                continue
            strict = canon.canonical(rows) == canon.canonical(reference)
            same = strict or canon.lenient(rows) == canon.lenient(reference)
            entry["agree"][engine] = "same" if strict else ("same up to number forms / GROUP_CONCAT order" if same
                                                           else "DIFFERENT")
            if not same:
                mismatches.append({"query": name, "engine": engine, "reference": reference_engine,
                                   **canon.diff(reference, rows)})
        baselines = {e: v for e, v in entry["agree"].items() if e in ("oxigraph_server", "rdflib")}
        if baselines:
            confirmed = [e for e, v in baselines.items() if v != "DIFFERENT"]
            entry["confirmed_by"] = confirmed
        table[name] = entry
    for m in mismatches:
        m["our_answer_confirmed_by"] = table[m["query"]].get("confirmed_by", [])
    return table, mismatches


def value(result: dict | None):
    """The contract's cell: median ms, or "timeout" / "error", or None when not measured."""
    if not result:
        return None
    if result.get("median_ms") is not None:
        return result["median_ms"]
    if result.get("timeout"):
        return "timeout"
    if result.get("error"):
        return "error"
    return None


def strip_rows(results: dict) -> dict:
    return {name: {k: v for k, v in r.items() if k != "rows"} for name, r in results.items()}


# -- main ------------------------------------------------------------------------------------------

def main(argv=None) -> int:
    global MEMORY_LIMIT_GB
    parser = argparse.ArgumentParser(description="Benchmark wsiskg against rdflib and an Oxigraph server.")
    parser.add_argument("--triples", type=int, required=True, help="Size of the generated graph (at least the seed).")
    parser.add_argument("--out", type=Path, required=True, help="Results JSON.")
    parser.add_argument("--seed", type=int, default=20250708)
    parser.add_argument("--queries", nargs="*", default=None, help="Only these named queries (default: all).")
    parser.add_argument("--warmup", type=int, default=2, help="HTTP warm-up runs per query.")
    parser.add_argument("--reps", type=int, default=7, help="Timed HTTP runs per query (median reported).")
    parser.add_argument("--cold-reps", type=int, default=5,
                        help="Timed HTTP runs per query with Cache-Control: no-cache, past our caches (0: skip).")
    parser.add_argument("--cli-reps", type=int, default=3, help="CLI runs per query (0: skip the CLI).")
    parser.add_argument("--rdflib-reps", type=int, default=3)
    parser.add_argument("--query-timeout", type=float, default=60.0, help="Seconds per query run, every engine.")
    parser.add_argument("--no-rdflib", dest="rdflib", action="store_false")
    parser.add_argument("--no-oxigraph", dest="oxigraph", action="store_false")
    parser.add_argument("--no-link-all", dest="link_all", action="store_false",
                        help="Skip timing the linker and similarity over every statement.")
    parser.add_argument("--no-ingest", dest="ingest", action="store_false")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--throughput-seconds", type=float, default=10.0, help="0: skip throughput.")
    parser.add_argument("--throughput-requests", type=int, default=5000)
    parser.add_argument("--throughput-query", default="session-summary")
    parser.add_argument("--server-memory", nargs="+", choices=["auto", "always", "never"], default=["auto"],
                        help="`wsiskg serve --memory` (auto: the server's default); further values measure the "
                             "named queries again on a server with that setting (wsiskg_http_memory_<value>).")
    parser.add_argument("--server-workers", type=int, default=0, help="`wsiskg serve --workers` (0: its default).")
    parser.add_argument("--max-rows", type=int, default=10_000_000,
                        help="`wsiskg serve --max-rows`: high, so answers are compared whole.")
    parser.add_argument("--ingest-timeout", type=float, default=900.0)
    parser.add_argument("--memory-limit-gb", type=float, default=MEMORY_LIMIT_GB,
                        help="Address-space limit of the build, link, ingest and validate steps (0: none).")
    parser.add_argument("--startup-limit", type=float, default=900.0)
    parser.add_argument("--step-timeout", type=float, default=3600.0, help="Limit for build and other steps.")
    parser.add_argument("--workdir", type=Path, default=None, help="Keep the store and logs here (default: temporary).")
    parser.add_argument("--markdown", type=Path, default=None, help="Re-render this file's results section.")
    parser.add_argument("--results-glob", default=str(BENCH / "results" / "*.json"))
    args = parser.parse_args(argv)
    MEMORY_LIMIT_GB = args.memory_limit_gb

    work = args.workdir or Path(tempfile.mkdtemp(prefix="wsiskg-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    store = work / "store"
    # sentence vectors by text, kept between runs in one workdir as a rebuild keeps them (a first build
    # at 1M embeds 57k statements and their points: about 13 min each on 2 cores)
    kept_vectors = work / "vectors"
    if (store / "index").is_dir():
        shutil.rmtree(kept_vectors, ignore_errors=True)
        kept_vectors.mkdir()
        for cached in (store / "index").iterdir():
            if cached.is_dir():
                shutil.move(str(cached), str(kept_vectors / cached.name))
    shutil.rmtree(store, ignore_errors=True)
    started = time.perf_counter()
    report: dict = {"benchmark": "wsiskg bench/run.py", "requested_triples": args.triples, "seed": args.seed,
                    "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "machine": machine(),
                    "settings": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()}}
    try:
        queries, skipped = load_queries(args.queries)
        report["skipped_queries"] = skipped
        report["query_params"] = {n: s["params"] for n, s in queries.items() if s["params"]}

        log(f"generating about {args.triples} triples into {store}")
        report["generate"] = run_step(["prepare", "--store", str(store), "--triples", str(args.triples),
                                       "--seed", str(args.seed)], args.step_timeout, "prepare")
        report["vectors_kept_from_last_run"] = kept_vectors.is_dir() and any(kept_vectors.iterdir())
        if report["vectors_kept_from_last_run"]:
            (store / "index").mkdir(parents=True, exist_ok=True)
            for cached in kept_vectors.iterdir():
                shutil.move(str(cached), str(store / "index" / cached.name))
        report["build"] = run_step(["build", "--store", str(store)], args.step_timeout, "build")
        if "error" in report["build"] or report["build"].get("timeout"):
            raise RuntimeError(f"the build failed: {report['build']}")
        data = work / "graph.nq"
        report["triples"] = export_nquads(store, data)
        log(f"store holds {report['triples']} quads")
        if args.link_all:
            report["link_all"] = run_step(["link-all", "--store", str(store)], args.step_timeout, "link-all")
            report["similarity_all"] = run_step(["similarity-all", "--store", str(store)], min(args.step_timeout, 900),
                                                "similarity-all")

        # validate one new outcome document against the full graph
        entry = work / f"{NEW_SLUG}.ttl"
        entry.write_text(subprocess.run([PYTHON, str(BENCH / "steps.py"), "entry-turtle", "--store", str(store),
                                         "--slug", NEW_SLUG, str(DOCUMENT)], capture_output=True, text=True,
                                        check=True, timeout=300).stdout)
        cli_times, exit_codes = [], []
        for _ in range(3):
            ms, done = run_cli(["--store", str(store), "validate", str(entry)], 600)
            if ms is not None:
                cli_times.append(ms)
                exit_codes.append(done.returncode)
        report["validate"] = {"document": str(DOCUMENT.relative_to(REPO)), "cli_median_ms": median(cli_times),
                              "cli_exit_codes": exit_codes,
                              "in_process": run_step(["validate", "--store", str(store), str(entry)], 600, "validate")}
        log(f"validate: {report['validate']}")

        engines: dict[str, dict] = {}
        if args.cli_reps > 0:
            engines["wsiskg_cli"] = measure_cli(store, queries, args.cli_reps, args.query_timeout + 60)

        server = wsiskg_server(args, store, work, queries, args.server_memory[0])
        engines["wsiskg_http"] = server.pop("named")
        if "named_cold" in server:
            engines["wsiskg_http_cold"] = server.pop("named_cold")
        engines["wsiskg_sparql"] = server.pop("sparql")
        report["wsiskg_server"] = server
        for mode in args.server_memory[1:]:  # the same server with other --memory settings, for comparison
            other = wsiskg_server(args, store, work, queries, mode, full=False)
            engines[f"wsiskg_http_memory_{mode}"] = other.pop("named")
            report[f"wsiskg_server_memory_{mode}"] = other

        if args.oxigraph:
            ox = oxigraph_server(args, data, work, queries)
            engines["oxigraph_server"] = ox.pop("queries", {})
            report["oxigraph_server"] = ox
        if args.rdflib:
            rd = rdflib_baseline(args, data, work, queries)
            engines["rdflib"] = rd.pop("queries", {})
            report["rdflib"] = rd

        if args.ingest:
            ms, done = run_cli(["--store", str(store), "ingest", str(DOCUMENT), "--slug", NEW_SLUG, "--no-progress"],
                               args.ingest_timeout, limit_memory=True)
            report["ingest"] = {"document": str(DOCUMENT.relative_to(REPO)),
                                "cli_ms": round(ms, 1) if ms is not None else "timeout",
                                "cli_exit_code": done.returncode if done else None,
                                "cli_stderr": done.stderr.decode("utf-8", "replace")[-500:] if done else None}
            if ms is None:  # a CLI run that timed out would time out again: say so instead
                report["ingest"]["in_process"] = {"timeout": True, "limit_s": args.ingest_timeout,
                                                  "note": "not run: the CLI ingest timed out"}
            else:  # again (re-ingest replaces), in process, step by step
                report["ingest"]["in_process"] = run_step(["ingest", "--store", str(store), "--slug", NEW_SLUG,
                                                           str(DOCUMENT)], args.ingest_timeout, "ingest (again)")
            log(f"ingest: {report['ingest']}")

        agreement, mismatches = compare(queries, engines)
        report["agreement"] = agreement
        report["mismatches"] = mismatches
        report["queries"] = {name: {"wsiskg_http": value(engines.get("wsiskg_http", {}).get(name)),
                                    "rdflib": value(engines.get("rdflib", {}).get(name)) if args.rdflib else None,
                                    "oxigraph_server": value(engines.get("oxigraph_server", {}).get(name))
                                    if args.oxigraph else None,
                                    "wsiskg_http_cold": value(engines.get("wsiskg_http_cold", {}).get(name)),
                                    "wsiskg_sparql": value(engines.get("wsiskg_sparql", {}).get(name)),
                                    "wsiskg_cli": value(engines.get("wsiskg_cli", {}).get(name)),
                                    **{engine: value(results.get(name)) for engine, results in engines.items()
                                       if engine.startswith("wsiskg_http_memory_")},
                                    "rows": agreement[name]["rows"].get(agreement[name]["reference"] or "", None),
                                    "agree": agreement[name]["agree"]}
                             for name in queries}
        report["details"] = {engine: strip_rows(results) for engine, results in engines.items()}
        errors = [f"{e}: {n}" for e, results in engines.items() for n, r in results.items() if r.get("error")]
        report["errors"] = errors
        # A difference is a failure; worst is an answer of ours that no baseline confirms.
        report["unconfirmed"] = sorted(n for n, a in agreement.items() if "confirmed_by" in a and not a["confirmed_by"])
        report["ok"] = not mismatches
    except BaseException as exc:
        report["ok"] = False
        report["failure"] = f"{type(exc).__name__}: {exc}"
        log(f"failed: {report['failure']}")
        if isinstance(exc, KeyboardInterrupt):
            raise
    finally:
        report["total_s"] = round(time.perf_counter() - started, 1)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(report, indent=1) + "\n")
        log(f"wrote {args.out} in {report['total_s']} s")
        if not args.workdir:
            shutil.rmtree(work, ignore_errors=True)
    if args.markdown:
        import glob
        import report as render
        # (the results folder also holds other measurements: the linker's precision, the similarity's)
        files = sorted(f for f in set(glob.glob(args.results_glob)) | {str(args.out)}
                       if "requested_triples" in json.loads(Path(f).read_text()))
        render.write(args.markdown, [Path(f) for f in files])
    return 0 if report.get("ok") else 1


if __name__ == "__main__":
    sys.exit(main())
