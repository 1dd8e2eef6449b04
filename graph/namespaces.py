"""The namespaces of the interface contract and IRI helpers for our entities."""
from __future__ import annotations

import re

WSIS = "https://w3id.org/wsis-kg/ontology#"
ID = "https://w3id.org/wsis-kg/id/"
SDGO = "http://metadata.un.org/sdg/ontology#"
SDG = "http://metadata.un.org/sdg/"
SKOS = "http://www.w3.org/2004/02/skos/core#"
DCTERMS = "http://purl.org/dc/terms/"
PROV = "http://www.w3.org/ns/prov#"
ORG = "http://www.w3.org/ns/org#"
SCHEMA = "http://schema.org/"
OWL = "http://www.w3.org/2002/07/owl#"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
XSD = "http://www.w3.org/2001/XMLSchema#"
VOID = "http://rdfs.org/ns/void#"
DCAT = "http://www.w3.org/ns/dcat#"
WIKIDATA = "http://www.wikidata.org/entity/"

PREFIXES = {
    "wsis": WSIS, "id": ID, "sdgo": SDGO, "sdg": SDG, "skos": SKOS, "dcterms": DCTERMS,
    "prov": PROV, "org": ORG, "schema": SCHEMA, "owl": OWL, "rdf": RDF, "rdfs": RDFS, "xsd": XSD,
}


def sparql_prefixes() -> str:
    return "".join(f"PREFIX {p}: <{iri}>\n" for p, iri in PREFIXES.items())


def turtle_prefixes() -> str:
    return "".join(f"@prefix {p}: <{iri}> .\n" for p, iri in PREFIXES.items())


GRAPH_ONTOLOGY = ID + "graph/ontology"
GRAPH_REFERENCE = ID + "graph/reference"
GRAPH_META = ID + "graph/meta"


def doc_graph(doc_slug: str) -> str:
    return f"{ID}graph/doc/{doc_slug}"


def links_graph(name: str) -> str:
    return f"{ID}graph/links/{name}"


def entity(*parts: str) -> str:
    return ID + "/".join(parts)


_SLUG_RE = re.compile(r"[^a-z0-9]+")


def slugify(text: str) -> str:
    return _SLUG_RE.sub("-", text.lower()).strip("-")


# The C7 sub-lines: the reference table's ids -> the contract's IRI suffixes.
C7_SUBLINES = {
    "C7.EGOV": "C7-e-government", "C7.EBUS": "C7-e-business", "C7.ELEARN": "C7-e-learning",
    "C7.EHEALTH": "C7-e-health", "C7.EEMPLOY": "C7-e-employment", "C7.EENV": "C7-e-environment",
    "C7.EAGRI": "C7-e-agriculture", "C7.ESCI": "C7-e-science",
}


def action_line_notation(ref_id: str) -> str:
    return C7_SUBLINES.get(ref_id, ref_id)


def action_line(notation: str) -> str:
    return f"{ID}action-line/{action_line_notation(notation)}"
