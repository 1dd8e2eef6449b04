"""Issue 16 item 1: similarity by meaning. Sentence embeddings (graph/embed.py) find the repeats that
word overlap misses, on the labelled pairs of tests/fixtures/similarity_pairs.json (labelled by
reading, before any tuning) and in the built store; they work across languages; vectors are cached
by text, so a rebuild embeds nothing it has seen."""
from __future__ import annotations

import json
from decimal import Decimal

import numpy as np
import pytest
from rdflib import Graph, URIRef

from conftest import REPO, wsiskg
from wsiskg.graph import embed, library
from wsiskg.graph import namespaces as ns
from wsiskg.graph.build import build, entry_files
from wsiskg.graph.similarity import MIN_SHARED_STEMS, THRESHOLD, Corpus
from wsiskg.graph.store import EmbeddedStore

FIXTURE = json.loads((REPO / "tests" / "fixtures" / "similarity_pairs.json").read_text(encoding="utf-8"))
MODEL = embed.load_model(embed.DEFAULT_MODEL)
pytestmark = pytest.mark.skipif(MODEL is None, reason="the sentence-embedding package is not installed")

E = "statement/wsis20-elements-paper-consultation-2025-07-29/"
Q = "statement/wsis20-questionnaire-stakeholder-submission/"
O = "statement/wsis20-open-consultation-outcomes/"
S440, S480 = "statement/wsis-forum-2025-session-440/", "statement/wsis-forum-2025-session-480/"
# issue 16's named repeats, each across two processes
NAMED = [(E + "62", Q + "26"),  # the call for a permanent IGF mandate: 29 July report vs questionnaire
         (S480 + "8", E + "78"),  # the call to upgrade UNGIS
         (S440 + "5", O + "4")]  # "Persistent digital divide: ..." vs "Persistent digital divides."
# statements sharing a salient word and saying different things (all labelled false in the fixture)
WORD_SHARING = [(Q + "26", O + "110"),  # "permanent": the IGF vs WSIS follow-up
                (S440 + "12", E + "62"),  # "mandating"/"institutionalise": youth quotas vs the IGF
                (Q + "46", E + "62"),  # "mandates": governments' AI mandates vs the IGF's
                (S480 + "4", O + "87"),  # "digital identity": ID systems vs cultural identities
                (O + "40", E + "10"),  # "interoperability": standards vs curbing lock-in
                (O + "29", S440 + "7"),  # "resilien-": cybersecurity vs backbone networks
                (O + "86", E + "52")]  # "accessible": cultural content vs disability


def iri(key: str) -> str:
    return ns.ID + key


def labelled(a: str, b: str) -> dict:
    pair = next(p for p in FIXTURE["pairs"] if {p["a"], p["b"]} == {a, b})
    return pair


def corpus_items() -> list[tuple[str, str, str]]:
    """The shipped statements (as the store holds them) plus the resolution paragraphs the pairs quote."""
    items = []
    for path in entry_files(None).values():
        g = Graph().parse(path, format="turtle")
        for s, text in g.subject_objects(URIRef(ns.WSIS + "text")):
            if "/statement/" in str(s):
                items.append((str(s), str(text), str(g.value(s, URIRef(ns.PROV + "wasDerivedFrom")))))
    quoted = {p[side]: p[f"text{side.upper()}"] for p in FIXTURE["pairs"] for side in "ab"
              if p[side].startswith("resolution/")}
    return sorted(items) + [(iri(k), t, iri("resolution/A-RES-80-173")) for k, t in sorted(quoted.items())]


def precision_recall(found: np.ndarray, same: np.ndarray) -> tuple[float, float]:
    hits = int((found & same).sum())
    return (hits / found.sum() if found.sum() else 1.0), hits / same.sum()


def test_the_labelled_set_is_fixed_and_large_enough():
    pairs = FIXTURE["pairs"]
    assert len(pairs) >= 100 and 40 <= sum(p["same"] for p in pairs) <= len(pairs) - 40
    assert all(p["reason"] and p["a"] != p["b"] for p in pairs)
    texts = {s: t for s, t, _ in corpus_items()}
    for p in pairs:  # the texts quoted are the shipped statements' own
        for side in "ab":
            if p[side].startswith("statement/"):
                assert texts[iri(p[side])] == p[f"text{side.upper()}"], p[side]
    for a, b in NAMED:
        assert labelled(a, b)["same"]
    for a, b in WORD_SHARING:
        assert not labelled(a, b)["same"]


