"""The linker: proposes links from a statement's words to the frames it speaks to.

Explainable and deterministic: every link comes from phrases found in the text (a concept's
labels, or the hidden labels of `graph/reference/linking.ttl`), and is stored with the method,
score and the phrases that produced it. One compiled pattern matches every phrase in a single
pass over a text, so the cost grows with the text, not with the vocabulary.
"""
from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from dataclasses import dataclass, field

from . import namespaces as ns

W = ns.WSIS
SKOS = ns.SKOS

# What each kind of concept is reached by, and how much a label of each sort counts.
LABEL_WEIGHTS = {"prefLabel": 1.0, "altLabel": 0.9, "hiddenLabel": 0.7}
THEME_SUGGESTION_FACTOR = 0.6
TARGET_KINDS = {
    # class IRI -> (predicate, which labels are used)
    W + "ActionLine": (W + "addressesActionLine", ("prefLabel", "hiddenLabel")),
    W + "Theme": (W + "hasTheme", ("prefLabel", "altLabel", "hiddenLabel")),
    W + "GDCObjective": (W + "relatesToGDC", ("hiddenLabel",)),
    ns.SDGO + "Goal": (W + "supportsSDG", ("hiddenLabel",)),
    ns.SDGO + "Target": (W + "supportsSDG", ("hiddenLabel",)),
    W + "StakeholderGroup": (W + "concerns", ("prefLabel", "altLabel", "hiddenLabel")),
    W + "UNEntity": (W + "mentionsEntity", ("prefLabel", "altLabel")),
    W + "Process": (W + "mentionsEntity", ("prefLabel", "altLabel")),
}
# Per predicate: the lowest score kept, how many targets at most (best first), and how close to
# the best a further target must score to be kept too.
ACCEPT = {
    W + "addressesActionLine": (0.7, 2, 0.95),
    W + "hasTheme": (0.85, 3),
    W + "relatesToGDC": (0.7, 2, 0.95),
    W + "supportsSDG": (0.85, 2, 0.95),
    W + "concerns": (0.85, 3),
    W + "mentionsEntity": (0.85, 6),
}

LABELS_QUERY = """
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
SELECT ?target ?class ?kind ?label WHERE {
  VALUES ?class { %s }
  ?target a ?class .
  VALUES (?prop ?kind) { (skos:prefLabel "prefLabel") (skos:altLabel "altLabel") (skos:hiddenLabel "hiddenLabel") }
  ?target ?prop ?label .
  FILTER(LANG(?label) = "en" || LANG(?label) = "")
}"""

SUGGESTIONS_QUERY = """
PREFIX wsis: <https://w3id.org/wsis-kg/ontology#>
SELECT ?theme ?predicate ?target WHERE {
  VALUES (?suggests ?predicate) {
    (wsis:suggestsActionLine wsis:addressesActionLine) (wsis:suggestsSDG wsis:supportsSDG) (wsis:suggestsGDC wsis:relatesToGDC) }
  ?theme ?suggests ?target .
}"""

NOTATION_RE = re.compile(r"\b(?:Action\s+Lines?\s+)?C(1[01]|[1-9])\b")


@dataclass
class Link:
    subject: str
    predicate: str
    target: str
    score: float
    method: str
    evidence: list[str] = field(default_factory=list)


def normalise(text: str) -> str:
    """Lower-case, hyphens and dashes as spaces, curly quotes straight, spaces folded."""
    text = text.replace("’", "'").replace("‘", "'")
    text = re.sub(r"[-‐‑‒–—]", " ", text)
    return " ".join(text.split())


