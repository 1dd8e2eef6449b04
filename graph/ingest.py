"""`wsiskg ingest FILE`: an outcome document -> entries -> links -> validation -> store, atomically.

Order of work, so that nothing is half-done: parse and build everything in memory; then, holding the
store's write lock (graph/journal.py), link the statements and validate them CHUNK_STATEMENTS at a time
(pyshacl and rdflib hold one batch, not the whole document) in a forked process, while this one scores
the document's statements against the corpus and against the adopted texts (its uptake,
graph/uptake.py) and reads what the commit changes; wait for the validation (a violation stops the
ingest here, before anything is written but the sentence-vector cache, which is keyed by text); stage
the entry file; in one
transaction (one SPARQL update, in ASCII text), replace the document's graph and its links graph,
swap its pairs in the similarity graph and its links in the uptake graph, and recompute its parts of
the summaries and the rows they add up to (graph/summaries.py); and only then move the
entry file into the store's entries folder, so every later rebuild keeps it. A kill between the two
is finished (or undone) by the next writer. An unreadable or invalid document stops before anything
is written.

Similarity is incremental: only the pairs with one of the document's statements are computed (its
rows against every other document's statement, with the whole corpus's idf or mean cosine), so
they are exactly the pairs the all-pairs computation would give the document, at most
similarity.PER_DOCUMENT per statement and other document, so pairs grow with the document, not with
the document times its look-alikes. Uptake is computed for the document's statements only, with the
mean cosine of every statement as in a build (their vectors come from the cache). Pairs between two
other documents stay as they were, scored with the idf of their time; `wsiskg build` recomputes
them all. The corpus comes from the similarity index (graph/simindex.py), which is written back
after the commit; when it is missing or stale the corpus is read from the store instead. So are the
reference reads (the linker's labels, the uptake's paragraphs): kept per version by simindex, carried
to the committed version by the ingest, which changes none of them. With an
embedding model (graph/embed.py) the index holds vectors, and only the document's new texts are
embedded; `threshold` (default: the model's, or TF-IDF's) is the lowest score of a stored pair.
"""
from __future__ import annotations

import os
import signal
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox
from rdflib import Graph, URIRef

from . import journal
from . import namespaces as ns
from . import embed, simindex, summaries, uptake
from .linker import Linker, links_ntriples, reference_rows
from .parse import ParseError, ParsedDocument, parse_document
from .paths import FileProblem, read_user_file, user_entries_dir
from .similarity import Corpus, clusters_change_update, document_pairs_change, document_statements
from .store import EmbeddedStore, ascii_text, replace_graphs_update
from . import validate as validate_module
from .validate import Problem, descriptions, validate

TEXT = URIRef(ns.WSIS + "text")
STATEMENT_CLASSES = {"KeyIssue", "Achievement", "Challenge", "Recommendation", "Commitment"}
MAX_BYTES = 5 * 1024 * 1024
CHUNK_STATEMENTS = 300  # statements linked and validated at a time (see _link_and_validate)


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
    taken_up: int = 0  # the document's statements that paragraphs of adopted texts carry (uptake)


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


