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

MARKER_RE = re.compile(r"^([ \t]*)#@ word-index[ \t]*$", re.M)
WORDS, LIMIT, OFFSET = "_words_string", "__limit_integer", "__offset_integer"  # search.rq's parameters
MAX_WORDS = 8  # the query reads the first 8 words
MAX_ROWS = 2000
# a run of letters and digits, as between the query's separators `[^\p{L}\p{N}]+` (Python's \w is a letter,
# a digit or "_", in Unicode)
WORD = re.compile(r"[^\W_]+")
LAST_CHARACTER = "\U0010ffff"

# the rows search.rq ranks: the same patterns as its candidates and look-ups
ROWS_QUERY = f"""
SELECT ?statement ?text ?file ?line WHERE {{
  ?statement <{ns.WSIS}text> ?text .
  OPTIONAL {{ ?statement <{ns.PROV}wasDerivedFrom> ?document . OPTIONAL {{ ?document <{ns.DCTERMS}identifier> ?file . }} }}
  OPTIONAL {{ ?statement <{ns.WSIS}sourceLine> ?line . }}
}}"""


class Unsuitable(ValueError):
    """Data the index cannot rank exactly as the query does (the query then runs as written)."""


def words_of(text: str) -> list[str]:
    """A text's words as the query sees them: lower case, split at everything but letters and digits."""
    return WORD.findall(text.lower())


def searched(words: str) -> list[str]:
    """The words a search counts: of the first 8, those of 2 characters or more that are no repeat."""
    first = words_of(words)[:MAX_WORDS]
    return [w for i, w in enumerate(first) if len(w) >= 2 and w not in first[:i]]


class WordIndex:
    def __init__(self, rows):
        """rows: (statement, text, file, line) terms, as ROWS_QUERY gives them (file and line may be None)."""
        statements, keys, postings = [], [], {}
        for i, (statement, text, file, line) in enumerate(rows):
            if not isinstance(statement, ox.NamedNode):
                raise Unsuitable("a statement that is not an IRI")
            if file is not None and not (isinstance(file, ox.Literal) and file.datatype.value == ns.XSD + "string"):
                raise Unsuitable("a file name that is not a plain string")
            if line is not None and not (isinstance(line, ox.Literal) and line.datatype.value == ns.XSD + "integer"):
                raise Unsuitable("a line that is not an integer")
            statements.append(statement)
            keys.append(("" if file is None else file.value, 0 if line is None else int(line.value), statement.value))
            for word in set(words_of(text.value)):
                postings.setdefault(word, []).append(i)
        self.statements = statements
        self.rank = np.empty(len(keys), dtype=np.int64)  # each row's place in the query's tie-break order
        self.rank[sorted(range(len(keys)), key=keys.__getitem__)] = np.arange(len(keys))
        self.vocabulary = sorted(postings)
        lengths = [len(postings[w]) for w in self.vocabulary]
        self.starts = np.concatenate([[0], np.cumsum(lengths, dtype=np.int64)])
        self.rows = np.fromiter((r for w in self.vocabulary for r in postings[w]), dtype=np.int64,
                                count=int(self.starts[-1]))

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
        chosen = {}
        for row in candidates[order[:count]]:
            chosen.setdefault(self.statements[row].value, self.statements[row])
        return list(chosen.values())


def fill(sparql: str, bindings: dict | None, index) -> str:
    """The query with its `#@ word-index` line replaced by the page's statements; unchanged when it has
    none, its parameters are not bound (a text posted to /sparql), or the index cannot serve it.
    `index` is called for the index (built on first use per version of the data), or None."""
    marker = MARKER_RE.search(sparql)
    if marker is None or not bindings or WORDS not in bindings:
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
    page = words.top(bindings[WORDS].value, count)
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
