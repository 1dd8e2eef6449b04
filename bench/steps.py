"""Benchmark steps that run in a process of their own, so each one's time and peak memory are its own.

    python bench/steps.py prepare --triples N --seed S --store DIR     # write the generated graph as inputs of a store
    python bench/steps.py build --store DIR                            # graph.build.build: load, link, validate
    python bench/steps.py link-all --store DIR                         # the linker over every statement (not stored)
    python bench/steps.py similarity-all --store DIR                   # similarity over every statement (not stored)
    python bench/steps.py validate --store DIR FILE.ttl                # validate one entry file against the store
    python bench/steps.py ingest --store DIR FILE.txt                  # ingest one outcome document, step by step

Each prints one JSON object on stdout (seconds, peak RSS in MB and what it counted).

How the generated graph becomes a store (`prepare`): every synthetic document graph
(id:graph/doc/synthetic-*) is written as an entry file in <store>/entries/, and every synthetic
links graph (id:graph/links/synthetic-*, the generator's stand-in for the linker's output, reified
with method and score) as a kept graph in <store>/graphs/links/. `build` then runs the real
`graph.build.build` on them: ontology and reference data, every entry, the kept graphs, the linker
and the similarity linker on the real (seed) documents, and SHACL validation of every entry and
kept graph. The linker and similarity are not run over the synthetic statements inside the build:
the generator already gives each of them its machine links, and its sentences are drawn from a
small phrase list, so all-pairs similarity over them finds millions of "near-duplicates" (a
quadratic artefact of the generator, not of real documents). Their cost over every statement is
measured apart by `link-all` and `similarity-all`.
"""
from __future__ import annotations

import argparse
import json
import re
import resource
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

SYNTHETIC_GRAPH = re.compile(r"^(.*) <https://w3id\.org/wsis-kg/id/graph/(doc|links)/(synthetic-\d+)> \.$")


def peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def prepare(triples: int, seed: int, store: Path) -> dict:
    """Write the generated graph's synthetic parts as a store's entries and kept graphs."""
    from generate import generate
    start = time.perf_counter()
    quads = generate(triples, seed)
    generated = time.perf_counter() - start
    docs: dict[str, list[str]] = {}
    links: dict[str, list[str]] = {}
    other = 0
    for quad in quads:
        match = SYNTHETIC_GRAPH.match(quad)
        if not match:
            other += 1  # ontology, reference data, shipped entries: the build makes these itself
            continue
        (docs if match.group(2) == "doc" else links).setdefault(match.group(3), []).append(match.group(1) + " .")
    entries, kept = store / "entries", store / "graphs" / "links"
    for folder in (entries, kept):
        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir(parents=True)
    for slug, lines in docs.items():
        (entries / f"{slug}.ttl").write_text("\n".join(lines) + "\n", encoding="utf-8")  # N-Triples is Turtle
    for slug, lines in links.items():
        (kept / f"{slug}.nt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return {"generated_quads": len(quads), "generate_s": round(generated, 3), "synthetic_documents": len(docs),
            "synthetic_doc_triples": sum(map(len, docs.values())),
            "synthetic_link_triples": sum(map(len, links.values())), "base_quads": other,
            "seconds": round(time.perf_counter() - start, 3), "peak_rss_mb": peak_rss_mb()}


def is_seed(graph_iri: str) -> bool:
    return "/graph/doc/synthetic-" not in graph_iri


def seed_linkers(timings: dict):
    """The build's linkers, restricted to the real documents (see the module docstring)."""
    from wsiskg.graph import namespaces as ns
    from wsiskg.graph.linker import link_documents
    from wsiskg.graph.build import default_linkers
    from wsiskg.graph.similarity import CLUSTERS_GRAPH, STATEMENTS_QUERY, all_pairs, cluster_ntriples, similarity_ntriples

    def links(store):
        start = time.perf_counter()
        graphs = [g for g in store.graph_sizes() if g.startswith(ns.ID + "graph/doc/") and is_seed(g)]
        out = link_documents(store, graphs)
        timings["link_seed_s"] = round(time.perf_counter() - start, 3)
        return out

    def similarity(store):
        start = time.perf_counter()
        items = [(s.value, t.value, d.value) for s, t, d in store.query(STATEMENTS_QUERY).rows
                 if "/doc/synthetic-" not in d.value]
        # by meaning where the model is installed, as a build (the cache keeps the other statements')
        pairs = all_pairs(items, store.path, prune=False)
        out = {ns.links_graph("similarity"): similarity_ntriples(pairs),
               CLUSTERS_GRAPH: cluster_ntriples((p.a, p.b) for p in pairs)}
        timings["similarity_seed_s"] = round(time.perf_counter() - start, 3)
        return out

    # every other linker of the build as it is: mandates' addressees, the texts' links, uptake (every
    # statement against the adopted texts' paragraphs: linear in the statements), similar deliverables
    rest = [linker for linker in default_linkers() if linker.__name__ not in ("link_documents", "compute")]
    assert len(rest) == len(default_linkers()) - 2, "the build's document linkers were renamed"
    return [links, similarity, *rest]


