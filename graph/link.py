"""`wsiskg link`: align our entities with an external SPARQL endpoint by their labels.

Given a mapping (graph/mappings/*.yaml; see docs/external.md) the aligner

1. reads our entities of the mapped class and their labels from the store;
2. asks the endpoint (SPARQLWrapper, behind `netguard.check_outbound`, with a timeout and a cap on
   the response size) for its resources of the mapped class and their labels in one language;
3. scores every pair by label similarity: 1.0 when the normalised labels are equal, otherwise a token
   Jaccard (fuzzy tokens allowed) capped at 0.99, times the weights the mapping gives each label
   property on both sides; a label "A (B)" counts as A, as B and as written;
4. proposes, per entity, its best-scoring resource: `skos:exactMatch` at or above the high threshold
   when it is the only best one, `skos:closeMatch` at or above the low threshold (or when several
   resources tie, or another entity has a better claim on the same resource);
5. writes the links, each reified as a wsis:LinkAssertion (wsis:method, wsis:score,
   prov:generatedAtTime, dcterms:source = the endpoint, wsis:evidenceText = our label,
   wsis:matchedLabel = theirs), to id:graph/links/external-<name>, replacing that graph atomically.

Curated links win: an entity that already has a skos:exactMatch into the dataset's namespace in any
graph other than id:graph/links/* is skipped (and listed), and a resource a curator already matched
to one of our entities is never proposed for another.
"""
from __future__ import annotations

import difflib
import json
import re
import socket
import unicodedata
import urllib.error
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import pyoxigraph as ox
from rdflib import Graph

from . import namespaces as ns
from .linker import Link, assertion_iri, links_ntriples
from .mapping import MappingError, expand, load_yaml, name_ok, prefixes_of, weighted_terms
from .netguard import OutboundRefused, check_outbound, guarded_opener, read_capped

METHOD = "label-similarity"
STOPWORDS = frozenset("a an and at by for in of on the to with".split())
FUZZY_TOKEN = 0.85  # difflib ratio at or above which two words (of 4+ letters) count as the same
NON_EXACT_CAP = 0.99
DEFAULTS = {"exact": 0.95, "close": 0.7, "timeout": 60, "max_response_bytes": 50_000_000, "limit": 100_000}


class AlignError(Exception):
    """The endpoint cannot be asked or answered something unusable; the message says which."""


# -- the mapping ------------------------------------------------------------------------------------

@dataclass
class LinkMapping:
    name: str
    our_classes: list[str]
    our_labels: dict[str, float]
    their_classes: list[str]
    their_type_property: str
    their_labels: dict[str, float]
    namespace: str
    language: str = "en"
    exact: float = DEFAULTS["exact"]
    close: float = DEFAULTS["close"]
    timeout: float = DEFAULTS["timeout"]
    max_response_bytes: int = DEFAULTS["max_response_bytes"]
    limit: int = DEFAULTS["limit"]


