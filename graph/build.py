"""`wsiskg build`: ontology + reference data + entries -> a validated store, swapped in atomically.

Besides the database, a build writes its similarity index (graph/simindex.py: every statement's
term weights, whatever linkers ran), so the next ingest need not read the corpus from the store.
"""
from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import pyoxigraph as ox
from rdflib import Graph

from . import namespaces as ns
from . import simindex
from .keep import kept_graph_files
from .paths import ENTRIES_DIR, user_entries_dir
from .reference import reference_graph
from .store import EmbeddedStore, activate_database, database_path, new_database_path
from .validate import (Entry, EntryError, Problem, Report, available_cpus, ontology_graph, parse_entry_bytes,
                       read_entry_file, validate_entries, without_linked_warnings)


class BuildFailed(Exception):
    def __init__(self, report: Report | None = None, errors: list[EntryError] | None = None):
        self.report = report or Report([])
        self.errors = errors or []
        super().__init__(f"{len(self.report.violations)} violation(s), {len(self.errors)} unreadable file(s)")


@dataclass
class BuildResult:
    path: Path
    graph_sizes: dict[str, int]
    warnings: list[Problem] = field(default_factory=list)
    version: int = 0


def entry_files(store_root: Path | None) -> dict[str, Path]:
    """doc-slug -> file; the user's entries folder overrides a shipped entry of the same name."""
    files = {p.stem: p for p in sorted(ENTRIES_DIR.glob("*.ttl"))}
    if store_root is not None:
        files.update({p.stem: p for p in sorted(user_entries_dir(store_root).glob("*.ttl"))})
    return files


def _ntriples(g: Graph) -> bytes:
    return g.serialize(format="nt", encoding="utf-8")


def _graphs_to_load(ontology: Graph, reference: Graph, entries: dict, kept_graphs: dict):
    """(graph IRI, N-Triples) of everything read, for EmbeddedStore.bulk_load; entries are written out
    as they are loaded (not all held as text at once); kept graphs load the very bytes that were checked."""
    yield ns.GRAPH_ONTOLOGY, _ntriples(ontology)
    yield ns.GRAPH_REFERENCE, _ntriples(reference)
    for slug, (g, _, _) in entries.items():
        yield ns.doc_graph(slug), _ntriples(g)
    for graph_iri, (_, _, data) in kept_graphs.items():
        yield graph_iri, data


def default_linkers() -> list[Callable[[EmbeddedStore], dict[str, bytes]]]:
    """Link computations run after the entries are loaded; each returns {graph IRI: N-Triples}."""
    from .link import link_documents
    from .similarity import compute as similarity
    return [link_documents, similarity]


def build(store_root: Path, progress: Callable | None = None, extra_entries: dict[str, Path] | None = None,
          linkers: list[Callable] | None = None) -> BuildResult:
    """Build a new database next to the current one; activate it only if it validates."""
    store_root = Path(store_root)
    previous_version = 0
    if database_path(store_root) is not None:
        try:
            with EmbeddedStore.open(store_root, read_only=True) as old:
                previous_version = old.version()
        except Exception:
            previous_version = 0
    files = entry_files(store_root)
    files.update(extra_entries or {})
    kept = kept_graph_files(store_root)
    steps = ["ontology", "reference data", *[f"entry {slug}" for slug in files],
             *(["kept graphs"] if kept else []), "loading", "links", "validation", "similarity index"]
    tick = progress(steps) if progress else (lambda label: None)

    db = new_database_path(store_root)
    store = EmbeddedStore(ox.Store(str(db)), store_root)
    try:
        tick("ontology")
        ontology = ontology_graph()
        tick("reference data")
        reference = reference_graph()

        entries, errors = {}, []
        for slug, path in files.items():
            tick(f"entry {slug}")
            try:
                g, text = read_entry_file(path)
            except EntryError as exc:
                errors.append(exc)
                continue
            entries[slug] = (g, text, path)
        if errors:
            raise BuildFailed(errors=errors)

        # Graphs added by `wsiskg import` / `wsiskg link`, kept in <store>/graphs/ (graph/keep.py).
        kept_graphs = {}
        if kept:
            tick("kept graphs")
        for graph_iri, path in kept.items():
            try:
                data = path.read_bytes()
                g, _ = parse_entry_bytes(data, str(path), fmt="nt")
            except OSError as exc:
                raise BuildFailed(errors=[EntryError(f"cannot read the file: {exc.strerror}", str(path))]) from None
            except EntryError as exc:
                raise BuildFailed(errors=[exc]) from None
            kept_graphs[graph_iri] = (g, path, data)

        tick("loading")
        store.bulk_load(_graphs_to_load(ontology, reference, entries, kept_graphs))
        tick("links")
        for linker in (default_linkers() if linkers is None else linkers):
            store.bulk_load(linker(store).items())

        tick("validation")
        to_validate = [Entry(reference, "", "reference data", whole=True),
                       *(Entry(g, text, str(path)) for g, text, path in entries.values()),
                       *(Entry(g, "", str(path)) for g, path, _ in kept_graphs.values())]
        report = Report(validate_entries(to_validate, store, workers=available_cpus()))
        if not report.conforms:
            raise BuildFailed(report)
        report = Report(without_linked_warnings(report.problems, store))  # the links are in the store now

        tick("similarity index")
        version = previous_version + 1
        simindex.save(simindex.read_corpus(store), store_root, db, version)
        store.set_version(version)
        sizes = store.graph_sizes()
        store.flush()
        store.close()
        activate_database(store_root, db)
    except BaseException:
        store.close()
        shutil.rmtree(db, ignore_errors=True)
        simindex.index_path(store_root, db).unlink(missing_ok=True)
        raise
    simindex.remove_other_indexes(store_root, db)
    return BuildResult(db, sizes, report.warnings, version)
