"""The General Assembly's texts as RDF: one wsis:Resolution and its paragraphs per shipped text.

The texts are in `graph/sources/resolutions/` (byte copies of the official PDFs' extracted text),
which resolutions to read in `graph/reference/resolutions.csv`; `graph/resolutions.py` reads them.
The Global Digital Compact (A/RES/79/1, annex I) stays under its own IRIs (id:gdc/paragraph/N) in
the reference data (see `gdc_paragraphs`); every other paragraph goes in its resolution's named
graph id:graph/doc/<slug>, where the linker (graph/linker.py) finds it like a statement.
"""
from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Iterator

from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCTERMS, RDF, SKOS, XSD

from . import namespaces as ns
from .paths import REFERENCE_DIR, SOURCES_DIR
from .resolutions import Document, Paragraph, ParseError, parse

WSIS = Namespace(ns.WSIS)
SCHEMA = Namespace(ns.SCHEMA)
RESOLUTIONS_DIR = SOURCES_DIR / "resolutions"
GDC_SYMBOL, GDC_ANNEX = "A/RES/79/1", "I"
# The Compact's own SDG tag closing a commitment: "(SDG 16)", "(SDGs 9 and 10)", "(all SDGs)".
SDG_TAG = re.compile(r"\(((?:all )?SDGs?\b[^)]*)\)[;.]?\s*$")
# Paragraphs 1-8 of the Compact (introduction, objectives, principles) state its frame, not commitments.
GDC_FIRST_COMMITMENT = 9
# Under objective 5's heading in print, but the Compact's own follow-up, not objective 5's.
GDC_SECTIONS_WITHOUT_OBJECTIVE = {"Follow-up and review"}
MONTHS = {m: i for i, m in enumerate(("January February March April May June July August September October "
                                      "November December").split(), start=1)}


def resolution_slug(symbol: str) -> str:
    """A/RES/80/173 -> "A-RES-80-173" (the contract's IRI segment)."""
    return symbol.replace("/", "-")


def resolution_iri(symbol: str) -> URIRef:
    return URIRef(ns.entity("resolution", resolution_slug(symbol)))


def graph_slug(symbol: str) -> str:
    """The named graph's slug, lower case as for documents: id:graph/doc/a-res-80-173."""
    return resolution_slug(symbol).lower()


def paragraph_iri(symbol: str, part: str, paragraph: Paragraph) -> URIRef:
    if symbol == GDC_SYMBOL and part == GDC_ANNEX:
        return URIRef(ns.entity("gdc", "paragraph", paragraph.slug))
    annex = f"annex-{part}/" if part else ""
    return URIRef(f"{resolution_iri(symbol)}/{annex}para/{paragraph.slug}")


def table(folder: Path = REFERENCE_DIR) -> list[dict[str, str]]:
    from .reference import read_table
    return read_table("resolutions.csv", folder)


@lru_cache(maxsize=None)
def _parsed(path: str, mtime: float) -> Document:
    return parse(Path(path).read_text(encoding="utf-8"), Path(path).name)


def document(file: str, folder: Path = RESOLUTIONS_DIR) -> Document:
    path = folder / file
    return _parsed(str(path), path.stat().st_mtime)


def adoption_date(printed: str) -> str:
    day, month, year = printed.split()
    return f"{year}-{MONTHS[month]:02d}-{int(day):02d}"


def sdg_tag(text: str) -> str | None:
    m = SDG_TAG.search(text)
    return m.group(1) if m else None


def _paragraph_triples(g: Graph, iri: URIRef, symbol: str, part: str, p: Paragraph, kind: str,
                       parent: URIRef | None) -> None:
    g.add((iri, RDF.type, WSIS.Paragraph))
    g.add((iri, RDF.type, WSIS.OperativeParagraph if kind == "operative" else WSIS.PreambularParagraph))
    g.add((iri, WSIS.paragraphNumber, Literal(p.number)))
    g.add((iri, WSIS.text, Literal(p.text, lang="en")))
    g.add((iri, WSIS.sourceLine, Literal(p.line, datatype=XSD.positiveInteger)))
    if p.heading:
        g.add((iri, WSIS.sourceSection, Literal(p.heading)))
    g.add((iri, DCTERMS.isPartOf, resolution_iri(symbol)))
    if parent is not None:
        g.add((iri, DCTERMS.isPartOf, parent))
    if part:
        g.add((iri, WSIS.annex, Literal(part)))


def gdc_kind(p: Paragraph) -> str:
    return "operative" if int(p.parent or p.number) >= GDC_FIRST_COMMITMENT else "preambular"


def gdc_objective(p: Paragraph) -> str | None:
    """The number of the objective a Compact paragraph stands under ("Objective 3. …"), if any."""
    if p.heading in GDC_SECTIONS_WITHOUT_OBJECTIVE:
        return None
    return next((h.split()[1].rstrip(".") for h in p.headings if re.match(r"Objective \d\.", h)), None)


def gdc_annex(folder: Path = RESOLUTIONS_DIR):
    row = next(r for r in table() if r["symbol"] == GDC_SYMBOL)
    return document(row["file"], folder).part(GDC_ANNEX)