def test_meaning_beats_words_on_recall_at_equal_or_better_precision():
    items = corpus_items()
    position = {s: k for k, (s, _, _) in enumerate(items)}
    a = np.array([position[iri(p["a"])] for p in FIXTURE["pairs"]])
    b = np.array([position[iri(p["b"])] for p in FIXTURE["pairs"]])
    same = np.array([p["same"] for p in FIXTURE["pairs"]])

    corpus = embed.EmbeddedCorpus.from_items(items, MODEL, None)
    mean, vectors = corpus.mean_cosine(), corpus.vectors.astype(np.float64)
    scores = (np.einsum("ij,ij->i", vectors[a], vectors[b]) - mean) / (1 - mean)
    precision, recall = precision_recall(scores >= MODEL.spec.threshold, same)

    words = {(p.a, p.b): (p.score, p.shared) for p in Corpus.from_items(items).pairs(threshold=1e-9, min_shared=0)}
    tfidf = np.array([words.get(tuple(sorted((iri(p["a"]), iri(p["b"])))), (0.0, 0))[0] for p in FIXTURE["pairs"]])
    shared = np.array([words.get(tuple(sorted((iri(p["a"]), iri(p["b"])))), (0.0, 0))[1] for p in FIXTURE["pairs"]])
    # TF-IDF as shipped finds none of the labelled repeats
    assert precision_recall((tfidf >= THRESHOLD) & (shared >= MIN_SHARED_STEMS), same)[1] == 0
    # and at no threshold does it reach the model's recall with the model's precision or better
    for threshold in np.unique(tfidf[tfidf > 0]):
        p, r = precision_recall(tfidf >= threshold, same)
        if p >= precision:
            assert r < recall, (threshold, p, r)
    assert precision >= 0.8 and recall >= 0.3, (precision, recall)


@pytest.fixture(scope="module")
def near_duplicates(built_store) -> dict[frozenset, dict]:
    query = library.get("near-duplicates")
    with EmbeddedStore.open(built_store, read_only=True) as store:
        result = store.query(query.text, bindings=query.bind({}))
    return {frozenset((r["statementA"].value, r["statementB"].value)): {k: v.value for k, v in r.items() if v}
            for r in result.dicts()}


def test_named_repeats_are_found_in_the_built_store(near_duplicates):
    for a, b in NAMED:
        row = near_duplicates.get(frozenset((iri(a), iri(b))))
        assert row is not None, f"{a} ~ {b} not among the near-duplicates"
        assert row["method"] == f"embedding-cosine:{MODEL.name}"
        assert Decimal(row["score"]) >= Decimal(str(MODEL.spec.threshold))
        assert row["evidence"].startswith("cosine ")


def test_statements_sharing_words_but_not_meaning_are_not_paired(near_duplicates):
    assert [pair for pair in WORD_SHARING if frozenset(map(iri, pair)) in near_duplicates] == []


def test_min_score_keeps_only_pairs_at_or_above_it(built_store, near_duplicates):
    query = library.get("near-duplicates")
    with EmbeddedStore.open(built_store, read_only=True) as store:
        rows = store.query(query.text, bindings=query.bind({"minScore": "0.5"})).dicts()
    expected = {k for k, row in near_duplicates.items() if Decimal(row["score"]) >= Decimal("0.5")}
    assert {frozenset((r["statementA"].value, r["statementB"].value)) for r in rows} == expected
    assert 0 < len(expected) < len(near_duplicates)


FRENCH_SPANISH = """Session Outcome Document

Session Title: Dialogue multilingue sur le SMSI (test)

Monday, 7 July 2025 — 09:00–10:00

Key Issues Discussed

{bullets}
"""


def test_french_and_spanish_paraphrases_find_their_english_originals(fresh_store, tmp_path):
    translations = FIXTURE["translations"]
    assert {t["lang"] for t in translations} == {"fr", "es"}
    document = tmp_path / "multilingue.txt"
    document.write_text(FRENCH_SPANISH.format(bullets="\n".join(f"- {t['text']}" for t in translations)),
                        encoding="utf-8")
    wsiskg("ingest", document, store=fresh_store, check=True)
    with EmbeddedStore.open(fresh_store, read_only=True) as store:
        rows = store.query(f"""SELECT ?mine ?text ?other ?score WHERE {{
            ?mine <{ns.PROV}wasDerivedFrom> <{ns.entity('doc', 'multilingue')}> ; <{ns.WSIS}text> ?text .
            GRAPH <{ns.links_graph('similarity')}> {{
              ?link <{ns.RDF}subject>|<{ns.RDF}object> ?mine ; <{ns.RDF}subject>|<{ns.RDF}object> ?other ;
                    <{ns.WSIS}score> ?score . FILTER(?other != ?mine) }} }}""").dicts()
    best = {}
    for r in rows:
        text, other, score = r["text"].value, r["other"].value, Decimal(r["score"].value)
        if text not in best or score > best[text][1]:
            best[text] = (other, score)
    found = [t for t in translations if best.get(t["text"], ("",))[0] == iri(t["original"])]
    # each paraphrase's closest stored statement is its English original
    assert [t["original"] for t in translations if t not in found] == []


