"""Graphs added by `wsiskg import` and `wsiskg link`, kept beside the store so a rebuild keeps them.

Like `ingest` keeps its entry files in `<store>/entries/`, these commands keep each graph they load
as N-Triples in `<store>/graphs/`, the file's path naming the graph:

    <store>/graphs/import/wsis-stocktaking.nt        -> id:graph/import/wsis-stocktaking
    <store>/graphs/links/external-wikidata.nt        -> id:graph/links/external-wikidata

`wsiskg build` loads every such file into its graph (and validates it); deleting the file and
rebuilding removes the graph.
"""
from __future__ import annotations

import re
from pathlib import Path

from . import namespaces as ns

GRAPH_PREFIX = ns.ID + "graph/"
# Only these kinds of graph are kept; ontology, reference, doc and meta graphs are built from sources.
KEPT_KINDS = ("import", "links")
_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,80}$")


def kept_graphs_dir(store_root: Path) -> Path:
    return Path(store_root) / "graphs"


def kept_graph_path(store_root: Path, graph_iri: str) -> Path:
    """The file for `graph_iri` (id:graph/import/<name> or id:graph/links/<name>)."""
    if not graph_iri.startswith(GRAPH_PREFIX):
        raise ValueError(f"<{graph_iri}> is not one of our graphs")
    kind, _, name = graph_iri[len(GRAPH_PREFIX):].partition("/")
    if kind not in KEPT_KINDS or not _NAME.match(name):
        raise ValueError(f"<{graph_iri}> is not an import or links graph with a simple name")
    return kept_graphs_dir(store_root) / kind / f"{name}.nt"


def kept_graph_files(store_root: Path | None) -> dict[str, Path]:
    """graph IRI -> kept N-Triples file, for `build`."""
    if store_root is None:
        return {}
    found = {}
    for kind in KEPT_KINDS:
        for path in sorted((kept_graphs_dir(store_root) / kind).glob("*.nt")):
            if _NAME.match(path.stem):
                found[f"{GRAPH_PREFIX}{kind}/{path.stem}"] = path
    return found


def replace_kept_graph(store, store_root: Path, graph_iri: str, ntriples: bytes) -> Path:
    """Replace the graph in the store (one transaction) and keep its copy for later rebuilds.

    Under the store's write lock, the copy is staged first and moved into place right after the store
    took the graph (graph/journal.py), so a failure leaves both as they were and a kill in between
    is finished by the next writer.
    """
    from . import journal
    path = kept_graph_path(store_root, graph_iri)
    with journal.store_lock(store_root, f"a write of <{graph_iri}>"):
        journal.require_current(store, store_root)
        journal.recover(store_root, store.version())
        landing = journal.Landing(store_root, store.version() + 1)
        landing.put(path, ntriples)
        landing.stage()
        try:
            store.replace_graphs({graph_iri: ntriples})
        except BaseException:
            landing.discard()
            raise
        landing.land()
    return path