def build(store: Path) -> dict:
    from wsiskg.graph.build import BuildFailed, build as run_build
    from wsiskg.graph.store import EmbeddedStore
    marks: list[tuple[str, float]] = []

    def progress(steps):
        return lambda label: marks.append((label, time.perf_counter()))

    timings: dict = {}
    start = time.perf_counter()
    try:
        result = run_build(store, progress=progress, linkers=seed_linkers(timings))
    except BuildFailed as exc:
        return {"error": f"build failed: {exc}", "problems": [str(p) for p in exc.report.violations[:20]],
                "errors": [str(e) for e in exc.errors[:20]]}
    total = time.perf_counter() - start
    steps: dict[str, float] = {}
    for (label, t0), (_, t1) in zip(marks, marks[1:] + [("end", start + total)]):
        key = "entries" if label.startswith("entry ") else label
        steps[key] = steps.get(key, 0.0) + (t1 - t0)
    with EmbeddedStore.open(store, read_only=True) as opened:
        quads = opened.quad_count()
        statements = int(opened.query("PREFIX wsis: <https://w3id.org/wsis-kg/ontology#> "
                                      "SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s wsis:text ?t }").rows[0][0].value)
    return {"seconds": round(total, 3), "steps_s": {k: round(v, 3) for k, v in steps.items()}, **timings,
            "quads": quads, "statements": statements, "graphs": len(result.graph_sizes),
            "warnings": len(result.warnings), "peak_rss_mb": peak_rss_mb()}


def link_all(store: Path) -> dict:
    from wsiskg.graph.linker import link_documents
    from wsiskg.graph.store import EmbeddedStore
    start = time.perf_counter()
    with EmbeddedStore.open(store, read_only=True) as opened:
        out = link_documents(opened)
    triples = sum(data.count(b"\n") for data in out.values())
    return {"seconds": round(time.perf_counter() - start, 3), "link_graphs": len(out), "link_triples": triples,
            "peak_rss_mb": peak_rss_mb()}


def similarity_all(store: Path) -> dict:
    from wsiskg.graph.similarity import STATEMENTS_QUERY, similar_pairs
    from wsiskg.graph.store import EmbeddedStore
    start = time.perf_counter()
    with EmbeddedStore.open(store, read_only=True) as opened:
        items = [(s.value, t.value, d.value) for s, t, d in opened.query(STATEMENTS_QUERY).rows]
    pairs = similar_pairs(items)
    return {"seconds": round(time.perf_counter() - start, 3), "statements": len(items), "pairs": len(pairs),
            "peak_rss_mb": peak_rss_mb()}


def validate_one(store: Path, file: Path) -> dict:
    """Open the store, validate the entry file against it (what `wsiskg validate` does, minus start-up)."""
    start = time.perf_counter()
    from wsiskg.graph.store import EmbeddedStore
    from wsiskg.graph.validate import validate_files
    imported = time.perf_counter()
    with EmbeddedStore.open(store, read_only=True) as opened:
        opened_at = time.perf_counter()
        report, errors = validate_files([file], opened)
    done = time.perf_counter()
    return {"seconds": round(done - opened_at, 3), "open_s": round(opened_at - imported, 3),
            "import_s": round(imported - start, 3), "conforms": report.conforms and not errors,
            "violations": len(report.violations), "peak_rss_mb": peak_rss_mb()}


def ingest_one(store: Path, file: Path, slug: str | None) -> dict:
    start = time.perf_counter()
    from wsiskg.graph.ingest import IngestError, ingest
    imported = time.perf_counter()
    marks: list[tuple[str, float]] = []

    def progress(steps):
        return lambda label: marks.append((label, time.perf_counter()))
    try:
        result = ingest(file, store, slug=slug, progress=progress)
    except IngestError as exc:
        return {"error": str(exc)}
    done = time.perf_counter()
    steps = {label: round(t1 - t0, 3) for (label, t0), (_, t1) in zip(marks, marks[1:] + [("end", done)])}
    return {"seconds": round(done - imported, 3), "import_s": round(imported - start, 3), "steps_s": steps,
            "statements": result.statements, "links": result.links, "similar_pairs": result.similar_pairs,
            "peak_rss_mb": peak_rss_mb()}


def entry_turtle(document: Path, slug: str) -> str:
    """The entry file `ingest` would write for an outcome document (to validate it alone)."""
    from wsiskg.graph.ingest import read_document, to_turtle
    from wsiskg.graph.parse import parse_document
    return to_turtle(parse_document(read_document(document), document.name), slug, document.name)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="One benchmark step in its own process (JSON on stdout).")
    parser.add_argument("step", choices=["prepare", "build", "link-all", "similarity-all", "validate", "ingest",
                                         "entry-turtle"])
    parser.add_argument("--store", type=Path, required=True)
    parser.add_argument("--triples", type=int, default=10000)
    parser.add_argument("--seed", type=int, default=20250708)
    parser.add_argument("--slug", default=None)
    parser.add_argument("file", nargs="?", type=Path)
    args = parser.parse_intermixed_args(argv)
    if args.step == "prepare":
        out = prepare(args.triples, args.seed, args.store)
    elif args.step == "build":
        out = build(args.store)
    elif args.step == "link-all":
        out = link_all(args.store)
    elif args.step == "similarity-all":
        out = similarity_all(args.store)
    elif args.step == "validate":
        out = validate_one(args.store, args.file)
    elif args.step == "ingest":
        out = ingest_one(args.store, args.file, args.slug)
    else:
        sys.stdout.write(entry_turtle(args.file, args.slug or args.file.stem))
        return 0
    print(json.dumps(out))
    return 0 if "error" not in out else 1


if __name__ == "__main__":
    sys.exit(main())
