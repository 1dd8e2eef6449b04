"""Answers cross from a query worker to the server pickled (graph/wire.py): every kind of term must
come back equal, and the distinct-term table must keep repeated terms from being written again."""
from __future__ import annotations

import pickle

import pyoxigraph as ox

from wsiskg.graph.store import EmbeddedStore, Result

XSD = "http://www.w3.org/2001/XMLSchema#"
A, B = ox.NamedNode("https://w3id.org/wsis-kg/id/action-line/C3"), ox.NamedNode("http://example.org/b")
QUOTED = ox.Triple(A, B, ox.Literal("x", language="fr"))
EVERY_KIND = [
    A, ox.BlankNode("b1"), ox.Literal("plain"), ox.Literal("42", datatype=ox.NamedNode(XSD + "integer")),
    ox.Literal("مرحبا", language="ar", direction=ox.BaseDirection.RTL), ox.Literal("Accès", language="fr"),
    QUOTED, None,
]


def round_trip(result: Result) -> Result:
    return pickle.loads(pickle.dumps(result))


def test_every_kind_of_term_and_unbound_comes_back_equal():
    rows = [EVERY_KIND, list(reversed(EVERY_KIND)), [None] * len(EVERY_KIND)]
    result = Result("solutions", [f"v{i}" for i in range(len(EVERY_KIND))], rows, truncated=True)
    back = round_trip(result)
    assert back == result
    assert back.rows[1][0] is None and back.truncated
    direction = back.rows[0][4].direction
    assert direction is not None and str(direction) == "rtl"


def test_graph_answers_and_booleans_come_back_equal():
    graph = Result("graph", triples=[ox.Triple(A, B, QUOTED), ox.Triple(ox.BlankNode("q"), B, ox.Literal("5"))])
    assert round_trip(graph) == graph
    assert round_trip(Result("boolean", boolean=False)) == Result("boolean", boolean=False)


def test_a_graph_answer_with_every_kind_of_object_comes_back_equal():
    odd = ox.Literal('quote " backslash \\ line\nend \u2028 \x01 😀')
    triples = [ox.Triple(ox.BlankNode("s1"), B, term) for term in EVERY_KIND + [odd] if term is not None]
    back = round_trip(Result("graph", triples=triples))
    assert back.triples == triples
    assert back.triples[0].subject.value == "s1"  # blank nodes keep their labels
    assert str(back.triples[4].object.direction) == "rtl"


def test_a_term_repeated_in_every_row_is_written_once():
    # as the engine gives them: a new object per row, equal in value
    rows = [[ox.NamedNode(A.value), ox.Literal("Bridging the digital divide " * 20, language="en")] for _ in range(500)]
    result = Result("solutions", ["line", "text"], rows)
    written = pickle.dumps(result)
    assert written.count(b"Bridging the digital divide") == 20  # one copy of the text, not 500
    assert round_trip(result) == result


def test_a_stored_answer_survives_the_hop(built_store):
    with EmbeddedStore.open(built_store, read_only=True) as store:
        result = store.query("SELECT ?s ?p ?o WHERE { ?s ?p ?o } LIMIT 3000")
    assert len(result.rows) == 3000
    assert round_trip(result) == result
