"""`POST /validate`: RDF in, the SHACL report out (JSON by default, Turtle, HTML).

The posted data is checked with graph/validate.py together with the stored descriptions of what it
points to (so a link to a wrong class is caught), in a query worker, under the same deadline.
"""
from __future__ import annotations

import re

import pyoxigraph as ox
from flask import Blueprint, Response, json, request

from wsiskg.graph import namespaces as ns
from wsiskg.graph.results import serialize
from wsiskg.graph.sparqltext import MAX_NESTING, nesting_depth
from wsiskg.graph.store import Result

from .context import services
from .errors import ApiError
from .executor import DataError
from .negotiation import GRAPH, JSON_OR_HTML, Offer, choose, content_type
from .respond import html_response
from .policy import declare

bp = declare(Blueprint("validation", __name__), cors=True, body="data")

RDF_BODIES = {"text/turtle": "turtle", "application/x-turtle": "turtle", "application/n-triples": "nt",
              "text/plain": "nt", "application/ld+json": "json-ld", "application/rdf+xml": "xml"}
# the report as JSON (first: it wins application/json and format=json), or as a SHACL report graph
# in every graph format (graph/results.py's table), or HTML
REPORT_OFFERS = [JSON_OR_HTML[0], *GRAPH]
SH = "http://www.w3.org/ns/shacl#"


def read_rdf_body() -> tuple[bytes, str]:
    """The posted RDF and its format; 415 for a body type we cannot read, 400 for an empty one."""
    if request.mimetype == "application/x-www-form-urlencoded" and request.path == "/validate":
        # the HTML form on GET /validate
        fmt = request.form.get("syntax", "turtle")
        if fmt not in ("turtle", "nt", "json-ld"):
            raise ApiError(400, "syntax must be turtle, nt or json-ld")
        data = request.form.get("data", "").encode("utf-8")
        if not data.strip():
            raise ApiError(400, "the form's data field is empty: paste the RDF to check")
        check_data_nesting(data, fmt)
        return data, fmt
    fmt = RDF_BODIES.get(request.mimetype)
    if fmt is None:
        raise ApiError(415, f"cannot read a {request.mimetype or 'untyped'} body: post RDF as text/turtle, "
                            "application/n-triples, application/ld+json or application/rdf+xml")
    data = request.get_data(cache=False)
    if not data.strip():
        raise ApiError(400, "the request body is empty: post the RDF to check")
    if fmt == "xml" and re.search(rb"<!ENTITY", data, re.IGNORECASE):
        # nested entities expand exponentially (a "billion laughs" ran until the deadline killed the worker)
        raise ApiError(400, "RDF/XML with entity declarations (<!ENTITY ...>) is not accepted: expand them first")
    check_data_nesting(data, fmt)
    return data, fmt


_JSON_STRUCTURE = re.compile(rb'"(?:[^"\\]|\\.)*"|[\[\]{}]')


def data_nesting_depth(data: bytes, fmt: str) -> tuple[int, int]:
    """The deepest nesting of posted RDF and the byte offset where it is reached: JSON objects and
    arrays (JSON-LD), elements (RDF/XML), blank-node brackets and collections (Turtle, N-Triples)."""
    if fmt == "json-ld":
        depth = deepest = where = 0
        for match in _JSON_STRUCTURE.finditer(data):
            char = match.group()
            if char in (b"{", b"["):
                depth += 1
                if depth > deepest:
                    deepest, where = depth, match.start()
            elif char in (b"}", b"]"):
                depth -= 1
        return deepest, where
    if fmt == "xml":  # expat is not recursive: it measures what would overflow a recursive reader
        import xml.parsers.expat
        parser = xml.parsers.expat.ParserCreate()
        state = {"depth": 0, "deepest": 0, "where": 0}

        def start(name, attrs):
            state["depth"] += 1
            if state["depth"] > state["deepest"]:
                state["deepest"], state["where"] = state["depth"], parser.CurrentByteIndex

        def end(name):
            state["depth"] -= 1
        parser.StartElementHandler, parser.EndElementHandler = start, end
        try:
            parser.Parse(data, True)
        except (xml.parsers.expat.ExpatError, LookupError, ValueError):
            pass  # not well-formed (or an unknown encoding): the RDF/XML parser says where, as for any other error
        return state["deepest"], state["where"]
    text = data.decode("utf-8", errors="replace")
    depth, where = nesting_depth(text)
    return depth, len(text[:where].encode("utf-8"))


