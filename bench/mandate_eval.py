"""Measure mandate extraction against the hand-labelled paragraphs (tests/fixtures/mandates_labelled.json).

Per labelled paragraph, the extractor's addressees, due years and reporting bodies (the union over the
paragraph's mandates) are compared with the labels; precision and recall are micro-averaged over
(paragraph, value) pairs. "@action-line-facilitators" in a label stands for every lead facilitator.

    python bench/mandate_eval.py [--out bench/mandate_eval.json] [--misses]
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from wsiskg.graph import namespaces as ns
from wsiskg.graph.mandates import extract, vocabulary
from wsiskg.graph.texts import document, table

FIXTURE = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "mandates_labelled.json"
FIELDS = ("addressees", "due", "reportsTo")


def _expand(values: list[str], facilitators: list[str]) -> set[str]:
    out = set()
    for v in values:
        if v == "@action-line-facilitators":
            out |= set(facilitators)
        else:
            out.add(ns.ID + v[3:] if v.startswith("id:") else v)
    return out


def predicted(symbol: str, number: str) -> dict[str, set[str]]:
    row = next(r for r in table() if r["symbol"] == symbol)
    paragraphs = document(row["file"]).part("").paragraphs
    p = next(x for x in paragraphs if x.number == number)
    items = [x.text for x in paragraphs if x.parent == number]
    found = extract(p.text, p.heading, items) if p.kind == "operative" else []
    return {"addressees": {a for m in found for a in m.addressees},
            "due": {m.due for m in found if m.due},
            "reportsTo": {r for m in found for r in m.reports_to}}


def evaluate(fixture: Path = FIXTURE) -> dict:
    labels = json.loads(fixture.read_text(encoding="utf-8"))["paragraphs"]
    facilitators = vocabulary().facilitators
    counts = {f: {"tp": 0, "fp": 0, "fn": 0} for f in FIELDS}
    misses = []
    for label in labels:
        got = predicted(label["resolution"], label["paragraph"])
        for f in FIELDS:
            gold = _expand(label[f], facilitators)
            c = counts[f]
            c["tp"] += len(gold & got[f])
            c["fp"] += len(got[f] - gold)
            c["fn"] += len(gold - got[f])
            if gold != got[f]:
                misses.append({"paragraph": f"{label['resolution']} {label['paragraph']}", "field": f,
                               "extra": sorted(got[f] - gold), "missed": sorted(gold - got[f])})
    result = {"paragraphs": len(labels)}
    for f, c in counts.items():
        p = c["tp"] / (c["tp"] + c["fp"]) if c["tp"] + c["fp"] else 1.0
        r = c["tp"] / (c["tp"] + c["fn"]) if c["tp"] + c["fn"] else 1.0
        result[f] = {**c, "precision": round(p, 3), "recall": round(r, 3)}
    result["misses"] = misses
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path)
    parser.add_argument("--misses", action="store_true", help="list every paragraph where a field differs")
    args = parser.parse_args(argv)
    result = evaluate()
    for f in FIELDS:
        r = result[f]
        print(f"{f:<11} precision {r['precision']:.3f}  recall {r['recall']:.3f}  (tp {r['tp']}, fp {r['fp']}, fn {r['fn']})")
    if args.misses:
        for m in result["misses"]:
            print(f"  {m['paragraph']:<18} {m['field']:<10} extra {m['extra']} missed {m['missed']}")
    if args.out:
        args.out.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
