"""Self-description: the SPARQL 1.1 Service Description and the VoID description of the dataset.

Both are built as RDF triples and sent through the one serialiser (graph/results.py), in any RDF
format the client negotiates. Statistics come from three aggregate queries run in the pool and
kept until the data changes.
"""
from __future__ import annotations

import pyoxigraph as ox
from flask import request, url_for

from wsiskg.graph import namespaces as ns
from wsiskg.graph.dataset_description import description_triples, graph_statistics as dataset_statistics
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
    """Per named graph counts, computed once per version of the data (graph/dataset_description.py)."""
    backend = services().backend
    return backend.cached("graph-statistics", lambda: dataset_statistics(backend.as_store()))


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
    """The same DCAT/VoID description as `wsiskg describe`, with this server's endpoint."""
    store = services().backend.as_store()
    return Result("graph", triples=description_triples(store, _base(), graph_statistics()))
