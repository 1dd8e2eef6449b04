"""The one door to the data: open, query, update a named graph atomically, version.

Two backends sit behind `Store`: the embedded Oxigraph engine (on disk, or in memory) and any
remote SPARQL 1.1 endpoint. Callers never learn which.

On disk a store is a folder holding `current`, a link to the Oxigraph database in use. A rebuild
writes a fresh database beside it and swaps the link in one rename, so a failed or interrupted
build leaves the previous store usable.
"""
from __future__ import annotations

import itertools
import os
import re
import shutil
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

import pyoxigraph as ox

from . import namespaces as ns
from . import wire
from .paths import fsync_dir
from .sparqltext import analyse, tokens

VERSION_SUBJECT = ox.NamedNode(ns.ID + "store")
VERSION_PREDICATE = ox.NamedNode(ns.WSIS + "storeVersion")
META_GRAPH = ox.NamedNode(ns.GRAPH_META)
BULK_LOAD_QUADS = 250_000  # quads per Oxigraph bulk load (see EmbeddedStore.bulk_load)


class StoreError(Exception):
    """A problem a user can act on (missing store, busy store, unreachable endpoint)."""


class QuerySyntaxError(StoreError):
    """The query or update text does not parse; the message names line and column where known."""


@dataclass
class Result:
    """A fully read query result: solutions, a boolean, or triples."""

    kind: str  # "solutions" | "boolean" | "graph"
    variables: list[str] = field(default_factory=list)
    rows: list[list] = field(default_factory=list)  # pyoxigraph terms or None, in `variables` order
    boolean: bool | None = None
    triples: list = field(default_factory=list)  # pyoxigraph Triples
    truncated: bool = False

    def dicts(self) -> list[dict]:
        """Rows as {variable: term} (unbound variables left out)."""
        return [{v: t for v, t in zip(self.variables, row) if t is not None} for row in self.rows]

    def values(self, variable: str) -> list[str]:
        """One column as plain strings (`value` of each term), unbound as None."""
        i = self.variables.index(variable)
        return [row[i].value if row[i] is not None else None for row in self.rows]

    def __getstate__(self) -> dict:  # every answer crosses from a query worker: see graph/wire.py
        table = wire.TermTable()
        state = {**self.__dict__, "rows": wire.pack_rows(self.rows, table), "triples": wire.pack_triples(self.triples)}
        state["terms"] = table.terms
        return state

    def __setstate__(self, state: dict) -> None:
        terms = wire.decode_terms(state.pop("terms"))
        state["rows"] = wire.unpack_rows(state["rows"], terms)
        state["triples"] = wire.unpack_triples(state["triples"])
        self.__dict__.update(state)


def read_result(raw, limit: int | None = None) -> Result:
    """Turn a pyoxigraph result into a `Result`, reading at most `limit` rows or triples."""
    if isinstance(raw, ox.QueryBoolean):
        return Result("boolean", boolean=bool(raw))
    if isinstance(raw, ox.QuerySolutions):
        variables = [v.value for v in raw.variables]
        rows, truncated = [], False
        for solution in raw:
            if limit is not None and len(rows) >= limit:
                truncated = True
                break
            rows.append([solution[i] for i in range(len(variables))])
        return Result("solutions", variables=variables, rows=rows, truncated=truncated)
    triples, truncated = [], False
    for triple in raw:
        if limit is not None and len(triples) >= limit:
            truncated = True
            break
        triples.append(triple)
    return Result("graph", triples=triples, truncated=truncated)


