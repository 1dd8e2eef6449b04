"""The linker: proposes links from a statement's words to the frames it speaks to.

Explainable and deterministic: every link comes from phrases found in the text (a concept's
labels, or the hidden labels of `graph/reference/linking.ttl`), and is stored with the method,
score and the phrases that produced it. Phrases are looked up by word sequence in one pass over a
text, so the cost grows with the text, not with the vocabulary.

Where a phrase stands decides what it means, by rules kept as data in linking.ttl:
- words inside a proper name say nothing of the topic ("Science" in "Commission on Science and
  Technology for Development", "Cultural" in UNESCO's name): names are the UN bodies' and
  processes' labels, the listed names of documents, and capitalised runs holding a name word
  ("Forum", "Organisation", "Declaration", ...);
- a concept's trigger inside one of its `wsis:notWithin` phrases does not count ("infrastructure"
  in "digital public infrastructure" is not C2);
- a stakeholder group named as the subject of a speech verb ("Business associations welcomed ...")
  or after a speaker cue ("according to ...") spoke: `wsis:voicedBy`, not `wsis:concerns`.
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
    W + "voicedBy": (0.85, 3),
    W + "mentionsEntity": (0.85, 6),
}
# Links to what a statement is about: their triggers are not read inside names.
TOPICAL = {W + "addressesActionLine", W + "hasTheme", W + "relatesToGDC", W + "supportsSDG", W + "concerns"}
# Pseudo-predicates of the rules' phrases (matched like labels, never links).
NOT_WITHIN = "not-within"
NAME = "name"
CUE = "speaker-cue"
# How far (in words) from a clause's start a speech verb may stand for the words before it to be
# its subject, and how far after a cue ("according to") a speaker is looked for.
SUBJECT_WORDS = 10
CUE_WORDS = 6
# In a text longer than this many words, an action-line or GDC link that rests on one single-word
# trigger ("health", "privacy", "interoperability") is a passing mention, not what the text is about;
# in a heading ("Privacy violations.") the one word is the topic. Measured on the labelled set: in
# its development part such action-line links were right 3 times in 9 in long texts.
PASSING_MENTION_WORDS = 12
PASSING_MENTION_GUARD = {W + "addressesActionLine", W + "relatesToGDC"}

LABELS_QUERY = """
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
SELECT ?target ?class ?kind ?label WHERE {
  VALUES ?class { %s }
  ?target a ?class .
  # one branch per kind of label, not a VALUES list of properties joined with ?target ?prop ?label,
  # which Oxigraph ran over every label of the store (the UNBIS thesaurus's 100k): 370 -> 60 ms
  { ?target skos:prefLabel ?label BIND("prefLabel" AS ?kind) }
  UNION { ?target skos:altLabel ?label BIND("altLabel" AS ?kind) }
  UNION { ?target skos:hiddenLabel ?label BIND("hiddenLabel" AS ?kind) }
  FILTER(LANG(?label) = "en" || LANG(?label) = "")
}"""

SUGGESTIONS_QUERY = """
PREFIX wsis: <https://w3id.org/wsis-kg/ontology#>
SELECT ?theme ?predicate ?target WHERE {
  VALUES (?suggests ?predicate) {
    (wsis:suggestsActionLine wsis:addressesActionLine) (wsis:suggestsSDG wsis:supportsSDG) (wsis:suggestsGDC wsis:relatesToGDC) }
  ?theme ?suggests ?target .
}"""

RULES_QUERY = """
PREFIX wsis: <https://w3id.org/wsis-kg/ontology#>
SELECT ?kind ?target ?phrase WHERE {
  VALUES (?p ?kind) { (wsis:notWithin "not-within") (wsis:properName "name") (wsis:nameHead "head")
                      (wsis:speechVerb "verb") (wsis:speakerCue "speaker-cue") }
  ?target ?p ?phrase .
}"""

def reference_rows(store) -> tuple[list, list, list]:
    """What a Linker is made of, read from the store: (phrases, suggestions, rules), plain strings and
    numbers (an ingest keeps them beside the store per version: graph/simindex.py's reference file)."""
    classes = " ".join(f"<{c}>" for c in TARGET_KINDS)
    phrases = []
    for target, klass, kind, label in store.query(LABELS_QUERY % classes).rows:
        predicate, kinds = TARGET_KINDS[klass.value]
        if kind.value in kinds:
            phrases.append((label.value, predicate, target.value, LABEL_WEIGHTS[kind.value], kind.value))
    suggestions = [(t.value, p.value, o.value) for t, p, o in store.query(SUGGESTIONS_QUERY).rows]
    rules = [(k.value, t.value, p.value) for k, t, p in store.query(RULES_QUERY).rows]
    return phrases, suggestions, rules


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
    def __init__(self, phrases: list[tuple[str, str, str, float, str]], suggestions: list[tuple[str, str, str]],
                 rules: list[tuple[str, str, str]] = ()):
        """phrases: (phrase, predicate, target, weight, label kind); suggestions: (theme, predicate, target);
        rules: (kind, target, phrase) with kind not-within / name / head / verb / speaker-cue (see RULES_QUERY)."""
        phrases = list(phrases)
        self.name_heads, self.speech_verbs = set(), set()
        for kind, target, phrase in rules:
            if kind == "head":
                self.name_heads.add(phrase)
            elif kind == "verb":
                self.speech_verbs.add(phrase.lower())
            else:  # matched like any phrase, under a pseudo-predicate
                phrases.append((phrase, kind, target, 0.0, kind))
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
        # Every leading part of a phrase, so a look-up stops as soon as no phrase goes on that way.
        self.prefixes = {(exact, words[:n]) for exact, words in self.by_phrase for n in range(1, len(words) + 1)}
        self.suggestions = defaultdict(list)
        for theme, predicate, target in suggestions:
            self.suggestions[theme].append((predicate, target))

    @classmethod
    def from_store(cls, store) -> "Linker":
        return cls(*reference_rows(store))

    def matches(self, text: str) -> dict[tuple[str, str], list[tuple[float, str, str]]]:
        """(predicate, target) -> [(weight, method, phrase)]."""
        words, clause_starts = tokens_and_clauses(text)
        folded = [w.lower() for w in words]
        hits = []  # (start, end, predicate, target, weight, kind)
        for start in range(len(words)):
            for exact, seq in ((True, words), (False, folded)):
                for size in range(1, min(self.longest, len(words) - start) + 1):
                    key = (exact, tuple(seq[start:start + size]))
                    if key not in self.prefixes:
                        break
                    for predicate, target, weight, kind in self.by_phrase.get(key, ()):
                        hits.append((start, start + size, predicate, target, weight, kind))
        names = [(a, b) for a, b, p, *_ in hits if p in (W + "mentionsEntity", NAME)] + self._name_runs(words)
        excluded = defaultdict(list)
        for a, b, p, t, *_ in hits:
            if p == NOT_WITHIN:
                excluded[t].append((a, b))
        speakers = self._speaker_spans(folded, clause_starts, [(a, b) for a, b, p, *_ in hits if p == CUE])
        found = defaultdict(list)
        for a, b, predicate, target, weight, kind in hits:
            if predicate in (NOT_WITHIN, NAME, CUE):
                continue
            if predicate in TOPICAL:
                if any(x <= a and b <= y and y - x > b - a for x, y in names):
                    continue  # a word of a proper name
                if any(x <= a and b <= y for x, y in excluded.get(target, ())):
                    continue
            if predicate == W + "concerns" and any(x <= a and b <= y for x, y in speakers):
                predicate = W + "voicedBy"
            found[(predicate, target)].append((weight, kind, " ".join(words[a:b])))
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

    def _name_runs(self, words: list[str]) -> list[tuple[int, int]]:
        """Spans of capitalised word runs that hold a name word: "Commission on Science and Technology
        for Development", "United Nations Educational and Cultural Organisation", "Working Group on ..."."""
        runs, start = [], None
        for i, word in enumerate(words + [""]):
            capital = word[:1].isupper() or word[:1].isdigit()
            if start is None:
                start = i if capital else None
            elif not capital and word not in _NAME_JOINERS:
                end = i
                while end > start and words[end - 1] in _NAME_JOINERS:
                    end -= 1
                if end - start >= 2 and any(w in self.name_heads for w in words[start:end]):
                    runs.append((start, end))
                start = None
        return runs

    def _speaker_spans(self, folded: list[str], clause_starts: list[int], cues: list[tuple[int, int]]) -> list[tuple[int, int]]:
        """Spans naming who spoke: the words between a clause's start and a speech verb close after it
        ("Member-state representatives welcomed ..."), and the words right after a cue ("according to")."""
        spans = []
        bounds = sorted(set(clause_starts)) + [len(folded)]
        for start, next_start in zip(bounds, bounds[1:]):
            for i in range(start, min(start + SUBJECT_WORDS, next_start)):
                if folded[i] in self.speech_verbs:
                    if i > start:
                        spans.append((start, i))
                    break
        for _, end in cues:
            limit = min([b for b in bounds if b > end] + [end + CUE_WORDS])
            spans.append((end, min(limit, end + CUE_WORDS)))
        return spans

    def link(self, subject: str, text: str) -> list[Link]:
        scored = defaultdict(list)
        long_text = len(tokens(text)) > PASSING_MENTION_WORDS
        found = self.matches(text)
        theme_words = {t.rsplit("/", 1)[-1]: {p.lower() for _, _, p in hits}
                       for (pr, t), hits in found.items() if pr == W + "hasTheme"}
        for (predicate, target), hits in found.items():
            distinct = {}
            for weight, method, phrase in hits:
                distinct[phrase.lower()] = max(distinct.get(phrase.lower(), (0, "", ""))[0], weight), method, phrase
            if long_text and predicate in PASSING_MENTION_GUARD and _one_word(hits, theme_words):
                continue
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


def _one_word(hits: list[tuple[float, str, str]], theme_words: dict[str, set[str]]) -> bool:
    """Whether the hits rest on a single one-word phrase of the text (a theme's suggestion rests on
    the words that found the theme)."""
    if any(method == "notation" for _, method, _ in hits):
        return False
    words = set()
    for _, method, phrase in hits:
        words |= theme_words.get(phrase, set()) if method == "theme-suggestion" else {phrase.lower()}
    return len(words) == 1 and len(tokens(next(iter(words)))) == 1


def _method_name(kind: str) -> str:
    return {"prefLabel": "label-match", "altLabel": "label-match", "hiddenLabel": "hidden-label-match",
            "notation": "notation-match", "theme-suggestion": "theme-suggestion"}.get(kind, kind)


def _is_acronym(phrase: str) -> bool:
    letters = [c for c in phrase if c.isalpha()]
    return bool(letters) and len(phrase) <= 8 and sum(c.isupper() for c in letters) >= max(2, len(letters) - 1)


_TOKEN = re.compile(r"[^\W_]+(?:'[^\W_]+)?")
# PDF extraction often turns "AI" into "Al"; read a lone "Al" as the acronym.
_OCR_FIXES = (re.compile(r"\bAl\b"), "AI")


def _prepare(text: str) -> str:
    return _OCR_FIXES[0].sub(_OCR_FIXES[1], normalise(text))


def tokens(text: str) -> list[str]:
    return _TOKEN.findall(_prepare(text))


# Lower-case words a proper name may hold between its capitalised words.
_NAME_JOINERS = {"of", "on", "and", "for", "the", "to", "in", "de", "du", "des", "la", "et"}
_CLAUSE_BREAK = re.compile(r"[.;:!?]")


def tokens_and_clauses(text: str) -> tuple[list[str], list[int]]:
    """The words of `text` (as tokens() gives them) and the indexes of the words that open a clause:
    the first word and each word after a full stop, semicolon, colon, question or exclamation mark."""
    text = _prepare(text)
    words, starts, last = [], [0], 0
    for match in _TOKEN.finditer(text):
        if words and _CLAUSE_BREAK.search(text, last, match.start()):
            starts.append(len(words))
        words.append(match.group(0))
        last = match.end()
    return words, starts


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

