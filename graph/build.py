"""`wsiskg build`: ontology + reference data + entries -> a validated store, swapped in atomically.

Besides the database, a build writes its similarity index (graph/simindex.py: every statement's
term weights, whatever linkers ran, and with an embedding model their vectors), so the next ingest
need not read the corpus from the store.

What a build keeps: besides the shipped sources it loads everything users added beside the store
(ingested entries in `<store>/entries/`, imports and external links in `<store>/graphs/`) and replays
the journal of writes made through `/update` and `/data` (graph/journal.py), validating all of it.
It holds the store's write lock from start to swap, so no write can land in the database it replaces.
"""
from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import pyoxigraph as ox
from rdflib import Graph

from . import journal
from . import namespaces as ns
from . import simindex, summaries, unbis, uptake
from .embed import load_model
from .keep import kept_graph_files
from .paths import ENTRIES_DIR, user_entries_dir
from .reference import reference_graph
from .store import EmbeddedStore, activate_database, database_path, new_database_path
from .validate import (Entry, EntryError, Problem, Report, available_cpus, ontology_graph, parse_entry_bytes,
                       read_entry_file, restore_datatypes, validate_entries, without_linked_warnings)


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
    notes: list[str] = field(default_factory=list)  # what the build left out, and why


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
    yield from unbis.graphs_to_load()  # the UNBIS Thesaurus and our themes' mapping, id:graph/unbis
    for slug, (g, _, _) in entries.items():
        yield ns.doc_graph(slug), _ntriples(g)
    for graph_iri, (_, _, data) in kept_graphs.items():
        yield graph_iri, data


def resolution_texts() -> list:
    """(graph IRI, graph, file) of the GA's texts and their mandates (graph/texts.py); a text the
    parser cannot read fails the build with its file and line, before anything is stored."""
    from .resolutions import ParseError
    from .texts import text_graphs
    try:
        return list(text_graphs())
    except ParseError as exc:
        raise BuildFailed(errors=[EntryError(exc.reason, exc.file, exc.line)]) from None


def default_linkers() -> list[Callable[[EmbeddedStore], dict[str, bytes]]]:
    """Link computations run after the entries are loaded; each returns {graph IRI: N-Triples}."""
    from .linker import link_documents
    from .mandates import link_addressees
    from .similarity import compute as similarity
    from .texts import link_resolutions
    from .uptake import link_uptake  # after link_resolutions: it compares the paragraphs' links too
    from .deliverables import link_deliverables  # reads the mandates, loaded with the resolutions
    return [link_documents, similarity, link_addressees, link_resolutions, link_uptake, link_deliverables]


BUILD_LOCK_WAIT = 120.0  # seconds a build waits for a running write (an ingest, a server's write) to end


def build(store_root: Path, progress: Callable | None = None, extra_entries: dict[str, Path] | None = None,
          linkers: list[Callable] | None = None, restore_to: int | None = None) -> BuildResult:
    """Build a new database next to the current one; activate it only if it validates.

    `restore_to`: replay only the journal entries up to that version, and set the later ones aside
    (journal/undone/) once the new database is in use (`wsiskg restore`)."""
    store_root = Path(store_root)
    with journal.store_lock(store_root, "a build", wait=BUILD_LOCK_WAIT):
        return _build(store_root, progress, extra_entries, linkers, restore_to)


def _replay_journal(store: EmbeddedStore, entries: list) -> list[Entry]:
    """Apply the API writes again, in order; the graphs they touched, to validate as they now are."""
    touched = {}
    for entry in entries:
        try:
            store.update(entry.update)
        except Exception as exc:  # a syntax or engine error in a file the user may have edited
            raise BuildFailed(errors=[EntryError(f"the journal entry cannot be applied: {exc}", str(entry.path))]) from None
        for graph in entry.graphs:
            touched[graph] = entry.path
    checks = []
    for graph, path in touched.items():
        if graph in (ns.GRAPH_ONTOLOGY, ns.GRAPH_REFERENCE):
            continue  # validated whole with the reference data below
        data = store.dump(ox.RdfFormat.N_TRIPLES, graph)
        if data:
            g, _ = parse_entry_bytes(data, f"{path} (graph <{graph}> after replay)", fmt="nt")
            checks.append(Entry(restore_datatypes(g), "", f"{path} (graph <{graph}> after replay)"))
    return checks


