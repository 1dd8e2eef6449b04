"""SHACL validation with reports a curator can act on.

Rules we follow (see docs/traps.md): no RDFS inference (it hides wrong-class links), and validate what
changed plus what it points to, never the whole world, so one document checks in milliseconds at
any graph size.
"""
from __future__ import annotations

import json
import os
import re
import signal
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Callable, Iterable

import pyoxigraph as ox
import pyshacl
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import RDF, RDFS, SH

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
    """The shapes, read by Oxigraph's parser (rdflib's took 0.1–0.3 s, paid by every validate and ingest)."""
    g = Graph()
    for path in sorted(SHAPES_DIR.glob("*.ttl")):
        for t in ox.parse(path=str(path), format=ox.RdfFormat.TURTLE):
            g.add(tuple(to_rdflib_term(term, plain_strings=True) for term in (t.subject, t.predicate, t.object)))
    for prefix, namespace in _turtle_prefixes(SHAPES_DIR):
        g.bind(prefix, namespace)
    return g


def _turtle_prefixes(folder: Path) -> list[tuple[str, str]]:
    """The @prefix / PREFIX declarations of the Turtle files in `folder` (for readable reports)."""
    found = []
    for path in sorted(folder.glob("*.ttl")):
        found += re.findall(r"^\s*@?prefix\s+([A-Za-z][\w.-]*)?:\s*<([^>]*)>", path.read_text(encoding="utf-8"),
                            re.M | re.I)
    return found


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
    return restore_datatypes(g), text  # a curator's plain `wsis:sourceLine 12` is an xsd:positiveInteger


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
    context = Graph()
    for triples in descriptions(referenced_iris(g) - {str(s) for s in g.subjects()}, store).values():
        for triple in triples:
            context.add(triple)
    return context


def descriptions(iris: Iterable[str], store) -> dict[str, list[tuple]]:
    """The stored triples of each IRI as subject (rdflib terms), IRI by IRI."""
    iris = sorted(iris)
    found: dict[str, list[tuple]] = {}
    if store is None:
        return found
    for start in range(0, len(iris), 500):
        chunk = " ".join(f"<{iri}>" for iri in iris[start:start + 500])
        result = store.query(f"SELECT ?s ?p ?o WHERE {{ VALUES ?s {{ {chunk} }} ?s ?p ?o }}")
        for s, p, o in result.rows:
            found.setdefault(s.value, []).append((URIRef(s.value), URIRef(p.value), to_rdflib_term(o)))
    return found


def to_rdflib_term(term, plain_strings: bool = False):
    """An Oxigraph term as rdflib's; with `plain_strings`, an xsd:string literal as rdflib's parser
    gives it (no datatype), which rdflib does not take for the same term."""
    if isinstance(term, ox.NamedNode):
        return URIRef(term.value)
    if isinstance(term, ox.BlankNode):
        return BNode(term.value)
    if term.language:
        return Literal(term.value, lang=term.language)
    if plain_strings and term.datatype.value == _XSD + "string":
        return Literal(term.value)
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


def _subtype_fits(value: str, subtype: str) -> bool:
    try:
        return _INTEGER_SUBTYPES[subtype](int(value))
    except ValueError:
        return False


def restore_datatypes(g: Graph) -> Graph:
    """Oxigraph stores every xsd:integer subtype (xsd:positiveInteger, ...) as xsd:integer, so data
    read back from the store would fail the shapes' sh:datatype checks, and curators write a line
    number as a plain 12 (xsd:integer) too. Give such a value the subtype its property's shape asks
    for when the value fits it; one that does not ("0" for an xsd:positiveInteger) stays xsd:integer
    and is still reported. Changes `g` in place; reads only the triples of those properties."""
    integer = URIRef(_XSD + "integer")
    for p, subtype in _integer_subtype_properties().items():
        for s, _, o in list(g.triples((None, p, None))):
            if isinstance(o, Literal) and o.datatype == integer and _subtype_fits(str(o), subtype):
                g.remove((s, p, o))
                g.add((s, p, Literal(str(o), datatype=URIRef(_XSD + subtype))))
    return g


