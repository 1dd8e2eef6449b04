"""Which embedded store? Load time, memory and three typical queries, per engine, on one generated graph.

    python bench/store_compare.py --triples 10000 1000000 --out bench/store_compare.json

Each engine runs in its own process (so peak memory is its own), on the same N-Quads file.
A query that takes longer than --query-timeout seconds is recorded as a time-out.
"""
from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import platform
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from generate import generate  # noqa: E402

QUERIES = {
    "lookup": """PREFIX wsis: <https://w3id.org/wsis-kg/ontology#>
        SELECT ?p ?o WHERE { <https://w3id.org/wsis-kg/id/statement/wsis-forum-2025-session-440/3> ?p ?o }""",
    "coverage-matrix": """PREFIX wsis: <https://w3id.org/wsis-kg/ontology#>
        PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
        SELECT ?al ?goal (COUNT(DISTINCT ?s) AS ?n) WHERE {
          ?s wsis:addressesActionLine ?al ; wsis:supportsSDG ?sdg .
          ?sdg skos:broader* ?goal . ?goal a <http://metadata.un.org/sdg/ontology#Goal> .
        } GROUP BY ?al ?goal ORDER BY ?al ?goal""",
    "gap-minus": """PREFIX wsis: <https://w3id.org/wsis-kg/ontology#>
        SELECT ?target WHERE { ?al wsis:mapsToSDG ?target .
          MINUS { ?s wsis:supportsSDG ?target } } ORDER BY ?target""",
}
ENGINES = ["rdflib-memory", "pyoxigraph-memory", "pyoxigraph-disk"]


def run_engine(engine: str, path: str, timeout: float, queue) -> None:
    out = {"engine": engine}
    start = time.perf_counter()
    if engine == "rdflib-memory":
        import rdflib
        ds = rdflib.Dataset(default_union=True)
        ds.parse(path, format="nquads")
        run = lambda q: list(ds.query(q))
    else:
        import pyoxigraph as ox
        store = ox.Store(tempfile.mkdtemp(prefix="bench-ox-")) if engine == "pyoxigraph-disk" else ox.Store()
        store.bulk_load(path=path, format=ox.RdfFormat.N_QUADS)
        store.flush() if engine == "pyoxigraph-disk" else None
        run = lambda q: list(store.query(q, use_default_graph_as_union=True))
    out["load_s"] = round(time.perf_counter() - start, 3)
    queries = {}
    for name, text in QUERIES.items():
        times, rows = [], None
        for _ in range(5):
            t = time.perf_counter()
            rows = len(run(text))
            times.append(time.perf_counter() - t)
            if sum(times) > timeout:
                break
        queries[name] = {"median_ms": round(statistics.median(times) * 1000, 2), "rows": rows, "runs": len(times)}
    out["queries"] = queries
    out["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    queue.put(out)


def measure(engine: str, path: str, timeout: float) -> dict:
    queue = mp.Queue()
    proc = mp.Process(target=run_engine, args=(engine, path, timeout, queue))
    proc.start()
    proc.join(timeout * 6 + 600)
    if proc.is_alive():
        proc.terminate()
        return {"engine": engine, "error": "timed out"}
    return queue.get() if not queue.empty() else {"engine": engine, "error": f"exit {proc.exitcode}"}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--triples", type=int, nargs="+", default=[10000])
    parser.add_argument("--engines", nargs="+", default=ENGINES)
    parser.add_argument("--query-timeout", type=float, default=120.0)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    report = {"machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
              "sizes": {}}
    for size in args.triples:
        quads = generate(size)  # never fewer than the real reference data and entries (about 27k)
        with tempfile.NamedTemporaryFile("w", suffix=".nq", delete=False) as handle:
            handle.write("\n".join(quads) + "\n")
        results = [dict(measure(e, handle.name, args.query_timeout), quads=len(quads)) for e in args.engines]
        report["sizes"][str(size)] = results
        os.unlink(handle.name)
        print(json.dumps({size: results}, indent=1), file=sys.stderr)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