def load_link_mapping(path: Path | str) -> LinkMapping:
    where = str(path)
    doc = load_yaml(path)
    prefixes = prefixes_of(doc, where)
    ours, theirs = doc.get("ours"), doc.get("theirs")
    if not isinstance(ours, dict) or not isinstance(theirs, dict):
        raise MappingError(f"{where}: a link mapping needs an `ours:` and a `theirs:` section")
    name = str(doc.get("name", "")).strip()
    if not name_ok(name):
        raise MappingError(f"{where}: `name` must be lower-case letters, digits and hyphens (it names the graph "
                           f"id:graph/links/external-<name>), got {name!r}")

    def classes(section, key, required):
        value = section.get(key)
        if value is None:
            if required:
                raise MappingError(f"{where}: `{key}` under `{'ours' if section is ours else 'theirs'}` is required")
            return []
        values = value if isinstance(value, list) else [value]
        return [expand(v, prefixes, f"{where}: {key}") for v in values]

    if "namespace" not in theirs:
        raise MappingError(f"{where}: `theirs.namespace` is required: the IRI prefix of the dataset's resources "
                           "(e.g. http://www.wikidata.org/entity/), used to find curated links")
    thresholds = doc.get("thresholds") or {}
    limits = doc.get("limits") or {}
    if not isinstance(thresholds, dict) or not isinstance(limits, dict):
        raise MappingError(f"{where}: `thresholds` and `limits` are key: value sections")
    try:
        exact = float(thresholds.get("exact", DEFAULTS["exact"]))
        close = float(thresholds.get("close", DEFAULTS["close"]))
        timeout = float(limits.get("timeout", DEFAULTS["timeout"]))
        max_bytes = int(limits.get("max_response_bytes", DEFAULTS["max_response_bytes"]))
        limit = int(limits.get("limit", DEFAULTS["limit"]))
    except (TypeError, ValueError) as exc:
        raise MappingError(f"{where}: thresholds and limits must be numbers ({exc})") from None
    if not 0 < close <= exact <= 1:
        raise MappingError(f"{where}: thresholds must satisfy 0 < close <= exact <= 1 (got close {close}, exact {exact})")
    if timeout <= 0 or max_bytes <= 0 or limit <= 0:
        raise MappingError(f"{where}: limits (timeout, max_response_bytes, limit) must be positive")
    language = str(doc.get("language", "en")).strip()
    if not re.match(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]+)*$", language):
        raise MappingError(f"{where}: `language` must be a language tag such as en, got {language!r}")
    return LinkMapping(
        name=name,
        our_classes=classes(ours, "class", True),
        our_labels=weighted_terms(ours.get("labels", ["skos:prefLabel"]), prefixes, f"{where}: ours.labels"),
        their_classes=classes(theirs, "class", False),
        their_type_property=expand(theirs.get("type_property", "rdf:type"), prefixes, f"{where}: theirs.type_property"),
        their_labels=weighted_terms(theirs.get("labels", ["rdfs:label"]), prefixes, f"{where}: theirs.labels"),
        namespace=expand(theirs["namespace"], prefixes, f"{where}: theirs.namespace"),
        language=language, exact=exact, close=close, timeout=timeout, max_response_bytes=max_bytes, limit=limit)


# -- label similarity ------------------------------------------------------------------------------