def substitute_text(sparql: str, bindings: dict) -> str:
    """Write each bound parameter's term into the query, where the variable stands.

    Each term is a pyoxigraph term built by `library.to_term` (an IRI checked against the IRI
    grammar, a literal escaped by Oxigraph's own serialiser), so it is always exactly one
    well-formed RDF term. Only variable tokens of the lexer (graph/sparqltext.py) are replaced, never
    a `?name` inside a string, a comment or an IRI: there the term's quotes would close the string
    around it and the user's text would become query syntax. An xsd:integer is written as its bare
    digits, which SPARQL reads as the same xsd:integer and also accepts after LIMIT and OFFSET. A
    variable standing alone in a SELECT clause becomes `(<term> AS ?v)`, so the column stays.
    (Oxigraph's own SEP-0007 substitution would be neater, but it only reaches variables projected
    by the outermost SELECT, not subqueries.)
    """
    if not bindings:
        return sparql
    written = {}
    for name, term in bindings.items():
        if isinstance(term, ox.Literal) and term.datatype.value == ns.XSD + "integer":
            written[name] = term.value  # canonical digits (library.to_term): the same value, valid after LIMIT/OFFSET
        else:
            written[name] = str(term)
    out, position = [], 0
    in_select, depth = False, 0  # inside a SELECT clause; parentheses open there (an expression)
    for tok in tokens(sparql):
        if tok.kind == "word":
            word = tok.text.upper()
            if word == "SELECT":
                in_select, depth = True, 0
            elif word == "WHERE":
                in_select = False
        elif tok.kind == "other":
            if tok.text == "{":
                in_select = False
            elif tok.text == "(":
                depth += 1
            elif tok.text == ")":
                depth -= 1
        elif tok.kind == "var" and tok.text[1:] in written:
            name = tok.text[1:]
            term = written[name]
            out.append(sparql[position:tok.start])
            out.append(f"({term} AS ?{name})" if in_select and depth == 0 else term)
            position = tok.start + len(tok.text)
    out.append(sparql[position:])
    return "".join(out)


def _syntax_error(exc: Exception, sparql: str | None = None) -> QuerySyntaxError:
    return QuerySyntaxError(explain_syntax_error(str(exc), sparql))


_ENGINE_POSITION = re.compile(r"^error at (\d+):(\d+):\s*")


def explain_syntax_error(message: str, sparql: str | None) -> str:
    """The engine's message, except for a prefix no PREFIX declares: Oxigraph then lists every
    character range a name may hold, or expects some other keyword. Name the prefix where it stands,
    with its declaration when it is one of ours (graph/namespaces.py)."""
    match = _ENGINE_POSITION.match(message)
    if not sparql or not match:
        return message
    undeclared = undeclared_prefix(sparql)
    if undeclared is None:
        return message
    prefix, offset = undeclared
    line = sparql.count("\n", 0, offset) + 1
    column = offset - (sparql.rfind("\n", 0, offset) + 1) + 1
    if "Prefix not found" not in message and (line, column) > (int(match.group(1)), int(match.group(2))):
        return message  # the engine stopped at another mistake before it
    iri = ns.PREFIXES.get(prefix)
    declare = f"PREFIX {prefix}: <{iri}>" if iri else f"PREFIX {prefix}: <...the namespace IRI...>"
    return f"error at {line}:{column}: unknown prefix {prefix}: (no PREFIX declares it); add `{declare}` before the query"


def undeclared_prefix(sparql: str) -> tuple[str, int] | None:
    """The first prefixed name whose prefix the text does not declare: (prefix, offset)."""
    from .sparqltext import tokens
    toks, declared = tokens(sparql), set()
    for i, tok in enumerate(toks):
        if tok.kind != "pname":
            continue
        prefix = tok.text.partition(":")[0]
        if i > 0 and toks[i - 1].kind == "word" and toks[i - 1].text.upper() == "PREFIX":
            declared.add(prefix)
        elif prefix not in declared:
            return prefix, tok.start
    return None


