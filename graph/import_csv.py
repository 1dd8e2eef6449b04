"""`wsiskg import FILE --mapping MAPPING`: a tabular export (CSV) -> RDF through a declared mapping.

The mapping (YAML, e.g. graph/mappings/stocktaking.yaml; the format is in docs/external.md) says what
each row becomes: its IRI (a template over the row's cells), its class, and per column the property,
with a datatype, a language, or an IRI template, optionally split on a separator. Order of work, so
nothing is half-done:

1. read the CSV; check the header has every mapped and required column;
2. then BATCH_ROWS rows at a time (so time and memory follow the file, and a bad file is refused at
   the end of the batch holding its first bad row): turn each row into triples, checking cells as they are converted (required cells present, years,
   numbers and dates parse, IRIs are IRIs); a problem names its row (1-based, the header is row 1)
   and column;
3. validate the new triples with the shapes, plus the stored descriptions of what they point to (an
   unknown Action Line fails its sh:class check), and map each violation back to its row and column;
4. with problems: stop reading and fail whole, store untouched; with `skip_bad_rows`: drop those
   rows, keep the rest;
5. replace id:graph/import/<name> in one transaction and keep a copy in <store>/graphs/import/.
"""
from __future__ import annotations

import csv
import io
import itertools
import re
import urllib.parse
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Iterator

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, PROV, RDF, XSD

from . import namespaces as ns
from .mapping import MappingError, expand, load_yaml, name_ok, prefixes_of
from .paths import FileProblem, read_user_file

MAX_CSV_BYTES = 50 * 1024 * 1024
BATCH_ROWS = 2000  # rows mapped and validated at a time (see run_import)
_PLACEHOLDER = re.compile(r"\{([^{}]+)\}")
_ABSOLUTE_IRI = re.compile(r"^https?://[^\s<>\"{}|\\^`]+$")


class ImportFailed(Exception):
    def __init__(self, message: str, problems: list["RowProblem"] | None = None):
        self.problems = problems or []
        super().__init__(message)


@dataclass
class RowProblem:
    row: int | None  # 1-based; the header is row 1, the first data row is row 2
    column: str | None
    message: str
    value: str | None = None
    file: str | None = None

    def __str__(self) -> str:
        where = ", ".join(x for x in (f"row {self.row}" if self.row else None,
                                      f"column {self.column!r}" if self.column else None) if x)
        value = f" [value {self.value!r}]" if self.value not in (None, "") else ""
        prefix = f"{self.file}: " if self.file else ""
        return f"{prefix}{where}: {self.message}{value}"

    def as_dict(self) -> dict:
        return {"row": self.row, "column": self.column, "message": self.message, "value": self.value}


# -- the mapping ------------------------------------------------------------------------------------

@dataclass
class ColumnRule:
    column: str
    property: str
    datatype: str | None = None
    language: str | None = None
    iri: str | None = None  # template with {value}; "{value}" alone: the cell is an IRI itself
    split: str | None = None


@dataclass
class TableMapping:
    name: str
    classes: list[str]
    iri: str
    columns: list[ColumnRule]
    required: list[str] = field(default_factory=list)
    constants: list[tuple[str, URIRef | Literal]] = field(default_factory=list)
    source: str | None = None
    title: str | None = None


