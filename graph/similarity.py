"""Statements that say the same thing across documents: `wsis:similarTo`, with score and method.

By meaning when a sentence-embedding model is installed (graph/embed.py: the default), else by words:
TF-IDF over word stems and stem pairs, cosine similarity by sparse matrix products in row blocks
(no all-pairs loop in Python), so tens of thousands of statements take seconds. Common words weigh
little by construction (idf) and stop words not at all; a pair must also share several distinct
content stems, so two statements that only share a few frequent words are not linked.
"""
from __future__ import annotations

import bisect
import hashlib
import heapq
import math
import re
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache

import numpy as np
import pyoxigraph as ox
from scipy import sparse

from . import namespaces as ns
from .linker import _lit

METHOD = "tfidf-cosine"
THRESHOLD = 0.4
MIN_SHARED_STEMS = 3
BLOCK = 2000
# At most this many pairs between one statement and the statements of any one other document (its
# best, ties by the partner's IRI); a pair stays if either of its statements keeps it. Without a
# bound, two long look-alike documents pair every statement with every other (quadratic); with it,
# pairs grow linearly with a document, and the rule looks only at the two documents, so ingest's
# incremental pairs stay exactly the all-pairs ones. Both methods (words, meaning) apply it.
PER_DOCUMENT = 10

STOP_WORDS = frozenset("""
a about above across after again against all also although am among an and any are as at be because been before
being below between both but by can could did do does doing down during each either etc few for from further had
has have having he her here hers herself him himself his how however i if in into is it its itself just may me
might more most must my myself no nor not now of off on once only or other our ours ourselves out over own per
same shall she should so some such than that the their theirs them themselves then there these they this those
through thus to too under until up upon very via was we were what when where whether which while who whom why will
with within without would yet you your yours yourself yourselves including include includes ensure ensuring
across well new use used using make making need needs among many much must several various including
""".split())

_WORD = re.compile(r"[a-z][a-z0-9]+")
_SUFFIXES = ("isations", "izations", "isation", "ization", "ational", "ations", "ation", "nesses", "ments", "ment",
             "ities", "ity", "ings", "ing", "ies", "ied", "ed", "es", "ly", "s")


@lru_cache(maxsize=1 << 17)  # words repeat: tokenising 57k statements took 2.2 s uncached, 0.5 s cached
def stem(word: str) -> str:
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            word = word[: -len(suffix)]
            break
    return word[:-1] if word.endswith("e") and len(word) > 5 else word


def features(text: str) -> list[str]:
    words = [w for w in _WORD.findall(re.sub(r"[-‐‑‒–—]", " ", text.lower().replace("’", "'"))) if w not in STOP_WORDS]
    stems = [stem(w) for w in words if len(w) > 2]
    return stems + [f"{a} {b}" for a, b in zip(stems, stems[1:])]


@dataclass
class Pair:
    a: str
    b: str
    score: float
    shared: int  # content stems both hold (TF-IDF only)
    method: str = METHOD
    evidence: str = ""

    @property
    def evidence_text(self) -> str:
        return self.evidence or f"{self.shared} shared content words"


