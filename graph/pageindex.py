"""The page index: the statements of a named query's page, found by a server worker beside its copy
of the store, so the engine reads those statements only.

Three named queries choose a page of statements from all of them, and written in SPARQL alone they
read every statement to do it (at 1M triples: `search` 400-460 ms, `uptake` 480 ms,
`statement-provenance` 140 ms). Each marks the place with a `#@ page-index <kind>` line. A worker
keeps, once per version of the data, what those queries order the statements by, finds the
statements of the first offset + limit rows of the query's order, and writes them at that line as
`VALUES ?statement { ... }`; the engine then orders those alone. The page is the same: every row of
the full order's first offset + limit is a row of one of them. Anywhere else (another engine,
`/sparql`, the CLI) the line is a comment and the query reads every statement; the tests compare
the two.

- `words` (search): every (statement, text, document, file, line) row of the query's patterns
  (`ROWS_QUERY`); each text's words, normalised as the query normalises them (lower case; every run
  of characters that are not letters or digits is one separator), as a sorted vocabulary with the
  rows of each word, so the words starting with a given one are one slice; the rows' order by file,
  line and statement. A search ranks the rows as the query does: words matched, whole words, order.
- `text` (statement-provenance, a piece of text): the same rows, each text lower-cased; the rows with
  a document whose text has the piece, in order of file, line and statement (unbound first).
- `title` (uptake): the rows of its page's own pattern (`TITLED_ROWS_QUERY`), in order of document
  title, line and statement; its filters (a document, an Action Line, a stakeholder group) are
  applied to them, the last two by asking the store for the statements that have the link.

The index is used only when it can be exact: statements are IRIs, files plain strings, lines
integers; the page is at most `MAX_ROWS` deep (a longer VALUES list costs more than it saves).
Otherwise the query runs as written.
"""
from __future__ import annotations

import heapq
import re
from array import array
from bisect import bisect_left, bisect_right
from itertools import accumulate, islice

import pyoxigraph as ox

from . import namespaces as ns
from .summaries import NOTHING  # an empty group: a join with it ends at once

MARKER_RE = re.compile(r"^([ \t]*)#@ page-index (words|text|title)[ \t]*$", re.M)
# the queries' parameters
WORDS, TEXT, STATEMENT = "_words_string", "__text_string", "__statement_iri"
DOCUMENT, ACTION_LINE, GROUP = "__document_iri", "__actionLine_iri", "__stakeholderGroup_iri"
LIMIT, OFFSET = "__limit_integer", "__offset_integer"
MAX_WORDS = 8  # the query reads the first 8 words
MAX_ROWS = 2000
# a run of letters and digits, as between the query's separators `[^\p{L}\p{N}]+` (Python's \w is a letter,
# a digit or "_", in Unicode)
WORD = re.compile(r"[^\W_]+")
LAST_CHARACTER = "\U0010ffff"
SEPARATOR = "\x00"  # between the texts joined in one string

# the rows the two queries order: the same patterns as their candidates and look-ups (statement-provenance
# takes the rows with a document)
ROWS_QUERY = f"""
SELECT ?statement ?text ?document ?file ?line WHERE {{
  ?statement <{ns.WSIS}text> ?text .
  OPTIONAL {{ ?statement <{ns.PROV}wasDerivedFrom> ?document . OPTIONAL {{ ?document <{ns.DCTERMS}identifier> ?file . }} }}
  OPTIONAL {{ ?statement <{ns.WSIS}sourceLine> ?line . }}
}}"""


# uptake's page: its pattern without its filters (`title` is always bound)
TITLED_ROWS_QUERY = f"""
SELECT ?statement ?document ?line ?title WHERE {{
  ?statement <{ns.WSIS}text> ?anyText ; <{ns.PROV}wasDerivedFrom> ?document .
  OPTIONAL {{ ?statement <{ns.WSIS}sourceLine> ?line . }}
  OPTIONAL {{ ?document <{ns.DCTERMS}title> ?t0 . }}
  BIND(COALESCE(STR(?t0), STR(?document)) AS ?title)
}}"""
# uptake's filters by a link (its EXISTS, asked once for the statements that have every link given)
LINK_FILTERS = ((ACTION_LINE, ns.WSIS + "addressesActionLine"), (GROUP, ns.WSIS + "voicedBy"))


class Unsuitable(ValueError):
    """Data the index cannot rank exactly as the query does (the query then runs as written)."""


