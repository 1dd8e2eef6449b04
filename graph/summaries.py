"""Summaries: the answers of the corpus-wide aggregates, kept as data and changed with every write.

An aggregate over every statement (who voiced which theme, which body works on which Action Line)
is evaluated over the whole corpus each time it is asked: at 1M triples that is 0.3-2.3 s, which
every answer pays after a write or for parameters nobody asked. A summary keeps the aggregate's
rows as data, so the named query reads them (a look-up), and every writer brings them up to date
**in the same transaction as its write**, so they are never stale.

Two levels, so that a write costs what its document costs, not what the corpus costs:
- **parts** (`id:graph/summaries/<name>/parts`): the aggregate per key *and document* (and whatever
  else the file partitions by), as `queries/summaries/<name>.rq` computes it. A document's parts
  depend on its own statements (and on reference data) only.
- **totals** (`id:graph/summaries/<name>`): the parts added up per key, each column as the file's
  `totals` header says: `sum` (counts), `min` or `max` (the first statement, the highest role),
  `same` (a label: every part of a key has the same), `set` (a part holds one value per item, the
  total lists the items of every part, ", "-separated). This is what the named query reads.

Who recomputes what:
- `wsiskg build` computes every summary whole, after the links and the journal's replay;
- an ingest or `wsiskg remove`, after its change and in the same update, drops the document's parts,
  computes them again from its statements, and changes the totals its old and new parts add to by
  their difference (a minimum an old part held is taken again from its key's parts);
- a server write (/update, /data) does the same on its scratch copy for the documents of the
  statements it changed, or recomputes every summary when it changes anything else (reference data,
  labels, link assertions, a summary graph itself), before the change is diffed and committed.

A summary file is a SELECT without ORDER BY; every pattern in a `GRAPH` (an update's WHERE sees the
store's own default graph, not the union queries see). Its header names its `keys`, the `document`
variable, the `partition` (every variable its aggregate groups by besides the keys), and the
`totals`, how each column of the parts adds up; every part has a value for each (an unbound value
makes Oxigraph's MIN and SUM unbound). A
`#@ document` line is where the document is bound to compute one document's parts; a
`#@ reference` line starts each part that reads no statement (reference data, no document: it is
computed by a whole computation only). Each column becomes a property `wsum:<variable>`; an IRI is
kept as an xsd:anyURI literal, so a summary row never shows up as a link to what it counts (in
`describe-entity`, "what links here").
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
TOTAL = COLUMN + "total"  # a part -> the totals row it adds to
ANY_URI = ns.XSD + "anyURI"
DOCUMENT_RE = re.compile(r"^[ \t]*#@ document[ \t]*$", re.M)
REFERENCE_RE = re.compile(r"^[ \t]*#@ reference[ \t]*$", re.M)
# GRAPH ?g { ?s ?p ... }: allowed only with ?p listed in a VALUES (the IRIs are then named in the file)
VARIABLE_PREDICATE_RE = re.compile(r"GRAPH\s+\S+\s*\{\s*\S+\s+[?$](\w+)")
STATEMENT_PREFIX = ns.ID + "statement/"
MARKS_GRAPH = ns.ID + "graph/summaries/changing"  # the old parts, inside one update only
# how parts add up; a `set` column holds one value per item in a part, and its total lists them
AGGREGATES = {"sum": "SUM", "min": "MIN", "max": "MAX", "same": "SAMPLE", "set": "GROUP_CONCAT"}
SET_SEPARATOR = ", "
# What a `#@ reference` line becomes for one document's parts: a join with no solution, so its part has
# none. Oxigraph evaluates a part under FILTER(false) in full before the filter drops it (actionline-goal's
# matrix part: 0.06 s of every ingest at 1M); an empty group it joins with first ends it at once (0.008 s).
NOTHING = "{ SELECT * WHERE { } LIMIT 0 }"


class SummaryError(ValueError):
    """A summary file that cannot be used (its header or its marker lines)."""


def _stored(variable: str, alias: str) -> str:
    """BIND the value as stored: an IRI as an xsd:anyURI literal (see the module's docstring)."""
    return f"BIND(IF(isIRI(?{variable}), STRDT(STR(?{variable}), <{ANY_URI}>), ?{variable}) AS ?{alias})"


def _literal(iri: str) -> str:
    return f'"{iri}"^^<{ANY_URI}>'


@dataclass(frozen=True)
class Summary:
    name: str
    text: str  # the parts' SELECT as written, with its PREFIX lines
    expanded: str  # the same without a prologue (Oxigraph reads none after a `;` in an update)
    keys: tuple[str, ...]
    document: str
    partition: tuple[str, ...]  # what parts group by besides the keys (the document among them)
    columns: tuple[str, ...]  # every projected variable of the parts
    totals: tuple[tuple[str, str], ...]  # (column, how its parts add up: a key of AGGREGATES)

    @property
    def graph(self) -> str:
        return graph_of(self.name)

    @property
    def parts_graph(self) -> str:
        return graph_of(self.name) + "/parts"

    def _parts_select(self, document: str | None) -> str:
        """The parts' SELECT: every part (document None), or one document's."""
        body = DOCUMENT_RE.sub(f"VALUES ?{self.document} {{ <{document}> }}" if document else "", self.expanded)
        return REFERENCE_RE.sub(NOTHING if document else "", body)

    def _row_iri(self, variables, alias: str, kind: str) -> str:
        parts = ', "\\u001f", '.join(f'COALESCE(STR(?{v}), "")' for v in variables)
        return f'BIND(IRI(CONCAT("{ns.ID}summary/{self.name}/{kind}", MD5(CONCAT({parts}, "")))) AS ?{alias})'

    def insert_parts(self, document: str | None = None) -> str:
        """SPARQL Update adding the parts (all, or one document's), each pointing to its totals row."""
        template = " ;\n".join([f"?_part a <{ROW_CLASS}>", f"<{TOTAL}> ?_total"]
                               + [f"<{COLUMN}{c}> ?_v_{c}" for c in self.columns])
        stored = "\n".join(_stored(c, f"_v_{c}") for c in self.columns)
        return (f"INSERT {{ GRAPH <{self.parts_graph}> {{ {template} . }} }}\n"
                f"WHERE {{ {{ {self._parts_select(document)} }}\n"
                f"{self._row_iri(self.keys + self.partition, '_part', 'part/')}\n"
                f"{self._row_iri(self.keys, '_total', '')}\n{stored} }}")

    def insert_totals(self) -> str:
        """SPARQL Update adding every totals row from the parts."""
        plain = [(c, kind) for c, kind in self.totals if kind != "set"]
        sets = [c for c, kind in self.totals if kind == "set"]
        read = " ; ".join([f"?_part <{TOTAL}> ?_total"] + [f"<{COLUMN}{k}> ?{k}" for k in self.keys]
                          + [f"<{COLUMN}{c}> ?_in_{c}" for c, _ in plain])
        # the parts' values as ?_in_<column>, so no aggregate is named like a variable it reads
        aggregates = " ".join(f"({_aggregate(kind, '?_in_' + c)} AS ?{c})" for c, kind in plain)
        keys = " ".join("?" + k for k in self.keys)
        # a set's items in a query of its own: a part without items would make GROUP_CONCAT unbound
        items = "\n".join(f"OPTIONAL {{ SELECT ?_total ({_aggregate('set', '?_item')} AS ?_items_{c}) WHERE {{ "
                          f"GRAPH <{self.parts_graph}> {{ ?_p <{TOTAL}> ?_total ; <{COLUMN}{c}> ?_item }} }} GROUP BY ?_total }}\n"
                          f'BIND(COALESCE(?_items_{c}, "") AS ?{c})' for c in sets)
        template = " ;\n".join([f"?_total a <{ROW_CLASS}>"] + [f"<{COLUMN}{c}> ?{c}" for c in self.keys]
                               + [f"<{COLUMN}{c}> ?{c}" for c, _ in self.totals])
        return (f"INSERT {{ GRAPH <{self.graph}> {{ {template} . }} }}\n"
                f"WHERE {{ {{ SELECT ?_total {keys} {aggregates} WHERE {{ GRAPH <{self.parts_graph}> {{ {read} }} }}\n"
                f"GROUP BY ?_total {keys} }}\n{items} }}")

    @staticmethod
    def _each(columns, prefix: str) -> str:
        """Each column's value for a totals row, as a template: `?_total wsum:c ?<prefix>_c` (a triple
        whose variable is unbound is left out, as SPARQL templates do)."""
        return " . ".join(f"?_total <{COLUMN}{c}> ?{prefix}_{c}" for c in columns)

    def rebuild_operations(self) -> list[str]:
        return [f"DROP SILENT GRAPH <{self.parts_graph}>", f"DROP SILENT GRAPH <{self.graph}>",
                self.insert_parts(), self.insert_totals()]

    def rebuild(self) -> str:
        return " ;\n".join(self.rebuild_operations())

    def document_change(self, documents) -> str:
        return " ;\n".join(self.document_change_operations(documents))

    def document_change_operations(self, documents) -> list[str]:
        """SPARQL Update operations, run after the documents changed: their parts again, and the totals they add
        to changed by the difference (a sum by old and new parts, a minimum or maximum the same way
        unless an old part held it, then from every part of its key), so a write costs what its
        documents cost, not what the corpus does."""
        values = " ".join(_literal(d) for d in sorted(documents))
        of_documents = f"VALUES ?_document {{ {values} }} ?_part <{COLUMN}{self.document}> ?_document"
        old, parts, totals = f"<{MARKS_GRAPH}>", f"<{self.parts_graph}>", f"<{self.graph}>"
        ops = [
            # the documents' old parts, kept aside until the totals are changed
            f"INSERT {{ GRAPH {old} {{ ?_part ?_p ?_o }} }} WHERE {{ GRAPH {parts} {{ {of_documents} . ?_part ?_p ?_o }} }}",
            f"DELETE {{ GRAPH {parts} {{ ?_part ?_p ?_o }} }} WHERE {{ GRAPH {parts} {{ {of_documents} . ?_part ?_p ?_o }} }}",
            *(self.insert_parts(d) for d in sorted(documents)),
        ]
        # every `sum` column in one operation, and every `same` column in one: one read of the parts
        # for all of them (an operation per column cost about 1 ms each at 1M, a third of them these)
        sums = [c for c, kind in self.totals if kind == "sum"]
        if sums:  # what the old parts gave (-1) and the new ones give (+1), by totals row
            def values(graph_part):
                return " ; ".join([graph_part] + [f"<{COLUMN}{c}> ?_value_{c}" for c in sums])
            changed = (f"{{ GRAPH {old} {{ {values(f'?_part <{TOTAL}> ?_total')} }} BIND(-1 AS ?_sign) }} UNION "
                       f"{{ GRAPH {parts} {{ {values(f'{of_documents} ; <{TOTAL}> ?_total')} }} BIND(1 AS ?_sign) }}")
            ops.append(
                f"DELETE {{ GRAPH {totals} {{ {self._each(sums, '_was')} }} }} "
                f"INSERT {{ GRAPH {totals} {{ {self._each(sums, '_now')} }} }} "
                f"WHERE {{ {{ SELECT ?_total " + " ".join(f"(SUM(?_sign * ?_value_{c}) AS ?_delta_{c})" for c in sums)
                + f" WHERE {{ {changed} }} GROUP BY ?_total }} "
                + " ".join(f"OPTIONAL {{ GRAPH {totals} {{ ?_total <{COLUMN}{c}> ?_was_{c} }} }} "
                           f"BIND(COALESCE(?_was_{c}, 0) + ?_delta_{c} AS ?_now_{c})" for c in sums) + " }")
        same = [c for c, kind in self.totals if kind == "same"]
        if same:  # every part of a key has it, so the documents' new parts give it. Not only to new
            # rows: a statement moved to another document keeps its row, with that document's file
            ops.append(
                f"DELETE {{ GRAPH {totals} {{ {self._each(same, '_was')} }} }} "
                f"INSERT {{ GRAPH {totals} {{ {self._each(same, '_now')} }} }} "
                f"WHERE {{ {{ SELECT ?_total " + " ".join(f"(SAMPLE(?_value_{c}) AS ?_now_{c})" for c in same)
                + f" WHERE {{ GRAPH {parts} {{ {of_documents} ; <{TOTAL}> ?_total ; "
                + " ; ".join(f"<{COLUMN}{c}> ?_value_{c}" for c in same) + " } } GROUP BY ?_total } "
                + " ".join(f"OPTIONAL {{ GRAPH {totals} {{ ?_total <{COLUMN}{c}> ?_was_{c} }} }}" for c in same) + " }")
        for column, kind in self.totals:
            prop = f"<{COLUMN}{column}>"
            if kind in ("sum", "same"):
                continue  # above
            if kind in ("min", "max"):
                better = "<" if kind == "min" else ">"
                # an old part held the total's value: from every part of its key (LATERAL: read per
                # total, not every part of the summary), unless a new part's value is as good, then the
                # next operation takes it (every other part is no better than the old value)
                ops.append(
                    f"DELETE {{ GRAPH {totals} {{ ?_total {prop} ?_was }} }} INSERT {{ GRAPH {totals} {{ ?_total {prop} ?_now }} }} "
                    f"WHERE {{ {{ SELECT ?_total ?_was WHERE {{ {{ SELECT DISTINCT ?_total ?_was WHERE {{ "
                    f"GRAPH {old} {{ ?_part <{TOTAL}> ?_total ; {prop} ?_was }} GRAPH {totals} {{ ?_total {prop} ?_was }} }} }} "
                    f"OPTIONAL {{ SELECT ?_total ({AGGREGATES[kind]}(?_new) AS ?_best) WHERE {{ "
                    f"GRAPH {parts} {{ {of_documents} ; <{TOTAL}> ?_total ; {prop} ?_new }} }} GROUP BY ?_total }} "
                    f"FILTER(!COALESCE(?_best {better}= ?_was, false)) }} }} "
                    f"LATERAL {{ SELECT ?_total ({AGGREGATES[kind]}(?_value) AS ?_now) WHERE {{ "
                    f"GRAPH {parts} {{ ?_other <{TOTAL}> ?_total ; {prop} ?_value }} }} GROUP BY ?_total }} }}")
                # otherwise a new part's value, when it is better (or the row is new)
                ops.append(
                    f"DELETE {{ GRAPH {totals} {{ ?_total {prop} ?_was }} }} INSERT {{ GRAPH {totals} {{ ?_total {prop} ?_now }} }} "
                    f"WHERE {{ {{ SELECT ?_total ({AGGREGATES[kind]}(?_value) AS ?_now) WHERE {{ "
                    f"GRAPH {parts} {{ {of_documents} ; <{TOTAL}> ?_total ; {prop} ?_value }} }} GROUP BY ?_total }} "
                    f"OPTIONAL {{ GRAPH {totals} {{ ?_total {prop} ?_was }} }} FILTER(!BOUND(?_was) || ?_now {better} ?_was) }}")
            elif kind == "set":  # the items of every part of each key whose items the documents changed
                # A key is changed when an old part had an item the part (the same key and partition)
                # has no longer, or a new part has an item its old part had not, or the totals row has
                # no value yet; otherwise its documents' items are the same and so is its total. Only
                # changed keys read every part of theirs (LATERAL: per key, not every part of the
                # summary): at 1M, 0.01-0.03 s per set column for a document ingested again, now 0.5 ms.
                touched = (f"{{ SELECT DISTINCT ?_total WHERE {{ "
                           f"{{ GRAPH {old} {{ ?_part <{TOTAL}> ?_total ; {prop} ?_item }} "
                           f"FILTER NOT EXISTS {{ GRAPH {parts} {{ ?_part {prop} ?_item }} }} }} UNION "
                           f"{{ GRAPH {parts} {{ {of_documents} ; <{TOTAL}> ?_total ; {prop} ?_item }} "
                           f"FILTER NOT EXISTS {{ GRAPH {old} {{ ?_part {prop} ?_item }} }} }} UNION "
                           f"{{ GRAPH {parts} {{ {of_documents} ; <{TOTAL}> ?_total }} "
                           f"FILTER NOT EXISTS {{ GRAPH {totals} {{ ?_total {prop} ?_any }} }} }} }} }}")
                ops.append(
                    f"DELETE {{ GRAPH {totals} {{ ?_total {prop} ?_was }} }} INSERT {{ GRAPH {totals} {{ ?_total {prop} ?_now }} }} "
                    f"WHERE {{ {touched} LATERAL {{ OPTIONAL {{ SELECT ?_total ({_aggregate(kind, '?_value')} AS ?_items) "
                    f"WHERE {{ GRAPH {parts} {{ ?_other <{TOTAL}> ?_total ; {prop} ?_value }} }} GROUP BY ?_total }} }} "
                    f'OPTIONAL {{ GRAPH {totals} {{ ?_total {prop} ?_was }} }} BIND(COALESCE(?_items, "") AS ?_now) }}')
        keys = " ; ".join([f"?_total a <{ROW_CLASS}>"] + [f"<{COLUMN}{k}> ?{k}" for k in self.keys])
        ops += [
            # a new row's keys; a row no part adds to any more goes
            f"INSERT {{ GRAPH {totals} {{ {keys} }} }} WHERE {{ GRAPH {parts} {{ {of_documents} ; <{TOTAL}> ?_total ; "
            + " ; ".join(f"<{COLUMN}{k}> ?{k}" for k in self.keys) + " } }",
            f"DELETE {{ GRAPH {totals} {{ ?_total ?_p ?_o }} }} WHERE {{ {{ SELECT DISTINCT ?_total WHERE {{ GRAPH {old} "
            f"{{ ?_part <{TOTAL}> ?_total }} }} }} FILTER NOT EXISTS {{ GRAPH {parts} {{ ?_other <{TOTAL}> ?_total }} }} "
            f"GRAPH {totals} {{ ?_total ?_p ?_o }} }}",
            f"DROP SILENT GRAPH {old}",
        ]
        return ops


def _aggregate(kind: str, variable: str) -> str:
    if kind == "set":
        return f'GROUP_CONCAT(DISTINCT {variable}; separator="{SET_SEPARATOR}")'
    return f"{AGGREGATES[kind]}({variable})"


def graph_of(name: str) -> str:
    return ns.ID + f"graph/summaries/{name}"


def load(path: Path) -> Summary:
    text = path.read_text(encoding="utf-8")
    try:
        header = parse_header(text)
    except ValueError as exc:
        raise SummaryError(f"{path}: {exc}") from None
    keys = tuple(str(header.get("keys", "")).split())
    document = str(header.get("document", ""))
    partition = tuple(str(header.get("partition", "")).split())
    totals = header.get("totals") or {}
    if not keys:
        raise SummaryError(f"{path}: the header names no `keys` (the variables its totals group by)")
    if not document or document not in partition:
        raise SummaryError(f"{path}: the header's `document` must name one of its `partition` variables")
    if not isinstance(totals, dict) or not totals:
        raise SummaryError(f"{path}: the header has no `totals` (column: how its parts add up, one of "
                           f"{', '.join(AGGREGATES)})")
    if any(not re.search(rf"VALUES\s*\(?[^{{]*\?{m.group(1)}\b", text) for m in VARIABLE_PREDICATE_RE.finditer(text)):
        raise SummaryError(f"{path}: a pattern with a variable as its predicate: name the predicates (or list "
                           "them in a VALUES), so a write can tell whether it reaches the summary (read_predicates)")
    if not DOCUMENT_RE.search(text):
        raise SummaryError(f"{path}: no `#@ document` line: a document's parts could not be computed alone")
    try:
        columns = tuple(str(v)[1:] for v in ox.Store().query(text).variables)
    except SyntaxError as exc:
        raise SummaryError(f"{path}: {exc}") from None
    missing = [v for v in keys + partition + tuple(str(c) for c in totals) if v not in columns]
    if missing:
        raise SummaryError(f"{path}: {missing[0]} is not a projected variable")
    unknown = [f"{c}: {k}" for c, k in totals.items() if k not in AGGREGATES]
    if unknown:
        raise SummaryError(f"{path}: totals {unknown[0]}: say how the parts add up, one of {', '.join(AGGREGATES)}")
    return Summary(path.stem, text, expand_prefixes(text), keys, document, partition, columns,
                   tuple((str(c), str(k)) for c, k in totals.items()))


@lru_cache(maxsize=1)
def all_summaries() -> tuple[Summary, ...]:
    return tuple(load(p) for p in sorted(SUMMARIES_DIR.glob("*.rq")))


def graphs() -> set[str]:
    return {g for s in all_summaries() for g in (s.graph, s.parts_graph)}


def _graph_nodes() -> set:
    return {ox.NamedNode(g) for g in graphs()}


def rebuild_update() -> str:
    """Every summary computed whole, in one update (a write that changes more than statements)."""
    return " ;\n".join(rebuild_operations())


def rebuild_operations() -> list[str]:
    """The same as operations to apply one by one, each its own transaction: for a build, whose store
    nobody reads until it is done. One update held every summary's parts in one transaction: 9.4 GB peak
    at 1M triples, over the benchmark's 12 GB address-space cap once `body-overlap`'s summaries came."""
    return [op for s in all_summaries() for op in s.rebuild_operations()]


def document_change_update(*documents: str) -> str:
    """To run after the documents' change, in the same update (an ingest, a removal)."""
    return " ;\n".join(s.document_change(documents) for s in all_summaries()) if documents else ""


def statements_only(changed_quads) -> set[str] | None:
    """The statements a change touches, when it touches nothing but statements' own triples outside
    the summaries; None when it changes anything else (then every summary is recomputed)."""
    ours = _graph_nodes()
    touched = set()
    for q in changed_quads:
        if q.graph_name in ours or not isinstance(q.subject, ox.NamedNode) \
                or not q.subject.value.startswith(STATEMENT_PREFIX):
            return None
        touched.add(q.subject.value)
    return touched


def _documents_of(store, statements: set[str]) -> set[str]:
    values = " ".join(f"<{s}>" for s in sorted(statements))
    rows = store.query(f"SELECT DISTINCT ?d WHERE {{ VALUES ?s {{ {values} }} ?s <{ns.PROV}wasDerivedFrom> ?d }}").rows
    return {d.value for (d,) in rows if isinstance(d, ox.NamedNode)}


def read_predicates() -> frozenset[str]:
    """Every IRI the summary files name (their predicates among them), and rdf:type (written `a`): a
    change to triples with none of these as predicate cannot change a summary."""
    return _names_in(all_summaries())  # keyed by the summaries: clearing all_summaries' cache is enough


@lru_cache(maxsize=1)
def _names_in(summaries: tuple[Summary, ...]) -> frozenset[str]:
    names = {m.group(1) for s in summaries for m in re.finditer(r"<([^<>\s]+)>", s.expanded)}
    return frozenset(names | {ns.RDF + "type"})


def change_update(after_store, changed_quads) -> str:
    """For a write already applied to a scratch copy (`after_store`): the update to apply to that
    copy that brings its summaries up to date. The touched statements' documents before and after the
    write (a statement may have moved): those the copy holds, and those of the wasDerivedFrom triples
    the write removed (every document a statement had before either remains or was removed)."""
    changed_quads = list(changed_quads)
    ours, read = _graph_nodes(), read_predicates()
    if not any(q.graph_name in ours or q.predicate.value in read for q in changed_quads):
        return ""  # e.g. notes or outside data: nothing any summary reads (a full recompute took seconds)
    touched = statements_only(changed_quads)
    if touched is None:
        return rebuild_update()
    if not touched:
        return ""
    derived_from = ns.PROV + "wasDerivedFrom"
    removed_from = {q.object.value for q in changed_quads
                    if q.predicate.value == derived_from and isinstance(q.object, ox.NamedNode)}
    return document_change_update(*(_documents_of(after_store, touched) | removed_from))