def _link_and_validate(path: Path, slug: str, triples: list, turtle: str, linker: Linker,
                       store) -> tuple[bytes, bytes, list, validate_module.Forked]:
    """Link the statements, and start validating them with their links, CHUNK_STATEMENTS at a time, in
    a forked process (validation.result() waits for it; see _check).

    Every shape looks only at its focus node, the nodes it links to and their stored descriptions,
    so a chunk (its statements and their link assertions, with the document and session nodes as
    context) gets the same results as the whole document at once; but pyshacl and rdflib hold only
    one chunk, so time and memory follow the document's size (whole: 100 kB 9 s, 1 MB past 150 s).
    This process links and reads the stored descriptions (Oxigraph is not used after a fork); the
    forked one builds the rdflib graphs and runs pyshacl (0.3-0.5 s at 1M, a third of the ingest)
    while this one scores similarity and uptake on the other core. Returns the document's N-Triples,
    its links' N-Triples, the links and the running validation.
    """
    by_subject: dict[str, list] = {}
    for triple in triples:
        by_subject.setdefault(triple.subject.value, []).append(triple)
    statements = sorted(s for s in by_subject if "/statement/" in s)
    head = [t for s, ts in by_subject.items() if "/statement/" not in s for t in ts]
    head_subjects = {t.subject.value for t in head}
    head_wanted = _objects(head) - head_subjects
    known = descriptions(head_wanted, store)  # stored descriptions of what the chunks link to, fetched once each
    for iri in head_wanted:
        known.setdefault(iri, [])

    entry_parts, link_parts, links, chunks = [ox.serialize(head, format=ox.RdfFormat.N_TRIPLES)], [], [], []
    for start in range(0, len(statements), CHUNK_STATEMENTS):
        chunk = statements[start:start + CHUNK_STATEMENTS]
        mine = [t for s in chunk for t in by_subject[s]]
        chunk_links = [link for s in chunk for link in linker.link(s, _text_of(by_subject[s]))]
        links += chunk_links
        link_parts.append(links_ntriples(chunk_links))
        entry_parts.append(ox.serialize(mine, format=ox.RdfFormat.N_TRIPLES))
        both = mine + (list(ox.parse(link_parts[-1], format=ox.RdfFormat.N_TRIPLES)) if link_parts[-1] else [])
        wanted = _objects(both) - {t.subject.value for t in both} - head_subjects
        missing = wanted - known.keys()
        found = descriptions(missing, store)
        for iri in missing:
            known[iri] = found.get(iri, [])
        chunks.append((entry_parts[-1], link_parts[-1], wanted))

    def check() -> list[dict]:
        """The first failing chunk's violations (as dicts), or none; the same checks as one
        validate() per chunk in this process."""
        _die_with_parent()
        head_graph = _rdflib_graph(head)
        context = Graph()
        for iri in head_wanted:
            for triple in known[iri]:
                context.add(triple)
        report = validate(head_graph, context, turtle, f"{slug}.ttl")
        for entry_nt, link_nt, wanted in chunks:
            if not report.conforms:
                break
            g = Graph()
            g.parse(data=entry_nt.decode("utf-8"), format="nt")
            if link_nt:
                g.parse(data=link_nt.decode("utf-8"), format="nt")
            context = Graph()
            context += head_graph
            for iri in wanted:
                for triple in known[iri]:
                    context.add(triple)
            report = validate(g, context, turtle, f"{slug}.ttl")
        return [p.as_dict() for p in report.violations]

    return b"".join(entry_parts), b"".join(link_parts), links, validate_module.Forked(check)


def _check(path: Path, validation: validate_module.Forked) -> None:
    """Wait for the validation started by _link_and_validate; raise when the document breaks a shape."""
    problems = [Problem(**p) for p in validation.result()]
    if problems:
        raise IngestError(f"{path}: the document's entries break {len(problems)} shape constraint(s); "
                          "nothing was changed", problems)


def _objects(triples: list) -> set[str]:
    return {t.object.value for t in triples if isinstance(t.object, ox.NamedNode)}


def _die_with_parent() -> None:
    """In a forked validation: end with the ingest that started it (a killed ingest must not leave a
    process holding its inherited write lock). Linux only; elsewhere the process ends when done."""
    try:
        import ctypes
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if os.getppid() == 1:  # the parent was gone before the call
        os._exit(1)


def _text_of(triples: list) -> str:
    return next(t.object.value for t in triples if t.predicate.value == str(TEXT))


def _rdflib_graph(triples: list) -> Graph:
    g = Graph()
    if triples:
        g.parse(data=ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES).decode("utf-8"), format="nt")
    return g


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
    state = simindex.load_embedded_state(store_root, database, store.version(), model.name) if database else None
    if state is None:  # as above; vectors come from the text cache, so only new texts are embedded
        tick("similarity index: reading the store")
        stored = simindex.read_embedded(store, store_root, model)
    tick("embedding")
    new = embed.EmbeddedCorpus.from_items(mine, model, store_root)
    tick("similarity")
    if state is None:
        vectors = stored.without_document(doc_iri).plus(new)
        pairs = vectors.pairs(vectors.rows_of(doc_iri), threshold)
        return pairs, lambda version: simindex.save_embedded(vectors, store_root, database, version)
    pairs = state.document_pairs(doc_iri, new, threshold)
    # only the document's rows changed: the index keeps them in its delta, not in a rewrite of itself
    return pairs, lambda version: simindex.save_embedded_change(store_root, database, version, doc_iri, new, state)


