"""Similarity by meaning vs by words, on the labelled pairs of tests/fixtures/similarity_pairs.json.

Corpus: every statement of the shipped entries plus the numbered paragraphs of A/RES/80/173 (the
shared reference text, when it is there; else only the paragraphs the labelled pairs quote). Each
method scores every labelled pair in the context of the whole corpus, as a build would:
- `tfidf-today`: graph/similarity.py as shipped before (score >= 0.4 and >= 3 shared content stems);
- `tfidf`: the same TF-IDF score with the shared-stems rule dropped, its threshold swept;
- one row per sentence-embedding model installed (graph/embed.py): cosine relative to the corpus mean.
For each: precision and recall at the method's threshold, the best recall at a given precision
(threshold swept over the labelled scores), how many cross-document pairs of the shipped statements
pass the threshold, and for the models the French/Spanish paraphrases: the rank of the English
original among the corpus by cosine. Timings: embedding the corpus from scratch and again from the
text cache, and `wsiskg ingest` of one document on a seed store, with the model and with TF-IDF.

    python bench/similarity_eval.py [--models use-multilingual-v3,multilingual-e5-small-q4] [--out FILE]
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from rdflib import Graph, Namespace

from wsiskg.graph import embed
from wsiskg.graph import namespaces as ns
from wsiskg.graph.build import entry_files
from wsiskg.graph.similarity import MIN_SHARED_STEMS, THRESHOLD, Corpus

REPO = Path(__file__).resolve().parent.parent
FIXTURE = REPO / "tests" / "fixtures" / "similarity_pairs.json"
RESOLUTION = REPO.parent / "shared" / "reference" / "un-resolutions" / "A_RES_80_173.txt"
RESOLUTION_IRI = ns.ID + "resolution/A-RES-80-173"
PRECISIONS = (1.0, 0.9, 0.8, 0.7)
WSIS, PROV = Namespace(ns.WSIS), Namespace(ns.PROV)


# -- the corpus ------------------------------------------------------------------------------------

RUNNING_HEAD = ("Outcome document of the high-level meeting of the", "General Assembly on the overall review of the implementation",
                "of the outcomes of the World Summit on the", "Information Society")
PAGE_MARK = re.compile(r"^(A/RES/\d+/\d+|\d{2}-\d{5}|\d+/\d+)$")


def resolution_paragraphs(text: str) -> dict[int, str]:
    """Numbered paragraphs of a GA resolution's text: running heads, page marks, headings standing
    alone between blank lines, and footnotes (from a ___ rule to the next blank line) dropped."""
    lines = [line.strip() for line in text.splitlines()]
    paragraphs, current, footnote = {}, None, False
    for i, line in enumerate(lines):
        number = re.match(r"^(\d{1,3})\.\s*(.*)$", line)
        if number and int(number.group(1)) == (current or 0) + 1:
            current, footnote = int(number.group(1)), False
            paragraphs[current] = [number.group(2)]
        elif line.startswith("___"):
            footnote = True
        elif not line:
            footnote = False
        elif current is not None and not footnote and not PAGE_MARK.match(line) and line not in RUNNING_HEAD \
                and not (i > 0 and not lines[i - 1] and (i + 1 == len(lines) or not lines[i + 1])):
            paragraphs[current].append(line)
    return {n: re.sub(r"\s+", " ", " ".join(p for p in parts if p)).strip() for n, parts in paragraphs.items()}


def corpus_items(fixture: dict) -> tuple[list[tuple[str, str, str]], str]:
    """(IRI, text, document) of every shipped statement and of the resolution's paragraphs."""
    items = []
    for path in entry_files(None).values():
        g = Graph().parse(path, format="turtle")
        for s, text in g.subject_objects(WSIS.text):
            if "/statement/" in str(s):
                items.append((str(s), str(text), str(g.value(s, PROV.wasDerivedFrom))))
    if RESOLUTION.exists():
        quoted = {f"{RESOLUTION_IRI}/para/{n}": t for n, t in
                  resolution_paragraphs(RESOLUTION.read_text(encoding="utf-8")).items()}
        source = f"{RESOLUTION.name}: all {len(quoted)} numbered paragraphs"
    else:
        quoted = {ns.ID + p[side]: p[f"text{side.upper()}"] for p in fixture["pairs"] for side in ("a", "b")
                  if p[side].startswith("resolution/")}
        source = f"{RESOLUTION.name} not found: only the {len(quoted)} paragraphs the labelled pairs quote"
    items += [(iri, text, RESOLUTION_IRI) for iri, text in sorted(quoted.items())]
    return sorted(items), source


