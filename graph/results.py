"""Serialising a `Result` in every format the CLI and the HTTP API offer.

One place renders results, so the CLI, the endpoint, the named-query routes and the reports all
produce byte-identical formats.
"""
from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING
from json.encoder import encode_basestring as _json_string  # what json.dumps(ensure_ascii=False) writes a str with
from xml.sax.saxutils import escape, quoteattr

import pyoxigraph as ox

from . import namespaces as ns

if TYPE_CHECKING:  # only for annotations: the CLI reads the format tables below at start-up
    from .store import Result

# Prefixes written in Turtle and TriG output. `id:` is left out: our entity IRIs hold "/", which a
# prefixed name must escape (id:action-line\/C3), so full IRIs read better.
XSD_STRING = ns.XSD + "string"  # a plain literal's datatype, which no format writes out
TURTLE_PREFIXES = {p: iri for p, iri in ns.PREFIXES.items() if p != "id"}

@dataclass(frozen=True)
class Format:
    """One way to write a query's answer. FORMATS is the one table of them: content negotiation, the
    CLI's --format, /openapi.json, the pages' download links and /validate's report all read it."""

    name: str  # what `--format`, `format=` and serialize() take
    kind: str  # the answers it writes: "solutions" (SELECT, ASK) or "graph" (CONSTRUCT, DESCRIBE)
    engine: ox.QueryResultsFormat | ox.RdfFormat  # pyoxigraph's format: media type, suffix, graph serializer
    also: tuple[str, ...] = ()  # other media types a client may ask for it by
    aliases: tuple[str, ...] = ()  # names format= accepts (the first labels download links)

    @property
    def media_type(self) -> str:
        return self.engine.media_type.split(";")[0]  # pyoxigraph adds "; charset=utf-8" to CSV and TSV

    @property
    def suffix(self) -> str:
        return self.engine.file_extension


FORMATS = (
    Format("json", "solutions", ox.QueryResultsFormat.JSON, ("application/json",), ("json", "srj", "sparql-results+json")),
    Format("xml", "solutions", ox.QueryResultsFormat.XML, ("application/xml", "text/xml"),
           ("xml", "srx", "sparql-results+xml")),
    Format("csv", "solutions", ox.QueryResultsFormat.CSV, (), ("csv",)),
    Format("tsv", "solutions", ox.QueryResultsFormat.TSV, (), ("tsv", "tab")),
    Format("turtle", "graph", ox.RdfFormat.TURTLE, ("application/x-turtle", "text/n3", "text/rdf+n3"),
           ("turtle", "ttl", "n3")),
    Format("ntriples", "graph", ox.RdfFormat.N_TRIPLES, ("text/plain",), ("ntriples", "nt", "n-triples")),
    Format("jsonld", "graph", ox.RdfFormat.JSON_LD, ("application/json",), ("jsonld", "json-ld", "json")),
    Format("xml", "graph", ox.RdfFormat.RDF_XML, ("application/xml", "text/xml"),
           ("rdfxml", "rdf+xml", "rdf", "xml", "rdf/xml")),
    Format("trig", "graph", ox.RdfFormat.TRIG, (), ("trig",)),
    Format("nquads", "graph", ox.RdfFormat.N_QUADS, (), ("nquads", "nq", "n-quads")),
)
# what each kind of answer is, in words (the kind of an ASK's answer, "boolean", is written as solutions)
KIND_FORMS = {"solutions": "a SELECT query", "boolean": "an ASK query", "graph": "a CONSTRUCT or DESCRIBE query"}


def formats_of(result_kind: str) -> list[Format]:
    """The formats that write an answer of this kind ("solutions", "boolean" or "graph"), in order."""
    kind = "graph" if result_kind == "graph" else "solutions"
    return [f for f in FORMATS if f.kind == kind]


RDF_FORMATS = {f.name: f.engine for f in formats_of("graph")}
# every format a query answer can be written in, solutions' first ("xml" serves both kinds)
ALL_FORMATS = list(dict.fromkeys(f.name for f in FORMATS))