def gdc_paragraphs(g: Graph, scheme: URIRef, objectives: dict[str, URIRef], folder: Path = RESOLUTIONS_DIR) -> None:
    """Every paragraph and lettered item of the Compact, from the official text (replaces the 17
    hand-typed rows of the former gdc_commitments.csv; IRIs unchanged)."""
    row = next(r for r in table() if r["symbol"] == GDC_SYMBOL)
    annex = document(row["file"], folder).part(GDC_ANNEX)
    source = URIRef(row["url"])
    for p in annex.paragraphs:
        iri = paragraph_iri(GDC_SYMBOL, GDC_ANNEX, p)
        parent = URIRef(ns.entity("gdc", "paragraph", p.parent)) if p.parent else None
        kind = gdc_kind(p)
        _paragraph_triples(g, iri, GDC_SYMBOL, GDC_ANNEX, p, kind, parent)
        g.add((iri, RDF.type, WSIS.GDCCommitment))
        g.add((iri, RDF.type, SKOS.Concept))
        g.add((iri, SKOS.inScheme, scheme))
        g.add((iri, SKOS.notation, Literal(p.number)))
        g.add((iri, SKOS.prefLabel, Literal(f"GDC paragraph {p.number}", lang="en")))
        g.add((iri, WSIS.paragraphKind, Literal("commitment" if kind == "operative" else "preamble")))
        objective = gdc_objective(p)
        if objective:
            g.add((iri, SKOS.broader, objectives[objective]))
        tag = sdg_tag(p.text)
        if tag:
            # The tag as printed is kept; "all SDGs" is that literal and wsis:supportsAllSDGs true,
            # not 17 links, so that a count of commitments per SDG shows the Compact's own choices.
            g.add((iri, WSIS.sdgTag, Literal(tag)))
            if tag.startswith("all"):
                g.add((iri, WSIS.supportsAllSDGs, Literal(True)))
            else:
                for goal in re.findall(r"\d+", tag):
                    g.add((iri, WSIS.supportsSDG, URIRef(ns.SDG + goal)))
        g.add((iri, WSIS.verification, Literal("official text (A/RES/79/1, annex I), parsed from the shipped "
                                              "extract of the PDF")))
        g.add((iri, SCHEMA.url, source))
        g.add((iri, DCTERMS.source, Literal(f"{row['file']}, line {p.line}")))


def resolution_graph(row: dict[str, str], folder: Path = RESOLUTIONS_DIR) -> Graph:
    """One resolution and its paragraphs (the Compact's left out: it lives in the reference data)."""
    symbol = row["symbol"]
    doc = document(row["file"], folder)
    g = Graph()
    res = resolution_iri(symbol)
    g.add((res, RDF.type, WSIS.Resolution))
    g.add((res, DCTERMS.identifier, Literal(symbol)))
    g.add((res, DCTERMS.title, Literal(doc.title, lang="en")))
    g.add((res, DCTERMS.date, Literal(adoption_date(doc.adopted), datatype=XSD.date)))
    g.add((res, DCTERMS.source, Literal(row["file"])))
    g.add((res, SCHEMA.url, URIRef(row["url"])))
    if row["process"]:
        g.add((res, WSIS.partOfProcess, URIRef(row["process"])))
    for part in doc.parts:
        if symbol == GDC_SYMBOL and part.name == GDC_ANNEX:
            g.add((res, DCTERMS.hasPart, URIRef(ns.entity("gdc"))))
            continue
        numbered = {}
        for p in part.paragraphs:
            iri = paragraph_iri(symbol, part.name, p)
            if p.parent is None:
                numbered[p.number] = iri
            _paragraph_triples(g, iri, symbol, part.name, p, p.kind, numbered.get(p.parent) if p.parent else None)
    return g


def resolution_graphs(folder: Path = RESOLUTIONS_DIR) -> Iterator[tuple[str, Graph, str]]:
    """(named graph IRI, graph, file) per shipped resolution. Raises ParseError on a bad text."""
    for row in table():
        yield ns.doc_graph(graph_slug(row["symbol"])), resolution_graph(row, folder), str(folder / row["file"])


PARAGRAPHS_QUERY = """
PREFIX wsis: <https://w3id.org/wsis-kg/ontology#>
SELECT ?s ?text ?g WHERE {
  GRAPH ?g { ?s a wsis:Paragraph ; wsis:text ?text . }
  FILTER(STRSTARTS(STR(?g), "https://w3id.org/wsis-kg/id/graph/doc/"))
}"""


def link_resolutions(store) -> dict[str, bytes]:
    """The linker step for the resolutions' paragraphs: graph/linker.py's Linker, as for statements, into
    id:graph/links/<slug>. Paragraphs are not statements (no prov:wasDerivedFrom), so the statement
    queries, the similarity index and link_documents leave them out."""
    from collections import defaultdict

    from .linker import Linker, links_ntriples
    linker = Linker.from_store(store)
    per_graph = defaultdict(list)
    for subject, text, graph in store.query(PARAGRAPHS_QUERY).rows:
        per_graph[graph.value] += linker.link(subject.value, text.value)
    prefix = ns.doc_graph("")
    return {ns.links_graph(g[len(prefix):]): links_ntriples(sorted(links, key=lambda l: (l.subject, l.predicate, l.target)))
            for g, links in sorted(per_graph.items())}


def text_graphs(folder: Path = RESOLUTIONS_DIR) -> Iterator[tuple[str, Graph, str]]:
    """What `wsiskg build` loads and validates besides the entries: the resolutions, then their mandates."""
    yield from resolution_graphs(folder)
    from .mandates import MANDATES_GRAPH, mandates_graph
    documents = [(row["symbol"], document(row["file"], folder)) for row in table()]
    yield MANDATES_GRAPH, mandates_graph(documents), str(REFERENCE_DIR / "mandates.yaml")


__all__ = ["ParseError", "resolution_graphs", "gdc_paragraphs", "document", "paragraph_iri", "table"]