def load_table_mapping(path: Path | str) -> TableMapping:
    where = str(path)
    doc = load_yaml(path)
    prefixes = prefixes_of(doc, where)
    name = str(doc.get("name", "")).strip()
    if not name_ok(name):
        raise MappingError(f"{where}: `name` must be lower-case letters, digits and hyphens (it names the graph "
                           f"id:graph/import/<name>), got {name!r}")
    if "class" not in doc or "iri" not in doc or not isinstance(doc.get("columns"), dict) or not doc["columns"]:
        raise MappingError(f"{where}: an import mapping needs `class`, `iri` (the row IRI template) and `columns`")
    classes = doc["class"] if isinstance(doc["class"], list) else [doc["class"]]
    template = str(doc["iri"])
    if not _PLACEHOLDER.search(template) or not _ABSOLUTE_IRI.match(_PLACEHOLDER.sub("x", template)):
        raise MappingError(f"{where}: `iri` must be an http(s) IRI template with at least one {{column}} placeholder, "
                           f"got {template!r}")
    columns = []
    for column, spec in doc["columns"].items():
        at = f"{where}: columns.{column}"
        if isinstance(spec, str):
            spec = {"property": spec}
        if not isinstance(spec, dict) or "property" not in spec:
            raise MappingError(f"{at}: give at least `property`")
        unknown = set(spec) - {"property", "datatype", "language", "iri", "split"}
        if unknown:
            raise MappingError(f"{at}: unknown key(s) {', '.join(sorted(unknown))}; "
                               "allowed: property, datatype, language, iri, split")
        kinds = [k for k in ("datatype", "language", "iri") if spec.get(k)]
        if len(kinds) > 1:
            raise MappingError(f"{at}: give at most one of datatype, language, iri")
        if spec.get("iri") and (_PLACEHOLDER.findall(str(spec["iri"])) != ["value"]):
            raise MappingError(f"{at}: an `iri` template has exactly one {{value}} placeholder")
        columns.append(ColumnRule(
            column=str(column), property=expand(spec["property"], prefixes, at),
            datatype=expand(spec["datatype"], prefixes, at) if spec.get("datatype") else None,
            language=str(spec["language"]) if spec.get("language") else None,
            iri=str(spec["iri"]) if spec.get("iri") else None,
            split=str(spec["split"]) if spec.get("split") else None))
    mapped = {c.column for c in columns}
    required = [str(c) for c in (doc.get("required") or [])]
    for column in required + _PLACEHOLDER.findall(template):
        if column not in mapped and column not in doc["columns"]:
            raise MappingError(f"{where}: {column!r} is required or used in `iri` but has no entry under `columns`")
    constants = []
    for i, item in enumerate(doc.get("constants") or [], start=1):
        at = f"{where}: constants[{i}]"
        if not isinstance(item, dict) or "property" not in item or ("iri" in item) == ("value" in item):
            raise MappingError(f"{at}: give `property` and one of `iri` or `value`")
        prop = expand(item["property"], prefixes, at)
        obj = URIRef(expand(item["iri"], prefixes, at)) if "iri" in item else Literal(str(item["value"]))
        constants.append((prop, obj))
    source = doc.get("source")
    if source is not None and not _ABSOLUTE_IRI.match(str(source)):
        raise MappingError(f"{where}: `source` must be an http(s) IRI, got {source!r}")
    return TableMapping(name=name, classes=[expand(c, prefixes, f"{where}: class") for c in classes],
                        iri=template, columns=columns, required=required, constants=constants,
                        source=str(source) if source else None,
                        title=str(doc["title"]) if doc.get("title") else None)


# -- rows -> triples -------------------------------------------------------------------------------

def _encode(value: str) -> str:
    return urllib.parse.quote(value.strip(), safe="-._~")


def convert(value: str, rule: ColumnRule) -> URIRef | Literal:
    """One cell (or one piece of a split cell) -> an RDF term; ValueError says what is wrong."""
    if rule.iri:
        if rule.iri == "{value}":
            if not _ABSOLUTE_IRI.match(value):
                raise ValueError("not an http(s) address")
            return URIRef(value)
        return URIRef(rule.iri.replace("{value}", _encode(value)))
    if rule.language:
        return Literal(value, lang=rule.language)
    datatype = rule.datatype
    if datatype in (None, str(XSD.string)):
        return Literal(value)
    if datatype == str(XSD.gYear):
        if not re.match(r"^\d{4}$", value):
            raise ValueError("not a year: write four digits, such as 2024")
    elif datatype == str(XSD.integer):
        try:
            value = str(int(value))
        except ValueError:
            raise ValueError("not a whole number") from None
    elif datatype == str(XSD.decimal):
        try:
            Decimal(value)
        except InvalidOperation:
            raise ValueError("not a decimal number") from None
    elif datatype == str(XSD.date):
        try:
            date.fromisoformat(value)
        except ValueError:
            raise ValueError("not a date: write YYYY-MM-DD") from None
    elif datatype == str(XSD.boolean):
        lowered = value.lower()
        if lowered not in ("true", "false", "1", "0"):
            raise ValueError("not a boolean: write true or false")
        value = "true" if lowered in ("true", "1") else "false"
    elif datatype == str(XSD.anyURI):
        if not _ABSOLUTE_IRI.match(value):
            raise ValueError("not an http(s) address")
    return Literal(value, datatype=URIRef(datatype))


@dataclass
class Row:
    number: int
    iri: URIRef | None
    triples: list = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)
    cells: dict = field(default_factory=dict)  # (property IRI, term) -> (column, cell text)
    duplicate_of: int | None = None  # the earlier row with the same IRI


