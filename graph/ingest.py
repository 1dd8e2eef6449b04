"""`wsiskg ingest FILE`: an outcome document -> entries -> links -> validation -> store, atomically.

Order of work, so that nothing is half-done: parse and build everything in memory; then, holding the
store's write lock (graph/journal.py), validate; score the document's statements against the corpus;
stage the entry file; in one transaction, replace the document's graph and its links graph and swap
its pairs in the similarity graph; and only then move the entry file into the store's entries folder,
so every later rebuild keeps it. A kill between the two is finished (or undone) by the next writer.
An unreadable or invalid document stops before anything is written.

Similarity is incremental: only the pairs with one of the document's statements are computed (its
rows against every statement of the corpus, idf over the whole corpus with the document in it), so
they are exactly the pairs the all-pairs computation would give the document. Pairs between two
other documents stay as they were, scored with the idf of their time; `wsiskg build` recomputes
them all. The corpus comes from the similarity index (graph/simindex.py), which is written back
after the commit; when it is missing or stale the corpus is read from the store instead. With an
embedding model (graph/embed.py) the index holds vectors, and only the document's new texts are
embedded; `threshold` (default: the model's, or TF-IDF's) is the lowest score of a stored pair.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from rdflib import Graph, URIRef

from . import journal
from . import namespaces as ns
from . import embed, simindex
from .link import Linker, links_ntriples
from .parse import ParseError, ParsedDocument, parse_document
from .paths import FileProblem, read_user_file, user_entries_dir
from .similarity import Corpus, insert_pairs_update, remove_document_pairs_update
from .store import EmbeddedStore, replace_graphs_update
from .validate import EntryError, Problem, context_for, parse_entry_bytes, validate

TEXT = URIRef(ns.WSIS + "text")
STATEMENT_CLASSES = {"KeyIssue", "Achievement", "Challenge", "Recommendation", "Commitment"}
MAX_BYTES = 5 * 1024 * 1024


class IngestError(Exception):
    def __init__(self, message: str, problems: list[Problem] | None = None):
        self.problems = problems or []
        super().__init__(message)


@dataclass
class IngestResult:
    slug: str
    statements: int
    links: int
    similar_pairs: int  # pairs between the document's statements and those of other documents
    entry_file: Path
    counts: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def _lit(value: str, lang: str | None = None) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")
    return f'"{escaped}"' + (f"@{lang}" if lang else "")


def read_document(path: Path) -> str:
    try:
        data = read_user_file(path, MAX_BYTES, "outcome document")
    except FileProblem as exc:
        raise IngestError(str(exc)) from None
    if b"\x00" in data:
        raise IngestError(f"{path}: this is a binary file, not a text document (convert it to plain text first)")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        try:
            return data.decode("cp1252")
        except UnicodeDecodeError:
            raise IngestError(f"{path}: not UTF-8 text (byte {exc.start})") from None


def to_turtle(doc: ParsedDocument, slug: str, filename: str) -> str:
    """The entry file for a parsed document, in the same shape curators write by hand."""
    doc_iri = ns.entity("doc", slug)
    session_iri = ns.entity("session", slug) if doc.kind == "session-outcome" and doc.date else None
    out = [ns.turtle_prefixes(), f"# Ingested from {filename} by `wsiskg ingest`; edit freely, then `wsiskg build`.\n"]
    out.append(f"<{doc_iri}> a wsis:SourceDocument ;\n    dcterms:title {_lit(doc.title or filename)} ;\n"
               f"    dcterms:identifier {_lit(filename)}" + (f" ;\n    wsis:describesSession <{session_iri}>" if session_iri else "") + " .\n")
    if session_iri:
        parts = [f"<{session_iri}> a wsis:Session", f"dcterms:title {_lit(doc.title or filename)}",
                 f'dcterms:date "{doc.date.isoformat()}"^^xsd:date',
                 f"wsis:partOfProcess <{ns.entity('process', 'wsis-forum')}>"]
        if doc.url:
            parts.append(f"schema:url <{doc.url}>")
        out.append(" ;\n    ".join(parts) + " .\n")
    for n, st in enumerate(doc.statements, start=1):
        kind = st.kind if st.kind in STATEMENT_CLASSES else "KeyIssue"
        parts = [f"<{ns.entity('statement', slug, str(n))}> a wsis:{kind}",
                 f"wsis:text {_lit(st.text, 'en')}",
                 f"prov:wasDerivedFrom <{doc_iri}>",
                 f'wsis:sourceLine "{st.line}"^^xsd:positiveInteger',
                 f'wsis:sourceEndLine "{max(st.end_line, st.line)}"^^xsd:positiveInteger']
        if st.section:
            parts.append(f"wsis:sourceSection {_lit(st.section)}")
        if session_iri:
            parts.append(f"wsis:fromSession <{session_iri}>")
        out.append(" ;\n    ".join(parts) + " .\n")
    return "\n".join(out)


def _similar_pairs(store, store_root: Path, database: Path | None, doc_iri: str, mine: list[tuple[str, str, str]],
                   threshold: float | None, tick):
    """The pairs of the document's statements (`mine`) with the corpus, by the method in use, and a
    function that saves the updated index for a store version."""
    model = embed.load_model()
    if model is None:
        corpus = simindex.load(store_root, database, store.version()) if database else None
        if corpus is None:  # missing, or stale (another database, or a write since): slower, same result
            tick("similarity index: reading the store")
            corpus = simindex.read_corpus(store)
        tick("similarity")
        corpus = corpus.without_document(doc_iri).plus(Corpus.from_items(mine))
        pairs = corpus.pairs(corpus.rows_of(doc_iri), **({} if threshold is None else {"threshold": threshold}))
        return pairs, lambda version: simindex.save(corpus, store_root, database, version)
    vectors = simindex.load_embedded(store_root, database, store.version(), model.name) if database else None
    if vectors is None:  # as above; vectors come from the text cache, so only new texts are embedded
        tick("similarity index: reading the store")
        vectors = simindex.read_embedded(store, store_root, model)
    tick("similarity")
    vectors = vectors.without_document(doc_iri).plus(embed.EmbeddedCorpus.from_items(mine, model, store_root))
    pairs = vectors.pairs(vectors.rows_of(doc_iri), threshold)
    return pairs, lambda version: simindex.save_embedded(vectors, store_root, database, version)


def ingest(path: Path | str, store_root: Path, slug: str | None = None, progress=None,
           threshold: float | None = None) -> IngestResult:
    path = Path(path)
    slug = ns.slugify(slug or path.stem)
    if not slug:
        raise IngestError(f"{path}: cannot make a document name from the file name; pass --slug")
    tick = progress(["parse", "link", "validate", "similarity index", "similarity index: reading the store",
                     "similarity", "store"]) if progress else (lambda label: None)

    tick("parse")
    text = read_document(path)
    try:
        doc = parse_document(text, path.name)
    except ParseError as exc:
        raise IngestError(f"{path}: {exc}") from None
    if not doc.statements:
        raise IngestError(f"{path}: no statements found (is this an outcome document or a report?)")
    turtle = to_turtle(doc, slug, path.name)
    try:
        entries, entries_text = parse_entry_bytes(turtle.encode("utf-8"), f"{slug}.ttl")
    except EntryError as exc:  # a bug in to_turtle, not the user's fault; still say what happened
        raise IngestError(f"{path}: could not express the document as RDF: {exc}") from None

    with journal.store_lock(store_root, f"an ingest of {path.name}"):
        return _ingest_locked(path, store_root, slug, doc, turtle, entries, entries_text, tick, threshold)


def _ingest_locked(path, store_root, slug, doc, turtle, entries, entries_text, tick, threshold) -> IngestResult:
    store = EmbeddedStore.open(store_root)
    database = store.database
    warnings = list(doc.warnings)
    try:
        journal.recover(store_root, store.version())
        tick("link")
        linker = Linker.from_store(store)
        links = []
        for subject in sorted({str(s) for s in entries.subjects() if "/statement/" in str(s)}):
            text_value = entries.value(subject=URIRef(subject), predicate=TEXT)
            links += linker.link(subject, str(text_value))
        link_data = links_ntriples(links)

        tick("validate")
        with_links = Graph()
        with_links += entries
        if link_data:
            with_links.parse(data=link_data.decode("utf-8"), format="nt")
        report = validate(with_links, context_for(with_links, store), entries_text, f"{slug}.ttl")
        if not report.conforms:
            raise IngestError(f"{path}: the document's entries break {len(report.violations)} shape constraint(s); "
                              "nothing was changed", report.violations)

        tick("similarity index")
        doc_iri = ns.entity("doc", slug)
        mine = [(str(s), str(entries.value(s, TEXT)), doc_iri) for s in sorted(set(entries.subjects(TEXT)))]
        pairs, index = _similar_pairs(store, store_root, database, doc_iri, mine, threshold, tick)

        tick("store")
        entry_file = user_entries_dir(store_root) / f"{slug}.ttl"
        landing = journal.Landing(store_root, store.version() + 1)  # the entry file lands with the commit
        landing.put(entry_file, turtle.encode("utf-8"))
        landing.stage()
        graphs = replace_graphs_update({ns.doc_graph(slug): entries.serialize(format="nt", encoding="utf-8"),
                                        ns.links_graph(slug): link_data})
        try:
            store.update(" ;\n".join(part for part in (remove_document_pairs_update(doc_iri), graphs,
                                                        insert_pairs_update(pairs)) if part))
        except BaseException:
            landing.discard()
            raise
        landing.land()
        if database:
            try:
                index(store.version())
            except OSError as exc:  # the store has the document; the old index is stale and will not be used
                warnings.append(f"the similarity index could not be saved ({exc.strerror}); the next ingest reads "
                                "the store instead")
    finally:
        store.close()
    counts = {}
    for st in doc.statements:
        counts[st.kind] = counts.get(st.kind, 0) + 1
    return IngestResult(slug, len(doc.statements), len(links), len(pairs), entry_file, counts, warnings)
