"""The similarity index: every statement's term weights, kept beside the store, so an ingest scores
the new document against the corpus without reading and tokenising every statement's text again.

`<store>/index/similarity-<database folder>.npz` holds a `similarity.Corpus` (raw 1 + log tf
weights, document frequencies, the sorted vocabulary, statement IRIs and their documents) and the
database folder and store version it describes. `wsiskg build` writes it for the database it
builds, whatever linkers run; `ingest` loads it, swaps the document's rows and writes it back after
the store commit. An index of another database, or of another version of this one (a write through
the server's /update, an import, or a crash between an ingest's commit and its index write), is
stale: it is never used, and the corpus is read from the store again (slower, same result).

With a sentence-embedding model (graph/embed.py), `<store>/index/embedding-<database folder>.npz`
holds the statements' unit vectors, their documents and the model's name, under the same rule: it
describes one database at one version, or it is not used. Ingest then keeps this index, not the
term weights (which go stale and are rebuilt from the store if TF-IDF is used again).

Only numbers and UTF-8 bytes are stored, and files are read with `allow_pickle=False`.
"""
from __future__ import annotations

import io
import json
import os
import struct
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import sparse

from .paths import atomic_write
from .embed import EmbeddedCorpus, Model
from .similarity import STATEMENTS_QUERY, Corpus
from .uptake import PointSums

FORMAT = 1
INDEX_DIR = "index"
LEFTOVER_SECONDS = 3600


def index_path(store_root: Path, database: Path) -> Path:
    return Path(store_root) / INDEX_DIR / f"similarity-{Path(database).name}.npz"


def read_corpus(store) -> Corpus:
    """The corpus from the store itself: every statement's text, tokenised."""
    return Corpus.from_items([(s.value, t.value, d.value) for s, t, d in store.query(STATEMENTS_QUERY).rows])


def _pack(strings: list[str]) -> np.ndarray:
    return np.frombuffer("\n".join(strings).encode("utf-8"), dtype=np.uint8)


def _unpack(array: np.ndarray, count: int) -> list[str]:
    strings = array.tobytes().decode("utf-8").split("\n") if count else []
    if len(strings) != count:
        raise ValueError("string table does not match its count")
    return strings


def save(corpus: Corpus, store_root: Path, database: Path, version: int) -> Path:
    """Write the index of `database` at store version `version`."""
    weights = corpus.weights
    buffer = io.BytesIO()
    np.savez(buffer, format=np.int64(FORMAT), database=_pack([Path(database).name]), version=np.int64(version),
             shape=np.array(weights.shape, dtype=np.int64), indptr=weights.indptr, indices=weights.indices,
             weights=weights.data, df=corpus.df, vocabulary=_pack(corpus.vocabulary),
             statements=_pack(corpus.statements), documents=_pack(corpus.documents),
             document_count=np.int64(len(corpus.documents)), row_documents=corpus.row_documents)
    path = index_path(store_root, database)
    atomic_write(path, buffer.getvalue())
    return path


def load(store_root: Path, database: Path, version: int) -> Corpus | None:
    """The index of `database` at `version`; None when it is missing, unreadable, or stale."""
    try:
        with np.load(index_path(store_root, database), allow_pickle=False) as stored:
            if int(stored["format"]) != FORMAT or int(stored["version"]) != version \
                    or _unpack(stored["database"], 1) != [Path(database).name]:
                return None
            rows, columns = (int(x) for x in stored["shape"])
            weights = sparse.csr_matrix((stored["weights"], stored["indices"], stored["indptr"]), shape=(rows, columns))
            weights.check_format(full_check=True)
            corpus = Corpus(_unpack(stored["statements"], rows), stored["row_documents"],
                            _unpack(stored["documents"], int(stored["document_count"])),
                            _unpack(stored["vocabulary"], columns), weights, stored["df"])
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
        return None
    if len(corpus.row_documents) != rows or len(corpus.df) != columns or \
            (rows and not 0 <= corpus.row_documents.min() <= corpus.row_documents.max() < len(corpus.documents)):
        return None
    return corpus


def embedding_index_path(store_root: Path, database: Path) -> Path:
    return Path(store_root) / INDEX_DIR / f"embedding-{Path(database).name}.npz"


