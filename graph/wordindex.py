"""The word index: `search`'s ranking, kept by a server worker beside its copy of the store, so a
search reads the statements of its page only.

`queries/search.rq` ranks every statement whose text has a word starting with one of the words
searched. Written in SPARQL alone it reads and normalises every statement's text: 400-460 ms at 1M
triples, whatever the words. The index holds, once per version of the data:
- every (statement, text, file, line) row that the query's own patterns give (`ROWS_QUERY`);
- the words of each text, normalised as the query normalises them (lower case; every run of
  characters that are not letters or digits is one separator), as a sorted vocabulary with the rows
  of each word, so the words starting with a given one are one slice;
- the rows' order by file, line and statement, the query's tie-break.

For a search it ranks the rows as the query does (words matched, then whole words, then that order)
and gives the statements of the first offset + limit rows. The worker writes them where the query
has its `#@ word-index` line, as `VALUES ?statement { ... }`, and the engine ranks those alone. The
page is the same: every row of the full ranking's first offset + limit is a row of one of them.
Anywhere else (another engine, `/sparql`, the CLI) the line is a comment and the query reads every
text; the tests compare the two.

`statement-provenance` finds statements by a piece of their text (lower-cased, anywhere, in the
order of file, line and statement) and has the line too (`#@ word-index text`): the index keeps each
row's text lower-cased for it, and its order.

The index is used only when it can be exact: statements are IRIs, files plain strings, lines
integers; the page is at most `MAX_ROWS` deep (a longer VALUES list costs more than it saves).
Otherwise the query runs as written.
"""
from __future__ import annotations

import re
from bisect import bisect_left

import numpy as np
import pyoxigraph as ox

from . import namespaces as ns
from .summaries import NOTHING  # an empty group: a join with it ends at once

# `#@ word-index words`: search.rq's ranking; `#@ word-index text`: statement-provenance.rq's piece of text
MARKER_RE = re.compile(r"^([ \t]*)#@ word-index (words|text)[ \t]*$", re.M)
WORDS, TEXT, STATEMENT = "_words_string", "__text_string", "__statement_iri"  # the two queries' parameters
LIMIT, OFFSET = "__limit_integer", "__offset_integer"
MAX_WORDS = 8  # the query reads the first 8 words
MAX_ROWS = 2000
# a run of letters and digits, as between the query's separators `[^\p{L}\p{N}]+` (Python's \w is a letter,
# a digit or "_", in Unicode)
WORD = re.compile(r"[^\W_]+")
LAST_CHARACTER = "\U0010ffff"

# the rows the two queries order: the same patterns as their candidates and look-ups (statement-provenance
# takes the rows with a document)
ROWS_QUERY = f"""
SELECT ?statement ?text ?document ?file ?line WHERE {{
  ?statement <{ns.WSIS}text> ?text .
  OPTIONAL {{ ?statement <{ns.PROV}wasDerivedFrom> ?document . OPTIONAL {{ ?document <{ns.DCTERMS}identifier> ?file . }} }}
  OPTIONAL {{ ?statement <{ns.WSIS}sourceLine> ?line . }}
}}"""


class Unsuitable(ValueError):
    """Data the index cannot rank exactly as the query does (the query then runs as written)."""


def words_of(text: str) -> list[str]:
    """A text's words as search sees them: lower case, split at everything but letters and digits."""
    return WORD.findall(text.lower())


def searched(words: str) -> list[str]:
    """The words a search counts: of the first 8, those of 2 characters or more that are no repeat."""
    first = words_of(words)[:MAX_WORDS]
    return [w for i, w in enumerate(first) if len(w) >= 2 and w not in first[:i]]


