"""The named-query library: `.rq` files with a grlc-style header.

Header lines start with `#+ ` and together form YAML (the grlc convention):

    #+ summary: Action Line x SDG goal coverage
    #+ description: ...
    #+ tags: [coherence]
    #+ defaults:
    #+   - theme: https://w3id.org/wsis-kg/id/theme/ai
    #+ choices:
    #+   - theme: wsis:Theme
    #+ example: wsiskg query theme-across-processes --param theme=id:theme/ai

`choices` names, for an IRI parameter, the class whose instances the HTML form offers as a pick-list
(server/queries.py); any other IRI is still accepted.

Parameters are variables named as grlc names them: `?_name` (required), `?__name` (optional), with
an optional type suffix: `?_theme_iri`, `?_limit_integer`, `?_words_string`, `?_day_date`.
Values are parsed into typed RDF terms (an IRI checked against the IRI grammar, a literal escaped
by Oxigraph's serialiser) and each replaces its variable as one whole term: the user's text never
becomes query syntax, whatever it contains (see `store.substitute_text`).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path

import pyoxigraph as ox
import yaml

from . import namespaces as ns
from .paths import QUERIES_DIR

# libyaml's loader where PyYAML was built with it: the same documents, 12x faster (38 headers: 30 -> 2.4 ms;
# an ingest parses the summaries' headers in every process)
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

PARAM_RE = re.compile(r"[?$](__?)([A-Za-z][A-Za-z0-9]*)(?:_(iri|integer|decimal|boolean|date|string|literal|[a-z]{2}))?\b")
NAME_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,80}$")

XSD_TYPES = {"integer": "integer", "decimal": "decimal", "boolean": "boolean", "date": "date"}


class ParameterError(ValueError):
    """A named query was given a missing, unknown or ill-typed parameter."""


class UnknownQuery(LookupError):
    pass


@dataclass
class Parameter:
    name: str
    variable: str  # as written in the query, without ? (e.g. "_theme_iri")
    type: str  # iri | integer | decimal | boolean | date | string | <language tag>
    required: bool
    default: str | None = None
    description: str | None = None
    counts_rows: bool = False  # used as LIMIT or OFFSET: a non-negative integer

    def as_dict(self) -> dict:
        return {"name": self.name, "type": self.type, "required": self.required and self.default is None,
                "default": self.default, "description": self.description}


@dataclass
class NamedQuery:
    name: str
    text: str
    path: Path
    summary: str = ""
    description: str = ""
    tags: list[str] = field(default_factory=list)
    example: str = ""
    parameters: list[Parameter] = field(default_factory=list)
    form: str = "SELECT"

    def as_dict(self) -> dict:
        return {"name": self.name, "summary": self.summary, "description": self.description, "tags": self.tags,
                "example": self.example, "form": self.form, "parameters": [p.as_dict() for p in self.parameters]}

    def bind(self, values: dict[str, str]) -> dict[str, ox.NamedNode | ox.Literal]:
        """Typed terms for each parameter, from user strings (defaults fill the gaps)."""
        known = {p.name for p in self.parameters}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ParameterError(f"unknown parameter {', '.join(unknown)} for query {self.name}; "
                                 f"it takes: {', '.join(sorted(known)) or 'none'}")
        bound = {}
        for p in self.parameters:
            raw = values.get(p.name)
            if raw is None or raw == "":  # an empty form field means "not given": the default, if any
                raw = p.default
            if raw is None or raw == "":
                if p.required:
                    raise ParameterError(f"query {self.name} needs the parameter {p.name} ({p.type})")
                continue
            term = to_term(raw, p.type, p.name)
            # at most 2^63 - 1: engines read LIMIT / OFFSET as 64-bit numbers (Oxigraph refuses 2^64 as bad syntax)
            if p.counts_rows and (p.type != "integer" or not 0 <= int(term.value) <= MAX_ROW_COUNT):
                raise ParameterError(f"parameter {p.name} counts rows: give a whole number from 0 to {MAX_ROW_COUNT}; "
                                     f"got {raw if len(raw) <= 40 else raw[:40] + '…'!r}")
            bound[p.variable] = term
        return bound


MAX_ROW_COUNT = 2**63 - 1


def expand_iri(value: str) -> str:
    """Accept a full IRI or a contract prefix form such as `id:theme/ai` or `sdg:4.4`."""
    value = value.strip()
    match = re.match(r"^([a-z][a-z0-9]*):(?!//)(.*)$", value)
    if match and match.group(1) in ns.PREFIXES:
        return ns.PREFIXES[match.group(1)] + match.group(2)
    return value


_XSD_LEXICAL = {"integer": re.compile(r"[+-]?[0-9]+", re.ASCII),
                "decimal": re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)", re.ASCII),
                "boolean": re.compile(r"true|false"),
                "date": re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)}
_IRI_OK = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:[^\s<>\"{}|\\^`]*$")


def to_term(raw: str, kind: str, name: str = "value") -> ox.NamedNode | ox.Literal:
    if len(raw) > 2000:
        raise ParameterError(f"parameter {name} is too long ({len(raw)} characters; at most 2000)")
    if kind == "iri":
        iri = expand_iri(raw)
        if not _IRI_OK.match(iri):
            raise ParameterError(f"parameter {name} must be an IRI such as https://w3id.org/wsis-kg/id/theme/ai "
                                 f"or id:theme/ai; got {raw!r}")
        try:
            return ox.NamedNode(iri)
        except ValueError:  # Oxigraph's IRI grammar is stricter than the pattern (control characters, U+FFFD, ...)
            raise ParameterError(f"parameter {name} must be an IRI such as https://w3id.org/wsis-kg/id/theme/ai "
                                 f"or id:theme/ai; got {raw!r}") from None
    if kind in XSD_TYPES:
        # the XSD lexical forms, ASCII only: Python's int(), Decimal() and date.fromisoformat() also take
        # "1_000", Arabic-Indic digits, "NaN", "1e3" or "20240101", which are not xsd values
        checks = {"integer": lambda v: int(v), "decimal": lambda v: Decimal(v),
                  "boolean": lambda v: {"true": 1, "false": 0}[v], "date": lambda v: date.fromisoformat(v)}
        try:
            if not _XSD_LEXICAL[kind].fullmatch(raw.strip()):
                raise ValueError(raw)
            value = checks[kind](raw.strip())
        except (ValueError, KeyError, InvalidOperation):
            raise ParameterError(f"parameter {name} must be an xsd:{kind}; got {raw!r}") from None
        # integers in canonical form, so they can stand as a bare number (LIMIT 100; see substitute_text)
        lexical = str(value) if kind == "integer" else raw.strip()
        return ox.Literal(lexical, datatype=ox.NamedNode(ns.XSD + XSD_TYPES[kind]))
    if kind in ("string", "literal"):
        return ox.Literal(raw)
    return ox.Literal(raw, language=kind)


def parse_header(text: str) -> dict:
    lines = [line[3:] if line.startswith("#+ ") else line[2:] for line in text.splitlines() if line.startswith("#+")]
    if not lines:
        return {}
    try:
        header = yaml.load("\n".join(lines), Loader=SAFE_LOADER) or {}
    except yaml.YAMLError as exc:
        raise ValueError(f"header is not valid YAML: {exc}") from None
    return header if isinstance(header, dict) else {}


def query_form(text: str) -> str:
    body = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))
    body = re.sub(r"<[^>]*>|\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*'", " ", body)
    match = re.search(r"\b(SELECT|ASK|CONSTRUCT|DESCRIBE)\b", body, re.I)
    return match.group(1).upper() if match else "SELECT"


def load(path: Path) -> NamedQuery:
    """The named query in a file, read again only when the file changes (a curator's edit shows at once;
    reading and parsing the header costs a few ms, which every request would pay)."""
    stat = Path(path).stat()
    return _load(str(path), stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=512)
def _load(path_name: str, mtime_ns: int, size: int) -> NamedQuery:
    path = Path(path_name)
    text = path.read_text(encoding="utf-8")
    header = parse_header(text)
    defaults = {}
    for item in header.get("defaults") or []:
        if isinstance(item, dict):
            defaults.update({str(k): str(v) for k, v in item.items()})
    descriptions = {}
    for item in header.get("params") or header.get("parameters") or []:
        if isinstance(item, dict):
            descriptions.update({str(k): str(v) for k, v in item.items()})
    body = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))
    params, seen = [], set()
    for underscores, name, kind in PARAM_RE.findall(body):
        if name in seen:
            continue
        seen.add(name)
        variable = f"{underscores}{name}" + (f"_{kind}" if kind else "")
        counts_rows = re.search(r"\b(?:LIMIT|OFFSET)\s+[?$]" + re.escape(variable) + r"\b", body, re.I) is not None
        params.append(Parameter(name, variable, kind or "string", underscores == "_",
                                defaults.get(name), descriptions.get(name), counts_rows))
    tags = header.get("tags") or []
    return NamedQuery(name=path.stem, text=text, path=path, summary=str(header.get("summary", "")),
                      description=str(header.get("description", "")).strip(),
                      tags=[str(t) for t in (tags if isinstance(tags, list) else [tags])],
                      example=str(header.get("example", "")).strip(), parameters=params, form=query_form(text))


def folder_state(folder: Path = QUERIES_DIR) -> tuple:
    """Changes whenever a query file is added, removed or edited (for caches of the answers)."""
    state = []
    for path in sorted(folder.glob("*.rq")):
        try:
            stat = path.stat()
        except OSError:  # removed while we looked
            continue
        state.append((path.name, stat.st_mtime_ns, stat.st_size))
    return tuple(state)


def names(folder: Path = QUERIES_DIR) -> list[str]:
    return sorted(p.stem for p in folder.glob("*.rq"))


def get(name: str, folder: Path = QUERIES_DIR) -> NamedQuery:
    """A named query by name; names are checked so no path can leave the queries folder."""
    if not NAME_RE.match(name or ""):
        raise UnknownQuery(f"no named query {name!r}")
    path = folder / f"{name}.rq"
    if not path.is_file():
        raise UnknownQuery(f"no named query {name!r}; known: {', '.join(names(folder))}")
    return load(path)


def all_queries(folder: Path = QUERIES_DIR) -> list[NamedQuery]:
    return [load(p) for p in sorted(folder.glob("*.rq"))]