def read_embedded(store, store_root: Path | None, model: Model) -> EmbeddedCorpus:
    """The embedded corpus from the store itself (vectors from the text cache where it has them)."""
    items = [(s.value, t.value, d.value) for s, t, d in store.query(STATEMENTS_QUERY).rows]
    return EmbeddedCorpus.from_items(items, model, store_root)


def _embedded_arrays(corpus: EmbeddedCorpus) -> dict:
    return dict(model=_pack([corpus.model]), vectors=corpus.vectors, statements=_pack(corpus.statements),
                documents=_pack(corpus.documents), document_count=np.int64(len(corpus.documents)),
                row_documents=corpus.row_documents)


def _stored_vectors(stored, path: Path) -> np.ndarray:
    """The `vectors` member of an .npz written by np.savez (stored, not compressed), read straight
    from its place in the file: np.load reads it through zipfile in pieces, with a CRC (0.13 s for
    the 117 MB of a 1M store; 0.045 s straight; mapped, no read). The file is written whole (atomic_write), and the
    member's length is checked against the array's; anything unexpected goes through np.load."""
    info = stored.zip.getinfo("vectors.npy")
    if info.compress_type != zipfile.ZIP_STORED:
        return stored["vectors"]
    with open(path, "rb") as f:
        f.seek(info.header_offset)
        local = f.read(30)
        if local[:4] != b"PK\x03\x04":
            raise ValueError("not a zip member")
        f.seek(info.header_offset + 30 + sum(struct.unpack("<HH", local[26:30])))
        start = f.tell()
        version = np.lib.format.read_magic(f)
        if version not in ((1, 0), (2, 0)):
            return stored["vectors"]
        read_header = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
        shape, fortran, dtype = read_header(f)
        count = int(np.prod(shape))
        if fortran or f.tell() - start + count * dtype.itemsize != info.file_size:
            return stored["vectors"]
        offset = f.tell()
        if offset + count * dtype.itemsize > os.fstat(f.fileno()).st_size:
            raise ValueError("embedding index cut short")
    # mapped, not read: the ingest's one copy (the rows with the document's swapped, embed._copy_runs)
    # reads it from the page cache once (np.fromfile read it, and the copy read it again: 0.04 s more);
    # a later index write renames a new file over this one, so the mapped one stays as it was
    return np.memmap(path, dtype=dtype, mode="r", offset=offset, shape=tuple(shape))


def _embedded_corpus(stored, model: str, path: Path | None = None) -> EmbeddedCorpus:
    vectors = stored["vectors"] if path is None else _stored_vectors(stored, path)
    row_documents = stored["row_documents"]
    corpus = EmbeddedCorpus(_unpack(stored["statements"], len(vectors)), row_documents,
                            _unpack(stored["documents"], int(stored["document_count"])), vectors, model)
    if len(row_documents) != len(vectors) or vectors.dtype != np.float32 or \
            (len(vectors) and not 0 <= row_documents.min() <= row_documents.max() < len(corpus.documents)):
        raise ValueError("inconsistent embedding index")
    return corpus


# Where an array's data starts in the index file, as a multiple of this: the ingest reads the vectors
# mapped in place (_stored_vectors), and numpy multiplies an unaligned array without BLAS (np.savez
# left them at an offset of 10 mod 16: a 16 x 57k product took 0.31 s mapped, 0.15 s with a copy,
# 0.044 s mapped and aligned).
ALIGN = 64
ZIP_PADDING = 0xD935  # the id of the extra field Android's zipalign pads a zip member's header with


def _savez_aligned(buffer, **arrays) -> None:
    """What np.savez writes (a stored zip of .npy members, which np.load reads), with each member's
    data at a multiple of ALIGN in the file: its local header padded by an extra field."""
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for name, array in arrays.items():
            array = np.asanyarray(array)
            npy = io.BytesIO()
            np.lib.format.write_array(npy, array, allow_pickle=False)
            data = npy.getvalue()
            header = len(data) - array.nbytes  # the .npy header, before the array's bytes
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_STORED
            start = buffer.tell() + 30 + len(info.filename.encode("utf-8")) + header
            padding = (-(start + 4)) % ALIGN
            info.extra = struct.pack("<HH", ZIP_PADDING, padding) + b"\0" * padding
            archive.writestr(info, data)