def normalise_label(text: str) -> str:
    """Accents off, case folded, '&' as 'and', every run of non-letters/digits as one space."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c)).casefold().replace("&", " and ")
    return " ".join(re.findall(r"[^\W_]+", text))


def label_variants(label: str) -> list[str]:
    """'United Nations Conference on Trade and Development (UN Trade and Development)' -> the label,
    the part before the brackets and the part inside."""
    variants = [label]
    match = re.match(r"^(.*?)\s*\(([^()]+)\)\s*$", label)
    if match and match.group(1).strip():
        variants += [match.group(1).strip(), match.group(2).strip()]
    return variants


def _content_tokens(normalised: str) -> list[str]:
    words = normalised.split()
    content = sorted({w for w in words if w not in STOPWORDS})
    return content or sorted(set(words))


def _token_match(a: str, b: str) -> float:
    if a == b:
        return 1.0
    if min(len(a), len(b)) < 4:
        return 0.0
    ratio = difflib.SequenceMatcher(None, a, b).ratio()
    return ratio if ratio >= FUZZY_TOKEN else 0.0


def similarity(a: str, b: str) -> float:
    """1.0 for labels equal once normalised; otherwise a soft token Jaccard, at most 0.99."""
    na, nb = normalise_label(a), normalise_label(b)
    if not na or not nb:
        return 0.0
    if na == nb:
        return 1.0
    ta, tb = _content_tokens(na), _content_tokens(nb)
    matched, used = 0.0, set()
    for token in ta:
        best, best_other = 0.0, None
        for other in tb:
            if other in used:
                continue
            score = _token_match(token, other)
            if score > best:
                best, best_other = score, other
        if best_other is not None:
            matched += best
            used.add(best_other)
    jaccard = matched / (len(ta) + len(tb) - matched)
    return min(round(jaccard, 3), NON_EXACT_CAP)


# -- reading both sides ----------------------------------------------------------------------------

@dataclass
class Labelled:
    iri: str
    labels: list[tuple[str, float]] = field(default_factory=list)  # (label, weight of its property)


def our_entities(store, mapping: LinkMapping) -> dict[str, Labelled]:
    classes = " ".join(f"<{c}>" for c in mapping.our_classes)
    props = " ".join(f"<{p}>" for p in mapping.our_labels)
    result = store.query(f"""
        SELECT DISTINCT ?entity ?property ?label WHERE {{
          VALUES ?class {{ {classes} }}
          VALUES ?property {{ {props} }}
          ?entity a ?class ; ?property ?label .
          FILTER(isIRI(?entity) && isLiteral(?label))
          FILTER(LANG(?label) = "" || LANGMATCHES(LANG(?label), "{mapping.language}"))
        }} ORDER BY ?entity ?property ?label""")
    entities: dict[str, Labelled] = {}
    for entity, prop, label in result.rows:
        entities.setdefault(entity.value, Labelled(entity.value)).labels.append(
            (label.value, mapping.our_labels[prop.value]))
    return entities


def curated_matches(store, namespace: str) -> list[tuple[str, str]]:
    """(our entity, their resource) for every skos:exactMatch into `namespace` outside the links graphs."""
    result = store.query(f"""
        SELECT DISTINCT ?entity ?resource WHERE {{
          GRAPH ?g {{ ?entity <{ns.SKOS}exactMatch> ?resource }}
          FILTER(!STRSTARTS(STR(?g), "{ns.ID}graph/links/"))
          FILTER(isIRI(?resource) && STRSTARTS(STR(?resource), "{namespace}"))
        }} ORDER BY ?entity ?resource""")
    return [(e.value, r.value) for e, r in result.rows]


def remote_query(mapping: LinkMapping) -> str:
    props = " ".join(f"<{p}>" for p in mapping.their_labels)
    typed = ""
    if mapping.their_classes:
        classes = " ".join(f"<{c}>" for c in mapping.their_classes)
        typed = f"VALUES ?class {{ {classes} }}\n  ?resource <{mapping.their_type_property}> ?class .\n  "
    return (f"SELECT DISTINCT ?resource ?property ?label WHERE {{\n"
            f"  VALUES ?property {{ {props} }}\n  {typed}?resource ?property ?label .\n"
            f"  FILTER(isIRI(?resource) && isLiteral(?label))\n"
            f"  FILTER(LANG(?label) = \"\" || LANGMATCHES(LANG(?label), \"{mapping.language}\"))\n"
            f"}}\nLIMIT {mapping.limit}\n")


def _sparql_client(endpoint: str, allow: list[str]):
    from SPARQLWrapper import JSON, SPARQLWrapper

    class GuardedSPARQLWrapper(SPARQLWrapper):
        """SPARQLWrapper whose requests go through an opener that re-checks every redirect."""

        def _query(self):
            request = self._createRequest()
            opener = guarded_opener(allow)
            try:
                return opener.open(request, timeout=self.timeout), self.returnFormat
            except urllib.error.HTTPError as exc:
                body = exc.read(2000).decode("utf-8", "replace")
                raise AlignError(f"{endpoint} answered HTTP {exc.code}: {body.strip()[:500]}") from None

    client = GuardedSPARQLWrapper(endpoint, agent="wsiskg-link")
    client.setReturnFormat(JSON)
    return client


def remote_resources(endpoint: str, mapping: LinkMapping, allow: list[str]) -> tuple[dict[str, Labelled], bool]:
    """Their resources with labels, and whether the answer hit the mapping's row limit."""
    check_outbound(endpoint, allow)
    client = _sparql_client(endpoint, allow)
    client.setQuery(remote_query(mapping))
    client.setTimeout(max(1, int(round(mapping.timeout))))
    try:
        response = client.query().response
        with response:
            data = read_capped(response, mapping.max_response_bytes, f"the answer of {endpoint}")
    except OutboundRefused:
        raise
    except (socket.timeout, TimeoutError):
        raise AlignError(f"{endpoint} did not answer within {mapping.timeout:g} s "
                         "(raise limits.timeout in the mapping, or narrow theirs.class)") from None
    except urllib.error.URLError as exc:
        raise AlignError(f"cannot reach {endpoint}: {exc.reason}") from None
    except OSError as exc:
        raise AlignError(f"cannot reach {endpoint}: {exc}") from None
    try:
        doc = json.loads(data.decode("utf-8"))
        bindings = doc["results"]["bindings"]
    except (ValueError, KeyError, TypeError):
        raise AlignError(f"{endpoint} did not answer with SPARQL JSON results (is it a SPARQL query endpoint?)") from None
    resources: dict[str, Labelled] = {}
    for row in bindings:
        try:
            resource, prop, label = row["resource"], row["property"], row["label"]
            if resource.get("type") != "uri" or label.get("type") not in ("literal", "typed-literal"):
                continue
            iri = ox.NamedNode(resource["value"]).value  # a well-formed IRI, or skipped
            weight = mapping.their_labels[prop["value"]]
        except (KeyError, TypeError, ValueError):
            continue
        resources.setdefault(iri, Labelled(iri)).labels.append((str(label["value"]), weight))
    return resources, len(bindings) >= mapping.limit