def restore_line_datatypes(data: bytes) -> bytes:
    """`restore_datatypes` on N-Triples or N-Quads text as Oxigraph writes it (one space between
    terms), without parsing it: 6.5x faster than `restore_quad_datatypes` on a whole-store export
    (300k quads: 1.9 s against 12.4 s, measured on a busy 2-core machine).
    Inside a string a `"` is escaped, so `<p> "41"^^<...integer>` only ever matches a real object."""
    for p, subtype in _integer_subtype_properties().items():
        pattern = re.compile(b"(<" + re.escape(str(p).encode()) + b'> "([+-]?[0-9]+)"\\^\\^<'
                             + re.escape(_XSD.encode()) + b")integer>")
        data = pattern.sub(lambda m: m.group(1) + subtype.encode() + b">"
                           if _subtype_fits(m.group(2).decode(), subtype) else m.group(0), data)
    return data


def restore_quad_datatypes(quads: Iterable) -> Iterable:
    """`restore_datatypes` for a stream of pyoxigraph quads or triples (an export read from the store)."""
    wanted = {str(p): subtype for p, subtype in _integer_subtype_properties().items()}
    integer = _XSD + "integer"
    for q in quads:
        subtype, o = wanted.get(q.predicate.value), q.object
        if subtype and isinstance(o, ox.Literal) and o.datatype.value == integer and _subtype_fits(o.value, subtype):
            literal = ox.Literal(o.value, datatype=ox.NamedNode(_XSD + subtype))
            q = ox.Quad(q.subject, q.predicate, literal, q.graph_name) if isinstance(q, ox.Quad) else \
                ox.Triple(q.subject, q.predicate, literal)
        yield q


# A shape that checks other nodes against shapes (sh:node, sh:or, ... on a property's values). Run
# with pyshacl's focus_nodes, such a nested check on a node outside the list passes unseen (pyshacl
# 0.40.1), so focus_nodes is used only when no focus node is a target of one of them.
NESTED_SHAPES = (SH.node, SH.property, SH["or"], SH["and"], SH["not"], SH.xone, SH.qualifiedValueShape)
SHAPE_LISTS = (SH["or"], SH["and"], SH.xone)
TARGETS = (SH.targetClass, SH.targetNode, SH.targetSubjectsOf, SH.targetObjectsOf, SH.target)
# Features that evaluate shapes or change the data in ways not modelled here: never focus_nodes then.
UNMODELLED = tuple(URIRef(str(SH) + name) for name in ("rule", "expression", "filterShape", "js", "jsFunctionName"))
FOCUS_LIST_MAX = 300  # pyshacl looks focus nodes up in a list: beyond a few hundred, a full run is faster


@lru_cache(maxsize=1)
def _classes_checked_beyond_the_focus() -> frozenset | None:
    """The target classes of the shapes that check other nodes against shapes; None when such a
    shape has a target of another kind, or the shapes use a feature not modelled (then no focus_nodes)."""
    g = shapes_graph()
    if any((None, p, None) in g for p in UNMODELLED):
        return None

    def nested(shape) -> list:
        found = []
        for p in NESTED_SHAPES:
            for o in g.objects(shape, p):
                found += list(g.items(o)) if p in SHAPE_LISTS else [o]
        return found

    looks_beyond: dict = {}

    def beyond(shape, seen: frozenset = frozenset()) -> bool:
        if shape not in looks_beyond:
            inner = nested(shape)
            on_values = (shape, SH.path, None) in g and bool(inner)  # a property shape's nested shapes
            looks_beyond[shape] = on_values or any(beyond(s, seen | {shape}) for s in inner if s not in seen)
        return looks_beyond[shape]

    classes = set()
    for shape in set(g.subjects(RDF.type, SH.NodeShape)) | set(g.subjects(RDF.type, SH.PropertyShape)) | set(g.subjects(SH.path, None)):
        if not beyond(shape):
            continue
        if any((shape, p, None) in g for p in TARGETS if p != SH.targetClass):
            return None
        classes.update(g.objects(shape, SH.targetClass))
        if (shape, RDF.type, RDFS.Class) in g or (shape, RDF.type, URIRef("http://www.w3.org/2002/07/owl#Class")) in g:
            classes.add(shape)  # an implicit class target
    return frozenset(classes)