def read_csv(path: Path) -> tuple[list[str], Iterator[tuple[int, dict[str, str]]]]:
    """The header and the data rows as they are read: (file row number, {column: cell}); blank lines
    are skipped. A CSV syntax error is raised when its row is reached."""
    try:
        data = read_user_file(path, MAX_CSV_BYTES, "import file")
    except FileProblem as exc:
        raise ImportFailed(str(exc)) from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportFailed(f"{path}: not UTF-8 text (byte {exc.start}); save the export as UTF-8 CSV") from None
    del data
    reader = csv.reader(io.StringIO(text, newline=""))
    del text

    def records():
        try:
            yield from reader
        except csv.Error as exc:
            raise ImportFailed(f"{path}: row {reader.line_num}: not readable as CSV: {exc}") from None

    stream = records()
    first = next(stream, None)
    if first is None or not any(cell.strip() for cell in first):
        raise ImportFailed(f"{path}: the file is empty; the first row must name the columns")
    header = [cell.strip() for cell in first]

    def rows():
        number = 1  # the record's place in the file (header = 1), as problems name rows
        for record in stream:
            number += 1
            if not any(cell.strip() for cell in record):
                continue  # blank lines are not rows
            yield number, {header[i]: (record[i].strip() if i < len(record) else "")
                           for i in range(len(header)) if header[i]}
    return header, rows()


def map_rows(rows: list[tuple[int, dict[str, str]]], mapping: TableMapping, file: str,
             first: dict | None = None) -> list[Row]:
    """Rows -> triples with the cell checks; `first` (row IRI -> row number) carries the rows already
    mapped, so a duplicate is found across batches."""
    out = []
    first = {} if first is None else first
    placeholders = _PLACEHOLDER.findall(mapping.iri)
    for number, cells in rows:
        row = Row(number, None)
        out.append(row)
        for column in mapping.required:
            if not cells.get(column, "").strip():
                row.problems.append(RowProblem(number, column, "a value is required here", file=file))
        missing_key = [c for c in placeholders if not cells.get(c, "").strip()]
        if missing_key:
            if not any(p.column in missing_key for p in row.problems):
                row.problems.append(RowProblem(number, missing_key[0], "the row's IRI needs this value", file=file))
            continue
        iri = mapping.iri
        for column in placeholders:
            iri = iri.replace("{" + column + "}", _encode(cells[column]))
        row.iri = URIRef(iri)
        for klass in mapping.classes:
            row.triples.append((row.iri, RDF.type, URIRef(klass)))
        for prop, obj in mapping.constants:
            row.triples.append((row.iri, URIRef(prop), obj))
        for rule in mapping.columns:
            cell = cells.get(rule.column, "")
            pieces = [p.strip() for p in cell.split(rule.split)] if rule.split else [cell]
            for piece in pieces:
                if not piece:
                    continue
                try:
                    term = convert(piece, rule)
                except ValueError as exc:
                    row.problems.append(RowProblem(number, rule.column, str(exc), piece, file=file))
                    continue
                row.triples.append((row.iri, URIRef(rule.property), term))
                row.cells[(rule.property, str(term))] = (rule.column, piece)
    # the same IRI twice: the later row is the bad one
    for row in out:
        if row.iri is None:
            continue
        if row.iri in first:
            row.duplicate_of = first[row.iri]
            columns = ", ".join(placeholders)
            row.problems.append(RowProblem(row.number, placeholders[0],
                                           f"the same {columns} as row {first[row.iri]}: each row needs its own",
                                           file=file))
        else:
            first[row.iri] = row.number
    return out


# -- the import ------------------------------------------------------------------------------------

@dataclass
class ImportResult:
    graph: str
    rows: int
    loaded: int
    triples: int
    problems: list[RowProblem]
    kept_file: Path | None = None

    @property
    def bad_rows(self) -> list[int]:
        return sorted({p.row for p in self.problems if p.row})


def import_graph(name: str) -> str:
    return f"{ns.ID}graph/import/{name}"


