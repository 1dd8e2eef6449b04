"""`wsiskg documents` and `wsiskg remove SLUG`: the source documents in the store, and taking an
ingested one out again.

Removal is the mirror of ingest (graph/ingest.py), and as atomic: under the store's write lock, one
transaction drops the document's graph, its links graph, its similarity pairs and its uptake links (and
recomputes the summaries' rows its parts added to, graph/summaries.py), and
the entry file leaves `<store>/entries/` with that commit (graph/journal.py), so the next build does not bring it back.
Shipped documents are part of the package and cannot be removed.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from . import journal, library, summaries
from . import namespaces as ns
from .build import entry_files
from .paths import user_entries_dir
from .similarity import clusters_change_update, document_statements, remove_document_pairs_update
from .uptake import remove_document_update as remove_document_uptake_update
from .store import EmbeddedStore


class DocumentError(Exception):
    """A document that cannot be removed (unknown, or shipped); the message says what to do."""


@dataclass
class Document:
    slug: str
    iri: str
    title: str
    file: str
    statements: int
    origin: str  # "ingested" | "shipped"


def list_documents(store, store_root: Path) -> list[Document]:
    ingested = {p.stem for p in user_entries_dir(store_root).glob("*.ttl")}
    result = store.query(library.get("documents").text)
    found = []
    for row in result.dicts():
        graph = row["graph"].value
        if not graph.startswith(ns.ID + "graph/doc/"):
            continue
        slug = graph[len(ns.ID + "graph/doc/"):]
        found.append(Document(slug, row["document"].value, row.get("title").value if row.get("title") else "",
                              row.get("file").value if row.get("file") else "", int(row["statements"].value),
                              "ingested" if slug in ingested else "shipped"))
    return found


def remove_document(store_root: Path, slug: str) -> int:
    """Take an ingested document out of the store and the entries folder; returns the new version."""
    entry = user_entries_dir(store_root) / f"{slug}.ttl"
    if not entry.is_file():
        if slug in entry_files(None):
            raise DocumentError(f"{slug} is a shipped document, part of the package: it cannot be removed")
        raise DocumentError(f"no ingested document named {slug!r}: `wsiskg documents` lists them")
    with journal.store_lock(store_root, f"a removal of {slug}"):
        store = EmbeddedStore.open(store_root)
        try:
            journal.recover(store_root, store.version())
            landing = journal.Landing(store_root, store.version() + 1)
            landing.remove(entry)
            landing.stage()
            doc_iri = ns.entity("doc", slug)
            update = " ;\n".join(part for part in (
                clusters_change_update(store, document_statements(store, doc_iri), []),
                remove_document_pairs_update(doc_iri), remove_document_uptake_update(doc_iri),
                f"DROP SILENT GRAPH <{ns.doc_graph(slug)}>", f"DROP SILENT GRAPH <{ns.links_graph(slug)}>",
                summaries.document_change_update(doc_iri)) if part)
            try:
                store.update(update)
            except BaseException:
                landing.discard()
                raise
            landing.land()
            return store.version()
        finally:
            store.close()