class Store:
    """The interface every consumer uses."""

    description = "store"

    def query(self, sparql: str, *, default_graphs: Sequence[str] | None = None,
              named_graphs: Sequence[str] | None = None, limit: int | None = None,
              bindings: dict | None = None) -> Result:
        """Run a query. `bindings` maps variable names to typed pyoxigraph terms, each written into
        the query as one RDF term (see `substitute_text`); `limit` caps rows read and sets `truncated`."""
        raise NotImplementedError

    def update(self, sparql: str) -> None:
        raise NotImplementedError

    def replace_graphs(self, graphs: dict[str, bytes], fmt: str = "nt") -> None:
        """Replace whole named graphs (serialised as N-Triples) in one transaction."""
        raise NotImplementedError

    def graph_sizes(self) -> dict[str, int]:
        result = self.query("SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g ORDER BY ?g")
        return {row[0].value: int(row[1].value) for row in result.rows}

    def version(self) -> int:
        result = self.query(
            f"SELECT ?v WHERE {{ GRAPH <{ns.GRAPH_META}> {{ <{VERSION_SUBJECT.value}> <{VERSION_PREDICATE.value}> ?v }} }}")
        return int(result.rows[0][0].value) if result.rows else 0

    def dump(self, fmt: ox.RdfFormat, graph: str | None = None) -> bytes:
        raise NotImplementedError

    def close(self) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def version_bump_update(store: Store) -> str:
    """SPARQL Update text that increments the store version; appended to every write."""
    return (f"DELETE {{ GRAPH <{ns.GRAPH_META}> {{ <{VERSION_SUBJECT.value}> <{VERSION_PREDICATE.value}> ?v }} }}\n"
            f"INSERT {{ GRAPH <{ns.GRAPH_META}> {{ <{VERSION_SUBJECT.value}> <{VERSION_PREDICATE.value}> ?next }} }}\n"
            f"WHERE {{ OPTIONAL {{ GRAPH <{ns.GRAPH_META}> {{ <{VERSION_SUBJECT.value}> <{VERSION_PREDICATE.value}> ?v }} }}"
            f" BIND(COALESCE(?v, 0) + 1 AS ?next) }}")


def replace_graphs_update(graphs: dict[str, bytes]) -> str:
    """One update request (atomic in Oxigraph and per SPARQL 1.1 in conforming stores)."""
    parts = []
    for iri, ntriples in graphs.items():
        parts.append(f"DROP SILENT GRAPH <{iri}>")
        body = ascii_text(ntriples.decode("utf-8") if isinstance(ntriples, bytes) else ntriples)
        if body.strip():
            parts.append(f"INSERT DATA {{ GRAPH <{iri}> {{\n{body}\n}} }}")
    return " ;\n".join(parts)


_NON_ASCII = re.compile(r"[^\x00-\x7f]")


def ascii_text(sparql: str) -> str:
    """The text with every non-ASCII character as a \\u escape, which SPARQL reads before parsing.

    One "–" makes Python hold a whole string at 2 bytes a character, and hand Oxigraph a UTF-8 copy
    besides: an ASCII update text cut a 200k-triple INSERT DATA's peak from 284 to 187 MB."""
    return _NON_ASCII.sub(lambda m: f"\\u{ord(m.group()):04X}" if ord(m.group()) < 0x10000
                          else f"\\U{ord(m.group()):08X}", sparql)


