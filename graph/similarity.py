"""Statements that say the same thing across documents: `wsis:similarTo`, with score and method.

TF-IDF over word stems and stem pairs, cosine similarity by sparse matrix products in row blocks
(no all-pairs loop in Python), so tens of thousands of statements take seconds. Common words weigh
little by construction (idf) and stop words not at all; a pair must also share several distinct
content stems, so two statements that only share a few frequent words are not linked.
"""
from __future__ import annotations

import hashlib
import math
import re
from collections import Counter
from dataclasses import dataclass

import numpy as np
from scipy import sparse

from . import namespaces as ns
from .link import _lit

METHOD = "tfidf-cosine"
THRESHOLD = 0.4
MIN_SHARED_STEMS = 3
BLOCK = 2000

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
    shared: int


def similar_pairs(items: list[tuple[str, str, str]], threshold: float = THRESHOLD,
                  min_shared: int = MIN_SHARED_STEMS) -> list[Pair]:
    """items: (statement IRI, text, group); pairs within one group (a document) are skipped."""
    if len(items) < 2:
        return []
    docs = [Counter(features(text)) for _, text, _ in items]
    vocabulary: dict[str, int] = {}
    df = Counter()
    for counts in docs:
        df.update(counts.keys())
    n = len(docs)
    rows, cols, vals = [], [], []
    for i, counts in enumerate(docs):
        for feature, tf in counts.items():
            j = vocabulary.setdefault(feature, len(vocabulary))
            rows.append(i)
            cols.append(j)
            vals.append((1 + math.log(tf)) * (math.log((n + 1) / (df[feature] + 1)) + 1))
    matrix = sparse.csr_matrix((vals, (rows, cols)), shape=(n, len(vocabulary)), dtype=np.float64)
    norms = np.sqrt(matrix.multiply(matrix).sum(axis=1)).A1
    norms[norms == 0] = 1.0
    matrix = sparse.diags(1.0 / norms) @ matrix
    unigram = np.array([" " not in f for f in sorted(vocabulary, key=vocabulary.get)])
    presence = (matrix[:, unigram] > 0).astype(np.int32).tocsr()
    groups = np.array([g for _, _, g in items])
    pairs = []
    for start in range(0, n, BLOCK):
        block = (matrix[start:start + BLOCK] @ matrix.T).tocoo()
        keep = (block.data >= threshold) & (block.row + start < block.col)
        r, c, s = block.row[keep] + start, block.col[keep], block.data[keep]
        different = groups[r] != groups[c]
        r, c, s = r[different], c[different], s[different]
        if len(r) == 0:
            continue
        shared = np.asarray(presence[r].multiply(presence[c]).sum(axis=1)).ravel()
        for i, j, score, k in zip(r, c, s, shared):
            if k >= min_shared:
                pairs.append(Pair(items[i][0], items[j][0], round(float(min(score, 1.0)), 3), int(k)))
    pairs.sort(key=lambda p: (-p.score, p.a, p.b))
    return pairs


STATEMENTS_QUERY = """
PREFIX wsis: <https://w3id.org/wsis-kg/ontology#>
PREFIX prov: <http://www.w3.org/ns/prov#>
SELECT ?s ?text ?doc WHERE { ?s wsis:text ?text ; prov:wasDerivedFrom ?doc . } ORDER BY ?s"""


def similarity_ntriples(pairs: list[Pair]) -> bytes:
    sim = ns.WSIS + "similarTo"
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
            f"{node} <{ns.WSIS}method> {_lit(METHOD)} .",
            f'{node} <{ns.WSIS}score> "{pair.score:.3f}"^^<{ns.XSD}decimal> .',
            f"{node} <{ns.WSIS}evidenceText> {_lit(f'{pair.shared} shared content words')} .",
        ]
    return ("\n".join(lines) + "\n").encode("utf-8") if lines else b""


def compute(store) -> dict[str, bytes]:
    """The whole similarity graph, recomputed from every statement in the store."""
    items = [(s.value, t.value, d.value) for s, t, d in store.query(STATEMENTS_QUERY).rows]
    return {ns.links_graph("similarity"): similarity_ntriples(similar_pairs(items))}

