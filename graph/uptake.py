"""Uptake: which paragraph(s) of an adopted text carry the point of a consultation input.

`wsis:takenUpBy` links a statement (prov:wasDerivedFrom a consultation document) to paragraphs of the
WSIS+20 outcome (A/RES/80/173) and of the Global Digital Compact (id:gdc/paragraph/N), in
id:graph/links/uptake, each reified as a wsis:LinkAssertion with method, score and evidence.

A pair's score adds three kinds of evidence, because none is enough alone (measured on the IGF calls:
by meaning only, "The WSIS+20 review should commit to a permanent IGF mandate" ranks paragraph 99
82nd, behind paragraphs that merely name the WSIS review):
- meaning (weight MEANING): the calibrated cosine (graph/embed.py) between the statement's point and
  the paragraph's closest sentence; the point is the statement without its framing ("X should commit
  to …", "we urge …"), and the entity acronyms of both texts are spelled out ("IGF" → "Internet
  Governance Forum (IGF)") since the encoder does not know them;
- words (weight WORDS): the share of the statement's TF-IDF mass (idf over the target paragraphs)
  that the paragraph holds, so a rare word both use ("permanent") counts and a long paragraph is not
  penalised for saying more;
- shared links (at most SUPPORT_MAX): a body or process both name in the point (weighted by how few
  paragraphs name it, umbrellas never), an action line both address, a GDC paragraph the statement
  relates to (or is the target itself) — 0.05 each.
Without the embedding model the meaning part is left out and words weigh 1 (method "uptake:tfidf").

A statement is taken up by its best paragraph when that scores at least THRESHOLD, and by the others
within MARGIN of the best (at most MAX_TARGETS): the outcome often says one thing in two paragraphs.

The build links every statement (link_uptake); `wsiskg ingest` links only the new document's
(for_document), with the same paragraphs, names and mean cosine (from every statement's cached
vector), so its links are those a rebuild would give, and swaps them in with the document's commit.
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import namespaces as ns
from .linker import _lit, assertion_iri

MEANING, WORDS = 0.5, 0.5
SUPPORT_MAX = 0.25
ENTITY_WEIGHT, LINK_WEIGHT = 0.2, 0.05
THRESHOLD = 0.25  # chosen on the IGF calls (the questionnaire's scores 0.258 on paragraph 99)
MARGIN = 0.08
MAX_TARGETS = 3
TAKEN_UP_BY = ns.WSIS + "takenUpBy"
TARGET_TEXTS = (ns.ID + "resolution/A-RES-80-173",)  # and every GDC paragraph

_P = """PREFIX wsis: <https://w3id.org/wsis-kg/ontology#>
PREFIX prov: <http://www.w3.org/ns/prov#>
PREFIX dcterms: <http://purl.org/dc/terms/>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
"""
STATEMENTS_QUERY = _P + "SELECT ?s ?text WHERE { ?s wsis:text ?text ; prov:wasDerivedFrom ?doc . }"
_TARGET_PARAGRAPHS = """?p a wsis:Paragraph .
  { VALUES ?res { %s } ?p dcterms:isPartOf ?res }
  UNION { ?p a wsis:GDCCommitment FILTER(STRSTARTS(STR(?p), "%sgdc/paragraph/")) }""" % (
    " ".join(f"<{r}>" for r in TARGET_TEXTS), ns.ID)
PARAGRAPHS_QUERY = _P + "SELECT ?p ?text WHERE {\n  ?p wsis:text ?text .\n  %s\n}" % _TARGET_PARAGRAPHS
LINK_KINDS = ("mentionsEntity", "addressesActionLine", "relatesToGDC")  # the links that count as shared
_LINK_KINDS = "VALUES ?p { %s }" % " ".join(f"wsis:{k}" for k in LINK_KINDS)
LINKS_QUERY = _P + """SELECT ?s ?p ?o WHERE {
  %s
  ?s ?p ?o ; wsis:text ?t .
  MINUS { ?o a wsis:UmbrellaEntity }
}""" % _LINK_KINDS
# An ingest's uptake: the target paragraphs' links only (the new statements' come from its linker),
# the paragraphs named (%s: their IRIs). Oxigraph joins a VALUES of predicates with `?s ?p ?o` by
# reading every triple of those predicates (0.22 s at 1M triples); the FILTER after the bound
# subject reads only the paragraphs' triples (0.014 s).
PARAGRAPH_LINKS_QUERY = _P + """SELECT ?s ?p ?o WHERE {
  VALUES ?s { %s }
  ?s ?p ?o .
  FILTER(?p IN (%s))
  MINUS { ?o a wsis:UmbrellaEntity }
}""" % ("%s", ", ".join(f"wsis:{k}" for k in LINK_KINDS))
UMBRELLAS_QUERY = _P + "SELECT ?o WHERE { VALUES ?o { %s } ?o a wsis:UmbrellaEntity }"
NAMES_QUERY = _P + """SELECT ?e ?name ?kind WHERE {
  ?e a ?type . VALUES ?type { wsis:UNEntity wsis:Process }
  { ?e skos:prefLabel ?name BIND("pref" AS ?kind) } UNION { ?e skos:altLabel ?name BIND("alt" AS ?kind) }
  UNION { ?e skos:notation ?name BIND("notation" AS ?kind) }
}"""

# What a recommendation asks for follows its framing: "The review should commit to X" is about X.
_FRAME = re.compile(r"^.*?\b(?:should|must|shall|urge[sd]?|call(?:s|ed)? (?:for|on|upon)|recommend(?:s|ed)?|"
                    r"propos(?:e|es|ed)|need to|stressed the need for|emphasi[sz]ed)\b"
                    r"(?:\s+(?:commit to|ensure|consider|support|be))?\s+", re.I)
_SENTENCE = re.compile(r"(?<=[.;:])\s+(?=[(A-Za-z])")
_ACRONYM = re.compile(r"\b[A-Z][A-Za-z0-9&-]{1,9}\b")


def point(text: str) -> str:
    """The statement without its framing, when enough is left to carry a point."""
    match = _FRAME.match(text)
    rest = text[match.end():] if match else text
    return rest if len(rest) >= 40 else text


def sentences(text: str) -> list[str]:
    parts = [s.strip() for s in _SENTENCE.split(text) if len(s.strip()) > 20]
    return parts or [text]


class Uptake:
    """Scores every statement against every target paragraph (numpy; 357 x 298 on the shipped data)."""

    def __init__(self, statements, paragraphs, links, names, model=None, store_root: Path | None = None,
                 others: tuple[np.ndarray, int] | None = None):
        """others: the sum of the point vectors of the statements not scored here but part of the
        corpus (an ingest scores only its document's) and their number, which count in the mean
        cosine exactly as in a build."""
        from .similarity import Corpus
        self.statements, self.paragraphs = statements, paragraphs  # [(IRI, text)]
        self.links = links  # IRI -> {(kind, target)}
        self.model = model
        # names: IRI -> (preferred labels, other labels and notations)
        self.names = {e: {n.lower() for n in preferred | others} for e, (preferred, others) in names.items()}
        self.labels = {e: (sorted(preferred) or sorted(others) or [e])[0] for e, (preferred, others) in names.items()}
        expand = _expander(names)
        points = [point(t) for _, t in statements]
        n_s, n_p = len(statements), len(paragraphs)
        # words: share of the statement's tf-idf mass the paragraph holds (idf over the paragraphs)
        corpus = Corpus.from_items([(s, t, "s") for (s, _), t in zip(statements, points)]
                                   + [(p, t, "p") for p, t in paragraphs])
        held = corpus.weights[n_s:]
        df = np.bincount(held.indices, minlength=len(corpus.vocabulary))
        idf = np.log((n_p + 1) / (df + 1)) + 1
        weights = corpus.weights.copy()
        weights.data = weights.data * idf[weights.indices]
        mine = weights[:n_s].multiply(weights[:n_s]).tocsr()
        present = held.copy()
        present.data[:] = 1.0
        self.words = (mine @ present.T).toarray() / np.maximum(np.asarray(mine.sum(axis=1)), 1e-12)
        self.meaning = np.zeros((n_s, n_p))
        self.mean_cosine = None
        self.point_sum = None
        if model is not None and n_s and n_p:
            rows, owner = [], []
            for j, (_, text) in enumerate(paragraphs):
                for sentence in sentences(text):
                    rows.append(expand(sentence))
                    owner.append(j)
            cache = _cache(store_root)
            from .embed import vectors_for
            vs = vectors_for([expand(t) for t in points], model, cache).astype(np.float64)
            # the paragraphs' sentences in a cache of their own: among every statement's, their keys
            # would fall in every shard, and an ingest would read the whole cache to find them
            vp = vectors_for(rows, model, cache / "paragraphs" if cache else None, sharded=False).astype(np.float64)
            cosines = vs @ vp.T
            # the mean over every (statement, sentence) pair, from sums: the other statements' sum
            # is enough, not their cosines
            self.point_sum = vs.sum(axis=0)
            other_sum, other_count = others if others is not None else (0.0, 0)
            self.mean_cosine = float((self.point_sum + other_sum) @ vp.sum(axis=0) / ((n_s + other_count) * len(vp)))
            scores = (cosines - self.mean_cosine) / (1 - self.mean_cosine)
            owner = np.array(owner)
            order = np.argsort(owner, kind="stable")
            starts = np.searchsorted(owner[order], np.arange(n_p))
            self.meaning = np.maximum.reduceat(scores[:, order], starts, axis=1)
        # shared links, an entity weighted by how few target paragraphs name it
        named = Counter(o for p, _ in paragraphs for k, o in links.get(p, ()) if k == "mentionsEntity")
        self.support = np.zeros((n_s, n_p))
        self.shared: dict[tuple[int, int], list[str]] = {}
        index = {p: j for j, (p, _) in enumerate(paragraphs)}
        holders: dict[tuple[str, str], list[int]] = {}
        for p, _ in paragraphs:
            for link in links.get(p, set()) | {("relatesToGDC", p)}:
                holders.setdefault(link, []).append(index[p])
        for i, ((s, _), pt) in enumerate(zip(statements, points)):
            folded = pt.lower()
            for kind, target in links.get(s, ()):
                if kind == "mentionsEntity" and not any(n in folded for n in self.names.get(target, ())):
                    continue  # named in the framing ("the WSIS+20 review should…"), not in the point
                for j in holders.get((kind, target), ()):
                    weight = (ENTITY_WEIGHT * np.log(n_p / named[target]) / np.log(max(n_p, 2))
                              if kind == "mentionsEntity" else LINK_WEIGHT)
                    self.support[i, j] += weight
                    self.shared.setdefault((i, j), []).append(self.label(target))
        self.support = np.minimum(self.support, SUPPORT_MAX)
        if model is not None:
            self.score = MEANING * self.meaning + WORDS * self.words + self.support
        else:
            self.score = self.words + self.support

    def label(self, iri: str) -> str:
        if iri in self.labels:
            return self.labels[iri]
        tail = iri.rsplit("/", 2)
        return ("GDC " if "/gdc/" in iri else "") + tail[-1]

    @property
    def method(self) -> str:
        return f"uptake:{self.model.name}" if self.model is not None else "uptake:tfidf"

    def links_found(self, threshold: float = THRESHOLD):
        """(statement, paragraph, score, evidence) for each statement taken up."""
        found = []
        for i, (s, _) in enumerate(self.statements):
            if not len(self.paragraphs):
                break
            row = self.score[i]
            best = float(row.max())
            if best < threshold:
                continue
            for j in np.argsort(-row, kind="stable")[:MAX_TARGETS]:
                if row[j] < threshold or row[j] < best - MARGIN:
                    break
                found.append((s, self.paragraphs[j][0], round(float(min(row[j], 1.0)), 3), self.evidence(i, j)))
        return found

    def evidence(self, i: int, j: int) -> str:
        parts = []
        if self.model is not None:
            parts.append(f"meaning {self.meaning[i, j]:.3f} (closest sentence; mean cosine {self.mean_cosine:.3f})")
        parts.append(f"words {self.words[i, j]:.3f}")
        if (i, j) in self.shared:
            parts.append("shared: " + ", ".join(sorted(set(self.shared[i, j]))))
        return "; ".join(parts)


def _expander(names):
    """Spells out the entity acronyms a text uses ("IGF" -> "Internet Governance Forum (IGF)")."""
    acronyms = {name: sorted(preferred)[0] for e, (preferred, others) in names.items() for name in others
                if preferred and _ACRONYM.fullmatch(name) and name.isupper()}
    return (lambda t: _ACRONYM.sub(lambda m: f"{acronyms[m.group(0)]} ({m.group(0)})"
                                   if m.group(0) in acronyms else m.group(0), t))


def _cache(store_root: Path | None) -> Path | None:
    # the similarity linker prunes its cache to the statements: the uptake keeps its own
    return Path(store_root) / "index" / "uptake" if store_root is not None else None


def from_store(store, model="") -> Uptake:
    from .embed import load_model
    model = load_model() if model == "" else model
    statements = [(s.value, t.value) for s, t in store.query(STATEMENTS_QUERY).rows]
    paragraphs = sorted((p.value, t.value) for p, t in store.query(PARAGRAPHS_QUERY).rows)
    statements.sort()
    links: dict[str, set] = {}
    for s, p, o in store.query(LINKS_QUERY).rows:
        links.setdefault(s.value, set()).add((p.value.rsplit("#", 1)[1], o.value))
    return Uptake(statements, paragraphs, links, _names(store), model, getattr(store, "path", None))


def _names(store) -> dict[str, tuple[set, set]]:
    """Entity IRI -> (preferred labels, other labels and notations)."""
    names: dict[str, tuple[set, set]] = {}
    for e, name, kind in store.query(NAMES_QUERY).rows:
        preferred, others = names.setdefault(e.value, (set(), set()))
        (preferred if kind.value == "pref" else others).add(name.value)
    return names


def reference_rows(store) -> dict:
    """What for_document reads of the adopted texts, the same for every document: the target
    paragraphs (IRI, text), their links (paragraph, kind, target) and the entities' names, as plain
    strings (an ingest keeps them beside the store per version: graph/simindex.py's reference file)."""
    paragraphs = sorted((p.value, t.value) for p, t in store.query(PARAGRAPHS_QUERY).rows)
    links = [(s.value, p.value.rsplit("#", 1)[1], o.value)
             for s, p, o in (store.query(PARAGRAPH_LINKS_QUERY % " ".join(f"<{p}>" for p, _ in paragraphs)).rows
                             if paragraphs else ())]
    # names in the query's order, which decides an acronym two entities share (_expander)
    names = {e: (sorted(preferred), sorted(others)) for e, (preferred, others) in _names(store).items()}
    return {"paragraphs": paragraphs, "links": links, "names": names}


def for_document(store, document: str, statements: list[tuple[str, str]], links, model="",
                 sums: "PointSums | None" = None, reference: dict | None = None) -> Uptake:
    """The uptake of one document's statements ((IRI, text), before they are stored) with the links
    its linker found, scored as a build would score them (the same paragraphs, names and mean).
    sums: every document's point-vector sums as kept beside the store (simindex.load_uptake_sums); without them
    they are computed from every statement in the store (slower, same result).
    reference: reference_rows(store), read here when not given."""
    from .embed import load_model
    model = load_model() if model == "" else model
    reference = reference if reference is not None else reference_rows(store)
    paragraphs = [tuple(p) for p in reference["paragraphs"]]
    found: dict[str, set] = {}
    for s, kind, o in reference["links"]:
        found.setdefault(s, set()).add((kind, o))
    kinds = {ns.WSIS + k for k in LINK_KINDS}
    mine = [link for link in links if link.predicate in kinds]
    targets = sorted({link.target for link in mine})
    umbrellas = {row[0].value for row in store.query(UMBRELLAS_QUERY % " ".join(f"<{t}>" for t in targets)).rows} \
        if targets else set()
    for link in mine:
        if link.target not in umbrellas:
            found.setdefault(link.subject, set()).add((link.predicate.rsplit("#", 1)[1], link.target))
    names = {e: (set(preferred), set(others)) for e, (preferred, others) in reference["names"].items()}
    others = None
    if model is not None:
        sums = sums if sums is not None else document_point_sums(store, model, names)
        others = sums.without(document)
    return Uptake(sorted(statements), paragraphs, found, names, model, getattr(store, "path", None), others)


def remove_document_update(document: str) -> str:
    """SPARQL Update that removes from the uptake graph every link of a statement derived from
    `document` (its wsis:takenUpBy triples and their assertions); it must run before the document's
    own graph is replaced, since it finds the statements there."""
    graph, rdf = ns.links_graph("uptake"), ns.RDF
    statements = f"GRAPH ?g {{ ?statement <{ns.PROV}wasDerivedFrom> <{document}> }}"
    return (f"DELETE {{ GRAPH <{graph}> {{ ?statement <{TAKEN_UP_BY}> ?p }} }}\n"
            f"WHERE {{ {statements} GRAPH <{graph}> {{ ?statement <{TAKEN_UP_BY}> ?p }} }} ;\n"
            f"DELETE {{ GRAPH <{graph}> {{ ?link ?p ?o }} }}\n"
            f"WHERE {{ {statements} GRAPH <{graph}> {{ ?link <{rdf}subject> ?statement ; "
            f"<{rdf}predicate> <{TAKEN_UP_BY}> ; ?p ?o }} }}")


def insert_update(found: list[tuple]) -> str:
    """SPARQL Update that adds `found` (see found_links) to the uptake graph (empty text for none)."""
    body = uptake_ntriples(found).decode("utf-8")
    return f"INSERT DATA {{ GRAPH <{ns.links_graph('uptake')}> {{\n{body}}} }}" if body else ""


def found_links(uptake: Uptake) -> list[tuple]:
    """(statement, paragraph, score, evidence, method) for each link of `uptake`."""
    return [(s, p, score, evidence, uptake.method) for s, p, score, evidence in uptake.links_found()]


def uptake_ntriples(found) -> bytes:
    rdf, w = ns.RDF, ns.WSIS
    lines = []
    for s, p, score, evidence, method in found:
        node = f"<{assertion_iri(s, TAKEN_UP_BY, p)}>"
        lines += [f"<{s}> <{TAKEN_UP_BY}> <{p}> .",
                  f"{node} <{rdf}type> <{w}LinkAssertion> .",
                  f"{node} <{rdf}subject> <{s}> .",
                  f"{node} <{rdf}predicate> <{TAKEN_UP_BY}> .",
                  f"{node} <{rdf}object> <{p}> .",
                  f"{node} <{w}method> {_lit(method)} .",
                  f'{node} <{w}score> "{score:.3f}"^^<{ns.XSD}decimal> .',
                  f"{node} <{w}evidenceText> {_lit(evidence)} ."]
    return ("\n".join(lines) + "\n").encode("utf-8") if lines else b""


def link_uptake(store) -> dict[str, bytes]:
    """The build's linker: the whole uptake graph, from every statement and target paragraph."""
    return {ns.links_graph("uptake"): uptake_ntriples(found_links(from_store(store)))}


# -- the mean cosine's sums, kept beside the store ------------------------------------------------
# The mean needs only the sum of every statement's point vector. Without it an ingest reads and looks
# up every statement's text again (0.8 s of an ingest at 100k triples). `<store>/index/
# uptake-sums-<database folder>.npz` keeps one sum per document for one database at one version
# (graph/simindex.py writes and reads it with the other index files): missing or stale, the sums are
# computed from the store again.

@dataclass
class PointSums:
    documents: list[str]
    sums: np.ndarray  # documents x dimensions, float64
    counts: np.ndarray  # statements per document

    def without(self, document: str) -> tuple[np.ndarray, int]:
        keep = np.array([d != document for d in self.documents], dtype=bool)
        return self.sums[keep].sum(axis=0), int(self.counts[keep].sum())

    def with_document(self, document: str, total: np.ndarray, count: int) -> "PointSums":
        keep = [i for i, d in enumerate(self.documents) if d != document]
        return PointSums([self.documents[i] for i in keep] + [document],
                         np.vstack([self.sums[keep], total[None, :]]), np.append(self.counts[keep], count))


def document_point_sums(store, model, names=None) -> PointSums:
    """Every document's sum of its statements' point vectors (vectors from the cache)."""
    from .embed import vectors_for
    from .similarity import STATEMENTS_QUERY
    expand = _expander(_names(store) if names is None else names)
    rows = store.query(STATEMENTS_QUERY).rows
    vectors = vectors_for([expand(point(t.value)) for _, t, _ in rows], model, _cache(getattr(store, "path", None)))
    documents = sorted({d.value for _, _, d in rows})
    where = {d: i for i, d in enumerate(documents)}
    owners = np.array([where[d.value] for _, _, d in rows], dtype=np.int64)
    sums = np.zeros((len(documents), vectors.shape[1] if len(vectors) else 0))
    np.add.at(sums, owners, vectors.astype(np.float64))
    return PointSums(documents, sums, np.bincount(owners, minlength=len(documents)))
