"""The dataset's DCAT/VoID description: what `wsiskg describe` prints and /.well-known/void serves.

The static part (title, licence, sources and their citations) is data, `graph/reference/dataset.ttl`;
this module adds what only the store knows: the version, and per named graph (each a void:subset of
the dataset, named by the graph's IRI) its statistics, what kind of graph it is, its licence and
sources (an imported graph carries its own title and source, written by `wsiskg import`), and, when
the caller knows it, the address of the SPARQL endpoint.

One function for every caller: `dataset_description(store, base_url=None, statistics=None)` takes
any `Store` (the server passes its pooled store and its cached `graph_statistics`).
"""
from __future__ import annotations

from importlib import metadata

import pyoxigraph as ox
from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCAT, DCTERMS, OWL, RDF, XSD

from . import namespaces as ns
from .paths import REFERENCE_DIR
from .reference import DATASET_DESCRIPTION
from .validate import to_rdflib_term

VOID = Namespace(ns.VOID)
SD_NAME = URIRef("http://www.w3.org/ns/sparql-service-description#name")
DATASET = URIRef(ns.ID + "dataset")
CC_BY = URIRef("https://creativecommons.org/licenses/by/4.0/")
FORMATS = {"turtle": "turtle", "nt": "nt", "ntriples": "nt", "jsonld": "json-ld", "xml": "xml"}

# Statistics per named graph; the bookkeeping graph (the store version) is left out.
GRAPH_STATS = f"""
SELECT ?g (COUNT(*) AS ?triples) (COUNT(DISTINCT ?s) AS ?subjects) (COUNT(DISTINCT ?p) AS ?properties)
       (COUNT(DISTINCT ?o) AS ?objects)
WHERE {{ GRAPH ?g {{ ?s ?p ?o }} FILTER(?g != <{ns.GRAPH_META}>) }}
GROUP BY ?g ORDER BY ?g"""
GRAPH_ENTITIES = f"""
SELECT ?g (COUNT(DISTINCT ?s) AS ?entities)
WHERE {{ GRAPH ?g {{ ?s ?p ?o }} FILTER(isIRI(?s) && ?g != <{ns.GRAPH_META}>) }}
GROUP BY ?g"""
GRAPH_CLASSES = f"""
SELECT ?g (COUNT(DISTINCT ?c) AS ?classes)
WHERE {{ GRAPH ?g {{ ?s a ?c }} FILTER(?g != <{ns.GRAPH_META}>) }}
GROUP BY ?g"""
VOID_PROPERTIES = (("triples", "triples"), ("entities", "entities"), ("classes", "classes"),
                   ("properties", "properties"), ("subjects", "distinctSubjects"), ("objects", "distinctObjects"))
# What each kind of graph holds (by the graph IRI's prefix), and whether it is our own work (CC BY).
KINDS = (
    (ns.GRAPH_ONTOLOGY, "The wsiskg ontology.", True),
    (ns.GRAPH_REFERENCE, "Reference data: the UN SDG KOS, the WSIS Action Lines and WSIS-SDG Matrix, the GDC, UN "
                         "entities and processes, stakeholder groups, themes; derived from the sources listed.", False),
    (ns.ID + "graph/doc/", "Curated statements of one source document.", True),
    (ns.ID + "graph/links/external-", "Links to an external dataset proposed by label alignment (`wsiskg link`); "
                                      "each reified with method, score, endpoint and time.", True),
    (ns.ID + "graph/links/", "Links computed by the linker (method and score recorded).", True),
    (ns.ID + "graph/import/", "A dataset imported from a tabular export (`wsiskg import`); it keeps its "
                              "source's terms.", False),
)


def _package_version() -> str:
    try:
        return metadata.version("wsiskg")
    except metadata.PackageNotFoundError:
        return "unknown"


def graph_statistics(store) -> dict[str, dict[str, int]]:
    """graph IRI -> {triples, subjects, properties, objects, entities, classes}."""
    stats: dict[str, dict[str, int]] = {}
    for row in store.query(GRAPH_STATS).dicts():
        stats[row["g"].value] = {k: int(row[k].value) for k in ("triples", "subjects", "properties", "objects")}
    for query, name in ((GRAPH_ENTITIES, "entities"), (GRAPH_CLASSES, "classes")):
        for row in store.query(query).dicts():
            stats.setdefault(row["g"].value, {})[name] = int(row[name].value)
    return stats