class WordIndex:
    def __init__(self, rows):
        """rows: (statement, text, document, file, line) terms, as ROWS_QUERY gives them (all but the first
        two may be None)."""
        statements, keys, keys_unbound_first, postings = [], [], [], {}
        self.lowered, self.documented = [], []
        for i, (statement, text, document, file, line) in enumerate(rows):
            if not isinstance(statement, ox.NamedNode):
                raise Unsuitable("a statement that is not an IRI")
            if file is not None and not (isinstance(file, ox.Literal) and file.datatype.value == ns.XSD + "string"):
                raise Unsuitable("a file name that is not a plain string")
            if line is not None and not (isinstance(line, ox.Literal) and line.datatype.value == ns.XSD + "integer"):
                raise Unsuitable("a line that is not an integer")
            statements.append(statement)
            lowered = text.value.lower()
            self.lowered.append(lowered)
            self.documented.append(document is not None)
            file_key = None if file is None else file.value
            line_key = None if line is None else int(line.value)
            # search: ORDER BY COALESCE(?file, "") COALESCE(?line, 0) ?statement
            keys.append((file_key or "", line_key or 0, statement.value))
            # statement-provenance: ORDER BY ?file ?line ?statement (SPARQL puts unbound first)
            keys_unbound_first.append((file_key is not None, file_key or "", line_key is not None, line_key or 0,
                                       statement.value))
            for word in set(WORD.findall(lowered)):
                postings.setdefault(word, []).append(i)
        self.statements = statements
        self.rank = _places(keys)  # each row's place in search's tie-break order
        self.order = _places(keys_unbound_first)  # and in statement-provenance's order
        self.vocabulary = sorted(postings)
        lengths = [len(postings[w]) for w in self.vocabulary]
        self.starts = np.concatenate([[0], np.cumsum(lengths, dtype=np.int64)])
        self.rows = np.fromiter((r for w in self.vocabulary for r in postings[w]), dtype=np.int64,
                                count=int(self.starts[-1]))

    def containing(self, piece: str, count: int) -> list[ox.NamedNode]:
        """statement-provenance's first `count` rows of statements whose text has the piece (any case)."""
        needle = piece.lower()
        rows = [i for i, text in enumerate(self.lowered) if needle in text and self.documented[i]]
        return self._distinct(sorted(rows, key=self.order.__getitem__)[:count])

    def _distinct(self, rows) -> list[ox.NamedNode]:
        """The statements of these rows, in order, each once (a statement with two files has two rows)."""
        chosen = {}
        for row in rows:
            chosen.setdefault(self.statements[row].value, self.statements[row])
        return list(chosen.values())

    @classmethod
    def from_store(cls, store) -> "WordIndex":
        return cls(store.query(ROWS_QUERY).rows)

    def _hits(self, first: int, last: int) -> np.ndarray:
        hit = np.zeros(len(self.statements), dtype=np.int64)
        hit[self.rows[self.starts[first]:self.starts[last]]] = 1
        return hit

    def top(self, words: str, count: int) -> list[ox.NamedNode]:
        """The statements of the first `count` rows of the query's ranking, in that order, each once."""
        matched = np.zeros(len(self.statements), dtype=np.int64)
        whole = np.zeros(len(self.statements), dtype=np.int64)
        for word in searched(words):
            first = bisect_left(self.vocabulary, word)
            last = bisect_left(self.vocabulary, word + LAST_CHARACTER, first)
            matched += self._hits(first, last)  # a word of the text starts with it
            if first < last and self.vocabulary[first] == word:
                whole += self._hits(first, first + 1)  # a word of the text is it
        candidates = np.flatnonzero(matched)
        order = np.lexsort((self.rank[candidates], -whole[candidates], -matched[candidates]))
        return self._distinct(candidates[order[:count]])


def _places(keys: list[tuple]) -> np.ndarray:
    """Each row's place when the rows are sorted by their keys."""
    places = np.empty(len(keys), dtype=np.int64)
    places[sorted(range(len(keys)), key=keys.__getitem__)] = np.arange(len(keys))
    return places


def fill(sparql: str, bindings: dict | None, index) -> str:
    """The query with its `#@ word-index` line replaced by the page's statements; unchanged when it has
    none, its parameters are not bound (a text posted to /sparql), or the index cannot serve it.
    `index` is called for the index (built on first use per version of the data), or None."""
    marker = MARKER_RE.search(sparql)
    if marker is None or not bindings:
        return sparql
    searching = marker.group(2) == "words"
    wanted = bindings.get(WORDS if searching else TEXT)
    if wanted is None or (not searching and STATEMENT in bindings):  # (a statement named: looked up, not found)
        return sparql
    try:
        count = int(bindings[LIMIT].value) + int(bindings[OFFSET].value)
    except (KeyError, ValueError):
        return sparql
    if count > MAX_ROWS:
        return sparql
    words = index()
    if words is None:
        return sparql
    page = words.top(wanted.value, count) if searching else words.containing(wanted.value, count)
    # no statement: an empty group (Oxigraph joins with an empty VALUES only after reading every text)
    written = f"VALUES ?statement {{ {' '.join(map(str, page))} }}" if page else NOTHING
    return f"{sparql[:marker.start()]}{marker.group(1)}{written}{sparql[marker.end():]}"


class Kept:
    """One word index per version of the data (a key), built when a search first needs it."""

    def __init__(self):
        self.key, self.index = None, None

    def get(self, store, key) -> WordIndex | None:
        if key is None:
            return None
        if self.key != key:
            self.key, self.index = None, None  # (a failed build is not kept as this key's)
            try:
                index = WordIndex.from_store(store)
            except Unsuitable:
                index = None
            self.key, self.index = key, index
        return self.index