def words_of(text: str) -> list[str]:
    """A text's words as search sees them: lower case, split at everything but letters and digits."""
    return WORD.findall(text.lower())


def searched(words: str) -> list[str]:
    """The words a search counts: of the first 8, those of 2 characters or more that are no repeat."""
    first = words_of(words)[:MAX_WORDS]
    return [w for i, w in enumerate(first) if len(w) >= 2 and w not in first[:i]]


class PageIndex:
    def __init__(self, rows):
        """rows: (statement, text, document, file, line) terms, as ROWS_QUERY gives them (all but the first
        two may be None)."""
        statements, keys, keys_unbound_first, postings = [], [], [], {}
        self.lowered, self.documented = [], []
        for i, (statement, text, document, file, line) in enumerate(rows):
            line_key = _line_key(statement, line)
            if file is not None and not (isinstance(file, ox.Literal) and file.datatype.value == ns.XSD + "string"):
                raise Unsuitable("a file name that is not a plain string")
            statements.append(statement)
            lowered = text.value.lower()
            self.lowered.append(lowered)
            self.documented.append(document is not None)
            file_key = None if file is None else file.value
            # search: ORDER BY COALESCE(?file, "") COALESCE(?line, 0) ?statement
            keys.append((file_key or "", line_key or 0, statement.value))
            # statement-provenance: ORDER BY ?file ?line ?statement (SPARQL puts unbound first)
            keys_unbound_first.append((file_key is not None, file_key or "", line_key is not None, line_key or 0,
                                       statement.value))
            for word in set(WORD.findall(lowered)):
                postings.setdefault(word, []).append(i)
        self.statements = statements
        self.rank = _places(keys)  # each row's place in search's tie-break order
        # statement-provenance's order, and the texts in it as one string, so that finding a piece is a
        # search in C (a text the piece is not in costs nothing in Python: 16 -> 2 ms at 1M)
        self.in_order = sorted(range(len(keys)), key=keys_unbound_first.__getitem__)
        self.text_starts, self.joined, at = [], SEPARATOR.join(self.lowered[i] for i in self.in_order), 0
        for i in self.in_order:
            self.text_starts.append(at)
            at += len(self.lowered[i]) + len(SEPARATOR)
        self.vocabulary = sorted(postings)
        lengths = [len(postings[w]) for w in self.vocabulary]
        self.starts = [0, *accumulate(lengths)]
        self.rows = array("q", (r for w in self.vocabulary for r in postings[w]))

    def containing(self, piece: str, count: int) -> list[ox.NamedNode]:
        """statement-provenance's first `count` rows of statements whose text has the piece (any case)."""
        needle, rows = piece.lower(), []
        if SEPARATOR in needle:  # (no text is found across two: the slow way, text by text)
            rows = [i for i in self.in_order if needle in self.lowered[i] and self.documented[i]][:count]
            return self._distinct(rows)
        at = self.joined.find(needle)  # the texts in the query's order, so the page's rows are found first
        while at >= 0 and len(rows) < count:
            place = bisect_right(self.text_starts, at) - 1
            row = self.in_order[place]
            if self.documented[row]:
                rows.append(row)
            at = self.joined.find(needle, self.text_starts[place + 1]) if place + 1 < len(self.in_order) else -1
        return self._distinct(rows)

    def _distinct(self, rows) -> list[ox.NamedNode]:
        """The statements of these rows, in order, each once (a statement with two files has two rows)."""
        return _distinct(self.statements[row] for row in rows)

    @classmethod
    def from_store(cls, store) -> "PageIndex":
        return cls(store.query(ROWS_QUERY).rows)

    def _hits(self, first: int, last: int) -> set[int]:
        """The rows of the words from `first` to `last` in the vocabulary."""
        return set(self.rows[self.starts[first]:self.starts[last]])

    def top(self, words: str, count: int) -> list[ox.NamedNode]:
        """The statements of the first `count` rows of the query's ranking, in that order, each once."""
        matched, whole = {}, {}
        for word in searched(words):
            first = bisect_left(self.vocabulary, word)
            last = bisect_left(self.vocabulary, word + LAST_CHARACTER, first)
            for row in self._hits(first, last):  # a word of the text starts with it
                matched[row] = matched.get(row, 0) + 1
            if first < last and self.vocabulary[first] == word:
                for row in self._hits(first, first + 1):  # a word of the text is it
                    whole[row] = whole.get(row, 0) + 1
        rank = self.rank
        return self._distinct(heapq.nsmallest(count, matched, key=lambda r: (-matched[r], -whole.get(r, 0), rank[r])))


