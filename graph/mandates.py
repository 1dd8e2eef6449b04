"""Mandates: who an operative paragraph asks to do what, by when, reporting to whom.

Every request to act in an operative paragraph ("We request the action line facilitators … to …",
"Requests the Secretary-General to …", "Calls upon all States: (a) To …") becomes a wsis:Mandate
in id:graph/links/mandates. The vocabulary (verbs, addressee phrases -> our IRIs, sessions -> years)
is data, in graph/reference/mandates.yaml; this module only applies it. Pure: paragraphs in, mandates out.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml
from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.namespace import RDF, XSD

from . import namespaces as ns
from .paths import REFERENCE_DIR
from .resolutions import Paragraph

WSIS = Namespace(ns.WSIS)
PROV = Namespace(ns.PROV)
VOCABULARY = REFERENCE_DIR / "mandates.yaml"
MANDATES_GRAPH = ns.links_graph("mandates")
MAX_ADDRESSEE_WORDS = 40

UNITS = {w: i for i, w in enumerate("first second third fourth fifth sixth seventh eighth ninth".split(), 1)}
TEENS = {w: i for i, w in enumerate("tenth eleventh twelfth thirteenth fourteenth fifteenth sixteenth seventeenth "
                                   "eighteenth nineteenth".split(), 10)}
TENS = {w: 10 * i for i, w in enumerate("twent thirt fort fift sixt sevent eight ninet".split(), 2)}


def ordinal(word: str) -> int | None:
    """"thirtieth" -> 30, "eighty-first" -> 81, "twenty-ninth" -> 29."""
    word = word.lower()
    if word in UNITS:
        return UNITS[word]
    if word in TEENS:
        return TEENS[word]
    head, _, unit = word.partition("-")
    stem = re.sub(r"(y|ieth)$", "", head)
    if stem in TENS and (not unit or unit in UNITS):
        return TENS[stem] + (UNITS[unit] if unit else 0)
    return None


def _iri(value: str) -> str:
    return ns.ID + value[3:] if value.startswith("id:") else value


@dataclass
class Vocabulary:
    verbs: re.Pattern
    phrases: list[tuple[re.Pattern, dict]]
    report_markers: re.Pattern
    report_bodies: set[str]
    sessions: dict[str, dict]
    facilitators: list[str]

    @classmethod
    def load(cls, path: Path = VOCABULARY, folder: Path = REFERENCE_DIR) -> "Vocabulary":
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        verbs = sorted(data["verbs"], key=len, reverse=True)
        adverbs = "|".join(re.escape(a) for a in sorted(data["adverbs"], key=len, reverse=True))
        verb_alternatives = "|".join(v.replace(" ", r"(?:,[^,]{1,30},)?\s+") for v in verbs)
        # A verb opens a request at the paragraph's start, after "we", or after a comma, semicolon or "and".
        pattern = re.compile(rf"(?:^|\b[Ww]e\s+|[,;:]\s+(?:and\s+)?|\band\s+)(?:(?:{adverbs})\s+)*"
                             rf"(?P<verb>(?i:{verb_alternatives}))\b(?!,?\s+for\b)")
        phrases = []
        for entry in data["addressees"]:
            phrases.append((re.compile(rf"\b(?:{entry['phrase']})\b"), entry))
        for name, iri in _table_bodies(folder):
            phrases.append((re.compile(rf"\b(?:the )?{re.escape(name)}\b"), {"to": [iri]}))
        return cls(pattern, phrases, re.compile(rf"\b(?:{data['reporting']['markers']})\b"),
                   {_iri(b) for b in data["reporting"]["bodies"]},
                   {_iri(k): v for k, v in data["sessions"].items()}, _facilitators(folder))

    def resolve(self, phrase: str, paragraph: str, section: str) -> list[tuple[str, int, int]]:
        """(IRI, start, end) of every entity a phrase names, longest phrases first, no overlaps."""
        found, taken = [], []
        candidates = []
        for pattern, entry in self.phrases:
            for m in pattern.finditer(phrase):
                candidates.append((m.start(), m.end(), entry))
        candidates.sort(key=lambda c: (-(c[1] - c[0]), c[0]))
        for start, end, entry in candidates:
            if any(start < e and s < end for s, e in taken):
                continue
            taken.append((start, end))
            for iri in self._targets(entry, paragraph, section):
                found.append((iri, start, end))
        return sorted(found, key=lambda f: f[1])

    def _targets(self, entry: dict, paragraph: str, section: str) -> list[str]:
        if entry.get("expand") == "action-line-facilitators":
            return self.facilitators
        if "when" in entry:
            for rule in entry["when"]:
                if ("paragraph" in rule and re.search(rule["paragraph"], paragraph)) or \
                        ("section" in rule and re.search(rule["section"], section)):
                    return [_iri(rule["to"])]
            return []
        return [_iri(t) for t in entry.get("to", [])]

    def session_year(self, body: str, number: int) -> int | None:
        rule = self.sessions.get(body)
        return rule["first_year"] + (number - 1) // rule["per_year"] if rule else None


def _table_bodies(folder: Path) -> list[tuple[str, str]]:
    from .reference import org_iri, read_table
    out = []
    for row in read_table("un_bodies.csv", folder):
        # "United Nations Conference on Trade and Development (UN Trade and Development)": the name before
        # the brackets is the one printed in resolutions
        for name in (re.sub(r"\s*\(.*\)\s*$", "", row["name_en"]), row["acronym"]):
            if name and len(name) > 2:
                out.append((name, str(org_iri(row["id"]))))
    return out


def _facilitators(folder: Path) -> list[str]:
    """The lead facilitators of the action lines, as the reference table confirms them."""
    from .reference import _org_names, known_org_ids, read_table
    orgs = known_org_ids(folder)
    return sorted({str(orgs[n]) for row in read_table("wsis_action_lines.csv", folder)
                   for n in _org_names(row["lead_facilitator_confirmed"]) if n in orgs})


@lru_cache(maxsize=1)
def vocabulary() -> Vocabulary:
    return Vocabulary.load()


@dataclass
class Mandate:
    verb: str
    phrase: str
    addressees: list[str]
    deliverable: str
    due: str | None = None
    reports_to: list[str] = field(default_factory=list)


PRONOUNS = {"it", "them", "they"}
# "that" + a name (capitalized words and the words that join them) + the verb asked for.
THAT = re.compile(r",?\s*that\s+(?P<who>(?:(?:[A-Z][\w-]*|the|of|on|and|for|in|to|,)\s*)+?)\s+(?=[a-z])")
SENTENCE_END = re.compile(r"\.\s+(?=[A-Z])|\.$")
TO = re.compile(r"\bto\s+(?=[a-z])")
YEAR = re.compile(r"\b(?:in|by|before|until|during)\s+(?:[a-z-]+\s+){0,3}?(20\d\d)\b")
SESSION = re.compile(r"\b(?:at|during|by|for|than|to)\s+(?:its|the)\s+([a-z]+(?:-[a-z]+)?)\s+session\b")


def extract(text: str, section: str = "", items: list[str] | None = None,
            vocab: Vocabulary | None = None) -> list[Mandate]:
    """The requests to act in one operative paragraph (its lettered items, if any, in `items`)."""
    vocab = vocab or vocabulary()
    matches = list(vocab.verbs.finditer(text))
    mandates = []
    for index, m in enumerate(matches):
        after = text[m.end():]
        next_verb = matches[index + 1].start() - m.end() if index + 1 < len(matches) else len(after)
        sentence = SENTENCE_END.search(after)
        sentence_end = sentence.start() if sentence else len(after)
        to = TO.search(after, 0, sentence_end)
        colon = after.find(":", 0, min(next_verb, sentence_end) + 1)
        that = THAT.match(after)
        if that and not re.search(r"[A-Z]", that.group("who")):
            continue  # "request that the work be completed": asked of nobody named
        if that:
            # "request that the Commission … and the Economic and Social Council consider the report"
            phrase, deliverable = that.group("who"), after[that.end():min(sentence_end, next_verb)]
        elif to is None and colon >= 0 and items:
            phrase, deliverable = after[:colon], "; ".join(items)
        elif to is not None:
            phrase = after[:min(to.start(), next_verb)]
            end = sentence_end
            # A later request in the same sentence starts where this one's deliverable ends,
            # unless it is chained before the "to" ("Calls upon Member States and invites others to").
            for later in matches[index + 1:]:
                if later.start() - m.end() > to.end():
                    end = min(end, later.start() - m.end())
                    break
            deliverable = after[to.end():end]
        else:
            continue
        phrase = phrase.strip(" ,;")
        if not phrase or len(phrase.split()) > MAX_ADDRESSEE_WORDS:
            continue
        found = vocab.resolve(phrase, text, section)
        if phrase.lower() in PRONOUNS:
            # "encourage them to": whom the paragraph named last before the verb
            before = vocab.resolve(text[:m.start()], text, section)
            found = [f for f in before if f[1] == before[-1][1]] if before else []
        addressees = list(dict.fromkeys(iri for iri, _, _ in found))
        deliverable = re.sub(r"[,;]?\s*(?:and)?\s*$", "", deliverable.strip())
        verb = re.sub(r",[^,]*,", "", m.group("verb")).lower()  # "call, in particular, on" -> "call on"
        mandate = Mandate(verb, phrase, addressees, deliverable)
        mandate.due, mandate.reports_to = _due_and_reporting(vocab, deliverable, text, section)
        mandates.append(mandate)
    return mandates


def _due_and_reporting(vocab: Vocabulary, deliverable: str, paragraph: str, section: str) -> tuple[str | None, list[str]]:
    due = None
    year = YEAR.search(deliverable)
    if year:
        due = year.group(1)
    session = SESSION.search(deliverable)
    if session and not due:
        number = ordinal(session.group(1))
        named = [iri for iri, _, end in vocab.resolve(deliverable[:session.start()], paragraph, section)
                 if iri in vocab.sessions]
        body = named[-1] if named else ns.ID + "org/unga"
        if number:
            found = vocab.session_year(body, number)
            due = str(found) if found else None
    reports = []
    marker = vocab.report_markers.search(deliverable)
    if marker:
        tail = deliverable[marker.start():]
        for iri, start, _ in vocab.resolve(tail, paragraph, section):
            if iri in vocab.report_bodies and re.search(r"\b(?:to|through|of|for|by)\s+(?:the\s+)?$", tail[:start]):
                reports.append(iri)
    return due, list(dict.fromkeys(reports))


# -- RDF --------------------------------------------------------------------------------------------

def mandate_iri(symbol: str, part: str, number: str, index: int) -> URIRef:
    from .texts import resolution_slug
    annex = f"annex-{part}/" if part else ""
    suffix = f"-{index}" if index > 1 else ""
    return URIRef(ns.entity("mandate", resolution_slug(symbol), f"{annex}{number}{suffix}"))


def paragraph_mandates(paragraphs: list[Paragraph], vocab: Vocabulary | None = None):
    """(paragraph, [Mandate]) for each operative numbered or unnumbered paragraph; its lettered items
    are read with it (a chapeau "Calls upon all States:" asks for what its items say)."""
    items: dict[str, list[Paragraph]] = {}
    for p in paragraphs:
        if p.parent:
            items.setdefault(p.parent, []).append(p)
    for p in paragraphs:
        if p.parent or p.kind != "operative":
            continue
        found = extract(p.text, p.heading, [i.text for i in items.get(p.number, [])], vocab)
        if found:
            yield p, found


def mandates_graph(documents, vocab: Vocabulary | None = None) -> Graph:
    """documents: (symbol, Document). The Compact's paragraphs 1-8 are its frame, not requests."""
    from .texts import GDC_ANNEX, GDC_FIRST_COMMITMENT, GDC_SYMBOL, paragraph_iri, resolution_iri
    g = Graph()
    for symbol, doc in documents:
        for part in doc.parts:
            paragraphs = part.paragraphs
            if symbol == GDC_SYMBOL and part.name == GDC_ANNEX:
                paragraphs = [p for p in paragraphs if int(p.parent or p.number) >= GDC_FIRST_COMMITMENT]
            for p, found in paragraph_mandates(paragraphs, vocab):
                for index, mandate in enumerate(found, start=1):
                    node = mandate_iri(symbol, part.name, p.slug, index)
                    g.add((node, RDF.type, WSIS.Mandate))
                    g.add((node, WSIS.inParagraph, paragraph_iri(symbol, part.name, p)))
                    g.add((node, WSIS.inResolution, resolution_iri(symbol)))
                    g.add((node, WSIS.mandateVerb, Literal(mandate.verb.lower())))
                    g.add((node, WSIS.addresseePhrase, Literal(mandate.phrase, lang="en")))
                    for iri in mandate.addressees:
                        g.add((node, WSIS.addressedTo, URIRef(iri)))
                    g.add((node, WSIS.deliverable, Literal(mandate.deliverable, lang="en")))
                    if mandate.due:
                        g.add((node, WSIS.dueBy, Literal(mandate.due, datatype=XSD.gYear)))
                    for iri in mandate.reports_to:
                        g.add((node, WSIS.reportsTo, URIRef(iri)))
    return g