def save_embedded(corpus: EmbeddedCorpus, store_root: Path, database: Path, version: int) -> Path:
    """Write the whole index of `database` at `version` (a build; an ingest whose index was stale)."""
    buffer = io.BytesIO()
    total, squares = corpus.row_sums(corpus.vectors)
    _savez_aligned(buffer, format=np.int64(FORMAT), database=_pack([Path(database).name]), version=np.int64(version),
                   base_total=total, base_squares=np.float64(squares), **_embedded_arrays(corpus))
    path = embedding_index_path(store_root, database)
    atomic_write(path, buffer.getvalue())
    embedding_delta_path(store_root, database).unlink(missing_ok=True)
    return path


# An ingest changes one document's rows: rewriting the whole index (117 MB at 1M triples, 0.33 s)
# for that would cost more than the rest of the similarity step. It writes a delta beside it instead:
# the documents whose rows in the index are dropped and the rows that replace them, for one version,
# made against one version of the whole index. The next build writes the whole index again.

def embedding_delta_path(store_root: Path, database: Path) -> Path:
    return Path(store_root) / INDEX_DIR / f"embedding-{Path(database).name}.delta.npz"


def save_embedded_change(store_root: Path, database: Path, version: int, document: str, rows: EmbeddedCorpus,
                         before: "EmbeddedState") -> None:
    """After an ingest of `document` committed as `version`: its rows are now `rows`. `before` is
    what load_embedded_state read for the version before the commit."""
    added = before.added.without_document(document).plus(rows) if before.added is not None else rows
    # the base's sums ride in the delta when the base file has none (an index written before them)
    total, squares = before.base_sums or before.base.row_sums(before.base.vectors)
    buffer = io.BytesIO()
    np.savez(buffer, format=np.int64(FORMAT), database=_pack([Path(database).name]), version=np.int64(version),
             base_total=total, base_squares=np.float64(squares),
             base_version=np.int64(before.base_version), removed=_pack(sorted(before.removed | {document})),
             removed_count=np.int64(len(before.removed | {document})), **_embedded_arrays(added))
    atomic_write(embedding_delta_path(store_root, database), buffer.getvalue())