def test_rebuild_and_ingest_embed_only_new_texts(fresh_store, tmp_path, monkeypatch):
    embedded = []
    encode = embed.Model.encode

    def counting(self, texts):
        embedded.append(list(texts))
        return encode(self, texts)

    monkeypatch.setattr(embed.Model, "encode", counting)
    monkeypatch.setenv(embed.MODEL_ENV, embed.DEFAULT_MODEL)
    build(fresh_store)  # every statement was embedded by the first build: the cache answers
    assert embedded == []
    from wsiskg.graph.ingest import ingest
    document = tmp_path / "two-new.txt"
    document.write_text(FRENCH_SPANISH.format(bullets="- Un texte neuf sur les câbles sous-marins.\n"
                                              "- Persistent digital divides."), encoding="utf-8")
    result = ingest(document, fresh_store)
    # "Persistent digital divides." is a shipped statement's text: only the French one is new
    assert embedded == [["Un texte neuf sur les câbles sous-marins."]]
    assert result.statements == 2


def test_ingest_threshold_is_the_lowest_stored_score(fresh_store, tmp_path):
    copy = tmp_path / "copy-440.txt"
    copy.write_text((REPO / "tests" / "fixtures" / "reworded_session_440.txt").read_text())
    wsiskg("ingest", "--threshold", "0.8", copy, store=fresh_store, check=True)
    with EmbeddedStore.open(fresh_store, read_only=True) as store:
        scores = [Decimal(r[0].value) for r in store.query(f"""SELECT ?score WHERE {{
            ?link <{ns.RDF}predicate> <{ns.WSIS}similarTo> ; <{ns.RDF}subject>|<{ns.RDF}object> ?s ;
                  <{ns.WSIS}score> ?score .
            ?s <{ns.PROV}wasDerivedFrom> <{ns.entity('doc', 'copy-440')}> }}""").rows]
    assert scores and min(scores) >= Decimal("0.8")
    result = wsiskg("ingest", "--threshold", "2", copy, store=fresh_store)
    assert result.returncode == 2 and "Traceback" not in result.stderr


def test_unknown_model_is_a_usage_error(fresh_store, tmp_path):
    copy = tmp_path / "copy.txt"
    copy.write_text((REPO / "tests" / "fixtures" / "reworded_session_440.txt").read_text())
    result = wsiskg("ingest", copy, store=fresh_store, env={embed.MODEL_ENV: "no-such-model"})
    assert result.returncode == 1 and "no-such-model" in result.stderr and "Traceback" not in result.stderr
    assert not (fresh_store / "entries" / "copy.ttl").exists()


def test_report_threshold_joins_clusters_only_by_links_at_or_above_it(built_store, near_duplicates, tmp_path):
    """Below the report's threshold the stored pairs chain most of the corpus into one cluster; the
    report's clusters are the connected sets of the links at or above it, computed here from
    `near-duplicates` independently."""
    from wsiskg.graph.report import default_threshold, duplication_report
    threshold = default_threshold()
    assert threshold == MODEL.spec.cluster_threshold > MODEL.spec.threshold
    with EmbeddedStore.open(built_store, read_only=True) as store:
        rows = duplication_report(store, threshold).tables["near-duplicate-clusters"].dicts()
        everything = duplication_report(store, None).tables["near-duplicate-clusters"].dicts()
    component = {}
    for pair, row in near_duplicates.items():
        if Decimal(row["score"]) >= Decimal(str(threshold)):
            a, b = sorted(pair)
            merged = component.get(a, {a}) | component.get(b, {b})
            for member in merged:
                component[member] = merged
    clusters = {frozenset(c) for c in component.values()}
    assert {frozenset(r["statement"].value for r in rows if r["cluster"].value == min(c)) for c in clusters} == clusters
    assert all(int(r["clusterSize"].value) == len(component[r["statement"].value]) for r in rows)
    assert all(float(item.rpartition(" ")[2]) >= threshold for r in rows for item in r["similarTo"].value.split("; "))
    largest = lambda result: max(int(r["clusterSize"].value) for r in result)  # noqa: E731
    assert largest(rows) < 20 < largest(everything)
    result = wsiskg("report", "duplication", "--threshold", "0.5", "--out", tmp_path / "r", store=built_store)
    assert result.returncode == 0 and (tmp_path / "r" / "duplication.html").exists()