def _focus_nodes_are_exact(data: Graph, focus: set[URIRef]) -> bool:
    """Whether pyshacl's focus_nodes gives the same results for `focus` as a full run."""
    classes = _classes_checked_beyond_the_focus()
    if classes is None or not 0 < len(focus) <= FOCUS_LIST_MAX:
        return False
    targeted = {sub for c in classes for sub in data.transitive_subjects(RDFS.subClassOf, c)}
    return not any(t in targeted for f in focus for t in data.objects(f, RDF.type))


@lru_cache(maxsize=128)
def _prepared_query(text: str, namespaces: tuple):
    from rdflib.plugins.sparql import prepareQuery
    return prepareQuery(text, initNs=dict(namespaces))


class _ParsedOnceGraph(Graph):
    """A graph whose SPARQL texts are parsed once per process, not once per validation: pyshacl sends
    the shapes' SPARQL targets and constraints as text on every run, and rdflib's parser takes about
    70 ms a query (0.2 s of every ingest). A prepared query is rdflib's own way to run one text often."""

    def query(self, query_object, processor="sparql", result="sparql", initNs=None, initBindings=None,  # noqa: N803
              use_store_provided=True, **kwargs):
        if isinstance(query_object, str) and processor == "sparql" and kwargs.get("base") is None:
            query_object = _prepared_query(query_object, tuple(sorted((initNs or {}).items())))
        return super().query(query_object, processor, result, initNs, initBindings, use_store_provided, **kwargs)


def shacl_results(graphs: Iterable[Graph], focus: set[URIRef] | None = None) -> Graph:
    """pyshacl's results graph for the union of `graphs`, as every validation here runs it.

    With `focus`, results are only needed for those nodes: pyshacl then checks only them when that
    gives the same results (`_focus_nodes_are_exact`), not also every node the data points to.
    """
    combined = _ParsedOnceGraph()
    for g in graphs:
        for triple in g:
            combined.add(triple)
    focus_nodes = sorted(focus) if focus is not None and _focus_nodes_are_exact(combined, focus) else None
    # inplace: `combined` is ours to throw away, and with no rules or inference nothing changes it.
    _, results_graph, _ = pyshacl.validate(
        combined, shacl_graph=shapes_graph(), inference="none", advanced=True, allow_warnings=True, inplace=True,
        focus_nodes=focus_nodes)
    return results_graph


def validate(data: Graph, context: Graph | None = None, text: str = "", file: str | None = None,
             focus_all: bool = False) -> Report:
    """Validate `data` (plus `context`, what it points to) against the shapes.

    Only problems whose focus node is a subject of `data` are reported unless `focus_all`: the
    context is there so links can be checked, not to be judged itself.
    """
    keep = None if focus_all else _subjects(data)
    results_graph = shacl_results([data] if context is None else [data, context], keep)
    return Report(read_problems(results_graph, text, file, keep))


def _subjects(g: Graph) -> set[URIRef]:
    return {s for s in g.subjects() if isinstance(s, URIRef)}


def read_problems(results: Graph, text: str = "", file: str | None = None,
                  focus: set | None = None) -> list[Problem]:
    """The problems of a results graph, only those whose focus node is in `focus` when given."""
    problems = []
    for result in results.subjects(RDF.type, SH.ValidationResult):
        focus_node = results.value(result, SH.focusNode)
        if focus is not None and focus_node not in focus:
            continue
        severity = str(results.value(result, SH.resultSeverity) or SH.Violation).rsplit("#", 1)[-1]
        path = results.value(result, SH.resultPath)
        value = results.value(result, SH.value)
        messages = [str(m) for m in results.objects(result, SH.resultMessage)]
        shape = results.value(result, SH.sourceShape)
        problems.append(Problem(
            severity=severity,
            message=" ".join(messages) or "does not conform to its shape",
            focus=str(focus_node),
            path=str(path) if isinstance(path, URIRef) else None,
            value=str(value) if value is not None else None,
            shape=str(shape) if isinstance(shape, URIRef) else None,
            file=file,
            line=subject_line(text, str(focus_node)) if isinstance(focus_node, URIRef) else None,
        ))
    problems.sort(key=lambda p: (p.severity != "Violation", p.file or "", p.line or 0, p.focus, p.path or ""))
    return problems