@dataclass
class EmbeddedState:
    base: EmbeddedCorpus  # the whole index, as the build wrote it
    base_version: int
    removed: set[str]  # documents whose rows in `base` no longer count
    added: EmbeddedCorpus | None  # the rows that replace them
    base_sums: tuple[np.ndarray, float] | None = None  # EmbeddedCorpus.row_sums of `base`, when kept

    def corpus(self, without: str | None = None, plus: EmbeddedCorpus | None = None) -> EmbeddedCorpus:
        """The index as it stands, less the document `without`, plus `plus` (one copy of the vectors),
        with its sums from the base's less the rows left out plus those added (the mean cosine then
        reads no row of the base: 0.06 s at 1M triples; equal to a sum over the rows up to rounding)."""
        keep, rest = self._parts(without, plus)
        corpus = self.base.plus(*rest, keep=keep)
        corpus.sums = self._sums(keep, rest)
        return corpus

    def document_pairs(self, document: str, rows: EmbeddedCorpus, threshold: float | None = None) -> list:
        """corpus(without=document, plus=rows).pairs(<rows of document>, threshold), without the copy
        of the index's vectors corpus() makes (117 MB at 1M triples: 0.13 s quiet, 0.3-0.6 s on a busy
        machine). The document's rows are scored against the index's in place (float32, mapped) to
        find every row a pair could reach, from the float32 floor pairs() itself uses; only those rows
        and the document's are gathered, and scored by pairs() with the whole corpus's size and sums,
        so the mean cosine, the candidates and the float64 scores are those of the whole corpus."""
        def whole():  # every row in one copy, as corpus() makes it
            corpus = self.corpus(without=document, plus=rows)
            return corpus.pairs(corpus.rows_of(document), threshold)

        keep, rest = self._parts(document, rows)
        sums = self._sums(keep, rest)
        if sums is None or not len(rows) or not self.base.vectors.flags.aligned:
            return whole()  # an index without its sums, or written before its vectors were aligned
        others = [(self.base, keep)] + [(c, None) for c in rest[:-1]]  # rest[-1] is `rows`
        size = sum(len(c) if k is None else int(k.sum()) for c, k in others) + len(rows)
        sample = EmbeddedCorpus([], np.zeros(0, dtype=np.int32), [], rows.vectors[:0], rows.model, sums, size)
        floor = sample.candidate_floor(threshold)
        reached = []
        for corpus, kept in others:
            if len(corpus):
                near = (rows.vectors @ corpus.vectors.T >= floor).any(axis=0)
                reached.append((corpus, np.flatnonzero(near if kept is None else near & kept)))
        if sum(len(found) for _, found in reached) * 2 > size:
            return whole()  # a low threshold: most rows are reached, gathering them costs more
        reached = [corpus.subset(found) for corpus, found in reached]
        gathered = reached[0].plus(*reached[1:], rows) if reached else rows
        gathered.sums, gathered.size = sums, size
        return gathered.pairs(gathered.rows_of(document), threshold)

    def _parts(self, without: str | None, plus: EmbeddedCorpus | None):
        """(a mask of the base's rows that count, or None for all; the other corpora that do, `plus` last)."""
        gone = self.removed | ({without} if without else set())
        rest = [c for c in ((self.added.without_document(without) if without else self.added)
                            if self.added is not None else None, plus) if c is not None]
        return self.base.rows_kept_without(*gone), rest

    def _sums(self, keep, rest) -> tuple[np.ndarray, float] | None:
        """The sums of the rows that count: the base's kept ones less the rows left out plus `rest`."""
        if self.base_sums is None:
            return None
        total, squares = self.base_sums
        changed = ([(self.base.vectors[~keep], -1)] if keep is not None else []) + [(c.vectors, 1) for c in rest if len(c)]
        for vectors, sign in changed:
            part_total, part_squares = EmbeddedCorpus.row_sums(vectors)
            total, squares = total + sign * part_total, squares + sign * part_squares
        return total, squares


def load_embedded_state(store_root: Path, database: Path, version: int, model: str) -> EmbeddedState | None:
    """The embedding index of `database` at `version` made with `model`, with the delta it was read
    with; None when missing, unreadable, stale or of another model."""
    def header(stored) -> bool:
        return int(stored["format"]) == FORMAT and _unpack(stored["database"], 1) == [Path(database).name] \
            and _unpack(stored["model"], 1) == [model]
    try:
        path = embedding_index_path(store_root, database)
        with np.load(path, allow_pickle=False) as stored:
            if not header(stored):
                return None
            base_version = int(stored["version"])
            if base_version > version:
                return None
            base = _embedded_corpus(stored, model, path)
            sums = _base_sums(stored, base)
        if base_version == version:
            return EmbeddedState(base, base_version, set(), None, sums)
        with np.load(embedding_delta_path(store_root, database), allow_pickle=False) as stored:
            if not header(stored) or int(stored["version"]) != version or int(stored["base_version"]) != base_version:
                return None
            removed = set(_unpack(stored["removed"], int(stored["removed_count"])))
            added = _embedded_corpus(stored, model)
            sums = sums or _base_sums(stored, base)
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
        return None
    return EmbeddedState(base, base_version, removed, added, sums)


def _base_sums(stored, base: EmbeddedCorpus) -> tuple[np.ndarray, float] | None:
    """The base's row sums kept in an index file (the base itself, or a delta made against it)."""
    if "base_total" not in stored.files:
        return None
    total = stored["base_total"]
    if total.shape != base.vectors.shape[1:] or total.dtype != np.float64:
        raise ValueError("inconsistent embedding index sums")
    return total, float(stored["base_squares"])


def load_embedded(store_root: Path, database: Path, version: int, model: str) -> EmbeddedCorpus | None:
    """The embedding index of `database` at `version` made with `model`; None when missing, unreadable,
    stale or of another model."""
    state = load_embedded_state(store_root, database, version, model)
    return state.corpus() if state else None


