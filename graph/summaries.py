"""Summaries: the answers of the corpus-wide aggregates, kept as data and changed with every write.

An aggregate over every statement (who voiced which theme, which body shares what with which) is
evaluated over the whole corpus each time it is asked: at 1M triples that is 0.4-2.3 s, which every
answer pays after a write or for parameters nobody asked. A summary keeps the aggregate's rows in a
named graph of their own (`id:graph/summaries/<name>`), so the named query reads them (a look-up),
and every writer brings them up to date **in the same transaction as its write**, so they are never
stale:

- `wsiskg build` computes every summary whole, after the links and the journal's replay;
- an ingest or `wsiskg remove` marks the rows the document's statements reach before the change,
  marks again after it, then recomputes only the marked rows (a row's key is its GROUP BY values);
- a server write (/update, /data) does the same on its scratch copy with the statements it changed,
  or recomputes every summary when it changes anything else (reference data, labels, link
  assertions, a summary graph itself), before the change is diffed and committed.

A summary is declared in `queries/summaries/<name>.rq`: a SELECT without ORDER BY, every pattern in
a `GRAPH` (an update's WHERE sees the store's own default graph, not the union queries see), whose header says
its `keys` (the GROUP BY variables of its aggregate), and which carries `#@ restrict ?var` lines at
each place where a statement variable is first bound, and `#@ keys` lines at the start of each part
that reads no statement (reference data: it is recomputed for the marked keys, never marks any). Those lines are where the rows to recompute
are chosen: nothing for a whole computation, the document's or the changed statements for marking,
the marked keys for a refresh. Each projected variable becomes a property `wsum:<variable>` of the
row; an IRI is kept as an xsd:anyURI literal, so a summary row never shows up as a link to the
entity it counts (in `describe-entity`, "what links here").
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import pyoxigraph as ox

from . import namespaces as ns
from .library import parse_header
from .paths import QUERIES_DIR
from .sparqltext import expand_prefixes

SUMMARIES_DIR = QUERIES_DIR / "summaries"
COLUMN = "https://w3id.org/wsis-kg/summary#"  # wsum: a summary row's columns
ROW_CLASS = ns.WSIS + "SummaryRow"
DIRTY = COLUMN + "toRecompute"
RESTRICT_RE = re.compile(r"^[ \t]*#@ restrict \?([A-Za-z_][A-Za-z0-9_]*)[ \t]*$", re.M)
KEYS_RE = re.compile(r"^[ \t]*#@ keys[ \t]*$", re.M)
STATEMENT_PREFIX = ns.ID + "statement/"


class SummaryError(ValueError):
    """A summary file that cannot be used (its header or its restrict lines)."""


@dataclass(frozen=True)
class Summary:
    name: str
    text: str  # the SELECT as written, with its PREFIX lines
    expanded: str  # the same without a prologue (Oxigraph reads none after a `;` in an update)
    keys: tuple[str, ...]
    columns: tuple[str, ...]  # every projected variable, keys first as written

    @property
    def graph(self) -> str:
        return graph_of(self.name)

    @property
    def dirty_graph(self) -> str:
        return ns.ID + f"graph/summaries/marked/{self.name}"

    def _body(self, restriction: str, keys: str | None = None) -> str:
        """The SELECT without its prologue, each `#@ restrict ?var` line replaced by `restriction`
        with `{var}` in it replaced by that line's variable, and each `#@ keys` line (a part that
        reads no statement) by `keys` (by default the same restriction)."""
        body = KEYS_RE.sub(lambda m: restriction if keys is None else keys, self.expanded)
        return RESTRICT_RE.sub(lambda m: restriction.replace("{var}", m.group(1)), body)

    def _row_iri(self) -> str:
        parts = ', "\\u001f", '.join(f'COALESCE(STR(?{k}), "")' for k in self.keys)
        return f'BIND(IRI(CONCAT("{ns.ID}summary/{self.name}/", MD5(CONCAT({parts}, "")))) AS ?_row)'

    def _stored(self) -> str:
        """Each column as it is stored: IRIs as xsd:anyURI literals (see the module's docstring)."""
        return "\n".join(f"BIND(IF(isIRI(?{c}), STRDT(STR(?{c}), <{ns.XSD}anyURI>), ?{c}) AS ?_v_{c})"
                         for c in self.columns)

    def _by_keys(self) -> str:
        # the marks hold the keys as they are (IRIs as IRIs: the marks never outlive the transaction),
        # so the aggregate's patterns join on them directly
        return (f"GRAPH <{self.dirty_graph}> {{ ?_marked <{DIRTY}> true ; "
                + " ; ".join(f"<{COLUMN}{k}> ?{k}" for k in self.keys) + " . }")

    def compute(self, restriction: str = "") -> str:
        """SPARQL Update inserting the rows the restriction selects (all of them without one)."""
        template = " ;\n".join([f"?_row a <{ROW_CLASS}>"] + [f"<{COLUMN}{c}> ?_v_{c}" for c in self.columns])
        return (f"INSERT {{ GRAPH <{self.graph}> {{ {template} . }} }}\n"
                f"WHERE {{ {{ {self._body(restriction)} }}\n{self._row_iri()}\n{self._stored()} }}")

    def _marked_keys(self, restriction: str) -> str:
        """The WHERE clause giving ?_row and its keys for the rows the restriction's statements reach
        (a part that reads no statement reaches none)."""
        return f"WHERE {{ {{ {self._body(restriction, 'FILTER(false)')} }}\n{self._row_iri()} }}"

    def mark(self, restriction: str) -> str:
        """SPARQL Update marking the keys of the rows the restriction reaches, to recompute them."""
        keys = " ; ".join(f"<{COLUMN}{k}> ?{k}" for k in self.keys)
        return (f"INSERT {{ GRAPH <{self.dirty_graph}> {{ ?_row <{DIRTY}> true ; {keys} . }} }}\n"
                + self._marked_keys(restriction))

    def marked_keys_query(self, restriction: str) -> str:
        """The same marks as `mark`, as a SELECT (read from the data before a write)."""
        return f"SELECT DISTINCT ?_row {' '.join('?' + k for k in self.keys)}\n" \
            + self._marked_keys(restriction)

    def refresh(self) -> str:
        """SPARQL Update replacing the marked rows by their values as the data now is, then
        forgetting the marks."""
        drop = (f"DELETE {{ GRAPH <{self.graph}> {{ ?_row ?_p ?_o }} }} WHERE {{ GRAPH <{self.dirty_graph}> "
                f"{{ ?_row <{DIRTY}> true }} GRAPH <{self.graph}> {{ ?_row ?_p ?_o }} }}")
        return " ;\n".join([drop, self.compute(self._by_keys()), f"DROP SILENT GRAPH <{self.dirty_graph}>"])

    def rebuild(self) -> str:
        return f"DROP SILENT GRAPH <{self.graph}> ;\n" + self.compute()


def graph_of(name: str) -> str:
    return ns.ID + f"graph/summaries/{name}"


def load(path: Path) -> Summary:
    text = path.read_text(encoding="utf-8")
    try:
        header = parse_header(text)
    except ValueError as exc:
        raise SummaryError(f"{path}: {exc}") from None
    keys = tuple(str(header.get("keys", "")).split())
    if not keys:
        raise SummaryError(f"{path}: the header names no `keys` (the variables its aggregate groups by)")
    if not RESTRICT_RE.search(text):
        raise SummaryError(f"{path}: no `#@ restrict ?var` line: the rows a write changes could not be chosen")
    try:
        columns = tuple(str(v)[1:] for v in ox.Store().query(text).variables)
    except SyntaxError as exc:
        raise SummaryError(f"{path}: {exc}") from None
    missing = [k for k in keys if k not in columns]
    if missing:
        raise SummaryError(f"{path}: key {missing[0]} is not a projected variable")
    return Summary(path.stem, text, expand_prefixes(text), keys, columns)


@lru_cache(maxsize=1)
def all_summaries() -> tuple[Summary, ...]:
    return tuple(load(p) for p in sorted(SUMMARIES_DIR.glob("*.rq")))


def graphs() -> set[str]:
    return {s.graph for s in all_summaries()}


def _document(doc_iri: str) -> str:
    return "GRAPH ?_graphOfDocument { ?{var} <" + ns.PROV + "wasDerivedFrom> <" + doc_iri + "> }"


def _statements(iris) -> str:
    values = " ".join(f"<{i}>" for i in sorted(iris))
    return "VALUES ?{var} { " + values + " }"


def rebuild_update() -> str:
    """Every summary computed whole (a build, or a write that changes more than statements)."""
    return " ;\n".join(s.rebuild() for s in all_summaries())


def mark_document_update(doc_iri: str) -> str:
    """Mark the rows a document's statements reach, as the data is when this runs."""
    return " ;\n".join(s.mark(_document(doc_iri)) for s in all_summaries())


def mark_statements_update(iris) -> str:
    return " ;\n".join(s.mark(_statements(iris)) for s in all_summaries()) if iris else ""


def refresh_update() -> str:
    return " ;\n".join(s.refresh() for s in all_summaries())


def document_change_updates(doc_iri: str) -> tuple[str, str]:
    """(before, after): the operations to put before a document's change and after it, in the same
    update, so its summaries' rows are recomputed with it."""
    mark = mark_document_update(doc_iri)
    return mark, mark + " ;\n" + refresh_update()


def statements_only(changed_quads) -> set[str] | None:
    """The statements a change touches, when it touches nothing but statements' own triples outside
    the summaries; None when it changes anything else (then every summary is recomputed)."""
    ours = {ox.NamedNode(g) for g in graphs()}
    touched = set()
    for q in changed_quads:
        if q.graph_name in ours or not isinstance(q.subject, ox.NamedNode) \
                or not q.subject.value.startswith(STATEMENT_PREFIX):
            return None
        touched.add(q.subject.value)
    return touched


def change_update(before_store, changed_quads) -> str:
    """For a write already applied to a scratch copy: the update to apply to that copy, after the
    write, that brings its summaries up to date. `before_store` (the data before the write) is read
    for the rows the touched statements reached before."""
    touched = statements_only(changed_quads)
    if touched is None:
        return rebuild_update()
    if not touched:
        return ""
    before = " ;\n".join(_marks_as_data(before_store, s, _statements(touched)) for s in all_summaries())
    return " ;\n".join(p for p in (before, mark_statements_update(touched), refresh_update()) if p)


def _marks_as_data(store, summary: Summary, restriction: str) -> str:
    """The marks `summary.mark(restriction)` would insert, read from `store` and written as data."""
    lines = []
    for row in store.query(summary.marked_keys_query(restriction)).rows:
        node, *values = row
        lines.append(f"{node} <{DIRTY}> true " + "".join(
            f"; <{COLUMN}{k}> {v} " for k, v in zip(summary.keys, values) if v is not None) + ".")
    if not lines:
        return ""
    return f"INSERT DATA {{ GRAPH <{summary.dirty_graph}> {{\n" + "\n".join(lines) + "\n} }"