# -- many entries at once (the build) ------------------------------------------------------------

BATCH_TRIPLES = 25_000  # measured: ~3x faster per entry than one at a time; larger batches gain no more
CLASS_LINKS = (RDF.type, RDFS.subClassOf)


@dataclass
class Entry:
    """One graph to validate as `validate(graph, context_for(graph, store), text, file)` would, or
    with `whole`, as `validate(graph, None, text, file, focus_all=True)` would (the reference data)."""

    graph: Graph
    text: str
    file: str
    whole: bool = False

    def __post_init__(self):
        self.subjects = None if self.whole else _subjects(self.graph)  # whose problems are this entry's
        self.own = {str(s) for s in self.graph.subjects()}
        self.referenced = referenced_iris(self.graph)
        self.context_iris = set() if self.whole else self.referenced - self.own  # what `context_for` describes
        self.known = self.own | self.referenced


def validate_entries(entries: list[Entry], store, batch_triples: int = BATCH_TRIPLES,
                     workers: int = 1) -> list[Problem]:
    """Each entry's problems exactly as `validate` reports them for it alone (see `Entry`), in entry
    order, with one pyshacl run and one context query per batch of entries, the batches shared out
    among `workers` processes.

    Entries are validated together only when none can change what another's checks see: no subject
    in common, none links to another's subject, and none describes a class another's context uses
    but that entry itself does not know (sh:class and class targets follow rdf:type and
    rdfs:subClassOf, the only checks that look past a linked node's own triples). Otherwise each
    shape check reads only its focus node's triples and its linked nodes' stored descriptions,
    which are the same alone or together; a problem goes to the entry whose subject it is about.
    """
    shapes_graph()  # parsed once, before the processes start
    batches = _plan_batches(entries, store, batch_triples)
    jobs = [lambda members=members, context=context: _validate_batch(entries, members, context)
            for members, context in batches]
    found: dict[int, list[Problem]] = {}
    for result in run_in_processes(jobs, workers):
        found.update({int(i): [Problem(**p) for p in problems] for i, problems in result.items()})
    return [p for i in range(len(entries)) for p in found[i]]


def _plan_batches(entries: list[Entry], store, batch_triples: int) -> list[tuple[list[int], Graph]]:
    """The batches (entry indices and their shared context), every entry in exactly one."""
    batches, pending = [], list(range(len(entries)))
    while pending:
        if entries[pending[0]].whole:
            batches.append(([pending.pop(0)], Graph()))
            continue
        batch, pending = _independent_batch(entries, pending, batch_triples)
        found = descriptions(set().union(*(entries[i].context_iris for i in batch)), store)
        batch, evicted = _without_class_conflicts(entries, batch, found)
        pending = evicted + pending
        context = Graph()
        for iri in set().union(*(entries[i].context_iris for i in batch)):
            for triple in found.get(iri, ()):
                context.add(triple)
        batches.append((batch, context))
    return batches


def _validate_batch(entries: list[Entry], members: list[int], context: Graph) -> dict[int, list[dict]]:
    results = shacl_results([entries[i].graph for i in members] + [context])  # a full run: many focus nodes
    return {i: [p.as_dict() for p in read_problems(results, entries[i].text, entries[i].file, entries[i].subjects)]
            for i in members}


