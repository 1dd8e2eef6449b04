"""Self-description: the SPARQL 1.1 Service Description and the VoID description of the dataset.

Both are built as RDF triples and sent through the one serialiser (graph/results.py), in any RDF
format the client negotiates. Statistics come from three aggregate queries run in the pool and
kept until the data changes.
"""
from __future__ import annotations

import pyoxigraph as ox
from flask import request, url_for

from wsiskg.graph import namespaces as ns
from wsiskg.graph.store import Result

from .context import services

SD = "http://www.w3.org/ns/sparql-service-description#"
FORMATS = "http://www.w3.org/ns/formats/"
VOID = ns.VOID
DCT = ns.DCTERMS
RDF_TYPE = ox.NamedNode(ns.RDF + "type")
CC_BY = "https://creativecommons.org/licenses/by/4.0/"
SDG_KOS_LICENCE = ("The SDG Knowledge Organization System, accessible at http://metadata.un.org/sdg, is made available "
                   "free of charge and may be copied freely, duplicated and further distributed with the following "
                   "citation: Amit Joshi, Luis Gonzalez Morales, Szymon Klarman, and Aaron Helton. 2019. A Knowledge "
                   "Organization System for the United Nations Sustainable Development Goals. New York, NY. "
                   "http://metadata.un.org/sdg")

# Statistics per named graph. The internal bookkeeping graph (the store version) is left out.
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

RESULT_FORMATS = ["SPARQL_Results_JSON", "SPARQL_Results_XML", "SPARQL_Results_CSV", "SPARQL_Results_TSV",
                  "Turtle", "N-Triples", "JSON-LD", "RDF_XML", "TriG", "N-Quads"]
SOURCES = {
    ns.GRAPH_REFERENCE: ["http://metadata.un.org/sdg", "https://www.itu.int/net4/wsis/sdg/",
                         "https://www.un.org/global-digital-compact", "https://www.itu.int/net4/wsis/forum/"],
}


def _n(value: str) -> ox.NamedNode:
    return ox.NamedNode(value)


def _int(value: int) -> ox.Literal:
    return ox.Literal(str(int(value)), datatype=_n(ns.XSD + "integer"))


def graph_statistics() -> dict[str, dict[str, int]]:
    backend = services().backend

    def compute():
        stats: dict[str, dict[str, int]] = {}
        for row in backend.query(GRAPH_STATS, limit=100_000).dicts():
            stats[row["g"].value] = {k: int(row[k].value) for k in ("triples", "subjects", "properties", "objects")}
        for query, field in ((GRAPH_ENTITIES, "entities"), (GRAPH_CLASSES, "classes")):
            for row in backend.query(query, limit=100_000).dicts():
                stats.setdefault(row["g"].value, {})[field] = int(row[field].value)
        return stats

    return backend.cached("graph-statistics", compute)


def _base() -> str:
    return request.url_root.rstrip("/")


def service_description() -> Result:
    svc = services()
    endpoint = _n(_base() + url_for("sparql.endpoint"))
    service = _n(_base() + url_for("sparql.endpoint") + "#service")
    t = [ox.Triple(service, RDF_TYPE, _n(SD + "Service")),
         ox.Triple(service, _n(SD + "endpoint"), endpoint),
         ox.Triple(service, _n(SD + "supportedLanguage"), _n(SD + "SPARQL11Query")),
         ox.Triple(service, _n(SD + "feature"), _n(SD + "UnionDefaultGraph")),
         ox.Triple(service, _n(SD + "defaultEntailmentRegime"), _n("http://www.w3.org/ns/entailment/Simple")),
         ox.Triple(service, _n(DCT + "title"), ox.Literal("WSIS Coherence Graph SPARQL endpoint", language="en")),
         ox.Triple(service, _n(DCT + "description"), ox.Literal(
             f"SPARQL 1.1 queries over the WSIS Coherence Graph. The default graph is the union of all named graphs. "
             f"Each query may run {svc.config.timeout:g} s; answers hold at most {svc.config.max_rows} rows "
             f"(a truncated answer carries the header X-WSISKG-Truncated: true).", language="en")),
         ox.Triple(service, _n(ns.RDFS + "seeAlso"), _n(_base() + url_for("void.void"))),
         ]
    if svc.config.allow_service:
        t.append(ox.Triple(service, _n(SD + "feature"), _n(SD + "BasicFederatedQuery")))
    t += [ox.Triple(service, _n(SD + "resultFormat"), _n(FORMATS + f)) for f in RESULT_FORMATS]
    t += [ox.Triple(service, _n(SD + "inputFormat"), _n(FORMATS + f)) for f in ("Turtle", "N-Triples", "JSON-LD")]
    dataset = ox.BlankNode("dataset")
    default = ox.BlankNode("defaultGraph")
    stats = graph_statistics()
    t += [ox.Triple(service, _n(SD + "defaultDataset"), dataset),
          ox.Triple(dataset, RDF_TYPE, _n(SD + "Dataset")),
          ox.Triple(dataset, _n(SD + "defaultGraph"), default),
          ox.Triple(default, RDF_TYPE, _n(SD + "Graph")),
          ox.Triple(default, _n(VOID + "triples"), _int(sum(s.get("triples", 0) for s in stats.values())))]
    for i, (graph, numbers) in enumerate(sorted(stats.items())):
        named, g = ox.BlankNode(f"named{i}"), ox.BlankNode(f"graph{i}")
        t += [ox.Triple(dataset, _n(SD + "namedGraph"), named),
              ox.Triple(named, RDF_TYPE, _n(SD + "NamedGraph")),
              ox.Triple(named, _n(SD + "name"), _n(graph)),
              ox.Triple(named, _n(SD + "graph"), g),
              ox.Triple(g, RDF_TYPE, _n(SD + "Graph")),
              ox.Triple(g, _n(VOID + "triples"), _int(numbers.get("triples", 0)))]
    return Result("graph", triples=t)