def check_data_nesting(data: bytes, fmt: str) -> None:
    """400 for posted RDF nested deeper than the engine's parsers can take (graph/sparqltext.py MAX_NESTING)."""
    depth, where = data_nesting_depth(data, fmt)
    if depth > MAX_NESTING:
        line = data.count(b"\n", 0, where) + 1
        column = where - (data.rfind(b"\n", 0, where) + 1) + 1
        raise ApiError(400, f"the posted RDF is nested {depth} levels deep at line {line}, column {column}; "
                            f"the limit is {MAX_NESTING}", line=line, column=column, depth=depth, limit=MAX_NESTING)


def checked(data: bytes, fmt: str, merge_graph: str | None = None):
    try:
        return services().backend.validate(data, fmt, merge_graph)
    except DataError as exc:
        extra = {k: v for k, v in (("line", exc.line), ("column", exc.column)) if v is not None}
        message = str(exc)
        if message.startswith("the posted data"):
            message = message.split(": ", 1)[-1]
        where = f" at line {exc.line}" + (f", column {exc.column}" if exc.column else "") if exc.line else ""
        raise ApiError(400, f"the posted RDF cannot be read{where}: {message}", **extra) from None


def report_json(report) -> dict:
    return {"conforms": report.conforms, "violations": len(report.violations), "warnings": len(report.warnings),
            "problems": [p.as_dict() for p in report.problems]}


def report_graph(report) -> Result:
    """The report as a SHACL validation-report graph."""
    def n(v):
        return ox.NamedNode(v)
    root = ox.BlankNode("report")
    t = [ox.Triple(root, n(ns.RDF + "type"), n(SH + "ValidationReport")),
         ox.Triple(root, n(SH + "conforms"), ox.Literal("true" if report.conforms else "false",
                                                       datatype=n(ns.XSD + "boolean")))]
    for i, p in enumerate(report.problems):
        r = ox.BlankNode(f"result{i}")
        t += [ox.Triple(root, n(SH + "result"), r),
              ox.Triple(r, n(ns.RDF + "type"), n(SH + "ValidationResult")),
              ox.Triple(r, n(SH + "resultSeverity"), n(SH + p.severity)),
              ox.Triple(r, n(SH + "resultMessage"), ox.Literal(p.message))]
        for prop, value in ((SH + "focusNode", p.focus), (SH + "resultPath", p.path), (SH + "sourceShape", p.shape)):
            if value:
                try:
                    t.append(ox.Triple(r, n(prop), n(value)))
                except ValueError:
                    t.append(ox.Triple(r, n(prop), ox.Literal(value)))
        if p.value is not None:
            t.append(ox.Triple(r, n(SH + "value"), ox.Literal(p.value)))
        if p.line:
            t.append(ox.Triple(r, n(ns.WSIS + "sourceLine"), ox.Literal(str(p.line), datatype=n(ns.XSD + "integer"))))
    return Result("graph", triples=t)


def report_response(report, offer: Offer, status: int = 200) -> Response:
    if offer.name == "json":
        return Response(json.dumps(report_json(report), ensure_ascii=False, indent=1) + "\n", status=status,
                        content_type="application/json; charset=utf-8", headers={"Vary": "Accept"})
    if offer.name == "html":
        return html_response("validate.html", status=status, report=report)
    return Response(serialize(report_graph(report), offer.name), status=status, content_type=content_type(offer),
                    headers={"Vary": "Accept"})


@bp.route("/validate", methods=["POST"])
def validate_route():
    offer = choose(REPORT_OFFERS)
    data, fmt = read_rdf_body()
    return report_response(checked(data, fmt).report, offer)


@bp.route("/validate", methods=["GET"])
def validate_form():
    return html_response("validate.html", report=None)
