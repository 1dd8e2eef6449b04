"""Similar deliverables: mandates of two different UN bodies asking for the same work (issue 16.3).

`wsis:similarDeliverable` links two wsis:Mandate nodes (id:graph/links/mandates) whose deliverables
say the same thing by meaning, in id:graph/links/deliverable-similarity, both directions asserted and
each pair reified as a wsis:LinkAssertion with method, score and evidence (as graph/similarity.py
writes wsis:similarTo). Only pairs mandate-overlap can use are scored: addressed to two different UN
bodies, neither an umbrella nor the other's parent or child along org:subOrganizationOf, in
different paragraphs.

Scores are the embedding model's calibrated cosine (graph/embed.py: (cos - m) / (1 - m), m the mean
cosine over every mandate's deliverable), the lower of the whole deliverables' and of their heads'.
Deliverables that say nothing of the work itself ("report to the General Assembly …", "take into
account …") are never paired: they are listed, with what a head leaves out and the threshold chosen
on tests/fixtures/deliverable_pairs.json, in graph/reference/deliverables.yaml.
Mandates come only from the shipped resolutions, so the build computes the graph and nothing else
writes it. Without the model (WSISKG_SIMILARITY_MODEL=none) it stays empty: no word-overlap stand-in.
"""
from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import yaml

from . import namespaces as ns
from .paths import REFERENCE_DIR

GRAPH = ns.links_graph("deliverable-similarity")
SIMILAR = ns.WSIS + "similarDeliverable"
VOCABULARY = REFERENCE_DIR / "deliverables.yaml"
HEAD_WORDS = 4  # the fewest words a head keeps

_P = """PREFIX wsis: <https://w3id.org/wsis-kg/ontology#>
PREFIX org: <http://www.w3.org/ns/org#>
"""
MANDATES_QUERY = _P + """SELECT ?m ?d ?p ?body WHERE {
  ?m a wsis:Mandate ; wsis:deliverable ?d ; wsis:inParagraph ?p .
  OPTIONAL { ?m wsis:addressedTo ?body . ?body a wsis:UNEntity . MINUS { ?body a wsis:UmbrellaEntity } }
}"""
PARENTS_QUERY = _P + "SELECT ?child ?parent WHERE { ?child org:subOrganizationOf ?parent }"


@lru_cache(maxsize=1)
def vocabulary() -> dict:
    data = yaml.safe_load(VOCABULARY.read_text(encoding="utf-8"))
    either = lambda patterns: re.compile("|".join(f"(?:{p})" for p in patterns), re.I)
    return {"thresholds": data["thresholds"], "generic": either(data["generic"]),
            "qualifiers": either(data["qualifiers"]), "framing": either(data["framing"])}


def head(deliverable: str) -> str:
    """The work asked for: the deliverable without its framing, cut where its qualifiers start."""
    vocab = vocabulary()
    text = vocab["framing"].sub("", deliverable.strip())
    for cut in vocab["qualifiers"].finditer(text):
        if len(text[:cut.start()].split()) >= HEAD_WORDS:  # "consider, inter alia, …" is not cut to "consider"
            return text[:cut.start()]
    return text


def threshold(model_name: str) -> float:
    return float(vocabulary()["thresholds"][model_name])


def is_generic(deliverable: str) -> bool:
    return bool(vocabulary()["generic"].match(deliverable.strip()))


def note(model) -> str | None:
    """What the build says when it leaves the graph empty."""
    if model is None:
        return ("similar deliverables: no embedding model (WSISKG_SIMILARITY_MODEL=none or its package missing), "
                f"so <{GRAPH}> is left empty")
    return None


def _mandates(store):
    """(mandate, deliverable, paragraph) per mandate, and mandate -> its bodies (umbrellas apart)."""
    texts, bodies = {}, {}
    for m, d, p, body in store.query(MANDATES_QUERY).rows:
        texts[m.value] = (d.value, p.value)
        if body is not None:
            bodies.setdefault(m.value, set()).add(body.value)
    return sorted((m, d, p) for m, (d, p) in texts.items()), bodies


def _related(store):
    """Whether two bodies are one and the same or one is above the other along org:subOrganizationOf."""
    parents: dict[str, set] = {}
    for child, parent in store.query(PARENTS_QUERY).rows:
        parents.setdefault(child.value, set()).add(parent.value)

    @lru_cache(maxsize=None)
    def above(body: str) -> frozenset:
        seen, todo = set(), [body]
        while todo:
            for p in parents.get(todo.pop(), set()) - seen:
                seen.add(p)
                todo.append(p)
        return frozenset(seen)

    return lambda a, b: a == b or a in above(b) or b in above(a)


def scored_pairs(store, model, cache_dir: Path | None, min_score: float | None = None) -> list:
    """similarity.Pair for every pair of mandates the rules allow, best first, scoring at least
    `min_score` (default: the model's threshold); generic deliverables never paired.

    A pair's score is the lower of two calibrated cosines: of the whole deliverables and of their
    heads (the work asked for, `head`). Either alone ranks pairs on the same subject first (a UN
    capacity on science and technology beside country policy reviews on it); both must agree."""
    from dataclasses import replace
    from .embed import EmbeddedCorpus
    items, bodies = _mandates(store)
    if model is None or len(items) < 2:
        return []
    related = _related(store)
    texts = {m: d for m, d, _ in items}
    floor = threshold(model.name) if min_score is None else min_score
    scored = []
    for part, text in (("whole", lambda d: d), ("head", head)):
        # a mandate's paragraph as its "document": EmbeddedCorpus never pairs two rows of one document
        corpus = EmbeddedCorpus.from_items([(m, text(d), p) for m, d, p in items], model,
                                           Path(cache_dir) / part if cache_dir else None, prune=True)
        scored.append({(pair.a, pair.b): pair for pair in corpus.pairs(threshold=floor, per_document=None)})
    whole, heads = scored
    found = []
    for key in whole.keys() & heads.keys():
        a, b = key
        if is_generic(texts[a]) or is_generic(texts[b]):
            continue
        if any(not related(x, y) for x in bodies.get(a, ()) for y in bodies.get(b, ())):
            pair = min(whole[key], heads[key], key=lambda p: p.score)
            found.append(replace(pair, evidence=f"whole deliverables: {whole[key].evidence}; "
                                                f"their heads: {heads[key].evidence}"))
    found.sort(key=lambda p: (-p.score, p.a, p.b))
    return found


def cache_dir(store) -> Path | None:
    # the similarity linker prunes its cache to the statements: the deliverables keep their own
    root = getattr(store, "path", None)
    return Path(root) / "index" / "deliverables" if root is not None else None


def link_deliverables(store) -> dict[str, bytes]:
    """The build's linker: the whole id:graph/links/deliverable-similarity (empty without the model)."""
    from .embed import load_model
    from .similarity import similarity_ntriples
    pairs = scored_pairs(store, load_model(), cache_dir(store))
    return {GRAPH: similarity_ntriples(pairs, SIMILAR)}