# -- scoring ---------------------------------------------------------------------------------------

def tfidf_scores(items) -> tuple[dict, dict]:
    """(pair -> TF-IDF score, pair -> shared content stems) for every pair with a common term."""
    pairs = Corpus.from_items(items).pairs(threshold=1e-9, min_shared=0)
    return {(p.a, p.b): p.score for p in pairs}, {(p.a, p.b): p.shared for p in pairs}


def evaluate(scores: np.ndarray, same: np.ndarray, threshold: float) -> dict:
    found = scores >= threshold
    tp, fp = int((found & same).sum()), int((found & ~same).sum())
    out = {"threshold": threshold, "true_positives": tp, "false_positives": fp,
           "precision": round(tp / (tp + fp), 3) if tp + fp else None, "recall": round(tp / int(same.sum()), 3)}
    best = {}
    for floor in PRECISIONS:
        candidates = []
        for t in np.unique(scores[scores > -np.inf]):
            hit = scores >= t
            p = (hit & same).sum() / max(hit.sum(), 1)
            if p >= floor:
                candidates.append((int((hit & same).sum()) / int(same.sum()), float(t)))
        recall, at = max(candidates) if candidates else (0.0, None)
        best[f"precision>={floor}"] = {"recall": round(recall, 3), "threshold": None if at is None else round(at, 3)}
    out["best_recall_at_precision"] = best
    pos, neg = scores[same], scores[~same]
    out["auc"] = round(float(np.mean([(a > b) + 0.5 * (a == b) for a in pos for b in neg])), 3)
    return out


def cross_document_pairs_found(matrix: np.ndarray, items, threshold: float) -> int:
    """Pairs of shipped statements of different documents at or above the threshold."""
    docs = np.array([d for _, _, d in items])
    statement = docs != RESOLUTION_IRI
    upper = np.triu(np.ones_like(matrix, dtype=bool), 1) & (docs[:, None] != docs[None, :]) \
        & statement[:, None] & statement[None, :]
    return int((matrix[upper] >= threshold).sum())


def model_row(name: str, items, fixture, position, same) -> dict | None:
    started = time.perf_counter()
    model = embed.load_model(name)
    if model is None:
        return None
    model.encode(["warm-up"])
    load_seconds = time.perf_counter() - started
    texts = [t for _, t, _ in items]
    cache = Path(tempfile.mkdtemp(prefix="simeval-"))
    try:
        started = time.perf_counter()
        embed.vectors_for(texts, model, cache)
        cold = time.perf_counter() - started
        started = time.perf_counter()
        embed.vectors_for(texts, model, cache)
        warm = time.perf_counter() - started
        corpus = embed.EmbeddedCorpus.from_items(items, model, cache)
        translations = [t["text"] for t in fixture["translations"]]
        started = time.perf_counter()
        translated = model.encode(translations)
        translation_seconds = time.perf_counter() - started
    finally:
        shutil.rmtree(cache, ignore_errors=True)
    vectors = corpus.vectors.astype(np.float64)
    mean = corpus.mean_cosine()
    matrix = (vectors @ vectors.T - mean) / (1 - mean)
    scores = np.array([matrix[position[ns.ID + p["a"]], position[ns.ID + p["b"]]] for p in fixture["pairs"]])
    row = {"method": model.method, "package": f"{model.spec.distribution} {model.version}",
           "mean_cosine_of_corpus": round(mean, 3),
           **evaluate(scores, same, model.spec.threshold),
           "pairs_found_among_shipped_statements": cross_document_pairs_found(matrix, items, model.spec.threshold),
           "model_load_seconds": round(load_seconds, 2), "embed_seconds_cold": round(cold, 2), "embed_seconds_per_text": round(cold / len(texts), 4),
           "embed_seconds_from_cache": round(warm, 3)}
    ranks = []
    for t, vector in zip(fixture["translations"], translated):
        cosines = vectors @ vector.astype(np.float64)
        original = position[ns.ID + t["original"]]
        ranks.append({"original": t["original"], "lang": t["lang"],
                      "rank_of_original": int((cosines > cosines[original]).sum()) + 1,
                      "score": round(float((cosines[original] - mean) / (1 - mean)), 3)})
    row["translations"] = ranks
    row["translations_found_first"] = sum(r["rank_of_original"] == 1 for r in ranks)
    row["translation_embed_seconds"] = round(translation_seconds, 2)
    return row


