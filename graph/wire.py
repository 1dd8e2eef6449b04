"""A query `Result` as plain data, for the hop from a query worker to the server process.

Pickled as they are, pyoxigraph terms cost more than most answers take to compute: at 1M triples
`stakeholder-voice` (361 rows) spent 16 ms pickling and unpickling against 11 ms evaluating
(BENCHMARKS.md, "Moving rows"). Answers repeat their terms (the same Action Line, body or datatype in
every row), so a result travels as a table of its distinct terms, written as tuples of strings, and
rows of indexes into it: 3-4x cheaper both ways, and the rows read back share one object per term.
A graph answer's triples, whose terms rarely repeat (a description: 3,652 triples, 3,674 distinct
terms), travel as N-Triples written and read by the engine: 6 ms both ways, against 16 ms as a table.
"""
from __future__ import annotations

import pyoxigraph as ox

from . import namespaces as ns

IRI, BLANK, PLAIN, TAGGED, TYPED, TRIPLE = range(6)
XSD_STRING = ns.XSD + "string"
UNBOUND = -1
DIRECTIONS = {str(d): d for d in (ox.BaseDirection.LTR, ox.BaseDirection.RTL)}


class TermTable:
    """Distinct terms in the order first met, each as a tuple of a kind and strings."""

    def __init__(self):
        self.index: dict = {}
        self.terms: list[tuple] = []

    def code(self, term) -> int:
        if term is None:
            return UNBOUND
        found = self.index.get(term)
        if found is None:
            encoded = self._encode(term)  # first: a triple's parts take their places before it
            found = self.index[term] = len(self.terms)
            self.terms.append(encoded)
        return found

    def _encode(self, term) -> tuple:
        if isinstance(term, ox.NamedNode):
            return (IRI, term.value)
        if isinstance(term, ox.BlankNode):
            return (BLANK, term.value)
        if isinstance(term, ox.Triple):
            return (TRIPLE, self.code(term.subject), self.code(term.predicate), self.code(term.object))
        if term.language:
            return (TAGGED, term.value, term.language, str(term.direction) if term.direction else None)
        datatype = term.datatype.value
        return (PLAIN, term.value) if datatype == XSD_STRING else (TYPED, term.value, datatype)


def decode_terms(encoded: list[tuple]) -> list:
    """pyoxigraph terms for a table written by `TermTable` (a triple's parts come before it)."""
    terms: list = []
    datatypes: dict[str, ox.NamedNode] = {}
    for item in encoded:
        kind = item[0]
        if kind == IRI:
            terms.append(ox.NamedNode(item[1]))
        elif kind == PLAIN:
            terms.append(ox.Literal(item[1]))
        elif kind == TYPED:
            datatype = datatypes.get(item[2]) or datatypes.setdefault(item[2], ox.NamedNode(item[2]))
            terms.append(ox.Literal(item[1], datatype=datatype))
        elif kind == TAGGED:
            direction = DIRECTIONS[item[3]] if item[3] else None
            terms.append(ox.Literal(item[1], language=item[2], direction=direction))
        elif kind == BLANK:
            terms.append(ox.BlankNode(item[1]))
        else:
            terms.append(ox.Triple(terms[item[1]], terms[item[2]], terms[item[3]]))
    return terms


def pack_rows(rows: list, table: TermTable) -> list[tuple]:
    code = table.code
    return [tuple(code(term) for term in row) for row in rows]


def unpack_rows(packed: list[tuple], terms: list) -> list[list]:
    return [[terms[i] if i != UNBOUND else None for i in row] for row in packed]


def pack_triples(triples: list) -> bytes:
    return ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES) or b""


def unpack_triples(packed: bytes) -> list:
    return [quad.triple for quad in ox.parse(packed, format=ox.RdfFormat.N_TRIPLES)] if packed else []