def uptake_sums_path(store_root: Path, database: Path) -> Path:
    """graph/uptake.py's sums of point vectors per document (PointSums), kept under the same rule."""
    return Path(store_root) / INDEX_DIR / f"uptake-sums-{Path(database).name}.npz"


def save_uptake_sums(sums: PointSums, store_root: Path, database: Path, version: int, model: str) -> None:
    buffer = io.BytesIO()
    np.savez(buffer, version=np.int64(version), model=_pack([model]), documents=_pack(sums.documents),
             sums=sums.sums, counts=sums.counts)
    atomic_write(uptake_sums_path(store_root, database), buffer.getvalue())


def load_uptake_sums(store_root: Path, database: Path, version: int, model: str) -> PointSums | None:
    """The sums of `database` at `version` made with `model`; None when missing, unreadable or stale."""
    try:
        with np.load(uptake_sums_path(store_root, database), allow_pickle=False) as stored:
            if int(stored["version"]) != version or _unpack(stored["model"], 1) != [model]:
                return None
            sums, counts = stored["sums"], stored["counts"]
            documents = _unpack(stored["documents"], len(sums))
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
        return None
    return PointSums(documents, sums.astype(np.float64), counts) if len(counts) == len(sums) else None


# -- the reference reads an ingest makes, the same for every document -----------------------------
# The linker's labels, suggestions and rules (linker.reference_rows) and the uptake's paragraphs, their
# links and the entities' names (uptake.reference_rows): 0.2 s of reading at 1M triples. `<store>/index/
# reference-<database folder>.json` keeps them for one database at one version, as JSON (strings and
# numbers only). An ingest changes none of them (its graphs hold its statements, their links, pairs,
# uptake, clusters and summary rows), so it writes the file again for the version it commits; any
# other write (a build, /update, /data, an import) leaves it behind a version, and so unused.

def reference_path(store_root: Path, database: Path) -> Path:
    return Path(store_root) / INDEX_DIR / f"reference-{Path(database).name}.json"


def save_reference(reference: dict, store_root: Path, database: Path, version: int) -> None:
    record = {"format": FORMAT, "database": Path(database).name, "version": version, **reference}
    atomic_write(reference_path(store_root, database), json.dumps(record, ensure_ascii=False).encode("utf-8"))


def load_reference(store_root: Path, database: Path, version: int) -> dict | None:
    """{"linker": ..., "uptake": ...} of `database` at `version`; None when missing, unreadable or stale."""
    try:
        record = json.loads(reference_path(store_root, database).read_bytes())
        if record["format"] != FORMAT or record["database"] != Path(database).name or record["version"] != version:
            return None
        return {"linker": record["linker"], "uptake": record["uptake"]}
    except (OSError, ValueError, KeyError, TypeError):
        return None


def remove_other_indexes(store_root: Path, database: Path) -> None:
    """Delete the index files of every database but `database` (replaced or half-built ones), and
    temporary files a crash left (only old ones: a running ingest may be writing one now)."""
    folder = Path(store_root) / INDEX_DIR
    keep = {index_path(store_root, database), embedding_index_path(store_root, database),
            embedding_delta_path(store_root, database), uptake_sums_path(store_root, database),
            reference_path(store_root, database)}
    for path in [*folder.glob("similarity-*.npz"), *folder.glob("embedding-*.npz"), *folder.glob("uptake-sums-*.npz"),
                 *folder.glob("reference-*.json")]:
        if path not in keep:
            path.unlink(missing_ok=True)
    for path in [*folder.glob(".similarity-*.npz.*"), *folder.glob(".embedding-*.npz.*"), *folder.glob(".uptake-sums-*.npz.*"),
                 *folder.glob(".reference-*.json.*"),
                 *folder.glob("vectors-*/.*.npz.*"),
                 *folder.glob("uptake/index/vectors-*/.*.npz.*"),
                 *folder.glob("uptake/paragraphs/index/vectors-*/.*.npz.*")]:
        try:
            if time.time() - path.stat().st_mtime > LEFTOVER_SECONDS:
                path.unlink()
        except OSError:
            pass
