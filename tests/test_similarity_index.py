"""Issue 7: ingest scores only the new document's pairs (the same as the all-pairs computation would),
swaps them in one transaction, and keeps a similarity index beside the store that is used only when
it describes the store as it is.

Issue 16: each test runs with the sentence-embedding model (the default; its index holds vectors)
and with TF-IDF (`WSISKG_SIMILARITY_MODEL=none`, the fallback; its index holds term weights)."""
from __future__ import annotations

import shutil
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest

from conftest import REPO, wsiskg
from wsiskg.graph import embed
from wsiskg.graph import namespaces as ns
from wsiskg.graph import simindex
from wsiskg.graph.build import build
from wsiskg.graph.similarity import STATEMENTS_QUERY, all_pairs
from wsiskg.graph.store import EmbeddedStore, database_path

FIXTURES = REPO / "tests" / "fixtures"
REWORDED = FIXTURES / "reworded_session_440.txt"
ORIGINAL_440 = REPO / "graph" / "sources" / "000_319479e8c5ebbfb1.txt"
SIM = ns.links_graph("similarity")
STORED_PAIRS = f"""
PREFIX wsis: <{ns.WSIS}>
PREFIX rdf: <{ns.RDF}>
SELECT ?a ?b ?score ?evidence WHERE {{ GRAPH <{SIM}> {{
    ?link a wsis:LinkAssertion ; rdf:subject ?a ; rdf:predicate wsis:similarTo ; rdf:object ?b ;
          wsis:score ?score ; wsis:evidenceText ?evidence }} }}"""


@pytest.fixture(autouse=True, params=[embed.DEFAULT_MODEL, "none"])
def method(request, monkeypatch) -> str:
    """The similarity method, for this process and the CLI processes the test starts."""
    monkeypatch.setenv(embed.MODEL_ENV, request.param)
    return request.param


def by_model() -> bool:
    return embed.load_model() is not None


def index_file(root: Path, database: Path) -> Path:
    """The index file the method in use keeps."""
    return (simindex.embedding_index_path if by_model() else simindex.index_path)(root, database)


def load_index(root: Path, database: Path, version: int):
    model = embed.load_model()
    return simindex.load_embedded(root, database, version, model.name) if model else \
        simindex.load(root, database, version)


def save_index(corpus, root: Path, database: Path, version: int) -> Path:
    return (simindex.save_embedded if by_model() else simindex.save)(corpus, root, database, version)


def doc(slug: str) -> str:
    return ns.entity("doc", slug)


def statement_rows(store) -> list[tuple[str, str, str]]:
    return [(s.value, t.value, d.value) for s, t, d in store.query(STATEMENTS_QUERY).rows]


def stored_pairs(root: Path) -> set[tuple]:
    """Every pair in the similarity graph, checked to be stored whole (both directions, one node)."""
    with EmbeddedStore.open(root, read_only=True) as store:
        pairs = {(a.value, b.value, Decimal(s.value), e.value) for a, b, s, e in store.query(STORED_PAIRS).rows}
        directed = {(a.value, b.value) for a, b in store.query(
            f"SELECT ?a ?b WHERE {{ GRAPH <{SIM}> {{ ?a <{ns.WSIS}similarTo> ?b }} }}").rows}
        nodes = int(store.query(f"SELECT (COUNT(DISTINCT ?l) AS ?n) WHERE {{ GRAPH <{SIM}> {{ ?l ?p ?o }} "
                                f"FILTER(!STRSTARTS(STR(?l), '{ns.ID}statement/')) }}").rows[0][0].value)
    assert directed == {(a, b) for a, b, _, _ in pairs} | {(b, a) for a, b, _, _ in pairs}
    assert nodes == len(pairs), "a link node without its pair, or a pair without its node"
    return pairs


def all_pairs_of(root: Path, slug: str) -> set[tuple]:
    """What the all-pairs computation over every statement of the store gives the document."""
    with EmbeddedStore.open(root, read_only=True) as store:
        rows = statement_rows(store)
    mine = {s for s, _, d in rows if d == doc(slug)}
    assert mine, slug
    return {(p.a, p.b, Decimal(f"{p.score:.3f}"), p.evidence_text)
            for p in all_pairs(rows, root) if p.a in mine or p.b in mine}


def pairs_of(pairs: set[tuple], slug: str) -> set[tuple]:
    prefix = ns.entity("statement", slug) + "/"
    return {p for p in pairs if p[0].startswith(prefix) or p[1].startswith(prefix)}


def index_rows(corpus) -> dict[str, tuple[str, dict[str, float]]]:
    """statement -> (document, {term: raw weight} or the vector): the index's content, whatever its
    row order."""
    out = {}
    for row, statement in enumerate(corpus.statements):
        if isinstance(corpus, embed.EmbeddedCorpus):
            out[statement] = (corpus.documents[corpus.row_documents[row]], corpus.vectors[row])
            continue
        weights = corpus.weights[row]
        out[statement] = (corpus.documents[corpus.row_documents[row]],
                          {corpus.vocabulary[j]: w for j, w in zip(weights.indices, weights.data)})
    return out