class EmbeddedStore(Store):
    """Oxigraph inside this process."""

    def __init__(self, ox_store: ox.Store, path: Path | None = None, read_only: bool = False,
                 database: Path | None = None):
        self._store = ox_store
        self.path = path
        self.read_only = read_only
        self.database = database  # the database folder opened (None: in memory); see journal.require_current
        self.description = f"embedded store at {path}" if path else "in-memory store"

    # -- opening -------------------------------------------------------------------------------
    @classmethod
    def in_memory(cls) -> "EmbeddedStore":
        return cls(ox.Store())

    @classmethod
    def open(cls, root: Path, read_only: bool = False) -> "EmbeddedStore":
        db = database_path(root)
        if db is None:
            raise StoreError(f"no store at {root}; run `wsiskg build` first")
        try:
            store = ox.Store.read_only(str(db)) if read_only else ox.Store(str(db))
        except OSError as exc:
            if "lock" in str(exc).lower():
                raise StoreError(
                    f"the store at {root} is in use by another process (a running `wsiskg serve`?); "
                    "stop it, or send writes to the server's /data or /update routes") from None
            raise StoreError(f"cannot open the store at {root}: {exc}") from None
        return cls(store, Path(root), read_only, database=db)

    # -- reading ---------------------------------------------------------------------------------
    def query(self, sparql, *, default_graphs=None, named_graphs=None, limit=None, bindings=None) -> Result:
        kwargs = {}
        if bindings:
            sparql = substitute_text(sparql, bindings)
        if default_graphs or named_graphs:
            # the Protocol's dataset is exactly the graphs named: no default-graph-uri, an empty default
            # graph; no named-graph-uri, no named graphs (pyoxigraph leaves either unset as "all")
            kwargs["default_graph"] = [ox.NamedNode(g) for g in default_graphs or ()]
            kwargs["named_graphs"] = [ox.NamedNode(g) for g in named_graphs or ()]
        elif "FROM" not in sparql.upper() or not analyse(sparql).names_dataset:  # (the union flag overrides FROM)
            kwargs["use_default_graph_as_union"] = True
        try:
            raw = self._store.query(sparql, **kwargs)
        except SyntaxError as exc:
            raise _syntax_error(exc, sparql) from None
        except RuntimeError as exc:  # the engine refused the query as written
            raise QuerySyntaxError(str(exc)) from None
        return read_result(raw, limit)

    def construct_ntriples(self, sparql: str) -> bytes:
        """A CONSTRUCT's triples (over the union of the graphs) as N-Triples, written by Oxigraph: no
        Python term per value (9,747 triples at 1M: 0.11 s, against 0.2 s as rows compared in Python)."""
        return self._store.query(sparql, use_default_graph_as_union=True).serialize(format=ox.RdfFormat.N_TRIPLES)

    def quad_count(self) -> int:
        return len(self._store)

    def dump(self, fmt, graph=None) -> bytes:
        if graph is None:
            return self._store.dump(format=fmt)
        return self._store.dump(format=fmt, from_graph=ox.NamedNode(graph))

    # -- writing ---------------------------------------------------------------------------------
    def update(self, sparql: str) -> None:
        if self.read_only:
            raise StoreError("this store was opened read-only")
        try:
            self._store.update(sparql + " ;\n" + version_bump_update(self))
        except SyntaxError as exc:
            raise _syntax_error(exc, sparql) from None
        self._store.flush()
        if self.path is not None:
            write_stamp(self.path)

    def replace_graphs(self, graphs, fmt="nt") -> None:
        self.update(replace_graphs_update(graphs))

    def bulk_load(self, graphs: Iterable[tuple[str, bytes]], fmt: ox.RdfFormat = ox.RdfFormat.N_TRIPLES) -> None:
        """Fast, non-transactional load of (graph IRI, data) pairs: only for a database not yet in use.

        They go through a few Oxigraph bulk loads of BULK_LOAD_QUADS each, not one per graph: a load
        writes a few files, and every later open pays for them (1M quads in 2,287 graphs, a load per
        graph: 9,153 files, open 0.33 s; in loads of 250k: 25 files, open 0.02 s; RocksDB's compaction
        leaves bulk-loaded files as they are).
        """
        def quads():
            for graph, data in graphs:
                name = ox.NamedNode(graph)
                for quad in ox.parse(data, format=fmt):
                    yield ox.Quad(quad.subject, quad.predicate, quad.object, name)
        # bounded loads, since the loader buffers what it is given (one load of 1M quads grew the
        # build's memory by 900 MB while loading)
        stream = quads()
        while (first := next(stream, None)) is not None:
            self._store.bulk_extend(itertools.chain([first], itertools.islice(stream, BULK_LOAD_QUADS - 1)))

    def set_version(self, version: int) -> None:
        self._store.remove_graph(META_GRAPH) if self._store.contains_named_graph(META_GRAPH) else None
        self._store.add(ox.Quad(VERSION_SUBJECT, VERSION_PREDICATE, ox.Literal(str(version), datatype=ox.NamedNode(ns.XSD + "integer")), META_GRAPH))

    def to_memory(self) -> "EmbeddedStore":
        """A copy in memory: Oxigraph answers several times faster from memory than from disk."""
        copy = ox.Store()
        # graph by graph, so only one graph's text is in flight: at 1M quads the copy peaks at 440 MB
        # this way and at 884 MB through one dump of the whole store (same time)
        for graph in [ox.DefaultGraph(), *self._store.named_graphs()]:
            data = self._store.dump(format=ox.RdfFormat.N_TRIPLES, from_graph=graph)
            if data:
                copy.load(data, format=ox.RdfFormat.N_TRIPLES, to_graph=graph)
        return EmbeddedStore(copy, self.path, read_only=True)

    @property
    def engine(self) -> ox.Store:
        """The pyoxigraph store underneath, for work that changes a copy and puts it back itself
        (graph/validate.py's in-place check); it bypasses `read_only`."""
        return self._store

    def replay(self, sparql: str) -> None:
        """Apply a write already committed to the store this copy was made from, as `update` applied it
        there (with its version bump): a read-only copy in memory kept current without copying it again."""
        self._store.update(sparql + " ;\n" + version_bump_update(self))

    def copy_to_memory(self) -> ox.Store:
        """Every quad, in a new Oxigraph store in memory (one N-Quads dump): scratch space for work
        that must not touch this store, such as an update checked before it is applied."""
        scratch = ox.Store()
        scratch.bulk_load(self._store.dump(format=ox.RdfFormat.N_QUADS), format=ox.RdfFormat.N_QUADS)
        return scratch

    def backup(self, target: Path | str) -> None:
        """A consistent copy of the database in `target` (RocksDB's checkpoint: hard links, cheap)."""
        self._store.backup(str(target))

    def flush(self):
        self._store.flush()

    def close(self) -> None:
        if self._store is not None and self.path is not None and not self.read_only:
            self._store.flush()
        self._store = None