def _independent_batch(entries: list[Entry], pending: list[int], batch_triples: int) -> tuple[list[int], list[int]]:
    """The next batch (in order, up to `batch_triples`) of entries sharing no subject and linking to
    no other's subject; the rest stay pending, in order."""
    batch, rest, subjects, referenced, size = [], [], set(), set(), 0
    for position, i in enumerate(pending):
        if batch and size >= batch_triples:
            rest += pending[position:]
            break
        entry = entries[i]
        if entry.whole or not (entry.own.isdisjoint(subjects) and entry.own.isdisjoint(referenced)
                               and entry.referenced.isdisjoint(subjects)):
            rest.append(i)
            continue
        batch.append(i)
        subjects |= entry.own
        referenced |= entry.referenced
        size += len(entry.graph)
    return batch, rest


def _without_class_conflicts(entries: list[Entry], batch: list[int], found: dict[str, list[tuple]]):
    """Split off the entries whose context's classes another entry of the batch would describe (or
    that would describe such a class of an earlier entry): (kept, evicted), each in order."""
    kept, evicted, known, unknown_classes = [], [], set(), set()
    for i in batch:
        entry = entries[i]
        classes = {str(o) for iri in entry.context_iris for _, p, o in found.get(iri, ())
                   if p in CLASS_LINKS and isinstance(o, URIRef)} - entry.known
        if kept and not (classes.isdisjoint(known) and entry.known.isdisjoint(unknown_classes)):
            evicted.append(i)
            continue
        kept.append(i)
        known |= entry.known
        unknown_classes |= classes
    return kept, evicted


def available_cpus() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


class Forked:
    """A job running in a forked process, whose JSON-able result `result()` waits for (`stop()` ends
    it early); without fork (not POSIX), the job runs at once, here."""

    def __init__(self, job: Callable[[], object]):
        self.pid = None
        if not hasattr(os, "fork"):
            self._value = job()
            return
        parent = os.getpid()
        self._read, write = os.pipe()
        try:
            self.pid = os.fork()
        except OSError:
            os.close(self._read)
            os.close(write)
            raise
        if self.pid == 0:
            os.close(self._read)
            _run_in_child(job, parent, write)  # never returns
        os.close(write)

    def result(self):
        if self.pid is None:
            return self._value
        with os.fdopen(self._read, "rb") as pipe:
            data = pipe.read()
        _, status = os.waitpid(self.pid, 0)
        self.pid = None
        outcome = json.loads(data) if data else {"error": f"exit status {status}"}
        if "error" in outcome:
            raise RuntimeError(f"a validation process failed: {outcome['error']}")
        return outcome["value"]

    def stop(self) -> None:
        if self.pid is not None:
            os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
            os.close(self._read)
            self.pid = None


def _run_in_child(job, parent: int, write: int) -> None:
    code = 0
    try:
        if os.getppid() != parent:  # the process that wanted it is gone (a killed build)
            os._exit(1)
        payload = {"value": job()}
    except BaseException as exc:  # reported to the parent, which raises it
        payload, code = {"error": f"{type(exc).__name__}: {exc}"}, 1
    try:
        with os.fdopen(write, "wb") as pipe:
            pipe.write(json.dumps(payload).encode("utf-8"))
    finally:
        os._exit(code)


def run_in_processes(jobs: list[Callable[[], object]], workers: int) -> list:
    """Each job's (JSON-able) result, in job order; the jobs are shared out in turn among this
    process and `workers` - 1 forked ones."""
    workers = max(1, min(workers, len(jobs)))
    starter = os.getpid()

    def share(k: int) -> dict[int, object]:
        results = {}
        for i in range(k, len(jobs), workers):
            if os.getpid() != starter and os.getppid() != starter:
                os._exit(1)  # a worker whose build was killed stops at its next job
            results[i] = jobs[i]()
        return results

    children = [Forked(lambda k=k: share(k)) for k in range(1, workers)]
    try:
        results = share(0)
        for child in children:
            results.update({int(i): value for i, value in child.result().items()})
    finally:
        for child in children:
            child.stop()
    return [results[i] for i in range(len(jobs))]


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
    return Report(without_linked_warnings(problems, store)), errors


# -- the "linked to nothing" warning, judged with the linker's links --------------------------------

LINKED_SHAPE = "https://w3id.org/wsis-kg/shapes#StatementLinkedShape"