class TitledRows:
    """uptake's page rows, in its order (document title, line, statement; an unbound line first)."""

    def __init__(self, rows):
        keyed = []
        for statement, document, line, title in rows:
            line_key = _line_key(statement, line)
            keyed.append(((title.value, line_key is not None, line_key or 0, statement.value), statement, document))
        keyed.sort(key=lambda row: row[0])
        self.rows = [(statement, document) for _, statement, document in keyed]

    @classmethod
    def from_store(cls, store) -> "TitledRows":
        return cls(store.query(TITLED_ROWS_QUERY).rows)

    def first(self, count: int, document=None, kept: set | None = None) -> list[ox.NamedNode]:
        """The statements of the first `count` rows of the document (or any) whose statement is kept (or any)."""
        rows = (statement for statement, row_document in self.rows
                if (document is None or row_document == document) and (kept is None or statement.value in kept))
        return _distinct(islice(rows, count))


KINDS = {"words": PageIndex, "text": PageIndex, "title": TitledRows}  # what each kind of page is found in
PART = {"words": "statements", "text": "statements", "title": "titled"}  # (words and text share one)


def _line_key(statement, line) -> int | None:
    """A row's line as a number (None: unbound), once the row is one the index can order exactly."""
    if not isinstance(statement, ox.NamedNode):
        raise Unsuitable("a statement that is not an IRI")
    if line is not None and not (isinstance(line, ox.Literal) and line.datatype.value == ns.XSD + "integer"):
        raise Unsuitable("a line that is not an integer")
    return None if line is None else int(line.value)


def _distinct(statements) -> list[ox.NamedNode]:
    """The statements in order, each once."""
    chosen = {}
    for statement in statements:
        chosen.setdefault(statement.value, statement)
    return list(chosen.values())


def _places(keys: list[tuple]) -> array:
    """Each row's place when the rows are sorted by their keys."""
    places = array("q", bytes(8 * len(keys)))
    for place, row in enumerate(sorted(range(len(keys)), key=keys.__getitem__)):
        places[row] = place
    return places


def _linked(store, bindings: dict) -> set[str] | None:
    """The statements that have every link uptake's parameters ask for; None when none is asked."""
    patterns = [f"?statement <{predicate}> {bindings[name]} ." for name, predicate in LINK_FILTERS if name in bindings]
    if not patterns:
        return None
    return {row[0].value for row in store.query(f"SELECT DISTINCT ?statement WHERE {{ {' '.join(patterns)} }}").rows}


def fill(sparql: str, bindings: dict | None, store, index) -> str:
    """The query with its `#@ page-index` line replaced by the page's statements; unchanged when it has
    none, its parameters are not bound (a text posted to /sparql), or the index cannot serve it.
    `index(kind)` gives what the kind of page is found in (built on first use per version), or None."""
    marker = MARKER_RE.search(sparql)
    if marker is None or not bindings:
        return sparql
    kind = marker.group(2)
    wanted = bindings.get({"words": WORDS, "text": TEXT}.get(kind, ""))
    if kind != "title" and wanted is None:
        return sparql
    if kind == "text" and STATEMENT in bindings:  # a statement named: looked up, not found
        return sparql
    try:
        count = int(bindings[LIMIT].value) + int(bindings[OFFSET].value)
    except (KeyError, ValueError):
        return sparql
    if count > MAX_ROWS:
        return sparql
    found = index(kind)
    if found is None:
        return sparql
    if kind == "words":
        page = found.top(wanted.value, count)
    elif kind == "text":
        page = found.containing(wanted.value, count)
    else:
        page = found.first(count, bindings.get(DOCUMENT), _linked(store, bindings))
    # no statement: an empty group (Oxigraph joins with an empty VALUES only after reading every text)
    written = f"VALUES ?statement {{ {' '.join(map(str, page))} }}" if page else NOTHING
    return f"{sparql[:marker.start()]}{marker.group(1)}{written}{sparql[marker.end():]}"


class Kept:
    """What the pages are found in, for one version of the data (a key), each part built when first needed."""

    def __init__(self):
        self.key, self.parts = None, {}

    def get(self, store, key, kind: str):
        if key is None:
            return None
        if self.key != key:
            self.key, self.parts = key, {}
        part = PART[kind]
        if part not in self.parts:
            try:
                self.parts[part] = KINDS[kind].from_store(store)
            except Unsuitable:
                self.parts[part] = None
        return self.parts[part]