def shape_problems(rows: list[Row], mapping: TableMapping, store, file: str) -> None:
    """Validate the rows' triples (plus what they point to) and file each violation under its row."""
    from .validate import context_for, validate
    g = Graph()
    by_iri = {}
    for row in rows:
        if row.iri is not None and row.duplicate_of is None:  # a duplicate's triples would merge into another row's
            by_iri[str(row.iri)] = row
            for triple in row.triples:
                g.add(triple)
    if not len(g):
        return
    columns_of = {}
    for rule in mapping.columns:
        columns_of.setdefault(rule.property, rule.column)
    report = validate(g, context_for(g, store), file=file)
    cell_checked = {row.number: {p.column for p in row.problems} for row in rows}
    for problem in report.violations:
        row = by_iri.get(problem.focus)
        if row is None:
            continue
        column, cell = None, problem.value
        if problem.path:
            # the cell that produced the offending value, else the column mapped to the property
            column, cell = row.cells.get((problem.path, problem.value or ""), (columns_of.get(problem.path), problem.value))
        if column and column in cell_checked[row.number]:
            continue  # already reported by the cell checks (e.g. a missing required value)
        if any(p.column == column and p.value == cell and p.message == problem.message for p in row.problems):
            continue
        row.problems.append(RowProblem(row.number, column, problem.message, cell, file=file))


def run_import(csv_path: Path, mapping: TableMapping, store, store_root: Path | None, *,
               graph_name: str | None = None, skip_bad_rows: bool = False, write: bool = True) -> ImportResult:
    from .keep import replace_kept_graph
    name = graph_name or mapping.name
    if not name_ok(name):
        raise MappingError(f"--graph-name must be lower-case letters, digits and hyphens, got {name!r}")
    file = str(csv_path)
    header, records = read_csv(Path(csv_path))
    wanted = [r.column for r in mapping.columns] + mapping.required
    absent = sorted({c for c in wanted if c not in header})
    if absent:
        raise ImportFailed(f"{file}: the header (row 1) lacks the column(s) {', '.join(repr(c) for c in absent)} "
                           f"that the mapping uses; the header has: {', '.join(repr(c) for c in header if c)}")
    # Batch by batch: map, check the cells, validate with the shapes (every shape here looks at one row's
    # node and what it links to, so a batch gets the rows' own results), keep the good rows as
    # N-Triples. Memory follows one batch plus the kept text; a bad row stops the reading at the end
    # of its batch unless bad rows are skipped (100k rows whole: 596 s and 6.3 GB, refused after 286 s).
    first: dict = {}
    kept, problems = [], []
    rows_read = loaded = triples = 0
    more = True
    while more:
        batch = list(itertools.islice(records, BATCH_ROWS))
        more = len(batch) == BATCH_ROWS
        if not batch:
            break
        rows = map_rows(batch, mapping, file, first)
        shape_problems(rows, mapping, store, file)
        rows_read += len(rows)
        problems += sorted((p for row in rows for p in row.problems), key=lambda p: (p.row or 0, p.column or ""))
        if problems and not skip_bad_rows:
            bad = len({p.row for p in problems})
            if more:
                raise ImportFailed(f"{bad} of the first {rows_read} row(s) have problems; stopped reading there and "
                                   "nothing was imported (fix them, or pass --skip-bad-rows to import the good rows "
                                   "only)", problems)
            raise ImportFailed(f"{bad} of {rows_read} row(s) have problems; nothing was "
                               "imported (fix them, or pass --skip-bad-rows to import the good rows only)", problems)
        good = Graph()
        for row in rows:
            if not row.problems:
                loaded += 1
                for triple in row.triples:
                    good.add(triple)
        triples += len(good)
        kept.append(good.serialize(format="nt", encoding="utf-8"))
    if not loaded:
        raise ImportFailed(f"{file}: no row to import" + (" (every row has problems)" if rows_read else ""), problems)
    graph_iri = import_graph(name)
    g = Graph()
    node = URIRef(graph_iri)
    g.add((node, DCTERMS.identifier, Literal(Path(csv_path).name)))
    g.add((node, PROV.generatedAtTime, Literal(datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
                                               datatype=XSD.dateTime)))
    if mapping.title:
        g.add((node, DCTERMS.title, Literal(mapping.title, lang="en")))
    if mapping.source:
        g.add((node, DCTERMS.source, URIRef(mapping.source)))
    kept.append(g.serialize(format="nt", encoding="utf-8"))
    data = b"".join(kept)
    del kept
    result = ImportResult(graph_iri, rows_read, loaded, triples + len(g), problems)
    if write:
        result.kept_file = replace_kept_graph(store, store_root, graph_iri, data)
    return result