# -- matching ----------------------------------------------------------------------------------------

@dataclass
class Proposal:
    entity: str
    relation: str  # "exactMatch" | "closeMatch"
    resource: str
    score: float
    our_label: str
    their_label: str
    note: str = ""


@dataclass
class AlignResult:
    graph: str
    endpoint: str
    proposals: list[Proposal]
    skipped: list[tuple[str, str]]  # (entity, curated resource)
    entities: int
    resources: int
    truncated: bool = False
    written: bool = False


def _best_pair(ours: Labelled, theirs: Labelled) -> tuple[float, str, str]:
    """The best score over all label pairs, with the labels that gave it (ties: first in order)."""
    best_key, best = None, (0.0, "", "")
    for our_label, our_weight in ours.labels:
        for their_label, their_weight in theirs.labels:
            sim = max(similarity(v, their_label) for v in label_variants(our_label))
            score = round(sim * our_weight * their_weight, 3)
            key = (-score, our_label, their_label)
            if best_key is None or key < best_key:
                best_key, best = key, (score, our_label, their_label)
    return best


def match(entities: dict[str, Labelled], resources: dict[str, Labelled], mapping: LinkMapping,
          taken: set[str]) -> list[Proposal]:
    """The proposals, by the rules of the module's docstring; `taken` = resources a curator already used."""
    index: dict[str, set[str]] = defaultdict(set)
    for iri, res in resources.items():
        if iri in taken:
            continue
        for label, _ in res.labels:
            for token in _content_tokens(normalise_label(label)):
                index[token].add(iri)
    best_per_entity: dict[str, list[Proposal]] = {}
    for entity in sorted(entities):
        ours = entities[entity]
        candidates = set()
        for label, _ in ours.labels:
            for variant in label_variants(label):
                for token in _content_tokens(normalise_label(variant)):
                    candidates |= index.get(token, set())
        scored = []
        for iri in sorted(candidates):
            score, our_label, their_label = _best_pair(ours, resources[iri])
            if score >= mapping.close:
                scored.append(Proposal(entity, "", iri, score, our_label, their_label))
        if not scored:
            continue
        top = max(p.score for p in scored)
        tops = [p for p in scored if p.score == top]
        for p in tops:
            if len(tops) == 1 and top >= mapping.exact:
                p.relation = "exactMatch"
            else:
                p.relation = "closeMatch"
                if len(tops) > 1:
                    p.note = f"ambiguous: {len(tops)} resources score {top:.3f}"
        best_per_entity[entity] = tops
    proposals = [p for tops in best_per_entity.values() for p in tops]
    # One resource, one exactMatch: when several entities claim it, only a strictly best one keeps it.
    claims = defaultdict(list)
    for p in proposals:
        if p.relation == "exactMatch":
            claims[p.resource].append(p)
    for resource, claimants in claims.items():
        if len(claimants) > 1:
            top = max(p.score for p in claimants)
            winners = [p for p in claimants if p.score == top]
            for p in claimants:
                if len(winners) > 1 or p is not winners[0]:
                    p.relation = "closeMatch"
                    p.note = f"{len(claimants)} of our entities match this resource"
    return sorted(proposals, key=lambda p: (p.entity, p.resource))