def void_description() -> Result:
    dataset = _n(_base() + url_for("void.void") + "#dataset")
    stats = graph_statistics()
    t = [ox.Triple(dataset, RDF_TYPE, _n(VOID + "Dataset")),
         ox.Triple(dataset, _n(DCT + "title"), ox.Literal("WSIS Coherence Graph", language="en")),
         ox.Triple(dataset, _n(DCT + "description"), ox.Literal(
             "A knowledge graph of UN digital-cooperation processes: the WSIS Action Lines, the Global Digital "
             "Compact, the SDGs, and statements from WSIS outcome documents linked to them.", language="en")),
         ox.Triple(dataset, _n(DCT + "license"), _n(CC_BY)),
         ox.Triple(dataset, _n(VOID + "sparqlEndpoint"), _n(_base() + url_for("sparql.endpoint"))),
         ox.Triple(dataset, _n(VOID + "uriSpace"), ox.Literal(ns.ID)),
         ox.Triple(dataset, _n(VOID + "exampleResource"), _n(ns.action_line("C3"))),
         ox.Triple(dataset, _n(VOID + "triples"), _int(sum(s.get("triples", 0) for s in stats.values())))]
    for vocabulary in (ns.WSIS, ns.SDGO, ns.SKOS, ns.DCTERMS, ns.PROV, ns.ORG, ns.SCHEMA):
        t.append(ox.Triple(dataset, _n(VOID + "vocabulary"), _n(vocabulary)))
    for graph, numbers in sorted(stats.items()):
        subset = _n(graph)
        t += [ox.Triple(dataset, _n(VOID + "subset"), subset),
              ox.Triple(subset, RDF_TYPE, _n(VOID + "Dataset")),
              ox.Triple(subset, _n("http://www.w3.org/ns/sparql-service-description#name"), _n(graph))]
        for field, prop in (("triples", "triples"), ("entities", "entities"), ("classes", "classes"),
                            ("properties", "properties"), ("subjects", "distinctSubjects"), ("objects", "distinctObjects")):
            t.append(ox.Triple(subset, _n(VOID + prop), _int(numbers.get(field, 0))))
        if graph == ns.GRAPH_REFERENCE:
            t.append(ox.Triple(subset, _n(DCT + "rights"), ox.Literal(SDG_KOS_LICENCE, language="en")))
        for source in SOURCES.get(graph, []):
            t.append(ox.Triple(subset, _n(DCT + "source"), _n(source)))
        doc_prefix = ns.ID + "graph/doc/"
        links_prefix = ns.ID + "graph/links/"
        if graph.startswith(doc_prefix):
            t.append(ox.Triple(subset, _n(DCT + "source"), _n(ns.ID + "doc/" + graph[len(doc_prefix):])))
            t.append(ox.Triple(subset, _n(DCT + "description"), ox.Literal(
                "Curated statements of one source document.", language="en")))
        elif graph.startswith(links_prefix):
            t.append(ox.Triple(subset, _n(DCT + "description"), ox.Literal(
                "Links computed by the linker (method and score recorded), for one source document.", language="en")))
        t.append(ox.Triple(subset, _n(DCT + "license"), _n(CC_BY)))
    return Result("graph", triples=t)
