"""Answers in one comparable form, whichever engine gave them.

A SELECT answer becomes a sorted list of rows, each a tuple of term strings in the order of the
query's variables; a CONSTRUCT answer a sorted list of (s, p, o) tuples. Terms are written as in
N-Triples (`<iri>`, `"text"@en`, `"5"^^<...#integer>`); a blank node is `_:` whatever its label
(blank nodes aside), an unbound variable is the empty string, a plain literal and an `xsd:string`
literal are the same, and language tags are compared in lower case.

`strict` keeps every lexical form as given. `lenient` also accepts what SPARQL leaves to the
engine: the lexical form of a computed number ("1.50" and "1.5" are the same xsd:decimal) and the
order of the parts of a `GROUP_CONCAT` (a literal holding a ", "- or "; "-separated list, or a
space-separated list of IRIs, is compared with its parts sorted). Two engines agree on a query when their lenient forms are equal.
"""
from __future__ import annotations

import json
import re
from decimal import Decimal, InvalidOperation

XSD = "http://www.w3.org/2001/XMLSchema#"
NUMERIC = {XSD + t for t in ("integer", "decimal", "double", "float", "int", "long", "short", "byte",
                             "nonNegativeInteger", "positiveInteger", "negativeInteger", "nonPositiveInteger",
                             "unsignedInt", "unsignedLong", "unsignedShort", "unsignedByte")}
SEPARATORS = re.compile(r", |; | \| ")
IRI_TEXT = re.compile(r"https?://\S+$")


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")


def literal(value: str, language: str | None = None, datatype: str | None = None) -> str:
    if language:
        return f'"{_escape(value)}"@{language.lower()}'
    if datatype and datatype not in (XSD + "string",):
        return f'"{_escape(value)}"^^<{datatype}>'
    return f'"{_escape(value)}"'


def iri(value: str) -> str:
    return f"<{value}>"


BNODE = "_:"


def from_json_term(term: dict | None) -> str:
    """A term of SPARQL 1.1 Query Results JSON."""
    if term is None:
        return ""
    kind = term.get("type")
    if kind == "uri":
        return iri(term["value"])
    if kind == "bnode":
        return BNODE
    if kind in ("literal", "typed-literal"):
        return literal(term["value"], term.get("xml:lang"), term.get("datatype"))
    if kind == "triple":  # RDF-star; not used by our queries
        return "<<" + " ".join(from_json_term(term["value"][k]) for k in ("subject", "predicate", "object")) + ">>"
    return str(term)


def from_sparql_json(data: bytes) -> tuple[list[str], list[tuple], bool | None]:
    """variables, rows (unsorted), boolean (for ASK)."""
    doc = json.loads(data)
    if "boolean" in doc:
        return [], [], bool(doc["boolean"])
    variables = doc["head"].get("vars", [])
    rows = [tuple(from_json_term(b.get(v)) for v in variables) for b in doc["results"]["bindings"]]
    return variables, rows, None


def from_oxigraph_term(term) -> str:
    import pyoxigraph as ox
    if term is None:
        return ""
    if isinstance(term, ox.NamedNode):
        return iri(term.value)
    if isinstance(term, ox.BlankNode):
        return BNODE
    if isinstance(term, ox.Literal):
        return literal(term.value, term.language, term.datatype.value if term.datatype else None)
    return str(term)


def from_ntriples(data: bytes) -> list[tuple]:
    import pyoxigraph as ox
    return [(from_oxigraph_term(t.subject), from_oxigraph_term(t.predicate), from_oxigraph_term(t.object))
            for t in ox.parse(data, format=ox.RdfFormat.N_TRIPLES)]


def from_rdflib_term(term) -> str:
    from rdflib import BNode, Literal, URIRef
    if term is None:
        return ""
    if isinstance(term, URIRef):
        return iri(str(term))
    if isinstance(term, BNode):
        return BNODE
    if isinstance(term, Literal):
        return literal(str(term), term.language, str(term.datatype) if term.datatype else None)
    return str(term)


# -- comparing -----------------------------------------------------------------------------------

_LITERAL = re.compile(r'^"(.*)"(?:@([a-z0-9-]+)|\^\^<([^>]*)>)?$', re.S)


def _number(lexical: str) -> str:
    try:
        value = Decimal(lexical.strip())
    except InvalidOperation:
        return lexical
    if value.is_nan() or value.is_infinite():
        return lexical
    normal = value.normalize()
    return format(normal, "f") if normal == normal.to_integral_value() else str(normal)


def lenient_term(term: str) -> str:
    match = _LITERAL.match(term)
    if not match:
        return term
    value, language, datatype = match.groups()
    if datatype in NUMERIC:
        return f'"{_number(value)}"^^numeric'
    if SEPARATORS.search(value):
        parts = sorted(SEPARATORS.split(value))
        value = "\u241f".join(parts)
    elif " " in value and all(IRI_TEXT.match(part) for part in value.split(" ")):
        value = "\u241f".join(sorted(value.split(" ")))
    return f'"{value}"' + (f"@{language}" if language else f"^^<{datatype}>" if datatype else "")


def canonical(rows: list[tuple]) -> list[tuple]:
    return sorted(tuple(r) for r in rows)


def lenient(rows: list[tuple]) -> list[tuple]:
    return sorted(tuple(lenient_term(t) for t in r) for r in rows)


def diff(reference: list[tuple], other: list[tuple], limit: int = 3) -> dict:
    """What one answer has that the other lacks (a few examples each), in lenient form."""
    a, b = lenient(reference), lenient(other)
    from collections import Counter
    ca, cb = Counter(a), Counter(b)
    only_a = list((ca - cb).elements())
    only_b = list((cb - ca).elements())
    return {"rows": [len(a), len(b)], "only_reference": len(only_a), "only_other": len(only_b),
            "examples_only_reference": [list(r) for r in only_a[:limit]],
            "examples_only_other": [list(r) for r in only_b[:limit]]}