class RemoteStore(Store):
    """Any SPARQL 1.1 endpoint (Fuseki, Virtuoso, GraphDB, Oxigraph server).

    Our queries read the default graph as the union of the named graphs. Engines differ: Virtuoso and
    GraphDB read it so as they ship; Oxigraph, Fuseki and others keep a default graph of its own,
    empty after loading an N-Quads export, so every query answered nothing. The first query finds out
    which (see `_union`) and asks accordingly; an endpoint without our data is an error, not an empty
    answer.
    """

    # how long what `_union` found is trusted: the data and its graphs can change behind our back
    # (server/backend.py likewise refreshes remote answers each minute)
    CHECK_SECONDS = 60.0

    def __init__(self, query_url: str, update_url: str | None = None, timeout: float = 60.0,
                 auth: str | None = None, union_default_graph: bool | None = None):
        self.query_url = query_url
        self.update_url = update_url
        self.timeout = timeout
        self.auth = auth
        self.description = f"remote endpoint {query_url}"
        # None: find out; True: the endpoint's default graph is the union already; False: name every
        # graph in each request (default-graph-uri and named-graph-uri), whatever the engine does
        self.union_default_graph = union_default_graph
        self._union_params: list[tuple[str, str]] | None = None
        self.names_every_graph = False  # what `_union` found: each query then lists the graphs afresh
        self._union_expires = 0.0

    def _request(self, url: str, body: bytes, content_type: str, accept: str) -> bytes:
        headers = {"Content-Type": content_type, "Accept": accept, "User-Agent": "wsiskg"}
        if self.auth:
            headers["Authorization"] = self.auth
        request = urllib.request.Request(url, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return response.read()
        except urllib.error.HTTPError as exc:
            message = exc.read().decode("utf-8", "replace")[:2000]
            if exc.code == 400:
                raise QuerySyntaxError(message) from None
            raise StoreError(f"{url} answered {exc.code}: {message}") from None
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            raise StoreError(f"cannot reach {url}: {getattr(exc, 'reason', exc)}") from None

    def _send(self, sparql: str, params: list[tuple[str, str]], limit: int | None = None) -> Result:
        """POST the query form-encoded (Protocol 2.1.2: every engine takes it; Virtuoso 7.2 never answers
        an application/sparql-query body) and ask only for the format the query form calls for (given
        a choice, Virtuoso answers a CONSTRUCT as a table of s, p, o)."""
        kind = analyse(sparql).result_kind
        accept = "application/n-triples" if kind == "graph" else "application/sparql-results+json"
        # a form body, not the URL: naming every graph can make it far longer than a URL may be
        body = urllib.parse.urlencode([("query", sparql), *params]).encode("ascii")
        data = self._request(self.query_url, body, "application/x-www-form-urlencoded", accept)
        if not data.lstrip().startswith(b"{"):
            return read_result(ox.parse(data, format=ox.RdfFormat.N_TRIPLES), limit)
        result = read_result(ox.parse_query_results(data, format=ox.QueryResultsFormat.JSON), limit)
        if kind == "boolean" and result.kind == "solutions" and len(result.rows) == 1 and len(result.variables) == 1:
            # Virtuoso answers ASK with one row, one column (__ASK_RETVAL), holding 1 or 0
            value = result.rows[0][0]
            return Result("boolean", boolean=value is not None and value.value in ("1", "true"))
        return result

    def _union(self) -> list[tuple[str, str]]:
        """The request parameters that make the endpoint's default graph the union of its named graphs.

        The store's version triple is only in graph <meta> (every `wsiskg export` holds it): if the
        endpoint cannot see it there, it holds no data of ours; if it can, an ASK for it without GRAPH
        tells whether the default graph is the union as the engine ships, with Oxigraph's
        `union-default-graph` option, or only once every named graph is named.
        """
        if self._union_params is not None and time.monotonic() < self._union_expires:
            # the graphs are listed afresh for each query: a graph another process just wrote is in it
            return self._every_graph() if self.names_every_graph else self._union_params
        marker = f"<{VERSION_SUBJECT.value}> <{VERSION_PREDICATE.value}> ?version"
        if not self._send(f"ASK {{ GRAPH <{ns.GRAPH_META}> {{ {marker} }} }}", []).boolean:
            raise StoreError(
                f"{self.query_url} holds no wsiskg data (no store version in graph <{ns.GRAPH_META}>): load an "
                "export into it first (`wsiskg export --format nquads`; see the README, \"Pointing the server "
                "at a stock engine\")")
        tries = []  # as the engine ships; with Oxigraph's option; naming every graph (fetched only if needed)
        if self.union_default_graph is not False:
            tries.append(lambda: [])
        if self.union_default_graph is None:
            tries.append(lambda: [("union-default-graph", "true")])
        tries.append(self._every_graph)
        for make in tries:
            params = make()
            try:
                seen = self._send(f"ASK {{ {marker} }}", params).boolean
            except QuerySyntaxError:  # the engine refuses a parameter it does not know
                continue
            if seen:
                self._union_params, self.names_every_graph = params, make == self._every_graph
                self._union_expires = time.monotonic() + self.CHECK_SECONDS
                return params
        raise StoreError(f"{self.query_url} does not read its named graphs as the default graph, even when each "
                         "is named with default-graph-uri: its answers would be empty")

    def _every_graph(self) -> list[tuple[str, str]]:
        graphs = self._send("SELECT DISTINCT ?g WHERE { GRAPH ?g { } }", []).values("g")
        return [("default-graph-uri", g) for g in graphs] + [("named-graph-uri", g) for g in graphs]

    def query(self, sparql, *, default_graphs=None, named_graphs=None, limit=None, bindings=None) -> Result:
        if bindings:
            sparql = substitute_text(sparql, bindings)
        if default_graphs or named_graphs:  # the caller's dataset, as the Protocol defines it
            params = [("default-graph-uri", g) for g in default_graphs or ()]
            params += [("named-graph-uri", g) for g in named_graphs or ()]
        elif analyse(sparql).names_dataset:  # the query's own FROM / FROM NAMED
            params = []
        else:
            params = self._union()
        return self._send(sparql, params, limit)

    def update(self, sparql: str) -> None:
        if not self.update_url:
            raise StoreError("this endpoint was configured without an update URL")
        self._request(self.update_url, (sparql + " ;\n" + version_bump_update(self)).encode("utf-8"),
                      "application/sparql-update", "*/*")
        self._union_params = None  # the graphs, or the data itself, may have changed

    def replace_graphs(self, graphs, fmt="nt") -> None:
        self.update(replace_graphs_update(graphs))

    def dump(self, fmt, graph=None) -> bytes:
        where = f"GRAPH <{graph}> {{ ?s ?p ?o }}" if graph else "GRAPH ?g { ?s ?p ?o }"
        if graph:
            result = self.query(f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ {where} }}")
            return ox.serialize(result.triples, format=fmt)
        result = self.query("SELECT ?s ?p ?o ?g WHERE { GRAPH ?g { ?s ?p ?o } }")
        quads = [ox.Quad(s, p, o, g) for s, p, o, g in result.rows]
        return ox.serialize(quads, format=fmt)