def dataset_description(store, base_url: str | None = None,
                        statistics: dict[str, dict[str, int]] | None = None) -> Graph:
    """DCAT + VoID for the data behind `store` (any `Store`); `base_url` = where the server is published."""
    g = Graph()
    g.parse(REFERENCE_DIR / DATASET_DESCRIPTION, format="turtle")
    for prefix, iri in {"void": ns.VOID, "dcat": ns.DCAT, "dcterms": ns.DCTERMS, "wsis": ns.WSIS,
                        "sd": "http://www.w3.org/ns/sparql-service-description#"}.items():
        g.bind(prefix, iri)
    stats = graph_statistics(store) if statistics is None else statistics
    g.add((DATASET, OWL.versionInfo, Literal(_package_version())))
    g.add((DATASET, URIRef(ns.WSIS + "storeVersion"), Literal(store.version(), datatype=XSD.integer)))
    g.add((DATASET, VOID.triples, Literal(sum(s.get("triples", 0) for s in stats.values()), datatype=XSD.integer)))
    sources = list(g.objects(DATASET, DCTERMS.source))
    for graph, numbers in sorted(stats.items()):
        subset = URIRef(graph)
        g.add((DATASET, VOID.subset, subset))
        g.add((subset, RDF.type, VOID.Dataset))
        g.add((subset, SD_NAME, subset))
        for name, prop in VOID_PROPERTIES:
            if name in numbers:
                g.add((subset, VOID[prop], Literal(numbers[name], datatype=XSD.integer)))
        for prefix, description, own in KINDS:
            if graph == prefix or (prefix not in (ns.GRAPH_ONTOLOGY, ns.GRAPH_REFERENCE) and graph.startswith(prefix)):
                g.add((subset, DCTERMS.description, Literal(description, lang="en")))
                if own:
                    g.add((subset, DCTERMS.license, CC_BY))
                break
        if graph == ns.GRAPH_REFERENCE:
            for source in sources:
                g.add((subset, DCTERMS.source, source))
            g.add((subset, DCTERMS.rights, Literal(
                "Each source keeps its own terms; see the dcterms:license and dcterms:bibliographicCitation "
                "of the sources of <https://w3id.org/wsis-kg/id/dataset>.", lang="en")))
        elif graph.startswith(ns.ID + "graph/doc/"):
            g.add((subset, DCTERMS.source, URIRef(ns.ID + "doc/" + graph[len(ns.ID + "graph/doc/"):])))
    # What a graph says about itself (imports record their title and source; see graph/import_csv.py).
    about = store.query(
        f"SELECT ?g ?p ?o WHERE {{ VALUES ?p {{ <{ns.DCTERMS}title> <{ns.DCTERMS}source> }} GRAPH ?g {{ ?g ?p ?o }} }}")
    for graph, prop, value in about.rows:
        g.add((URIRef(graph.value), URIRef(prop.value), to_rdflib_term(value)))
    if base_url:
        endpoint = URIRef(base_url.rstrip("/") + "/sparql")
        g.add((DATASET, VOID.sparqlEndpoint, endpoint))
        distribution = URIRef(base_url.rstrip("/") + "/.well-known/void#sparql")
        g.add((DATASET, DCAT.distribution, distribution))
        g.add((distribution, RDF.type, DCAT.Distribution))
        g.add((distribution, DCAT.accessURL, endpoint))
        g.add((distribution, DCTERMS.conformsTo, URIRef("https://www.w3.org/TR/sparql11-protocol/")))
    return g


def description_triples(store, base_url: str | None = None,
                        statistics: dict[str, dict[str, int]] | None = None) -> list[ox.Triple]:
    """The same description as pyoxigraph triples (for graph/results.py's serialisers)."""
    data = dataset_description(store, base_url, statistics).serialize(format="nt", encoding="utf-8")
    return list(ox.parse(data, format=ox.RdfFormat.N_TRIPLES))


def description_bytes(store, fmt: str = "turtle", base_url: str | None = None) -> bytes:
    return dataset_description(store, base_url).serialize(format=FORMATS[fmt], encoding="utf-8")
