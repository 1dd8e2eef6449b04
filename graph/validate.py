"""SHACL validation with reports a curator can act on.

Rules we follow (see traps.md): no RDFS inference (it hides wrong-class links), and validate what
changed plus what it points to, never the whole world, so one document checks in milliseconds at
any graph size.
"""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path
from typing import Iterable

import pyoxigraph as ox
import pyshacl
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import RDF, SH

from .paths import ONTOLOGY_DIR, SHAPES_DIR


class EntryError(Exception):
    """An entry file cannot be read at all (syntax error, missing file); names file, line, column."""

    def __init__(self, message: str, file: str | None = None, line: int | None = None, column: int | None = None):
        self.file, self.line, self.column = file, line, column
        where = ":".join(str(x) for x in (file, line, column) if x is not None)
        super().__init__(f"{where}: {message}" if where else message)


@dataclass
class Problem:
    severity: str  # "Violation" | "Warning" | "Info"
    message: str
    focus: str
    path: str | None = None
    value: str | None = None
    shape: str | None = None
    file: str | None = None
    line: int | None = None

    def as_dict(self) -> dict:
        return asdict(self)

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}: " if self.file and self.line else (f"{self.file}: " if self.file else "")
        detail = "".join([f" [property {self.path}]" if self.path else "",
                          f" [value {self.value}]" if self.value is not None else ""])
        return f"{where}{self.severity}: {self.message}\n    at {self.focus}{detail}"


@dataclass
class Report:
    problems: list[Problem]

    @property
    def conforms(self) -> bool:
        return not self.violations

    @property
    def violations(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "Violation"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity != "Violation"]


@lru_cache(maxsize=1)
def shapes_graph() -> Graph:
    g = Graph()
    for path in sorted(SHAPES_DIR.glob("*.ttl")):
        g.parse(path, format="turtle")
    return g


@lru_cache(maxsize=1)
def ontology_graph() -> Graph:
    g = Graph()
    for path in sorted(ONTOLOGY_DIR.glob("*.ttl")):
        g.parse(path, format="turtle")
    return g


_POSITION = re.compile(r"(?:line|at)\s*(\d+)[:,]?\s*(?:column\s*)?(\d+)?", re.I)


def check_syntax(data: bytes, name: str, fmt: ox.RdfFormat = ox.RdfFormat.TURTLE) -> None:
    """Parse with Oxigraph first: its errors name line and column precisely."""
    try:
        for _ in ox.parse(data, format=fmt):
            pass
    except SyntaxError as exc:
        line, column = getattr(exc, "lineno", None), getattr(exc, "offset", None)
        text = str(exc.msg if hasattr(exc, "msg") else exc)
        if line is None:
            match = _POSITION.search(text)
            if match:
                line = int(match.group(1))
                column = int(match.group(2)) if match.group(2) else None
        raise EntryError(f"syntax error: {text}", name, line, column) from None