def ingest(path: Path | str, store_root: Path, slug: str | None = None, progress=None,
           threshold: float | None = None) -> IngestResult:
    path = Path(path)
    slug = ns.slugify(slug or path.stem)
    if not slug:
        raise IngestError(f"{path}: cannot make a document name from the file name; pass --slug")
    tick = progress(["parse", "link", "validate", "similarity index", "similarity index: reading the store",
                     "embedding", "similarity", "uptake", "clusters", "store", "validate: waiting",
                     "store: commit", "similarity index: write"]) if progress else (lambda label: None)

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
        triples = list(ox.parse(turtle.encode("utf-8"), format=ox.RdfFormat.TURTLE))
    except SyntaxError as exc:  # a bug in to_turtle, not the user's fault; still say what happened
        raise IngestError(f"{path}: could not express the document as RDF: {exc}") from None

    with journal.store_lock(store_root, f"an ingest of {path.name}"):
        return _ingest_locked(path, store_root, slug, doc, turtle, triples, tick, threshold)


def _ingest_locked(path, store_root, slug, doc, turtle, triples, tick, threshold) -> IngestResult:
    store = EmbeddedStore.open(store_root)
    database = store.database
    warnings = list(doc.warnings)
    validation = None
    try:
        journal.recover(store_root, store.version())
        tick("link")
        reference = simindex.load_reference(store_root, database, store.version()) if database else None
        if reference is None:  # missing, or stale (another database, or a write since): read the store
            reference = {"linker": reference_rows(store), "uptake": uptake.reference_rows(store)}
        linker = Linker(*reference["linker"])
        tick("validate")
        entry_data, link_data, links, validation = _link_and_validate(path, slug, triples, turtle, linker, store)
        del triples

        tick("similarity index")
        doc_iri = ns.entity("doc", slug)
        mine = [(ns.entity("statement", slug, str(n)), st.text, doc_iri) for n, st in enumerate(doc.statements, start=1)]
        pairs, index = _similar_pairs(store, store_root, database, doc_iri, mine, threshold, tick)
        tick("uptake")
        model = embed.load_model()
        sums = simindex.load_uptake_sums(store_root, database, store.version(), model.name) if database and model else None
        scored = uptake.for_document(store, doc_iri, [(s, t) for s, t, _ in mine], links, model, sums,
                                     reference["uptake"])
        taken_up = uptake.found_links(scored)

        tick("clusters")
        clusters = clusters_change_update(store, document_statements(store, doc_iri), [(p.a, p.b) for p in pairs])
        tick("store")
        pairs_gone, pairs_added = document_pairs_change(store, doc_iri, pairs)  # (before the commit: it reads the store)
        tick("validate: waiting")
        _check(path, validation)  # before anything is written
        tick("store: commit")
        entry_file = user_entries_dir(store_root) / f"{slug}.ttl"
        landing = journal.Landing(store_root, store.version() + 1)  # the entry file lands with the commit
        landing.put(entry_file, turtle.encode("utf-8"))
        landing.stage()
        # The one commit: the document's graphs, its pairs and its uptake, the summaries' rows they
        # change, with the version bump.
        graphs = replace_graphs_update({ns.doc_graph(slug): entry_data, ns.links_graph(slug): link_data})
        del entry_data, link_data
        update = " ;\n".join(part for part in (
            ascii_text(pairs_gone), uptake.remove_document_update(doc_iri), graphs,
            ascii_text(pairs_added), ascii_text(uptake.insert_update(taken_up)),
            ascii_text(clusters), summaries.document_change_update(doc_iri)) if part)
        del graphs
        try:
            store.update(update)
        except BaseException:
            landing.discard()
            raise
        del update
        landing.land()
        if database:
            tick("similarity index: write")
            try:
                index(store.version())
                # the ingest changed none of what the reference reads read: they hold for this version too
                simindex.save_reference(reference, store_root, database, store.version())
                if scored.point_sum is not None:
                    sums = sums or uptake.document_point_sums(store, model)  # (the store has the document now)
                    simindex.save_uptake_sums(sums.with_document(doc_iri, scored.point_sum, len(mine)), store_root,
                                              database, store.version(), model.name)
            except OSError as exc:  # the store has the document; the old index is stale and will not be used
                warnings.append(f"the similarity index could not be saved ({exc.strerror}); the next ingest reads "
                                "the store instead")
    finally:
        if validation is not None:
            validation.stop()  # (a step failed before its result was taken)
        store.close()
    counts = {}
    for st in doc.statements:
        counts[st.kind] = counts.get(st.kind, 0) + 1
    return IngestResult(slug, len(doc.statements), len(links), len(pairs), entry_file, counts, warnings,
                        len({statement for statement, *_ in taken_up}))