def format_mismatch(result_kind: str, fmt: str) -> str | None:
    """Why `fmt` cannot write a result of `result_kind`, naming the formats that can; None when it can."""
    fits = [f.name for f in formats_of(result_kind)]
    if fmt in fits:
        return None
    writes = "RDF graphs" if fmt in RDF_FORMATS else "SPARQL query results (rows or a yes/no)"
    return (f"--format {fmt} writes {writes}, which does not fit {KIND_FORMS[result_kind]}; "
            f"use one of: table, {', '.join(fits)}")


def term_json(term) -> dict:
    if isinstance(term, ox.NamedNode):
        return {"type": "uri", "value": term.value}
    if isinstance(term, ox.BlankNode):
        return {"type": "bnode", "value": term.value}
    if isinstance(term, ox.Triple):
        return {"type": "triple", "value": {k: term_json(getattr(term, k)) for k in ("subject", "predicate", "object")}}
    out = {"type": "literal", "value": term.value}
    if term.language:
        out["xml:lang"] = term.language
    elif term.datatype.value != XSD_STRING:
        out["datatype"] = term.datatype.value
    return out


def _csv_value(term) -> str:
    if term is None:
        return ""
    if isinstance(term, ox.BlankNode):
        return f"_:{term.value}"
    return term.value


# A spreadsheet runs a cell that starts with one of these as a formula (OWASP, "CSV Injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


def neutralise_formula(text: str) -> str:
    """A cell a spreadsheet shows as text: a leading `'` before a formula start, as OWASP advises.
    A plain number ("-2", "+0.5") stays as it is: no spreadsheet runs it."""
    if text.startswith(FORMULA_STARTS) and not _PLAIN_NUMBER.fullmatch(text):
        return "'" + text
    return text


def _tsv_value(term) -> str:
    return "" if term is None else str(term)  # N-Triples form, as SPARQL TSV asks


def _xml_term(term) -> str:
    if isinstance(term, ox.NamedNode):
        return f"<uri>{escape(term.value)}</uri>"
    if isinstance(term, ox.BlankNode):
        return f"<bnode>{escape(term.value)}</bnode>"
    if term.language:
        return f"<literal xml:lang={quoteattr(term.language)}>{escape(term.value)}</literal>"
    if term.datatype.value != XSD_STRING:
        return f"<literal datatype={quoteattr(term.datatype.value)}>{escape(term.value)}</literal>"
    return f"<literal>{escape(term.value)}</literal>"


def _term_json_text(term) -> str:
    """json.dumps(term_json(term), ensure_ascii=False), written without building the dict."""
    if isinstance(term, ox.NamedNode):
        return '{"type": "uri", "value": ' + _json_string(term.value) + "}"
    if isinstance(term, ox.Literal):
        text = '{"type": "literal", "value": ' + _json_string(term.value)
        if term.language:
            return text + ', "xml:lang": ' + _json_string(term.language) + "}"
        if term.datatype.value != XSD_STRING:
            return text + ', "datatype": ' + _json_string(term.datatype.value) + "}"
        return text + "}"
    return json.dumps(term_json(term), ensure_ascii=False)  # blank nodes and quoted triples: rare


def _solutions_json(result: Result) -> str:
    """SPARQL JSON results, byte for byte what one `json.dumps(..., ensure_ascii=False)` of the whole
    document writes, with each distinct term written once: answers repeat their terms (the same
    Action Line or body in every row), and a dict per cell cost the matrix's 1,117 rows (19 ms) half
    as much as evaluating them (35 ms)."""
    written: dict[int, str] = {}  # id(term) -> its JSON; every term stays alive in result.rows meanwhile

    def cell(term) -> str:
        found = written.get(id(term))
        if found is None:
            found = written[id(term)] = _term_json_text(term)
        return found

    names = [_json_string(v) + ": " for v in result.variables]
    rows = ", ".join("{" + ", ".join([name + cell(t) for name, t in zip(names, row) if t is not None]) + "}"
                     for row in result.rows)
    head = json.dumps(result.variables, ensure_ascii=False) + (', "link": ["#truncated"]' if result.truncated else "")
    tail = ', "truncated": true' if result.truncated else ""
    return f'{{"head": {{"vars": {head}}}, "results": {{"bindings": [{rows}]}}{tail}}}'


