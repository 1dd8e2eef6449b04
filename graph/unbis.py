"""The UNBIS Thesaurus (UN Dag Hammarskjöld Library) as SKOS in its own named graph, and our themes'
declared mapping to its concepts.

`graph/reference/unbis_thesaurus.csv` is the thesaurus as published on metadata.un.org (converted by
`convert` below from the scraped dump, see SOURCES.md): one row per concept, microthesaurus and
domain, its broader concepts and memberships, labels in the six UN languages. Concepts keep UNBIS's
own IRIs (http://metadata.un.org/thesaurus/<id>). `unbis_theme_mapping.csv` is ours: each theme to
the UNBIS concepts a librarian would index it under, with skos:exactMatch or skos:closeMatch and a
note saying why.

The thesaurus (about 90k triples) is written as N-Triples directly: going through rdflib would cost
seconds on every build for data we do not change.
"""
from __future__ import annotations

import csv
import json
import sys
from functools import lru_cache
from pathlib import Path

from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCTERMS, RDF, SKOS

from . import namespaces as ns
from .paths import REFERENCE_DIR
from .validate import Entry, EntryError

THESAURUS_TABLE = "unbis_thesaurus.csv"
MAPPING_TABLE = "unbis_theme_mapping.csv"
GRAPH = ns.ID + "graph/unbis"
UNBIS = "http://metadata.un.org/thesaurus/"
SCHEME = "http://metadata.un.org/thesaurus"
LANGS = ("en", "fr", "es", "ar", "ru", "zh")
MATCHES = {"exactMatch": SKOS.exactMatch, "closeMatch": SKOS.closeMatch}
WSIS = Namespace(ns.WSIS)

_TYPE, _SKOS = f"<{ns.RDF}type>", ns.SKOS


def concept_iri(unbis_id: str) -> str:
    return UNBIS + unbis_id


def domain_iri(code: str) -> str:
    # The dump gives the domains ("01 - POLITICAL AND LEGAL QUESTIONS") no IRI of their own: ours.
    return ns.entity("unbis-domain", code)


