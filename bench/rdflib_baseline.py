"""The rdflib baseline: rdflib's default in-memory store behind the same query text.

    python bench/rdflib_baseline.py --data graph.nq --queries queries.json --timeout 60 --reps 3 --out out.json

queries.json: {"NAME": {"text": SPARQL with parameters already written in, "form": "SELECT"|"CONSTRUCT"|...}}.

The graph is loaded once into an `rdflib.Dataset(default_union=True)` (the default graph is the
union of the named graphs, as in our store). Each query then runs in a child forked from the loaded
process (copy-on-write, so nothing is reloaded), because a Python thread cannot be stopped: a query
past its deadline is ended by killing its child (docs/traps.md #3), and is recorded as a time-out.
The first run of a query is timed and its answer kept; further runs follow while the total stays
within the limit, and the median of the runs is reported.
"""
from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import resource
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import canon  # noqa: E402

DATASET = None


def _run(text: str, form: str, reps: int, budget: float, conn) -> None:
    """In the forked child: run the query up to `reps` times, sending each time, then the answer."""
    try:
        rows = None
        spent = 0.0
        for i in range(reps):
            start = time.perf_counter()
            result = DATASET.query(text)
            if form == "SELECT":
                variables = [str(v) for v in result.vars]
                answer = [tuple(canon.from_rdflib_term(row[v]) if row[v] is not None else "" for v in variables)
                          for row in result]
            elif form == "ASK":
                answer = [(str(bool(result.askAnswer)),)]
            else:
                answer = [tuple(canon.from_rdflib_term(t) for t in triple) for triple in result]
            elapsed = time.perf_counter() - start
            spent += elapsed
            conn.send(("time", elapsed * 1000))
            if rows is None:
                rows = answer
                conn.send(("rows", rows))
            if spent > budget:
                break
        conn.send(("done", None))
    except BaseException as exc:  # noqa: BLE001 - reported, the child exits anyway
        conn.send(("error", f"{type(exc).__name__}: {str(exc)[:500]}"))
    finally:
        conn.close()


def run_query(name: str, spec: dict, timeout: float, reps: int) -> dict:
    ctx = mp.get_context("fork")
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_run, args=(spec["text"], spec.get("form", "SELECT"), reps, timeout, child))
    proc.start()
    child.close()
    times, rows, error = [], None, None
    deadline = time.monotonic() + timeout  # for the run under way
    try:
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not parent.poll(remaining):
                break
            try:
                kind, value = parent.recv()
            except EOFError:
                error = error or f"the query process ended (exit {proc.exitcode})"
                break
            if kind == "time":
                times.append(value)
                deadline = time.monotonic() + timeout
            elif kind == "rows":
                rows = value
            elif kind == "error":
                error = value
                break
            else:
                break
    finally:
        if proc.is_alive():
            proc.kill()
        proc.join(10)
        parent.close()
    out = {"runs": len(times)}
    if times:
        out["median_ms"] = round(statistics.median(times), 2)
        out["times_ms"] = [round(t, 2) for t in times]
    elif error:
        out["error"] = error
    else:
        out["timeout"] = True
    if rows is not None:
        out["rows"] = rows
    return out


def main(argv=None) -> int:
    global DATASET
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--queries", type=Path, required=True)
    parser.add_argument("--timeout", type=float, default=60.0)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    import rdflib
    queries = json.loads(args.queries.read_text())
    start = time.perf_counter()
    DATASET = rdflib.Dataset(default_union=True)
    DATASET.parse(str(args.data), format="nquads")
    load_s = time.perf_counter() - start
    report = {"engine": "rdflib", "rdflib": rdflib.__version__, "load_s": round(load_s, 3),
              "quads": sum(len(g) for g in DATASET.graphs()),
              "load_peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1), "queries": {}}
    for name, spec in queries.items():
        report["queries"][name] = run_query(name, spec, args.timeout, args.reps)
        summary = {k: v for k, v in report["queries"][name].items() if k != "rows"}
        print(f"rdflib {name}: {summary}", file=sys.stderr, flush=True)
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    report["peak_rss_mb"] = max(report["load_peak_rss_mb"], round(children, 1))
    args.out.write_text(json.dumps(report))
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    sys.exit(main())