def serialize(result: Result, fmt: str, spreadsheet: bool = False) -> bytes:
    """`result` in `fmt`. With `spreadsheet` (the reports' CSV files, opened in spreadsheets rather
    than read by SPARQL clients), CSV cells that a spreadsheet would run as formulas are neutralised."""
    if result.kind == "graph":
        if fmt in ("json", "table"):
            fmt = "jsonld"
        if fmt == "csv":
            fmt = "ntriples"
        if fmt in ("turtle", "trig"):
            used = _used_prefixes(result.triples)
            return ox.serialize(result.triples, format=RDF_FORMATS[fmt], prefixes=used) or b""
        return ox.serialize(result.triples, format=RDF_FORMATS[fmt]) or b""
    if fmt == "json":
        if result.kind == "boolean":
            return json.dumps({"head": {}, "boolean": result.boolean}).encode()
        return _solutions_json(result).encode("utf-8")
    if fmt == "xml":
        out = ['<?xml version="1.0"?>\n<sparql xmlns="http://www.w3.org/2005/sparql-results#">\n<head>']
        if result.kind == "boolean":
            out.append(f"</head>\n<boolean>{'true' if result.boolean else 'false'}</boolean>\n</sparql>\n")
            return "".join(out).encode("utf-8")
        out += [f"<variable name={quoteattr(v)}/>" for v in result.variables]
        if result.truncated:
            out.append('<link href="#truncated"/>')
        out.append("</head>\n<results>\n")
        for row in result.rows:
            out.append("<result>")
            out += [f"<binding name={quoteattr(v)}>{_xml_term(t)}</binding>" for v, t in zip(result.variables, row) if t is not None]
            out.append("</result>\n")
        out.append("</results>\n</sparql>\n")
        return "".join(out).encode("utf-8")
    if fmt in ("csv", "tsv"):
        buffer = io.StringIO()
        if result.kind == "boolean":
            buffer.write("_askResult\r\n" + ("true" if result.boolean else "false") + "\r\n")
            return buffer.getvalue().encode("utf-8")
        if fmt == "csv":
            writer = csv.writer(buffer, lineterminator="\r\n")
            writer.writerow(result.variables)
            for row in result.rows:
                cells = [_csv_value(t) for t in row]
                writer.writerow([neutralise_formula(c) for c in cells] if spreadsheet else cells)
        else:
            buffer.write("\t".join(f"?{v}" for v in result.variables) + "\n")
            for row in result.rows:
                buffer.write("\t".join(_tsv_value(t) for t in row) + "\n")
        return buffer.getvalue().encode("utf-8")
    raise ValueError(f"no format {fmt!r} for a {result.kind} result")


def _used_prefixes(triples) -> dict[str, str]:
    """Only the prefixes the triples use, so small answers stay small."""
    iris = set()
    for t in triples:
        for term in (t.subject, t.predicate, t.object):
            if isinstance(term, ox.NamedNode):
                iris.add(term.value)
            elif isinstance(term, ox.Literal):
                iris.add(term.datatype.value)
    return {p: base for p, base in TURTLE_PREFIXES.items() if any(i.startswith(base) for i in iris)}


def table(result: Result, width: int = 60) -> str:
    """A plain-text table for the terminal."""
    if result.kind == "boolean":
        return "true" if result.boolean else "false"
    if result.kind == "graph":
        return serialize(result, "turtle").decode("utf-8")

    def cell(term) -> str:
        text = "" if term is None else term.value
        text = " ".join(text.split())
        return text if len(text) <= width else text[: width - 1] + "…"

    rows = [[cell(t) for t in row] for row in result.rows]
    widths = [max([len(v)] + [len(r[i]) for r in rows]) for i, v in enumerate(result.variables)]
    lines = ["  ".join(v.ljust(w) for v, w in zip(result.variables, widths)),
             "  ".join("-" * w for w in widths)]
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths)) for r in rows]
    lines.append(f"({len(rows)} row{'s' if len(rows) != 1 else ''}{', truncated' if result.truncated else ''})")
    return "\n".join(lines)