class Linker:
    def __init__(self, phrases: list[tuple[str, str, str, float, str]], suggestions: list[tuple[str, str, str]]):
        """phrases: (phrase, predicate, target, weight, label kind); suggestions: (theme, predicate, target)."""
        # Phrases are looked up as word sequences, so overlapping phrases all count
        # ("cybersecurity risks" and "cybersecurity" both match in "Cybersecurity risks.").
        self.by_phrase: dict[tuple[bool, tuple[str, ...]], list[tuple[str, str, float, str]]] = defaultdict(list)
        for phrase, predicate, target, weight, kind in phrases:
            exact = _is_acronym(phrase)
            words = tuple(tokens(phrase) if exact else tokens(phrase.lower()))
            if not words or len("".join(words)) < 2:
                continue
            self.by_phrase[(exact, words)].append((predicate, target, weight, kind))
        self.longest = max((len(w) for _, w in self.by_phrase), default=1)
        self.suggestions = defaultdict(list)
        for theme, predicate, target in suggestions:
            self.suggestions[theme].append((predicate, target))

    @classmethod
    def from_store(cls, store) -> "Linker":
        classes = " ".join(f"<{c}>" for c in TARGET_KINDS)
        phrases = []
        for target, klass, kind, label in store.query(LABELS_QUERY % classes).rows:
            predicate, kinds = TARGET_KINDS[klass.value]
            if kind.value in kinds:
                phrases.append((label.value, predicate, target.value, LABEL_WEIGHTS[kind.value], kind.value))
        suggestions = [(t.value, p.value, o.value) for t, p, o in store.query(SUGGESTIONS_QUERY).rows]
        return cls(phrases, suggestions)

    def matches(self, text: str) -> dict[tuple[str, str], list[tuple[float, str, str]]]:
        """(predicate, target) -> [(weight, method, phrase)]."""
        words = tokens(text)
        folded = [w.lower() for w in words]
        found = defaultdict(list)
        for start in range(len(words)):
            for size in range(1, min(self.longest, len(words) - start) + 1):
                for exact, seq in ((True, words), (False, folded)):
                    key = (exact, tuple(seq[start:start + size]))
                    for predicate, target, weight, kind in self.by_phrase.get(key, ()):
                        found[(predicate, target)].append((weight, kind, " ".join(words[start:start + size])))
        for match in NOTATION_RE.finditer(text):
            found[(W + "addressesActionLine", ns.action_line("C" + match.group(1)))].append((1.0, "notation", match.group(0)))
        # Themes lend weaker support to the frames they usually fall under.
        for (predicate, target), hits in list(found.items()):
            if predicate == W + "hasTheme":
                best = max(w for w, _, _ in hits)
                for suggested_predicate, suggested in self.suggestions.get(target, ()):
                    found[(suggested_predicate, suggested)].append(
                        (best * THEME_SUGGESTION_FACTOR, "theme-suggestion", target.rsplit("/", 1)[-1]))
        return found

    def link(self, subject: str, text: str) -> list[Link]:
        scored = defaultdict(list)
        for (predicate, target), hits in self.matches(text).items():
            distinct = {}
            for weight, method, phrase in hits:
                distinct[phrase.lower()] = max(distinct.get(phrase.lower(), (0, "", ""))[0], weight), method, phrase
            miss = 1.0
            for weight, _, _ in distinct.values():
                miss *= 1.0 - weight
            score = round(1.0 - miss, 3)
            strongest = max(distinct.values())
            scored[predicate].append(Link(subject, predicate, target, score, _method_name(strongest[1]),
                                          sorted({p for _, _, p in distinct.values()})))
        links = []
        for predicate, candidates in scored.items():
            threshold, most, *relative = ACCEPT.get(predicate, (0.85, 3))
            candidates.sort(key=lambda l: (-l.score, l.target))
            floor = max(threshold, candidates[0].score * relative[0]) if relative else threshold
            links += [l for l in candidates if l.score >= floor][:most]
        return sorted(links, key=lambda l: (l.predicate, -l.score, l.target))


def _method_name(kind: str) -> str:
    return {"prefLabel": "label-match", "altLabel": "label-match", "hiddenLabel": "hidden-label-match",
            "notation": "notation-match", "theme-suggestion": "theme-suggestion"}.get(kind, kind)


