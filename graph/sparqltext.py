"""What the store and the server need to know about a SPARQL text before running it, read by a small lexer.

A real tokeniser (comments, strings, IRIs, prefixed names) rather than regular expressions over
the raw text: `#` lines are comments only outside IRIs and strings, and a word such as "address"
in a comment header is never taken for the `ADD` update (SPARQLWrapper's mistake, docs/traps.md #1).

It answers five questions: is this a query or an update, which query form is it, does it name its
own dataset (`FROM` / `FROM NAMED`), which remote endpoints does it call (`SERVICE`, and `LOAD`
in updates), and does it hold relative IRIs (which need a base)? It also gives the tokens
themselves, so parameters are substituted only where a variable really stands (store.substitute_text). It does not check the grammar; the engine does that and reports line and column.
"""
from __future__ import annotations

import re
import urllib.parse
from dataclasses import dataclass, field
from functools import lru_cache

_TOKEN = re.compile(r"""
    (?P<ws>\s+)
  | (?P<comment>\#[^\r\n]*)
  | (?P<iri><[^<>"{}|^`\\\x00-\x20]*>)
  | (?P<string>'''(?:[^'\\]|\\.|'(?!''))*'''|\"\"\"(?:[^"\\]|\\.|"(?!""))*\"\"\"
               |'(?:[^'\\\r\n]|\\.)*'|"(?:[^"\\\r\n]|\\.)*")
  | (?P<var>[?$][A-Za-z0-9_\u00B7\u00C0-\uFFFF]+)
  | (?P<pname>(?:[A-Za-z\u00C0-\uFFFF][\w.\-\u00B7\u00C0-\uFFFF]*)?:(?:[\w\-\u00B7\u00C0-\uFFFF:%\\]
              (?:[\w.\-\u00B7\u00C0-\uFFFF:%\\]*[\w\-\u00B7\u00C0-\uFFFF:%\\])?)?)
  | (?P<word>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<other>.)
""", re.VERBOSE | re.DOTALL)

QUERY_FORMS = {"SELECT", "ASK", "CONSTRUCT", "DESCRIBE"}
UPDATE_KEYWORDS = {"INSERT", "DELETE", "LOAD", "CLEAR", "CREATE", "DROP", "COPY", "MOVE", "ADD", "WITH"}


@dataclass
class Token:
    kind: str
    text: str
    start: int = 0


@dataclass
class Analysis:
    """What the lexer learnt about one request text."""

    operation: str  # "query" | "update" | "unknown"
    form: str | None  # SELECT | ASK | CONSTRUCT | DESCRIBE for queries
    services: list[str | None] = field(default_factory=list)  # IRIs called; None for `SERVICE ?var`
    loads: list[str] = field(default_factory=list)  # IRIs an update would LOAD
    names_dataset: bool = False  # a FROM or FROM NAMED clause: the query's own dataset, not our union
    relative_iris: bool = False  # an IRI that no BASE makes absolute: it needs the endpoint's URL as base

    @property
    def remote_targets(self) -> list[str | None]:
        return self.services + self.loads

    @property
    def result_kind(self) -> str:
        """The kind of `Result` the query will give (see graph/store.py)."""
        return {"ASK": "boolean", "CONSTRUCT": "graph", "DESCRIBE": "graph"}.get(self.form or "", "solutions")


def tokens(text: str) -> list[Token]:
    """Significant tokens (no whitespace, no comments)."""
    out = []
    for match in _TOKEN.finditer(text):
        kind = match.lastgroup
        if kind in ("ws", "comment"):
            continue
        out.append(Token(kind, match.group(), match.start()))
    return out


_ABSOLUTE = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:")


def _resolve(iri: str, base: str | None) -> str:
    try:
        return urllib.parse.urljoin(base, iri) if base else iri
    except ValueError:  # a base such as <http://[x/> that urllib cannot read: the guard refuses what is left
        return iri


# a text asked about again and again (a named query's, on every request) is remembered; a longer one is not
# kept, so clients' megabyte queries cannot fill memory
REMEMBERED_TEXT_CHARS = 65536


def analyse(text: str) -> Analysis:
    """What the text is and does; remembered for recent texts up to 64 kB (every request of a named
    query asks about the same text, and reading it costs up to a few ms)."""
    return _analyse_remembered(text) if len(text) <= REMEMBERED_TEXT_CHARS else _analyse(text)