# -- on-disk layout -------------------------------------------------------------------------------

def database_path(root: Path) -> Path | None:
    link = Path(root) / "current"
    if link.is_symlink() or link.exists():
        target = link.resolve()
        return target if target.exists() else None
    return None


def new_database_path(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%S") + f"-{os.getpid()}-{time.monotonic_ns() % 10**6}"
    return root / f"db-{stamp}"


STAMP_FILE = "written"


def write_stamp(root: Path) -> None:
    """Mark that the data in `root` changed (a write or a build), for readers in other processes.

    A read-only server cannot see another process's writes by itself; it compares this stamp (one
    small file read) with the one its workers and caches were filled under.
    """
    root = Path(root)
    tmp = root / f".{STAMP_FILE}-{os.getpid()}"
    tmp.write_text(f"{time.time_ns()} {os.getpid()}\n", encoding="ascii")
    os.replace(tmp, root / STAMP_FILE)


def read_stamp(root: Path) -> str | None:
    try:
        return (Path(root) / STAMP_FILE).read_text(encoding="ascii").strip()
    except OSError:
        return None


def activate_database(root: Path, db: Path) -> None:
    """Point `current` at `db` with one atomic rename, then remove databases no longer in use.

    The database being replaced is kept one generation (a running server or reader may still have
    it open); older ones go unless a process still holds their lock.
    """
    previous = database_path(root)
    tmp = root / f".current-{os.getpid()}"
    if tmp.is_symlink() or tmp.exists():
        tmp.unlink()
    tmp.symlink_to(db.name)
    os.replace(tmp, root / "current")
    write_stamp(root)
    fsync_dir(root)
    for old in root.glob("db-*"):
        if old != db and old != previous and not _locked(old):
            shutil.rmtree(old, ignore_errors=True)


def _locked(db: Path) -> bool:
    """Whether another process has this RocksDB database open for writing."""
    import fcntl
    try:
        fd = os.open(db / "LOCK", os.O_RDWR)
    except OSError:
        return False
    try:
        fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        fcntl.lockf(fd, fcntl.LOCK_UN)
        return False
    except OSError:
        return True
    finally:
        os.close(fd)


def open_store(root: Path | None = None, endpoint: str | None = None, read_only: bool = False,
               update_endpoint: str | None = None) -> Store:
    """The store the user asked for: a remote endpoint, or the embedded one at `root`."""
    if endpoint:
        return RemoteStore(endpoint, update_endpoint)
    from .paths import default_store_path
    return EmbeddedStore.open(Path(root) if root else default_store_path(), read_only=read_only)