def _is_acronym(phrase: str) -> bool:
    letters = [c for c in phrase if c.isalpha()]
    return bool(letters) and len(phrase) <= 8 and sum(c.isupper() for c in letters) >= max(2, len(letters) - 1)


_TOKEN = re.compile(r"[^\W_]+(?:'[^\W_]+)?")
# PDF extraction often turns "AI" into "Al"; read a lone "Al" as the acronym.
_OCR_FIXES = (re.compile(r"\bAl\b"), "AI")


def tokens(text: str) -> list[str]:
    text = _OCR_FIXES[0].sub(_OCR_FIXES[1], normalise(text))
    return _TOKEN.findall(text)


# -- writing links as RDF -------------------------------------------------------------------------

def _lit(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r") + '"'


def assertion_iri(subject: str, predicate: str, target: str) -> str:
    """The stable IRI of the wsis:LinkAssertion that records the link subject-predicate-target."""
    digest = hashlib.sha1(f"{subject} {predicate} {target}".encode()).hexdigest()[:16]
    return f"{ns.ID}link/{digest}"


def links_ntriples(links: list[Link], generated_at: str | None = None) -> bytes:
    """The direct triples plus one reified wsis:LinkAssertion per link, with method and score."""
    rdf = ns.RDF
    lines = []
    for link in links:
        node = f"<{assertion_iri(link.subject, link.predicate, link.target)}>"
        lines += [
            f"<{link.subject}> <{link.predicate}> <{link.target}> .",
            f"{node} <{rdf}type> <{W}LinkAssertion> .",
            f"{node} <{rdf}subject> <{link.subject}> .",
            f"{node} <{rdf}predicate> <{link.predicate}> .",
            f"{node} <{rdf}object> <{link.target}> .",
            f"{node} <{W}method> {_lit(link.method)} .",
            f'{node} <{W}score> "{link.score:.3f}"^^<{ns.XSD}decimal> .',
            f"{node} <{W}evidenceText> {_lit('; '.join(link.evidence))} .",
        ]
        if generated_at:
            lines.append(f'{node} <{ns.PROV}generatedAtTime> "{generated_at}"^^<{ns.XSD}dateTime> .')
    return ("\n".join(lines) + "\n").encode("utf-8") if lines else b""


STATEMENTS_QUERY = """
PREFIX wsis: <https://w3id.org/wsis-kg/ontology#>
PREFIX prov: <http://www.w3.org/ns/prov#>
SELECT ?s ?text ?g WHERE {
  GRAPH ?g { ?s wsis:text ?text ; prov:wasDerivedFrom ?doc . }
  %s
}"""

CURATED_QUERY = """
SELECT ?s ?p ?o WHERE { GRAPH ?g { ?s ?p ?o . ?s <https://w3id.org/wsis-kg/ontology#text> ?t } %s }"""


def link_documents(store, graphs: list[str] | None = None, linker: Linker | None = None) -> dict[str, bytes]:
    """Links for the statements of the given document graphs (all of them by default).

    Returns {id:graph/links/<doc-slug>: N-Triples}; links a curator already made are left out,
    so the linker's graph holds only what it adds.
    """
    linker = linker or Linker.from_store(store)
    prefix = ns.ID + "graph/doc/"
    values = f"VALUES ?g {{ {' '.join(f'<{g}>' for g in graphs)} }}" if graphs else f'FILTER(STRSTARTS(STR(?g), "{prefix}"))'
    curated = {(s.value, p.value, o.value) for s, p, o in store.query(CURATED_QUERY % values).rows}
    per_graph = defaultdict(list)
    for subject, text, graph in store.query(STATEMENTS_QUERY % values).rows:
        for link in linker.link(subject.value, text.value):
            if (link.subject, link.predicate, link.target) not in curated:
                per_graph[graph.value].append(link)
    result = {}
    for graph in (graphs or sorted(per_graph)):
        slug = graph[len(prefix):]
        result[ns.links_graph(slug)] = links_ntriples(sorted(per_graph.get(graph, []), key=lambda l: (l.subject, l.predicate, l.target)))
    return result