def read_entry_file(path: Path | str) -> tuple[Graph, str]:
    """An entry file as an rdflib Graph plus its text (for line look-ups)."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise EntryError(f"cannot read the file: {exc.strerror}", str(path)) from None
    return parse_entry_bytes(data, str(path))


def parse_entry_bytes(data: bytes, name: str, fmt: str = "turtle") -> tuple[Graph, str]:
    formats = {"turtle": ox.RdfFormat.TURTLE, "nt": ox.RdfFormat.N_TRIPLES, "json-ld": ox.RdfFormat.JSON_LD,
               "xml": ox.RdfFormat.RDF_XML}
    check_syntax(data, name, formats.get(fmt, ox.RdfFormat.TURTLE))
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise EntryError(f"not UTF-8 text (byte {exc.start})", name) from None
    g = Graph()
    try:
        g.parse(data=text, format=fmt)
    except Exception as exc:  # rdflib raises many types; the syntax check above caught the usual ones
        raise EntryError(f"cannot parse: {exc}", name) from None
    return g, text


def subject_line(text: str, iri: str) -> int | None:
    """The first line where `iri` stands as a subject (or, failing that, anywhere)."""
    if not text:
        return None
    needle = f"<{iri}>"
    fallback = None
    for number, line in enumerate(text.splitlines(), start=1):
        if needle in line:
            if line.lstrip().startswith(needle):
                return number
            fallback = fallback or number
    return fallback


def referenced_iris(g: Graph) -> set[str]:
    return {str(o) for o in g.objects() if isinstance(o, URIRef)}


def context_for(g: Graph, store) -> Graph:
    """What the new data points to: the stored descriptions of every IRI it links to.

    Only the linked nodes' own triples are fetched (types, labels, notations), so the cost follows
    the size of the new document, not of the graph.
    """
    iris = sorted(referenced_iris(g) - {str(s) for s in g.subjects()})
    context = Graph()
    if store is None or not iris:
        return context
    for start in range(0, len(iris), 500):
        chunk = " ".join(f"<{iri}>" for iri in iris[start:start + 500])
        result = store.query(f"SELECT ?s ?p ?o WHERE {{ VALUES ?s {{ {chunk} }} ?s ?p ?o }}")
        for s, p, o in result.rows:
            context.add((URIRef(s.value), URIRef(p.value), _to_rdflib(o)))
    return context


def _to_rdflib(term):
    if isinstance(term, ox.NamedNode):
        return URIRef(term.value)
    if isinstance(term, ox.BlankNode):
        return BNode(term.value)
    if term.language:
        return Literal(term.value, lang=term.language)
    return Literal(term.value, datatype=URIRef(term.datatype.value))


_INTEGER_SUBTYPES = {
    "positiveInteger": lambda n: n > 0, "nonNegativeInteger": lambda n: n >= 0,
    "negativeInteger": lambda n: n < 0, "nonPositiveInteger": lambda n: n <= 0,
    "long": lambda n: -2**63 <= n < 2**63, "int": lambda n: -2**31 <= n < 2**31,
    "short": lambda n: -2**15 <= n < 2**15, "byte": lambda n: -2**7 <= n < 2**7,
    "unsignedLong": lambda n: 0 <= n < 2**64, "unsignedInt": lambda n: 0 <= n < 2**32,
    "unsignedShort": lambda n: 0 <= n < 2**16, "unsignedByte": lambda n: 0 <= n < 2**8,
}
_XSD = "http://www.w3.org/2001/XMLSchema#"


@lru_cache(maxsize=1)
def _integer_subtype_properties() -> dict[URIRef, str]:
    """Properties whose shapes ask for an xsd:integer subtype (e.g. wsis:sourceLine: xsd:positiveInteger)."""
    g = shapes_graph()
    out = {}
    for shape, datatype in g.subject_objects(SH.datatype):
        path = g.value(shape, SH.path)
        name = str(datatype)[len(_XSD):] if str(datatype).startswith(_XSD) else None
        if isinstance(path, URIRef) and name in _INTEGER_SUBTYPES:
            out[path] = name
    return out


def restore_datatypes(g: Graph) -> Graph:
    """Oxigraph stores every xsd:integer subtype (xsd:positiveInteger, ...) as xsd:integer, so data
    read back from the store would fail the shapes' sh:datatype checks. Give such a value back the
    subtype its property's shape asks for when the value fits it; one that does not ("0" for an
    xsd:positiveInteger) stays xsd:integer and is still reported. Changes `g` in place."""
    wanted = _integer_subtype_properties()
    integer = URIRef(_XSD + "integer")
    for s, p, o in list(g.triples((None, None, None))):
        if p in wanted and isinstance(o, Literal) and o.datatype == integer:
            try:
                fits = _INTEGER_SUBTYPES[wanted[p]](int(str(o)))
            except ValueError:
                continue
            if fits:
                g.remove((s, p, o))
                g.add((s, p, Literal(str(o), datatype=URIRef(_XSD + wanted[p]))))
    return g


def validate(data: Graph, context: Graph | None = None, text: str = "", file: str | None = None,
             focus_all: bool = False) -> Report:
    """Validate `data` (plus `context`, what it points to) against the shapes.

    Only problems whose focus node is a subject of `data` are reported unless `focus_all`: the
    context is there so links can be checked, not to be judged itself.
    """
    combined = Graph()
    for triple in data:
        combined.add(triple)
    if context is not None:
        for triple in context:
            combined.add(triple)
    # Validate everything, then keep only what concerns the new data. (Passing pyshacl's
    # focus_nodes instead makes nested shapes — sh:or, sh:node — pass for linked values outside the
    # focus list, so a wrong-class link could slip through.)
    _, results_graph, _ = pyshacl.validate(
        combined, shacl_graph=shapes_graph(), inference="none", advanced=True, allow_warnings=True)
    keep = None if focus_all else {s for s in data.subjects() if isinstance(s, URIRef)}
    if keep is not None:
        for result in list(results_graph.subjects(RDF.type, SH.ValidationResult)):
            if results_graph.value(result, SH.focusNode) not in keep:
                results_graph.remove((result, None, None))
    return Report(read_problems(results_graph, text, file))


def read_problems(results: Graph, text: str = "", file: str | None = None) -> list[Problem]:
    problems = []
    for result in results.subjects(RDF.type, SH.ValidationResult):
        focus = results.value(result, SH.focusNode)
        severity = str(results.value(result, SH.resultSeverity) or SH.Violation).rsplit("#", 1)[-1]
        path = results.value(result, SH.resultPath)
        value = results.value(result, SH.value)
        messages = [str(m) for m in results.objects(result, SH.resultMessage)]
        shape = results.value(result, SH.sourceShape)
        problems.append(Problem(
            severity=severity,
            message=" ".join(messages) or "does not conform to its shape",
            focus=str(focus),
            path=str(path) if isinstance(path, URIRef) else None,
            value=str(value) if value is not None else None,
            shape=str(shape) if isinstance(shape, URIRef) else None,
            file=file,
            line=subject_line(text, str(focus)) if isinstance(focus, URIRef) else None,
        ))
    problems.sort(key=lambda p: (p.severity != "Violation", p.file or "", p.line or 0, p.focus, p.path or ""))
    return problems


def validate_files(paths: Iterable[Path | str], store=None) -> tuple[Report, list[EntryError]]:
    """Validate entry files against the shapes and the stored reference data."""
    problems, errors = [], []
    for path in paths:
        try:
            g, text = read_entry_file(path)
        except EntryError as exc:
            errors.append(exc)
            continue
        problems.extend(validate(g, context_for(g, store), text, str(path)).problems)
    return Report(problems), errors