def assert_index_matches_store(root: Path) -> None:
    """The saved index describes this database at its version, row for row as the store reads."""
    model = embed.load_model()
    with EmbeddedStore.open(root, read_only=True) as store:
        corpus = load_index(root, database_path(root), store.version())
        assert corpus is not None, "no fresh index after the write"
        from_store = simindex.read_embedded(store, None, model) if model else simindex.read_corpus(store)
    if model:  # embedded afresh here, in other batches: the same vectors to float32 rounding (1e-7)
        kept, fresh = index_rows(corpus), index_rows(from_store)
        assert kept.keys() == fresh.keys()
        assert all(kept[s][0] == fresh[s][0] and np.allclose(kept[s][1], fresh[s][1], atol=1e-6) for s in kept)
        return
    assert index_rows(corpus) == index_rows(from_store)
    if not model:
        assert np.array_equal(corpus.df, np.bincount(corpus.weights.indices, minlength=len(corpus.vocabulary)))


def test_ingested_pairs_are_the_all_pairs_ones(fresh_store):
    wsiskg("ingest", REWORDED, store=fresh_store, check=True)
    stored = stored_pairs(fresh_store)
    expected = all_pairs_of(fresh_store, "reworded-session-440")
    assert pairs_of(stored, "reworded-session-440") == expected
    # Each reworded statement n is paired with its original n. By words those are all its pairs; by
    # meaning a statement may also be near a few others that say much the same.
    reworded = {(a.rsplit("/", 1)[1], b.rsplit("/", 1)[1]) for a, b, _, _ in expected
                if "/reworded-session-440/" in a and "/wsis-forum-2025-session-440/" in b}
    assert {(str(n), str(n)) for n in range(1, 17)} <= reworded
    assert len(expected) == 16 if not by_model() else len(expected) >= 16


def test_reingest_replaces_the_documents_pairs_and_keeps_the_others(fresh_store, tmp_path):
    copy = tmp_path / "copy-440.txt"
    shutil.copy(ORIGINAL_440, copy)
    reworded = tmp_path / "reworded.txt"
    reworded.write_text(REWORDED.read_text())
    whole = simindex.embedding_index_path(fresh_store, database_path(fresh_store))
    built = whole.read_bytes() if by_model() else None
    wsiskg("ingest", reworded, store=fresh_store, check=True)
    wsiskg("ingest", copy, store=fresh_store, check=True)  # pairs with session 440 and with the reworded copy
    before = stored_pairs(fresh_store)
    assert pairs_of(before, "copy-440") == all_pairs_of(fresh_store, "copy-440")
    assert any("/reworded/" in a + b for a, b, _, _ in pairs_of(before, "copy-440"))

    # Drop the first key issue: the statements renumber, the last one (16) disappears.
    text = reworded.read_text()
    first = next(line for line in text.splitlines() if line.startswith("- "))
    reworded.write_text(text.replace(first + "\n", ""))
    wsiskg("ingest", reworded, store=fresh_store, check=True)
    after = stored_pairs(fresh_store)
    assert pairs_of(after, "reworded") == all_pairs_of(fresh_store, "reworded")
    assert not any(ns.entity("statement", "reworded", "16") in (a, b) for a, b, _, _ in after)
    # The pairs without the re-ingested document are kept exactly as they were.
    assert after - pairs_of(after, "reworded") == before - pairs_of(before, "reworded")
    assert_index_matches_store(fresh_store)
    if by_model():  # three ingests kept their rows in the delta: the build's whole index is as it was
        assert whole.read_bytes() == built
        assert simindex.embedding_delta_path(fresh_store, database_path(fresh_store)).exists()


def test_stale_or_missing_index_gives_the_same_result(fresh_store, tmp_path):
    """Missing, of another version (a crash between an ingest's commit and its index write), or of
    another database: each is detected and the corpus is read from the store, with the same result."""
    copy = tmp_path / "copy-440.txt"
    shutil.copy(ORIGINAL_440, copy)
    database = database_path(fresh_store)
    as_built = tmp_path / "as-built.npz"
    shutil.copy(index_file(fresh_store, database), as_built)
    with EmbeddedStore.open(fresh_store, read_only=True) as store:
        corpus_as_built = load_index(fresh_store, database, store.version())
    wsiskg("ingest", copy, store=fresh_store, check=True)  # bumps the version and rewrites the index
    with EmbeddedStore.open(fresh_store, read_only=True) as store:
        version = store.version()
    # The same stale corpus, said to be of another database at the current version.
    other_database = save_index(corpus_as_built, tmp_path, Path("db-another-store"), version)

    stores = {}
    for case in ("fresh", "missing", "older version", "other database"):
        stores[case] = tmp_path / case
        shutil.copytree(fresh_store, stores[case], symlinks=True)
    index_file(stores["missing"], database).unlink()
    # Both stale files lack copy-440's statements: used, they would lose the copy's pairs.
    shutil.copy(as_built, index_file(stores["older version"], database))
    shutil.copy(other_database, index_file(stores["other database"], database))

    results = {}
    for case, root in stores.items():
        wsiskg("ingest", REWORDED, store=root, check=True)
        results[case] = stored_pairs(root)
        assert_index_matches_store(root)
    assert pairs_of(results["fresh"], "reworded-session-440") == all_pairs_of(stores["fresh"], "reworded-session-440")
    assert any("/copy-440/" in a + b for a, b, _, _ in pairs_of(results["fresh"], "reworded-session-440"))
    for case in ("missing", "older version", "other database"):
        assert results[case] == results["fresh"], case