def proposals_ntriples(proposals: list[Proposal], endpoint: str, generated_at: str) -> bytes:
    links = [Link(p.entity, ns.SKOS + p.relation, p.resource, p.score, METHOD, [p.our_label]) for p in proposals]
    lines = [links_ntriples(links, generated_at).decode("utf-8")]
    source = ox.NamedNode(endpoint)
    for p in proposals:
        node = ox.NamedNode(assertion_iri(p.entity, ns.SKOS + p.relation, p.resource))
        lines.append(f"{node} <{ns.DCTERMS}source> {source} .\n")
        lines.append(f"{node} <{ns.WSIS}matchedLabel> {ox.Literal(p.their_label)} .\n")
    return "".join(lines).encode("utf-8")


def external_graph(name: str) -> str:
    return ns.links_graph(f"external-{name}")


def align(store, endpoint: str, mapping: LinkMapping, *, allow: list[str] | None = None,
          graph_name: str | None = None) -> tuple[AlignResult, bytes]:
    """Compute the proposals and their N-Triples; writing is the caller's (see `run`)."""
    name = graph_name or mapping.name
    if not name_ok(name):
        raise MappingError(f"--graph-name must be lower-case letters, digits and hyphens, got {name!r}")
    try:
        ox.NamedNode(endpoint)
    except ValueError:
        raise OutboundRefused(f"{endpoint!r} is not a valid IRI") from None
    entities = our_entities(store, mapping)
    curated = curated_matches(store, mapping.namespace)
    curated_entities = {e for e, _ in curated}
    skipped = [(e, r) for e, r in curated if e in entities]
    resources, truncated = remote_resources(endpoint, mapping, allow or [])
    todo = {iri: ent for iri, ent in entities.items() if iri not in curated_entities}
    proposals = match(todo, resources, mapping, taken={r for _, r in curated})
    generated_at = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    data = proposals_ntriples(proposals, endpoint, generated_at)
    result = AlignResult(external_graph(name), endpoint, proposals, skipped, len(entities), len(resources), truncated)
    return result, data


def run(store, store_root: Path, endpoint: str, mapping: LinkMapping, *, allow: list[str] | None = None,
        graph_name: str | None = None, dry_run: bool = False) -> AlignResult:
    """Align, validate the links graph, and (unless a dry run) replace it in the store and keep its copy."""
    from .keep import replace_kept_graph
    from .validate import context_for, parse_entry_bytes, validate
    result, data = align(store, endpoint, mapping, allow=allow, graph_name=graph_name)
    g, _ = parse_entry_bytes(data, result.graph, fmt="nt") if data.strip() else (Graph(), "")
    report = validate(g, context_for(g, store), file=result.graph)
    if not report.conforms:  # a bug, not a user's mistake: the links are ours
        raise AlignError("the computed links do not conform to the shapes:\n" + "\n".join(map(str, report.violations)))
    if not dry_run:
        replace_kept_graph(store, store_root, result.graph, data)
        result.written = True
    return result
