"""What `wsiskg link` and `wsiskg import` share: reading a YAML mapping file and its terms.

Terms in a mapping are written as full IRIs or with the contract's prefixes (`wsis:UNEntity`,
`skos:prefLabel`, `xsd:gYear`), plus any the file declares under `prefixes:`.
"""
from __future__ import annotations

import re
from pathlib import Path

import yaml

from . import namespaces as ns
from .paths import FileProblem, read_user_file

MAX_MAPPING_BYTES = 1024 * 1024
_IRI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:[^\s<>\"{}|\\^`]*$")
_CURIE = re.compile(r"^([A-Za-z][\w-]*)?:([^\s/][^\s]*)?$")

EXTRA_PREFIXES = {"void": ns.VOID, "dcat": ns.DCAT, "wd": ns.WIKIDATA,
                  "wdt": "http://www.wikidata.org/prop/direct/"}


class MappingError(ValueError):
    """The mapping file is unreadable or says something impossible; the message names the key."""


def load_yaml(path: Path | str) -> dict:
    path = Path(path)
    try:
        data = read_user_file(path, MAX_MAPPING_BYTES, "mapping file")
    except FileProblem as exc:
        raise MappingError(str(exc)) from None
    try:
        doc = yaml.safe_load(data.decode("utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise MappingError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(doc, dict):
        raise MappingError(f"{path}: a mapping file is a YAML mapping (key: value lines)")
    return doc


def prefixes_of(doc: dict, where: str) -> dict[str, str]:
    prefixes = {**ns.PREFIXES, **EXTRA_PREFIXES}
    declared = doc.get("prefixes") or {}
    if not isinstance(declared, dict):
        raise MappingError(f"{where}: `prefixes` must map prefix names to IRIs")
    for name, iri in declared.items():
        if not isinstance(iri, str) or not _IRI.match(iri):
            raise MappingError(f"{where}: prefix {name!r} must map to an IRI, got {iri!r}")
        prefixes[str(name)] = iri
    return prefixes


def expand(term, prefixes: dict[str, str], where: str) -> str:
    """`skos:prefLabel` or `<http://…>` or `http://…` -> the full IRI."""
    if not isinstance(term, str) or not term.strip():
        raise MappingError(f"{where}: expected an IRI or prefixed name, got {term!r}")
    term = term.strip()
    if term.startswith("<") and term.endswith(">"):
        term = term[1:-1]
    elif "://" not in term:
        match = _CURIE.match(term)
        if match and (match.group(1) or "") in prefixes:
            term = prefixes[match.group(1) or ""] + (match.group(2) or "")
        elif match:
            raise MappingError(f"{where}: unknown prefix {match.group(1)!r} in {term!r}; "
                               f"declare it under `prefixes:` or write the full IRI")
    if not _IRI.match(term):
        raise MappingError(f"{where}: {term!r} is not an IRI")
    return term


def weighted_terms(value, prefixes: dict[str, str], where: str) -> dict[str, float]:
    """A list of terms (weight 1.0 each) or a {term: weight} mapping -> {IRI: weight}."""
    if isinstance(value, str):
        value = [value]
    if isinstance(value, list):
        value = {item: 1.0 for item in value}
    if not isinstance(value, dict) or not value:
        raise MappingError(f"{where}: give a list of properties, or property: weight pairs")
    out = {}
    for term, weight in value.items():
        try:
            weight = float(weight if weight is not None else 1.0)
        except (TypeError, ValueError):
            raise MappingError(f"{where}: the weight of {term} must be a number between 0 and 1") from None
        if not 0 < weight <= 1:
            raise MappingError(f"{where}: the weight of {term} must be above 0 and at most 1, got {weight}")
        out[expand(term, prefixes, where)] = weight
    return out


def name_ok(name: str) -> bool:
    return bool(re.match(r"^[a-z0-9][a-z0-9-]{0,60}$", name or ""))