def test_failed_ingest_leaves_the_index_as_it_was(fresh_store, tmp_path):
    index = index_file(fresh_store, database_path(fresh_store))
    before = index.read_bytes()
    binary = tmp_path / "scan.txt"
    binary.write_bytes(b"%PDF-1.7\x00\x01\x02" * 50)
    assert wsiskg("ingest", binary, store=fresh_store).returncode == 1
    assert index.read_bytes() == before


def test_build_indexes_every_statement_whatever_the_linkers(fresh_store):
    old_database = database_path(fresh_store)
    old_index = index_file(fresh_store, old_database)
    assert old_index.exists()
    build(fresh_store, linkers=[])  # no similarity linker at all
    database = database_path(fresh_store)
    assert database != old_database
    assert_index_matches_store(fresh_store)
    with EmbeddedStore.open(fresh_store, read_only=True) as store:
        assert len(load_index(fresh_store, database, store.version())) == len(statement_rows(store)) > 300
    # The replaced database's indexes are gone; only the current one's remain (beside the vectors by
    # text, which serve every database).
    expected = {simindex.index_path(fresh_store, database).name}
    if by_model():
        expected |= {simindex.embedding_index_path(fresh_store, database).name,
                     simindex.uptake_sums_path(fresh_store, database).name}
        assert embed.cache_path(fresh_store, embed.load_model()).exists()
    # (the uptake and deliverable linkers keep their own vectors by text in index/uptake/ and
    # index/deliverables/, whatever the database)
    assert {p.name for p in (fresh_store / "index").iterdir()
            if not p.name.startswith("vectors-") and p.name not in ("uptake", "deliverables")} == expected


def test_an_indexed_documents_pairs_gathered_without_a_copy_equal_the_whole_corpus_ones(method, tmp_path):
    """simindex.EmbeddedState.document_pairs scores a document against the index's vectors mapped in
    place and gathers only the rows a pair can reach: the pairs must be those of the whole corpus
    (corpus().pairs), the gathered path must be the one taken, and the index must hold its vectors
    aligned (numpy multiplies an unaligned array without BLAS; the path is then not taken)."""
    if method == "none":
        pytest.skip("term weights: the index holds no vectors")
    rng = np.random.default_rng(7)
    dimensions, documents = 64, [f"{ns.ID}doc/d{k}" for k in range(40)]
    centres = rng.normal(size=(len(documents), dimensions))  # one topic per document, far apart

    def corpus(doc: str, topics, n: int, offset: int) -> embed.EmbeddedCorpus:
        vectors = centres[rng.choice(topics, n)] + 0.3 * rng.normal(size=(n, dimensions))
        vectors = (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)
        items = [(f"{ns.ID}statement/{doc.rsplit('/', 1)[1]}/{offset + i}", "", doc) for i in range(n)]
        rows, docs = embed.EmbeddedCorpus.document_codes(items)
        return embed.EmbeddedCorpus([s for s, _, _ in items], rows, docs, vectors, embed.DEFAULT_MODEL)

    base = corpus(documents[0], [0], 30, 0).plus(*(corpus(d, [k], 30, 0) for k, d in enumerate(documents) if k))
    database = tmp_path / "db"
    simindex.save_embedded(base, tmp_path, database, 3)
    state = simindex.load_embedded_state(tmp_path, database, 3, embed.DEFAULT_MODEL)
    assert isinstance(state.base.vectors, np.memmap) and state.base.vectors.flags.aligned
    assert np.array_equal(state.base.vectors, base.vectors)
    whole_corpus = state.corpus
    for document, threshold in ((documents[5], None), (documents[5], 0.5), (f"{ns.ID}doc/new", None)):
        rows = corpus(document, [5, 6], 12, 100)
        whole = whole_corpus(without=document, plus=rows)
        expected = whole.pairs(whole.rows_of(document), threshold)
        assert expected, "the case should have pairs"
        state.corpus = None  # (the gathered path copies no corpus: calling this fails the test)
        assert state.document_pairs(document, rows, threshold) == expected
        del state.corpus