@lru_cache(maxsize=1)
def _link_properties() -> tuple[str, ...]:
    """The properties whose presence the linked-to-something shape asks for (its sh:or list)."""
    g = shapes_graph()
    found = []
    for alternatives in g.objects(URIRef(LINKED_SHAPE), SH["or"]):
        found += [str(g.value(item, SH.path)) for item in g.items(alternatives) if g.value(item, SH.path)]
    return tuple(found)


def without_linked_warnings(problems: list[Problem], store) -> list[Problem]:
    """`problems` less the "not linked to anything" warnings of statements the store does link.

    An entry file holds a curator's or the ingester's triples; the linker's links live in their own
    graph (id:graph/links/<slug>), so a shape run on the file alone calls every statement unlinked.
    """
    unlinked = {p.focus for p in problems if p.shape == LINKED_SHAPE}
    if not unlinked or store is None or not _link_properties():
        return problems
    linked, focus = set(), sorted(unlinked)
    values = " ".join(f"<{p}>" for p in _link_properties())
    for start in range(0, len(focus), 500):
        chunk = " ".join(f"<{iri}>" for iri in focus[start:start + 500])
        result = store.query(f"SELECT DISTINCT ?s WHERE {{ VALUES ?s {{ {chunk} }} VALUES ?p {{ {values} }} ?s ?p ?o }}")
        linked.update(row[0].value for row in result.rows)
    return [p for p in problems if not (p.shape == LINKED_SHAPE and p.focus in linked)]


# -- data and updates posted to the server (run in its query workers, under their deadline) ----------

def validate_posted(data: bytes, fmt: str, store, merge_graph: str | None = None) -> tuple[Report, bytes]:
    """Parse posted RDF, fetch what it points to, check it against the shapes (docs/traps.md #4, #5);
    with `merge_graph`, that stored graph's triples count as part of the data. Returns the report and
    the data as N-Triples (ready to store)."""
    if fmt in ("json-ld", "xml"):  # Oxigraph parses (no remote contexts); rdflib reads N-Triples
        rdf_format = ox.RdfFormat.JSON_LD if fmt == "json-ld" else ox.RdfFormat.RDF_XML
        check_syntax(data, "the posted data", rdf_format)
        data, fmt = ox.serialize(ox.parse(data, format=rdf_format), format=ox.RdfFormat.N_TRIPLES) or b"", "nt"
    graph, text = parse_entry_bytes(data, "the posted data", fmt)
    ntriples = graph.serialize(format="nt", encoding="utf-8")
    checked = graph
    if merge_graph:
        existing = store.query(f"SELECT ?s ?p ?o WHERE {{ GRAPH <{merge_graph}> {{ ?s ?p ?o }} }}")
        checked = Graph()
        for triple in graph:
            checked.add(triple)
        stored = Graph()
        for s, p, o in existing.rows:
            stored.add((to_rdflib_term(s), to_rdflib_term(p), to_rdflib_term(o)))
        for triple in restore_datatypes(stored):  # Oxigraph keeps xsd:positiveInteger as xsd:integer
            checked.add(triple)
    report = validate(checked, context_for(checked, store), text if checked is graph else "", "posted data")
    return report, ntriples


class UpdateRejected(ValueError):
    """An update the engine refused to apply as written (not a syntax error, not a shape)."""


@dataclass
class CheckedUpdate:
    """What an update would change, and the shapes' verdict on it.

    `commit` is the change as DELETE DATA / INSERT DATA / DROP GRAPH (exactly what was checked: an
    update with RAND(), NOW() or new blank nodes is not run a second time), or None for a remote store
    whose contents cannot be copied (there the original text is sent).
    """

    report: object
    added: int
    removed: int
    touches_meta: bool
    commit: str | None
    graphs: list[str] = field(default_factory=list)  # the named graphs it changes
    emptied: list[str] = field(default_factory=list)  # graphs it leaves with no triple
    total: int = 0  # quads in the store before it
    # what follows from the change in the same commit (the clusters, the summaries' rows), counted apart
    # from `added` and `removed`, which count the update's own quads
    derived_added: int = 0
    derived_removed: int = 0