# -- ingest timing ---------------------------------------------------------------------------------

def cli(*args, env=None) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "wsiskg.graph.cli", *map(str, args)], check=True, capture_output=True,
                   env={**os.environ, **(env or {})})
    return time.perf_counter() - started


def ingest_timings(model: str, runs: int) -> dict:
    """Median wall time of `wsiskg ingest` of a reworded session (16 statements) on a seed store,
    with the model and with TF-IDF, each on its own freshly built store (CLI process start included)."""
    document = REPO / "tests" / "fixtures" / "reworded_session_440.txt"
    out = {"document": document.name, "runs": runs}
    for label, env in ((model, {embed.MODEL_ENV: model}), ("tfidf", {embed.MODEL_ENV: "none"})):
        root = Path(tempfile.mkdtemp(prefix="simeval-store-"))
        try:
            cli("--store", root, "build", "--no-progress", env=env)
            times = [cli("--store", root, "ingest", "--no-progress", document, env=env) for _ in range(runs)]
        finally:
            shutil.rmtree(root, ignore_errors=True)
        out[label] = {"median_seconds": round(float(np.median(times)), 2), "all": [round(t, 2) for t in times]}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default=embed.DEFAULT_MODEL, help="comma-separated models (graph/embed.py MODELS)")
    parser.add_argument("--ingest-runs", type=int, default=3)
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "similarity_eval.json")
    args = parser.parse_args()

    fixture = json.loads(FIXTURE.read_text(encoding="utf-8"))
    items, source = corpus_items(fixture)
    position = {iri: k for k, (iri, _, _) in enumerate(items)}
    same = np.array([p["same"] for p in fixture["pairs"]])
    key = lambda p: tuple(sorted((ns.ID + p["a"], ns.ID + p["b"])))  # noqa: E731

    tf, shared = tfidf_scores(items)
    tf_scores = np.array([tf.get(key(p), 0.0) for p in fixture["pairs"]])
    today = np.array([tf.get(key(p), 0.0) if shared.get(key(p), 0) >= MIN_SHARED_STEMS else 0.0
                      for p in fixture["pairs"]])
    tf_matrix = np.zeros((len(items), len(items)))
    for (a, b), s in tf.items():
        if shared[(a, b)] >= MIN_SHARED_STEMS:
            tf_matrix[position[a], position[b]] = tf_matrix[position[b], position[a]] = s
    rows = [{"method": "tfidf-today (score >= 0.4, >= 3 shared stems)", **evaluate(today, same, THRESHOLD),
             "pairs_found_among_shipped_statements": cross_document_pairs_found(tf_matrix, items, THRESHOLD)},
            {"method": "tfidf (score only)", **evaluate(tf_scores, same, THRESHOLD)}]
    for name in args.models.split(","):
        row = model_row(name.strip(), items, fixture, position, same)
        if row is None:
            print(f"{name}: not installed, skipped", file=sys.stderr)
        else:
            rows.append(row)
    result = {"labelled_pairs": len(same), "same": int(same.sum()), "not_same": int((~same).sum()),
              "corpus_texts": len(items), "corpus": f"shipped statements + {source}",
              "cpus": os.cpu_count(), "load_average_at_start": os.getloadavg(), "methods": rows,
              "ingest": ingest_timings(args.models.split(",")[0].strip(), args.ingest_runs) if args.ingest_runs else None}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    for row in rows:
        best = row["best_recall_at_precision"]
        print(f"{row['method']:55s} P {row['precision']} R {row['recall']} AUC {row['auc']} | "
              + " ".join(f"{k}: R {v['recall']}" for k, v in best.items()))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