# -- whom a consultation statement asks (wsis:addressedTo on statements) -----------------------------

# "ITU should …", "Member States must …", "Governments are encouraged to …": the subject before the modal.
MODAL = re.compile(r"\b(?:should|must|shall|needs? to|(?:is|are) (?:urged|encouraged|invited|called upon|"
                   r"requested|asked) to)\b")
CLAUSE_START = re.compile(r"(?:^|[.;:!?]\s+|,\s+(?:and|but|while|whereas)\s+|\b(?:that|where|which|and)\s+)")
MAX_SUBJECT_WORDS = 12


def statement_addressees(text: str, vocab: Vocabulary | None = None) -> list[tuple[str, str]]:
    """(IRI, phrase) of whom a statement asks to act: the subject of a modal ("ITU should"), or the
    addressee of an operative verb ("calls upon Member States to"), by the same vocabulary as mandates."""
    vocab = vocab or vocabulary()
    found = []
    for m in MODAL.finditer(text):
        head = text[:m.start()]
        starts = [c.end() for c in CLAUSE_START.finditer(head)]
        subject = head[max(starts) if starts else 0:].strip(" ,")
        if not subject or len(subject.split()) > MAX_SUBJECT_WORDS:
            continue
        found += [(iri, subject) for iri, _, _ in vocab.resolve(subject, text, "")]
    for mandate in extract(text, "", None, vocab):
        found += [(iri, mandate.phrase) for iri in mandate.addressees]
    return list(dict.fromkeys(found))


STATEMENTS_QUERY = """
PREFIX wsis: <https://w3id.org/wsis-kg/ontology#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
SELECT ?s ?text WHERE {
  GRAPH ?g { ?s a ?type ; wsis:text ?text . }
  ?type rdfs:subClassOf wsis:Statement .
  FILTER(STRSTARTS(STR(?g), "https://w3id.org/wsis-kg/id/graph/doc/"))
}"""
ADDRESSEES_GRAPH = ns.links_graph("addressees")


def link_addressees(store) -> dict[str, bytes]:
    """The linker step of `wsiskg build`: id:graph/links/addressees, one reified link per addressee."""
    from .linker import Link, links_ntriples
    vocab = vocabulary()
    links = []
    for subject, text in store.query(STATEMENTS_QUERY).rows:
        for iri, phrase in statement_addressees(text.value, vocab):
            links.append(Link(subject.value, ns.WSIS + "addressedTo", iri, 1.0, "addressee-vocabulary", [phrase]))
    unique = {(l.subject, l.target): l for l in links}
    return {ADDRESSEES_GRAPH: links_ntriples(sorted(unique.values(), key=lambda l: (l.subject, l.target)))}
