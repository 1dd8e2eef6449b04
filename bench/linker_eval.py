"""Measure the linker against the structure the documents themselves give.

Gold answer: the open-consultation outcomes file every achievement and challenge under an action
line, and the stakeholder submission lists its recommendations per action line; curators recorded
that placement as `wsis:addressesActionLine`. The linker sees only each statement's text. For the
other link types the gold answer is the curators' links (a weaker standard: they read the text too).

    python bench/linker_eval.py [--out bench/linker_eval.json]
"""
from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from pathlib import Path

import pyoxigraph as ox

from wsiskg.graph import namespaces as ns
from wsiskg.graph.build import entry_files
from wsiskg.graph.linker import Linker
from wsiskg.graph.reference import reference_graph
from wsiskg.graph.store import EmbeddedStore

STRUCTURED_DOCS = ("wsis20-open-consultation-outcomes", "wsis20-questionnaire-stakeholder-submission")
PREDICATES = {
    "action line": ns.WSIS + "addressesActionLine",
    "SDG": ns.WSIS + "supportsSDG",
    "GDC": ns.WSIS + "relatesToGDC",
    "theme": ns.WSIS + "hasTheme",
    "UN body / process": ns.WSIS + "mentionsEntity",
    "stakeholder concerned": ns.WSIS + "concerns",
}


def load_store() -> EmbeddedStore:
    store = EmbeddedStore.in_memory()
    store.bulk_load([(ns.GRAPH_REFERENCE, reference_graph().serialize(format="nt", encoding="utf-8"))])
    store.bulk_load(((ns.doc_graph(slug), path.read_bytes()) for slug, path in entry_files(None).items()),
                    ox.RdfFormat.TURTLE)
    return store


def evaluate(store: EmbeddedStore) -> dict:
    linker = Linker.from_store(store)
    rows = store.query("""
        PREFIX wsis: <https://w3id.org/wsis-kg/ontology#>
        SELECT ?g ?s ?text ?type WHERE { GRAPH ?g { ?s wsis:text ?text ; a ?type } }""").rows
    statements = {}
    for g, s, text, klass in rows:
        statements[s.value] = (g.value.rsplit("/", 1)[-1], text.value, klass.value.rsplit("#", 1)[-1])
    gold = defaultdict(set)
    for s, p, o in store.query("""SELECT ?s ?p ?o WHERE { GRAPH ?g { ?s ?p ?o . ?s <https://w3id.org/wsis-kg/ontology#text> ?t } }""").rows:
        gold[(s.value, p.value)].add(o.value)
    predicted = defaultdict(set)
    for subject, (_, text, _) in statements.items():
        for link in linker.link(subject, text):
            predicted[(subject, link.predicate)].add(link.target)

    def score(subjects, predicate):
        tp = fp = fn = 0
        for s in subjects:
            g, p = gold.get((s, predicate), set()), predicted.get((s, predicate), set())
            tp += len(g & p); fp += len(p - g); fn += len(g - p)
        precision = tp / (tp + fp) if tp + fp else None
        recall = tp / (tp + fn) if tp + fn else None
        return {"statements": len(subjects), "gold_links": tp + fn, "predicted_links": tp + fp, "true_positives": tp,
                "precision": round(precision, 3) if precision is not None else None,
                "recall": round(recall, 3) if recall is not None else None}

    structured = [s for s, (doc, _, kind) in statements.items()
                  if doc in STRUCTURED_DOCS and gold.get((s, PREDICATES["action line"]))
                  and (doc != STRUCTURED_DOCS[0] or kind in ("Achievement", "Challenge"))
                  and (doc != STRUCTURED_DOCS[1] or kind == "Recommendation")]
    report = {"held_out_structure": {"action line": score(structured, PREDICATES["action line"])},
              "against_curator_links": {name: score(list(statements), p) for name, p in PREDICATES.items()},
              "statements": len(statements)}
    per_doc = {}
    for doc in sorted({d for d, _, _ in statements.values()}):
        subset = [s for s in structured if statements[s][0] == doc]
        if subset:
            per_doc[doc] = score(subset, PREDICATES["action line"])
    report["held_out_structure"]["per_document"] = per_doc
    return report


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    report = evaluate(load_store())
    text = json.dumps(report, indent=2)
    if args.out:
        args.out.write_text(text + "\n")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