def check_update(sparql: str, store, copied: Callable[[], None] | None = None,
                 in_place: Callable[[], None] | None = None) -> CheckedUpdate:
    """Apply an update to a scratch copy of the data, and check what changed against the shapes.

    The subjects checked are those of every added or removed triple, plus those that still link
    to a subject the update removed entirely (a link to an undefined IRI). Remote store: it cannot be
    copied, so the scratch store starts empty and only what the update itself writes (INSERT DATA,
    templates) is checked, with the stored descriptions of those subjects.

    `in_place` (an embedded store held in memory, such as a query worker's copy): the update is applied
    to `store` itself and undone from its diff afterwards, so no second copy of the store is made (1.7 GB
    at 1M triples); `in_place` is called when the store could not be put back
    exactly (an error midway, blank nodes), and must then be dropped.
    """
    from .store import EmbeddedStore
    if in_place is not None and isinstance(store, EmbeddedStore):
        scratch = store.engine
        before = set(scratch)
        change: list = []  # (added, removed) as they stand, for the undo
        try:
            return _check_on(sparql, store, scratch, before, copied, change)
        finally:
            if not _undo(scratch, change):
                in_place()
    embedded = isinstance(store, EmbeddedStore)
    scratch = store.copy_to_memory() if embedded else ox.Store()
    return _check_on(sparql, store, scratch, set(scratch), copied, [])


def _undo(scratch: ox.Store, change: list) -> bool:
    """Put `scratch` back as it was before the change (added, removed) recorded last; False if it cannot be
    done exactly (DELETE DATA takes no blank node, INSERT DATA would make new ones) or the change is unknown."""
    if len(change) != 1:
        return False
    added, removed = change[0]
    if any(isinstance(t, ox.BlankNode) for q in added | removed for t in (q.subject, q.object)):
        return False
    parts = ([f"DELETE DATA {{\n{_data_block(added)}\n}}"] if added else []) + \
            ([f"INSERT DATA {{\n{_data_block(removed)}\n}}"] if removed else [])
    try:
        if parts:
            scratch.update(" ;\n".join(parts))
    except Exception:
        return False
    return True


def _data_block(quads) -> str:
    """Quads as the body of INSERT DATA / DELETE DATA (default-graph triples outside GRAPH)."""
    return "\n".join(f"GRAPH {q.graph_name} {{ {q.subject} {q.predicate} {q.object} }}"
                     if isinstance(q.graph_name, ox.NamedNode) else f"{q.subject} {q.predicate} {q.object} ."
                     for q in quads)