def _lit(text: str, lang: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")
    return f'"{escaped}"@{lang}'


def _rows(folder: Path, name: str):
    """(line, row) of a table; its cells never span lines."""
    with open(folder / name, newline="", encoding="utf-8") as handle:
        for line, row in enumerate(csv.DictReader(handle), start=2):
            yield line, {k: (v or "").strip() for k, v in row.items()}


def thesaurus_ntriples(folder: Path = REFERENCE_DIR) -> bytes:
    """The thesaurus table as N-Triples: concepts with skos:broader/narrower, skos:inScheme and
    prefLabels per language; microthesauri and domains as skos:Collection with skos:member."""
    out = [f"<{SCHEME}> {_TYPE} <{_SKOS}ConceptScheme> .",
           f'<{SCHEME}> <{_SKOS}prefLabel> "UNBIS Thesaurus"@en .',
           f"<{SCHEME}> <{ns.DCTERMS}publisher> <https://library.un.org/> ."]
    path = str(folder / THESAURUS_TABLE)
    rows = list(_rows(folder, THESAURUS_TABLE))
    kinds = {r["id"]: r["kind"] for _, r in rows}
    for line, r in rows:
        kind = r["kind"]
        if kind not in ("concept", "microthesaurus", "domain"):
            raise EntryError(f"kind {kind!r} is not concept, microthesaurus or domain", path, line)
        me = f"<{domain_iri(r['id']) if kind == 'domain' else concept_iri(r['id'])}>"
        out.append(f"{me} {_TYPE} <{_SKOS}{'Concept' if kind == 'concept' else 'Collection'}> .")
        out.append(f'{me} <{_SKOS}notation> "{r["id"]}" .')
        for lang in LANGS:
            if r[f"label_{lang}"]:
                out.append(f"{me} <{_SKOS}prefLabel> {_lit(r[f'label_{lang}'], lang)} .")
        if kind == "concept":
            out.append(f"{me} <{_SKOS}inScheme> <{SCHEME}> .")
        for parent in filter(None, r["broader"].split(";")):
            if kinds.get(parent) != "concept":
                raise EntryError(f"broader {parent!r} of {r['id']!r} is not a concept of the table", path, line)
            out.append(f"{me} <{_SKOS}broader> <{concept_iri(parent)}> .")
            out.append(f"<{concept_iri(parent)}> <{_SKOS}narrower> {me} .")
        if kind == "concept" and not r["broader"]:
            out.append(f"<{SCHEME}> <{_SKOS}hasTopConcept> {me} .")
            out.append(f"{me} <{_SKOS}topConceptOf> <{SCHEME}> .")
        for group in filter(None, r["member_of"].split(";")):
            if kinds.get(group) not in ("microthesaurus", "domain"):
                raise EntryError(f"member_of {group!r} of {r['id']!r} is no microthesaurus or domain", path, line)
            owner = domain_iri(group) if kinds[group] == "domain" else concept_iri(group)
            out.append(f"<{owner}> <{_SKOS}member> {me} .")
    return ("\n".join(out) + "\n").encode("utf-8")


@lru_cache(maxsize=4)
def theme_mapping(folder: Path = REFERENCE_DIR) -> tuple[Graph, Graph]:
    """(links, records): the theme -> UNBIS links the queries join on, and one wsis:VocabularyMapping
    per table row (the match, the note and the row's line), which the shapes check."""
    concepts = {r["id"]: r for _, r in _rows(folder, THESAURUS_TABLE) if r["kind"] == "concept"}
    path = str(folder / MAPPING_TABLE)
    source = URIRef(f"https://w3id.org/wsis-kg/source/graph/reference/{MAPPING_TABLE}")
    links, records = Graph(), Graph()
    for line, row in _rows(folder, MAPPING_TABLE):
        if row["match"] == "none":
            continue
        if row["match"] not in MATCHES:
            raise EntryError(f"match {row['match']!r} is not exactMatch, closeMatch or none", path, line)
        if row["unbis_id"] not in concepts:
            raise EntryError(f"UNBIS concept {row['unbis_id']!r} is not in {THESAURUS_TABLE}", path, line)
        if concepts[row["unbis_id"]]["label_en"] != row["unbis_label_en"]:
            raise EntryError(f"UNBIS concept {row['unbis_id']} is {concepts[row['unbis_id']]['label_en']!r}, "
                             f"not {row['unbis_label_en']!r}: check the id", path, line)
        theme, concept = URIRef(ns.entity("theme", row["theme"])), URIRef(concept_iri(row["unbis_id"]))
        links.add((theme, MATCHES[row["match"]], concept))
        node = URIRef(ns.entity("unbis-mapping", f"{row['theme']}-{row['unbis_id']}"))
        records.add((node, RDF.type, WSIS.VocabularyMapping))
        records.add((node, WSIS.fromConcept, theme))
        records.add((node, WSIS.toConcept, concept))
        records.add((node, WSIS.matchType, MATCHES[row["match"]]))
        records.add((node, SKOS.note, Literal(row["note"], lang="en")))
        records.add((node, DCTERMS.source, source))
        records.add((node, WSIS.sourceLine, Literal(line, datatype=URIRef(ns.XSD + "positiveInteger"))))
    return links, records


def graphs_to_load(folder: Path = REFERENCE_DIR):
    """(graph IRI, N-Triples) for the build: the thesaurus and our mapping, in id:graph/unbis."""
    links, records = theme_mapping(folder)
    yield GRAPH, thesaurus_ntriples(folder)
    yield GRAPH, (links + records).serialize(format="nt", encoding="utf-8")


def entries_to_validate(folder: Path = REFERENCE_DIR) -> list[Entry]:
    """The mapping's records, validated with the thesaurus and the themes they point to as context
    (the thesaurus itself is the UN's data: checked for shape when read, not by SHACL)."""
    return [Entry(theme_mapping(folder)[1], "", str(folder / MAPPING_TABLE))]


# -- the one-time conversion from the scraped dump -------------------------------------------------

def convert(source_dir: Path, out: Path) -> int:
    """all_topics.json + hierarchy.json (the scraper's files) -> unbis_thesaurus.csv; returns rows.
    A concept's `related` codes are its broader concepts (7-digit or c_ ids) and the microthesauri
    it belongs to (6-digit ids); a microthesaurus "010200" belongs to domain "01"."""
    topics = json.loads((source_dir / "all_topics.json").read_text(encoding="utf-8"))["topics"]
    nodes = json.loads((source_dir / "hierarchy.json").read_text(encoding="utf-8"))["nodes"]
    domains = {n["key"]: n["attributes"]["label"].split(" - ", 1)[1]
               for n in nodes if n["attributes"]["type_"] == "topic"}
    micro = {t["identifier"] for t in topics if len(t["identifier"]) == 6 and t["identifier"].isdigit()}
    rows = []
    for t in topics:
        ident = t["identifier"]
        if t["url"] != concept_iri(ident):
            raise ValueError(f"{ident}: url {t['url']} is not {concept_iri(ident)}")
        is_micro = ident in micro
        related = t["related"]
        rows.append({"id": ident, "kind": "microthesaurus" if is_micro else "concept",
                     "broader": ";".join(r for r in related if r not in micro),
                     "member_of": ident[:2] if is_micro else ";".join(r for r in related if r in micro),
                     **{f"label_{lang}": " ".join((t["labels"].get(lang) or "").split()) for lang in LANGS}})
    for code, label in sorted(domains.items()):
        rows.append({"id": code, "kind": "domain", "broader": "", "member_of": "", "label_en": label,
                     **{f"label_{lang}": "" for lang in LANGS[1:]}})
    rows.sort(key=lambda r: ({"domain": 0, "microthesaurus": 1, "concept": 2}[r["kind"]], r["id"]))
    with open(out, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=["id", "kind", "broader", "member_of",
                                                    *(f"label_{lang}" for lang in LANGS)])
        writer.writeheader()
        writer.writerows(rows)
    return len(rows)


if __name__ == "__main__":  # python -m wsiskg.graph.unbis SOURCE_DIR [OUT.csv]
    target = Path(sys.argv[2]) if len(sys.argv) > 2 else REFERENCE_DIR / THESAURUS_TABLE
    print(convert(Path(sys.argv[1]), target), "rows written to", target)