def _build(store_root, progress, extra_entries, linkers, restore_to) -> BuildResult:
    previous_version = 0
    if database_path(store_root) is not None:
        try:
            with EmbeddedStore.open(store_root, read_only=True) as old:
                previous_version = old.version()
        except Exception:
            previous_version = 0
    journal.recover(store_root, previous_version)  # files a killed writer left (we hold the write lock)
    files = entry_files(store_root)
    files.update(extra_entries or {})
    kept = kept_graph_files(store_root)
    api_writes = journal.entries(store_root, upto=restore_to)
    steps = ["ontology", "reference data", *[f"entry {slug}" for slug in files],
             *(["kept graphs"] if kept else []), "resolutions", "loading", "links",
             *(["journal"] if api_writes else []), "summaries", "validation", "similarity index"]
    tick = progress(steps) if progress else (lambda label: None)

    db = new_database_path(store_root)
    store = EmbeddedStore(ox.Store(str(db)), store_root)
    try:
        tick("ontology")
        ontology = ontology_graph()
        tick("reference data")
        try:
            reference = reference_graph()
            unbis.theme_mapping()  # read (and checked) here, so a bad row fails before anything is loaded
        except EntryError as exc:  # a reference table row that cannot become RDF, with its file and line
            raise BuildFailed(errors=[exc]) from None

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

        tick("resolutions")
        texts = resolution_texts()

        tick("loading")
        store.bulk_load(_graphs_to_load(ontology, reference, entries, kept_graphs))
        store.bulk_load((graph_iri, _ntriples(g)) for graph_iri, g, _ in texts)
        tick("links")
        for linker in (default_linkers() if linkers is None else linkers):
            store.bulk_load(linker(store).items())
        replayed = []
        if api_writes:
            tick("journal")
            replayed = _replay_journal(store, api_writes)
            if any(g in (ns.GRAPH_ONTOLOGY, ns.GRAPH_REFERENCE) for e in api_writes for g in e.graphs):
                reference = Graph()  # written through the API (an operator's choice): check it as it now is
                reference.parse(data=store.dump(ox.RdfFormat.N_TRIPLES, ns.GRAPH_REFERENCE).decode("utf-8"), format="nt")
                restore_datatypes(reference)
        tick("summaries")  # from everything above, the API's writes included
        for operation in summaries.rebuild_operations():  # one transaction each: the peak of one, not of all
            store.update(operation)

        tick("validation")
        to_validate = [Entry(reference, "", "reference data", whole=True), *unbis.entries_to_validate(),
                       *(Entry(g, text, str(path)) for g, text, path in entries.values()),
                       *(Entry(g, "", str(path)) for g, path, _ in kept_graphs.values()),
                       *(Entry(g, "", file) for _, g, file in texts),
                       *replayed]
        report = Report(validate_entries(to_validate, store, workers=available_cpus()))
        if not report.conforms:
            raise BuildFailed(report)
        report = Report(without_linked_warnings(report.problems, store))  # the links are in the store now

        tick("similarity index")
        version = previous_version + 1
        simindex.save(simindex.read_corpus(store), store_root, db, version)
        model = load_model()
        if model is not None:  # vectors from the text cache: the similarity linker has just embedded them
            simindex.save_embedded(simindex.read_embedded(store, store_root, model), store_root, db, version)
            simindex.save_uptake_sums(uptake.document_point_sums(store, model), store_root, db, version, model.name)
        store.set_version(version)
        sizes = store.graph_sizes()
        store.flush()
        store.close()
        activate_database(store_root, db)
        if restore_to is not None:
            journal.set_aside_after(store_root, restore_to)
    except BaseException:
        store.close()
        shutil.rmtree(db, ignore_errors=True)
        simindex.index_path(store_root, db).unlink(missing_ok=True)
        simindex.embedding_index_path(store_root, db).unlink(missing_ok=True)
        raise
    simindex.remove_other_indexes(store_root, db)
    from .deliverables import note
    return BuildResult(db, sizes, report.warnings, version, [n for n in [note(model)] if n])