def _check_on(sparql, store, scratch, before, copied, change: list) -> CheckedUpdate:
    """check_update's work on `scratch`, which holds `before`; `change` gets (added, removed) after each step."""
    from . import namespaces as ns
    from . import summaries
    from .similarity import CLUSTERS_GRAPH, clusters_update, stored_pairs
    from .store import EmbeddedStore, QuerySyntaxError
    embedded = isinstance(store, EmbeddedStore)
    change[:] = [(set(), set())]
    if copied is not None:  # the copy is the server's work, sized by the store (the executor's clock)
        copied()
    try:
        scratch.update(sparql)
    except SyntaxError as exc:
        raise QuerySyntaxError(str(exc)) from None
    except (OSError, RuntimeError, ValueError) as exc:
        raise UpdateRejected(str(exc)) from None
    change.clear()  # the update ran: what it changed is unknown until the diff below
    after = set(scratch)
    added, removed = after - before, before - after
    change[:] = [(added, removed)]
    own_added, own_removed = added, removed  # the update's own change, before what follows from it
    derived = {ox.NamedNode(ns.links_graph("similarity")), ox.NamedNode(CLUSTERS_GRAPH)}
    if embedded and any(q.graph_name in derived for q in added | removed):
        # the clusters follow the similarity links in the same commit (graph/similarity.py)
        change.clear()
        scratch.update(clusters_update(stored_pairs(EmbeddedStore(scratch))))
        after = set(scratch)
        added, removed = after - before, before - after
        change[:] = [(added, removed)]
    if embedded and (added or removed):
        # the summaries' rows the change reaches, recomputed on the copy, so they commit with it
        refresh = summaries.change_update(EmbeddedStore(scratch), added | removed)
        if refresh:
            change.clear()
            scratch.update(refresh)
            after = set(scratch)
            added, removed = after - before, before - after
            change[:] = [(added, removed)]
    meta = ox.NamedNode(ns.GRAPH_META)
    touches_meta = any(q.graph_name == meta for q in added | removed)
    view = EmbeddedStore(scratch) if embedded else store

    focus = {q.subject for q in added | removed if isinstance(q.subject, ox.NamedNode)}
    gone = {s for s in {q.subject for q in removed} if isinstance(s, ox.NamedNode)
            and next(scratch.quads_for_pattern(s, None, None), None) is None}
    for subject in gone:
        focus.update(q.subject for q in scratch.quads_for_pattern(None, None, subject)
                     if isinstance(q.subject, ox.NamedNode))
    data = Graph()
    if focus:
        triples = set()
        for start in range(0, len(focus), 500):
            chunk = " ".join(str(s) for s in sorted(focus, key=lambda n: n.value)[start:start + 500])
            triples.update(tuple(row) for row in view.query(
                f"SELECT ?s ?p ?o WHERE {{ VALUES ?s {{ {chunk} }} ?s ?p ?o }}").rows)
        if not embedded:  # what the update writes is not at the endpoint yet
            triples.update((q.subject, q.predicate, q.object) for q in added)
        frontier = {o for _, _, o in triples if isinstance(o, ox.BlankNode)}
        seen = set()
        while frontier and len(seen) < 10_000:  # blank nodes hanging off the focus (nested shapes)
            node = frontier.pop()
            seen.add(node)
            for q in scratch.quads_for_pattern(node, None, None):
                triples.add((q.subject, q.predicate, q.object))
                if isinstance(q.object, ox.BlankNode) and q.object not in seen:
                    frontier.add(q.object)
        for s, p, o in triples:
            data.add((to_rdflib_term(s), to_rdflib_term(p), to_rdflib_term(o)))
        restore_datatypes(data)  # read back from Oxigraph: xsd:positiveInteger came back as xsd:integer
    report = validate(data, context_for(data, view), sparql, "the update")

    graphs = sorted(q.graph_name.value for q in added | removed if isinstance(q.graph_name, ox.NamedNode))
    emptied = sorted(g.value for g in {q.graph_name for q in removed if isinstance(q.graph_name, ox.NamedNode)}
                     if next(scratch.quads_for_pattern(None, None, None, g), None) is None)
    commit = exact_change(scratch, added, removed) if embedded else None
    return CheckedUpdate(report, len(own_added), len(own_removed), touches_meta, commit, graphs, emptied, len(before),
                         len(added - own_added), len(removed - own_removed))


def exact_change(after, added: set, removed: set) -> str | None:
    """The SPARQL Update that turns the store into `after` (an ox.Store), given what was added and
    removed. DELETE DATA cannot name blank nodes, so a graph that loses a blank-node triple is
    replaced whole by its new content (same structure, fresh blank nodes)."""
    def has_blank(q):
        return isinstance(q.subject, ox.BlankNode) or isinstance(q.object, ox.BlankNode)

    whole = {q.graph_name for q in removed if has_blank(q)}
    parts = [f"DROP SILENT GRAPH {g}" if isinstance(g, ox.NamedNode) else "DROP SILENT DEFAULT" for g in whole]
    deleted = [q for q in removed if q.graph_name not in whole]
    inserted = [q for q in added if q.graph_name not in whole]
    for g in whole:
        inserted += list(after.quads_for_pattern(None, None, None, g))
    if deleted:
        parts.append("DELETE DATA {\n" + _data_block(deleted) + "\n}")
    if inserted:
        parts.append("INSERT DATA {\n" + _data_block(inserted) + "\n}")
    return " ;\n".join(parts) if parts else None