class StatementRows:
    """What both corpora (by words here, by meaning in graph/embed.py) share: one row per statement,
    `statements` and `row_documents` (index into `documents`)."""

    statements: list[str]
    row_documents: np.ndarray
    documents: list[str]

    @staticmethod
    def document_codes(items: list[tuple[str, str, str]]) -> tuple[np.ndarray, list[str]]:
        """items: (statement IRI, text, document IRI) -> (row -> document index, sorted documents)."""
        documents = sorted({document for _, _, document in items})
        code = {document: k for k, document in enumerate(documents)}
        return np.array([code[d] for _, _, d in items], dtype=np.int32), documents

    def __len__(self) -> int:
        return len(self.statements)

    def rows_of(self, document: str) -> np.ndarray:
        if document not in self.documents:
            return np.zeros(0, dtype=np.int64)
        return np.flatnonzero(self.row_documents == self.documents.index(document))

    def queried(self, rows: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        """(the rows to score, default all; a mask of them over every row)."""
        rows = np.arange(len(self)) if rows is None else np.asarray(rows, dtype=np.int64)
        mask = np.zeros(len(self), dtype=bool)
        mask[rows] = True
        return rows, mask

    def new_pairs(self, r: np.ndarray, c: np.ndarray, queried: np.ndarray) -> np.ndarray:
        """Which (queried row r, any row c) pairs to take: of different documents, and a pair of two
        queried rows only once, from its lower row."""
        return (self.row_documents[r] != self.row_documents[c]) & (~queried[c] | (r < c))

    def columns_for(self, rows: np.ndarray) -> np.ndarray:
        """The rows to score `rows` against: when they all come from one document (an ingest), only
        the other documents' rows (its own can never pair with them), so the cost follows the
        document times the rest of the corpus, not the document squared; else every row."""
        documents = np.unique(self.row_documents[rows])
        if len(documents) == 1:
            return np.flatnonzero(self.row_documents != documents[0])
        return np.arange(len(self))

    def bounded(self, r: np.ndarray, c: np.ndarray, s: np.ndarray, per_document: int | None = PER_DOCUMENT) -> np.ndarray:
        """A mask of the pairs (r[i], c[i]) with score s[i] among the `per_document` best of r[i] with
        c[i]'s document, or of c[i] with r[i]'s document (see PER_DOCUMENT). Applied per block and
        again to what the blocks kept, it keeps the same pairs as applied once to all: a pair among a
        statement's best overall is among its best in any subset holding it."""
        keep = np.zeros(len(r), dtype=bool)
        if per_document is None or len(r) <= per_document:
            keep[:] = True
            return keep
        names, groups = self._tie_rank(r, c), self.row_documents
        for mine, other in ((r, c), (c, r)):
            # best first within (statement, other document); equal scores in IRI order of the partner
            order = np.lexsort((names[other], -s, groups[other], mine))
            key_mine, key_group = mine[order], groups[other][order]
            new = np.ones(len(order), dtype=bool)
            new[1:] = (key_mine[1:] != key_mine[:-1]) | (key_group[1:] != key_group[:-1])
            starts = np.flatnonzero(new)
            rank = np.arange(len(order)) - np.repeat(starts, np.diff(np.append(starts, len(order))))
            keep[order[rank < per_document]] = True
        return keep

    def _tie_rank(self, r: np.ndarray, c: np.ndarray) -> np.ndarray:
        """Ranks of rows in IRI order that order the rows of these pairs as _name_rank does: only
        theirs are computed when they are few (an ingest: sorting the 57k IRIs of a 1M store took
        0.05 s for 1,083 pairs)."""
        known = getattr(self, "_names", None)
        if (known is not None and len(known) == len(self)) or (len(r) + len(c)) * 4 > len(self):
            return self._name_rank()
        involved = np.unique(np.concatenate([r, c]))
        names = np.zeros(len(self), dtype=np.int64)
        order = np.argsort(np.array([self.statements[i] for i in involved], dtype=object), kind="stable")
        names[involved[order]] = np.arange(len(involved))
        return names

    def _name_rank(self) -> np.ndarray:
        """Each row's position in IRI order (a tie-break that does not depend on row order)."""
        names = getattr(self, "_names", None)
        if names is None or len(names) != len(self):
            names = np.empty(len(self), dtype=np.int64)
            names[np.argsort(np.array(self.statements, dtype=object), kind="stable")] = np.arange(len(self))
            self._names = names
        return names

    def rows_kept_without(self, *documents: str) -> np.ndarray | None:
        """A mask of the rows not of `documents`; None when they have none."""
        gone = np.concatenate([self.rows_of(d) for d in documents]) if documents else np.zeros(0, dtype=np.int64)
        if len(gone) == 0:
            return None
        keep = np.ones(len(self), dtype=bool)
        keep[gone] = False
        return keep


@lru_cache(maxsize=1024)
def tf_weight(tf: int) -> float:
    """A term's raw weight in a statement, before idf: 1 + log(term frequency)."""
    return 1 + math.log(tf)


@dataclass
class Corpus(StatementRows):
    """Statements as rows of raw term weights (`tf_weight`, no idf), ready to score against each other.

    Both the all-pairs computation (`similar_pairs`) and the incremental one (`graph/ingest.py`: one
    document's rows against every row) score through `pairs`, with idf computed there over the rows
    present. The vocabulary is kept sorted, so a row's terms are always summed in the same order: a
    pair scores to the same bits whichever other statements the corpus holds.
    """

    statements: list[str]  # row -> statement IRI
    row_documents: np.ndarray  # row -> index into `documents` (int32)
    documents: list[str]
    vocabulary: list[str]  # sorted
    weights: sparse.csr_matrix  # rows x vocabulary, sorted column indices
    df: np.ndarray  # per vocabulary entry: how many rows hold it (int64)

    @classmethod
    def from_items(cls, items: list[tuple[str, str, str]]) -> "Corpus":
        """items: (statement IRI, text, document IRI)."""
        counts = [Counter(features(text)) for _, text, _ in items]
        vocabulary = sorted(set().union(*counts)) if counts else []
        position = {feature: j for j, feature in enumerate(vocabulary)}
        indptr, indices, data = [0], [], []
        for row in counts:
            cells = sorted((position[feature], tf) for feature, tf in row.items())
            indices += [j for j, _ in cells]
            data += [tf_weight(tf) for _, tf in cells]
            indptr.append(len(indices))
        weights = sparse.csr_matrix((np.array(data, dtype=np.float64), np.array(indices, dtype=np.int32),
                                     np.array(indptr, dtype=np.int64)), shape=(len(items), len(vocabulary)))
        row_documents, documents = cls.document_codes(items)
        return cls([s for s, _, _ in items], row_documents, documents,
                   vocabulary, weights, np.bincount(weights.indices, minlength=len(vocabulary)).astype(np.int64))

    def without_document(self, document: str) -> "Corpus":
        """The corpus minus the rows of `document` (terms no other row holds leave the vocabulary)."""
        keep = self.rows_kept_without(document)
        if keep is None:
            return self
        gone = ~keep
        df = self.df - np.bincount(self.weights[gone].indices, minlength=len(self.vocabulary))
        weights, vocabulary = self.weights[keep], self.vocabulary
        used = df > 0
        if not used.all():
            new_column = np.cumsum(used) - 1
            weights = sparse.csr_matrix((weights.data, new_column[weights.indices].astype(np.int32), weights.indptr),
                                        shape=(weights.shape[0], int(used.sum())))
            df, vocabulary = df[used], [f for f, u in zip(vocabulary, used) if u]
        statements = [s for s, k in zip(self.statements, keep) if k]
        return Corpus(statements, self.row_documents[keep], self.documents, vocabulary, weights, df)

    def plus(self, other: "Corpus") -> "Corpus":
        """Both corpora's rows (this one's first) over the union of their vocabularies."""
        known = set(self.vocabulary)
        added = sorted(f for f in other.vocabulary if f not in known)
        # Each old column moves right by the number of added terms sorting before it; both mappings
        # keep the columns' order, so the rows stay sorted.
        insert_at = np.array([bisect.bisect_left(self.vocabulary, f) for f in added], dtype=np.int64)
        old_to_new = np.arange(len(self.vocabulary)) + np.searchsorted(insert_at, np.arange(len(self.vocabulary)),
                                                                       side="right")
        vocabulary = list(heapq.merge(self.vocabulary, added))
        other_to_new = np.array([bisect.bisect_left(vocabulary, f) for f in other.vocabulary], dtype=np.int64)
        df = np.zeros(len(vocabulary), dtype=np.int64)
        df[old_to_new] += self.df
        df[other_to_new] += other.df
        mine = sparse.csr_matrix((self.weights.data, old_to_new[self.weights.indices], self.weights.indptr),
                                 shape=(len(self), len(vocabulary)))
        theirs = sparse.csr_matrix((other.weights.data, other_to_new[other.weights.indices], other.weights.indptr),
                                   shape=(len(other), len(vocabulary)))
        documents = self.documents + [d for d in other.documents if d not in self.documents]
        code = np.array([documents.index(d) for d in other.documents], dtype=np.int32)
        row_documents = np.concatenate([self.row_documents, code[other.row_documents]]).astype(np.int32)
        return Corpus(self.statements + other.statements, row_documents, documents, vocabulary,
                      sparse.vstack([mine, theirs], format="csr"), df)

    def _shared_unigrams(self, r: np.ndarray, c: np.ndarray, unigram: np.ndarray) -> np.ndarray:
        """For each pair (r[i], c[i]): how many single content stems (not stem pairs) both rows hold."""
        needed, position = np.unique(np.concatenate([r, c]), return_inverse=True)
        held = self.weights[needed]
        held = sparse.csr_matrix((unigram[held.indices].astype(np.int32), held.indices, held.indptr), shape=held.shape)
        return np.asarray(held[position[:len(r)]].multiply(held[position[len(r):]]).sum(axis=1)).ravel()

    def pairs(self, rows: np.ndarray | None = None, threshold: float = THRESHOLD,
              min_shared: int = MIN_SHARED_STEMS, per_document: int | None = PER_DOCUMENT) -> list[Pair]:
        """Similar pairs of statements of different documents with at least one of them in `rows`
        (default: every row, i.e. all pairs), each once, named in IRI order (`a` < `b`); at most
        `per_document` per statement and other document (see PER_DOCUMENT; None: no bound)."""
        n = len(self)
        if n < 2:
            return []
        idf = np.log((n + 1) / (self.df + 1)) + 1
        matrix = self.weights.copy()
        matrix.data = matrix.data * idf[matrix.indices]
        lengths = np.diff(matrix.indptr)
        squares = np.zeros(n)
        squares[lengths > 0] = np.add.reduceat(matrix.data * matrix.data, matrix.indptr[:-1][lengths > 0])
        norms = np.sqrt(squares)
        norms[norms == 0] = 1.0
        matrix.data = np.repeat(1.0 / norms, lengths) * matrix.data
        unigram = np.array([" " not in f for f in self.vocabulary], dtype=bool)
        rows, queried = self.queried(rows)
        columns = self.columns_for(rows)
        against = matrix[columns]
        found = []
        for start in range(0, len(rows), BLOCK):
            block_rows = rows[start:start + BLOCK]
            # Every row against the block: each score sums the same products, in the same (vocabulary)
            # order, whichever rows are in the block or the corpus.
            block = (against @ matrix[block_rows].T).tocoo()
            r, c, s = block_rows[block.col], columns[block.row], block.data
            keep = (s >= threshold) & self.new_pairs(r, c, queried)
            r, c, s = r[keep], c[keep], s[keep]
            if len(r) == 0:
                continue
            shared = self._shared_unigrams(r, c, unigram)
            enough = shared >= min_shared
            r, c, s, shared = r[enough], c[enough], s[enough], shared[enough]
            keep = self.bounded(r, c, s, per_document)
            found.append((r[keep], c[keep], s[keep], shared[keep]))
        if not found:
            return []
        r, c, s, shared = (np.concatenate(parts) for parts in zip(*found))
        keep = self.bounded(r, c, s, per_document)
        pairs = []
        for i, j, score, k in zip(r[keep], c[keep], s[keep], shared[keep]):
            a, b = sorted((self.statements[i], self.statements[j]))
            pairs.append(Pair(a, b, round(float(min(score, 1.0)), 3), int(k)))
        pairs.sort(key=lambda p: (-p.score, p.a, p.b))
        return pairs


def similar_pairs(items: list[tuple[str, str, str]], threshold: float = THRESHOLD,
                  min_shared: int = MIN_SHARED_STEMS) -> list[Pair]:
    """All pairs. items: (statement IRI, text, group); pairs within one group (a document) are skipped."""
    return Corpus.from_items(items).pairs(threshold=threshold, min_shared=min_shared)


# In no particular order: pairs come out the same whatever the order of the statements, and sorting
# 57k IRIs took Oxigraph 5 s at 1M triples.
STATEMENTS_QUERY = """
PREFIX wsis: <https://w3id.org/wsis-kg/ontology#>
PREFIX prov: <http://www.w3.org/ns/prov#>
SELECT ?s ?text ?doc WHERE { ?s wsis:text ?text ; prov:wasDerivedFrom ?doc . }"""


def similarity_ntriples(pairs: list[Pair], sim: str = ns.WSIS + "similarTo") -> bytes:
    """Both directions of each pair and its wsis:LinkAssertion (graph/deliverables.py passes its own predicate)."""
    lines = []
    for pair in pairs:
        for a, b in ((pair.a, pair.b), (pair.b, pair.a)):
            lines.append(f"<{a}> <{sim}> <{b}> .")
        node = f"<{ns.ID}link/{hashlib.sha1(f'{pair.a} {sim} {pair.b}'.encode()).hexdigest()[:16]}>"
        lines += [
            f"{node} <{ns.RDF}type> <{ns.WSIS}LinkAssertion> .",
            f"{node} <{ns.RDF}subject> <{pair.a}> .",
            f"{node} <{ns.RDF}predicate> <{sim}> .",
            f"{node} <{ns.RDF}object> <{pair.b}> .",
            f"{node} <{ns.WSIS}method> {_lit(pair.method)} .",
            f'{node} <{ns.WSIS}score> "{pair.score:.3f}"^^<{ns.XSD}decimal> .',
            f"{node} <{ns.WSIS}evidenceText> {_lit(pair.evidence_text)} .",
        ]
    return ("\n".join(lines) + "\n").encode("utf-8") if lines else b""


def remove_document_pairs_update(document: str) -> str:
    """SPARQL Update that removes from the similarity graph every pair with a statement derived from
    `document`: both `wsis:similarTo` triples and the pair's `wsis:LinkAssertion`. It finds the
    statements in the store, so it must run before the document's own graph is replaced."""
    graph, sim, rdf = ns.links_graph("similarity"), ns.WSIS + "similarTo", ns.RDF
    statements = f"GRAPH ?g {{ ?statement <{ns.PROV}wasDerivedFrom> <{document}> }}"
    # the document's statements are matched inside each UNION branch: a branch alone is planned on
    # its own, and would read every pair of the graph to join them after
    return (f"DELETE {{ GRAPH <{graph}> {{ ?statement <{sim}> ?other . ?other <{sim}> ?statement }} }}\n"
            f"WHERE {{ {{ {statements} GRAPH <{graph}> {{ ?statement <{sim}> ?other }} }}"
            f" UNION {{ {statements} GRAPH <{graph}> {{ ?other <{sim}> ?statement }} }} }} ;\n"
            f"DELETE {{ GRAPH <{graph}> {{ ?link ?p ?o }} }}\n"
            f"WHERE {{ {{ {statements} GRAPH <{graph}> {{ ?link <{rdf}subject> ?statement ; <{rdf}predicate> <{sim}> ; ?p ?o }} }}"
            f" UNION {{ {statements} GRAPH <{graph}> {{ ?link <{rdf}object> ?statement ; <{rdf}predicate> <{sim}> ; ?p ?o }} }} }}")


def document_pairs_change(store, document: str, pairs: list[Pair]) -> tuple[str, str]:
    """(DELETE DATA, INSERT DATA) texts that turn the similarity graph's pairs of `document` (what
    remove_document_pairs_update removes) into `pairs`: the same end state as removing them all and
    inserting `pairs`, but a triple that stays is neither deleted nor written again. Oxigraph checks
    every quad it touches in its indexes (at 1M quads the 1,083 pairs of one document, 9,747 triples:
    removal 0.29 s, insertion 0.28 s, even of triples already there), so a document ingested again
    writes only what changed. Reads the store as it is before the change (run it first).

    Both sides are compared as N-Triples lines written by Oxigraph (the stored ones by the store's
    CONSTRUCT, the new ones parsed and written again), the score by its value ("0.420" is read back as
    "0.42"). A triple written two ways would be deleted and inserted again: the same end state.

    The document's statements are read first and bound by a VALUES: with their pattern inside each
    branch Oxigraph read the 9,747 triples at 1M in 0.19 s, with the statements bound in 0.07 s."""
    graph, sim, rdf = ns.links_graph("similarity"), ns.WSIS + "similarTo", ns.RDF
    mine = document_statements(store, document)
    if not mine:
        old = b""
    else:
        statements = "VALUES ?statement { " + " ".join(f"<{s}>" for s in sorted(mine)) + " }"
        old = store.construct_ntriples(
            f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ {{ {statements} GRAPH <{graph}> {{ ?statement <{sim}> ?o }} BIND(?statement AS ?s) "
            f"BIND(<{sim}> AS ?p) }} UNION {{ {statements} GRAPH <{graph}> {{ ?s <{sim}> ?statement }} "
            f"BIND(<{sim}> AS ?p) BIND(?statement AS ?o) }} UNION {{ {statements} GRAPH <{graph}> {{ ?s <{rdf}subject> "
            f"?statement ; <{rdf}predicate> <{sim}> ; ?p ?o }} }} UNION {{ {statements} GRAPH <{graph}> {{ ?s <{rdf}object> "
            f"?statement ; <{rdf}predicate> <{sim}> ; ?p ?o }} }} }}")
    score = f"<{ns.WSIS}score>"

    def key(line: str):  # a triple as the store compares it (an N-Triples subject and predicate hold no space)
        subject, predicate, value = line.split(" ", 2)
        return (subject, Decimal(value[1:value.index('"', 1)])) if predicate == score else line
    old_lines = {key(line): line for line in old.decode("utf-8").splitlines() if line}
    body = similarity_ntriples(pairs)
    new_lines = {key(line): line for line in ox.serialize(ox.parse(body, format=ox.RdfFormat.N_TRIPLES),
                                                          format=ox.RdfFormat.N_TRIPLES).decode("utf-8").splitlines()
                 if line} if body else {}
    gone = [line for k, line in old_lines.items() if k not in new_lines]
    added = [line for k, line in new_lines.items() if k not in old_lines]
    return tuple(f"{verb} DATA {{ GRAPH <{graph}> {{\n" + "\n".join(lines) + "\n} }" if lines else ""
                 for verb, lines in (("DELETE", gone), ("INSERT", added)))


def all_pairs(items: list[tuple[str, str, str]], store_root=None, threshold: float | None = None,
              prune: bool = True) -> list[Pair]:
    """All pairs, by the method in use: the embedding model when one is available (its vectors cached
    beside the store at `store_root`, pruned to these items unless `prune` is false), else TF-IDF.
    items: (statement IRI, text, document IRI)."""
    from . import embed
    model = embed.load_model()
    if model is None:
        return similar_pairs(items, THRESHOLD if threshold is None else threshold)
    return embed.EmbeddedCorpus.from_items(items, model, store_root, prune=prune).pairs(threshold=threshold)


def compute(store) -> dict[str, bytes]:
    """The whole similarity graph, recomputed from every statement in the store, and its clusters."""
    items = [(s.value, t.value, d.value) for s, t, d in store.query(STATEMENTS_QUERY).rows]
    pairs = all_pairs(items, getattr(store, "path", None))
    return {ns.links_graph("similarity"): similarity_ntriples(pairs),
            CLUSTERS_GRAPH: cluster_ntriples((p.a, p.b) for p in pairs)}


# -- clusters: the similarity graph's connected sets, kept as data --------------------------------
# Two statements are in one cluster when a chain of similarity links joins them. Walking that chain
# at query time (wsis:similarTo+) works on Oxigraph but not on Virtuoso 7.2, which runs out of its
# transitive memory on the shipped corpus (one cluster holds 205 statements, up to 12 links apart),
# and it costs every reader again. So each writer of the similarity graph (build, ingest, remove,
# an API write) rewrites the clusters graph in the same transaction, from the pairs as they will be.

CLUSTERS_GRAPH = ns.links_graph("similarity-clusters")


def clusters(pairs) -> dict[str, str]:
    """statement -> its cluster's first member (smallest IRI), by union-find over the pairs."""
    parent: dict[str, str] = {}

    def root(x: str) -> str:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in pairs:
        ra, rb = root(a), root(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)  # the smaller IRI stays the root: it names the cluster
    return {x: root(x) for x in parent}


def cluster_node(first: str) -> str:
    """A cluster's IRI, named by its first member, so a cluster a write does not touch keeps it."""
    return f"{ns.ID}cluster/{hashlib.sha1(first.encode()).hexdigest()[:16]}"


def _cluster_lines(members: dict[str, str]) -> set[str]:
    lines = set()
    for first in set(members.values()):
        node = f"<{cluster_node(first)}>"
        lines |= {f"{node} <{ns.RDF}type> <{ns.WSIS}NearDuplicateCluster> .",
                  f"{node} <{ns.WSIS}firstMember> <{first}> ."}
    lines |= {f"<{statement}> <{ns.WSIS}inNearDuplicateCluster> <{cluster_node(first)}> ."
              for statement, first in members.items()}
    return lines


def cluster_ntriples(pairs) -> bytes:
    lines = sorted(_cluster_lines(clusters(pairs)))
    return ("\n".join(lines) + "\n").encode("utf-8") if lines else b""


def stored_pairs(store, without_document: str | None = None) -> list[tuple[str, str]]:
    """The similarity graph's pairs, each once, leaving out those of `without_document`'s statements."""
    sim = ns.WSIS + "similarTo"
    rows = store.query(f"SELECT ?a ?b WHERE {{ GRAPH <{ns.links_graph('similarity')}> {{ ?a <{sim}> ?b }} "
                       "FILTER(STR(?a) < STR(?b)) }").rows
    pairs = [(a.value, b.value) for a, b in rows]
    if without_document:
        mine = document_statements(store, without_document)
        pairs = [(a, b) for a, b in pairs if a not in mine and b not in mine]
    return pairs


def document_statements(store, document: str) -> set[str]:
    return {s.value for (s,) in store.query(f"SELECT ?s WHERE {{ ?s <{ns.PROV}wasDerivedFrom> <{document}> }}").rows}


def clusters_change_update(store, removed: set[str], added: list[tuple[str, str]]) -> str:
    """SPARQL Update that brings the clusters graph up to date when the statements `removed` lose
    their pairs and the pairs `added` are stored: the same clusters as clusters_update over every
    pair, but only the clusters the change touches are recomputed (a cluster no removed
    statement and no added pair reaches keeps its pairs, so its members and name). It reads the
    store as it is before the change, so it must be computed before the change is committed."""
    touched = set(removed) | {x for pair in added for x in pair}
    if not touched:
        return ""
    rows, before = _touched_clusters(store, touched)
    before_members = {a for a, _ in rows}
    kept = [(a, b) for a, b in rows if b is not None and a < b and a not in removed and b not in removed]
    old, new = _cluster_lines(before), _cluster_lines(clusters(kept + list(added)))
    parts = []
    if old - new:
        parts.append(f"DELETE DATA {{ GRAPH <{CLUSTERS_GRAPH}> {{\n" + "\n".join(sorted(old - new)) + "\n} }")
    if new - old:
        parts.append(f"INSERT DATA {{ GRAPH <{CLUSTERS_GRAPH}> {{\n" + "\n".join(sorted(new - old)) + "\n} }")
    return " ;\n".join(parts)


# A look-up of one term in an on-disk store costs 80-150 us at 1M quads, a row of a scan 3-5 us: a
# graph with fewer rows than this many times the look-ups is read whole instead (at 1M, 1,084 touched
# statements: the clusters' 1,281 members and the 2,896 similarity triples, 0.02 s; looked up, 0.2 s).
SCAN_PER_LOOKUP = 20


def _touched_clusters(store, touched: set[str]) -> tuple[list[tuple[str, str | None]], dict[str, str]]:
    """Every member of a cluster a `touched` statement is in, with each pair it is in, (member, None)
    for one in none (pairs stay inside a cluster); and each member's cluster's first member."""
    member, sim, first = ns.WSIS + "inNearDuplicateCluster", ns.WSIS + "similarTo", ns.WSIS + "firstMember"
    bound = SCAN_PER_LOOKUP * len(touched)

    def whole(graph: str, predicate: str) -> list | None:  # its rows, or None when more than `bound`
        found = store.query(f"SELECT ?x ?y WHERE {{ GRAPH <{graph}> {{ ?x <{predicate}> ?y }} }} LIMIT {bound + 1}").rows
        return [(x.value, y.value) for x, y in found] if len(found) <= bound else None

    members = whole(CLUSTERS_GRAPH, member)
    firsts = whole(CLUSTERS_GRAPH, first) if members is not None else None
    pairs = whole(ns.links_graph("similarity"), sim) if firsts is not None else None
    if pairs is not None:
        reached = {c for s, c in members if s in touched}
        in_reached = [(s, c) for s, c in members if c in reached]
        others: dict[str, list[str]] = {}
        for a, b in pairs:
            others.setdefault(a, []).append(b)
        first_of = dict(firsts)
        rows = [(a, b) for a, _ in in_reached for b in (others.get(a) or [None])]
        return rows, {s: first_of[c] for s, c in in_reached if c in first_of}
    # every member of a touched cluster, with the pairs it is in
    values = " ".join(f"<{x}>" for x in sorted(touched))
    rows = [(a.value, b.value if b is not None else None) for a, b in store.query(
        f"SELECT ?a ?b WHERE {{ {{ SELECT DISTINCT ?c WHERE {{ VALUES ?t {{ {values} }} "
        f"GRAPH <{CLUSTERS_GRAPH}> {{ ?t <{member}> ?c }} }} }} "
        f"GRAPH <{CLUSTERS_GRAPH}> {{ ?a <{member}> ?c }} "
        f"OPTIONAL {{ GRAPH <{ns.links_graph('similarity')}> {{ ?a <{sim}> ?b }} }} }}").rows]
    before_members = {a for a, _ in rows}
    before: dict[str, str] = {}
    if before_members:
        values_m = " ".join(f"<{x}>" for x in sorted(before_members))
        before = {s.value: f.value for s, f in store.query(
            f"SELECT ?s ?f WHERE {{ VALUES ?s {{ {values_m} }} GRAPH <{CLUSTERS_GRAPH}> "
            f"{{ ?s <{member}> ?c . ?c <{first}> ?f }} }}").rows}
    return rows, before


def clusters_update(pairs) -> str:
    """SPARQL Update that replaces the clusters graph with the clusters of `pairs`."""
    body = cluster_ntriples(pairs).decode("utf-8")
    drop = f"DROP SILENT GRAPH <{CLUSTERS_GRAPH}>"
    return f"{drop} ;\nINSERT DATA {{ GRAPH <{CLUSTERS_GRAPH}> {{\n{body}}} }}" if body else drop