def _analyse(text: str) -> Analysis:
    toks = tokens(text)
    prefixes: dict[str, str] = {}
    base: str | None = None
    operation, form = "unknown", None
    services: list[str | None] = []
    loads: list[str] = []
    names_dataset = False
    relative = False

    def is_relative(tok: Token) -> bool:
        return not _ABSOLUTE.match(_resolve(tok.text[1:-1], base))
    def term_iri(tok: Token) -> str | None:
        if tok.kind == "iri":
            return _resolve(tok.text[1:-1], base)
        if tok.kind == "pname":
            prefix, _, local = tok.text.partition(":")
            if prefix in prefixes:
                return prefixes[prefix] + re.sub(r"\\(.)", r"\1", local)
            return "unresolved:" + tok.text
        return None

    i = 0
    while i < len(toks):
        tok = toks[i]
        word = tok.text.upper() if tok.kind == "word" else None
        if tok.kind == "iri" and is_relative(tok):
            relative = True
        if word == "BASE" and i + 1 < len(toks) and toks[i + 1].kind == "iri":
            relative = relative or is_relative(toks[i + 1])
            base = _resolve(toks[i + 1].text[1:-1], base)
            i += 2
            continue
        if word == "PREFIX" and i + 2 < len(toks) and toks[i + 2].kind == "iri":
            name = toks[i + 1].text
            relative = relative or is_relative(toks[i + 2])
            if name.endswith(":"):
                prefixes[name[:-1]] = _resolve(toks[i + 2].text[1:-1], base)
            i += 3
            continue
        if operation == "unknown" and word:
            if word in QUERY_FORMS:
                operation, form = "query", word
            elif word in UPDATE_KEYWORDS:
                operation = "update"
        if word == "FROM" and operation == "query":
            names_dataset = True
        if word == "SERVICE":
            j = i + 1
            if j < len(toks) and toks[j].kind == "word" and toks[j].text.upper() == "SILENT":
                j += 1
            target = toks[j] if j < len(toks) else None
            services.append(term_iri(target) if target is not None else None)
        if word == "LOAD":
            j = i + 1
            if j < len(toks) and toks[j].kind == "word" and toks[j].text.upper() == "SILENT":
                j += 1
            if j < len(toks):
                iri = term_iri(toks[j])
                if iri:
                    loads.append(iri)
        i += 1
    return Analysis(operation, form, services, loads, names_dataset, relative)


_analyse_remembered = lru_cache(maxsize=256)(_analyse)


# -- nesting depth ---------------------------------------------------------------------------------
# Oxigraph's parsers and evaluator recurse once per level of nesting: about 3,000 levels of `{`, `(`
# or `!` overflow a worker's stack (the worker dies, the client got a 500). Every text is measured
# here before it reaches the engine; the one limit for queries, updates and posted RDF is MAX_NESTING.
MAX_NESTING = 200
_OPEN, _CLOSE = {"{", "(", "["}, {"}", ")", "]"}
# prefix operators that nest their operand: `!!!x`, `- - -x`, `^^^p` (inverse paths)
_UNARY = {"!", "-", "+", "^"}


class TooDeep(ValueError):
    """A text nested deeper than MAX_NESTING; the message says how deep, where, and the limit."""

    def __init__(self, what: str, depth: int, line: int, column: int, limit: int = MAX_NESTING):
        self.depth, self.line, self.column, self.limit = depth, line, column, limit
        super().__init__(f"the {what} is nested {depth} levels deep at line {line}, column {column} "
                         f"(brackets, parentheses and prefix operators such as ! count); the limit is {limit}")


def nesting_depth(text: str) -> tuple[int, int]:
    """The deepest nesting of a SPARQL (or Turtle) text and the offset where it is reached: open
    brackets `{ ( [` plus a run of prefix operators `! - + ^` (strings, IRIs and comments skipped)."""
    depth = run = deepest = where = 0
    for tok in tokens(text):
        if tok.kind == "other" and tok.text in _UNARY:
            run += 1
        else:
            run = 0
            if tok.kind == "other" and tok.text in _OPEN:
                depth += 1
            elif tok.kind == "other" and tok.text in _CLOSE:
                depth = max(0, depth - 1)
        if depth + run > deepest:
            deepest, where = depth + run, tok.start
    return deepest, where


_nesting_remembered = lru_cache(maxsize=256)(nesting_depth)


def check_nesting(text: str, what: str = "query", limit: int = MAX_NESTING) -> None:
    """Raise `TooDeep` when `text` nests deeper than `limit`."""
    # every request of a named query checks the same text: remembered, as analyse() does (0.3-0.5 ms of
    # a small answer's 2 ms in process); a long text is not kept
    depth, where = _nesting_remembered(text) if len(text) <= REMEMBERED_TEXT_CHARS else nesting_depth(text)
    if depth > limit:
        line = text.count("\n", 0, where) + 1
        raise TooDeep(what, depth, line, where - (text.rfind("\n", 0, where) + 1) + 1, limit)


def expand_prefixes(text: str) -> str:
    """The text with its PREFIX declarations dropped and every prefixed name written as a full IRI.

    Oxigraph reads a prologue only at the start of an update, not after a `;`, so a query text that
    becomes one operation among others (graph/summaries.py) must not need one."""
    found = [Token(m.lastgroup, m.group(), m.start()) for m in _TOKEN.finditer(text)]  # comments kept
    prefixes: dict[str, str] = {}
    out: list[str] = []
    i = 0
    while i < len(found):
        tok = found[i]
        if tok.kind == "word" and tok.text.upper() == "PREFIX":
            rest = [t for t in found[i + 1:i + 6] if t.kind not in ("ws", "comment")][:2]
            if len(rest) == 2 and rest[0].kind == "pname" and rest[0].text.endswith(":") and rest[1].kind == "iri":
                prefixes[rest[0].text[:-1]] = rest[1].text[1:-1]
                i = found.index(rest[1], i) + 1
                continue
        if tok.kind == "pname":
            prefix, _, local = tok.text.partition(":")
            if prefix not in prefixes:
                raise ValueError(f"unknown prefix {prefix}: in {tok.text}")
            out.append(f"<{prefixes[prefix]}{local.replace(chr(92), '')}>")
        else:
            out.append(tok.text)
        i += 1
    return "".join(out)
