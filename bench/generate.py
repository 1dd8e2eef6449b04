"""A deterministic graph shaped like ours, at any size: the real ontology and reference data plus
synthetic documents, sessions and statements with realistic text and links (curator and machine).

    python bench/generate.py --triples 100000 --out /tmp/g100k.nq

The same seed and size always give the same N-Quads, byte for byte.
"""
from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

from wsiskg.graph import namespaces as ns
from wsiskg.graph.build import entry_files
from wsiskg.graph.reference import reference_graph
from wsiskg.graph.validate import ontology_graph

W, ID, XSD = ns.WSIS, ns.ID, ns.XSD
KINDS = ["KeyIssue", "Achievement", "Challenge", "Recommendation", "Commitment"]
ACTION_LINES = ["C1", "C2", "C3", "C4", "C5", "C6", "C7", "C7-e-government", "C7-e-business", "C7-e-learning",
                "C7-e-health", "C7-e-employment", "C7-e-environment", "C7-e-agriculture", "C7-e-science",
                "C8", "C9", "C10", "C11"]
THEMES = ["ai", "cybersecurity", "digital-divide", "connectivity", "affordability", "gender", "youth", "children",
          "persons-with-disabilities", "multilingualism", "environment", "financing", "data-governance", "privacy",
          "human-rights", "capacity-building", "measurement", "internet-governance", "information-integrity",
          "multistakeholder-cooperation", "digital-public-infrastructure", "digital-economy", "emerging-technologies",
          "ethics", "un-coordination"]
STAKEHOLDERS = ["government", "private-sector", "civil-society", "technical-community", "academia", "youth",
                "international-organizations", "women"]
BODIES = ["itu", "unesco", "undp", "unctad", "ohchr", "undesa", "odet", "cstd", "ungis", "unep", "fao", "who", "ilo"]
PROCESSES = ["wsis", "gdc", "2030-agenda", "igf", "wsis-forum"]
SDG_TARGETS = ["1.4", "3.8", "4.4", "4.a", "5.b", "8.2", "9.1", "9.c", "10.2", "12.5", "13.1", "16.10", "16.9",
               "17.6", "17.8", "17.17", "17.18"]
GDC = ["objective/1", "objective/2", "objective/3", "objective/4", "objective/5", "paragraph/17a", "paragraph/29b"]
OPENERS = ["Participants stressed that", "Delegates called for", "Speakers noted that", "Civil society urged",
           "Member States welcomed", "Youth networks proposed", "Experts warned that", "The private sector committed to"]
FRAGMENTS = ["meaningful connectivity", "affordable access", "digital skills", "local languages", "trustworthy AI",
             "algorithmic accountability", "cybersecurity capacity", "e-waste management", "open data", "data governance",
             "digital public infrastructure", "gender-responsive policies", "rural communities", "persons with disabilities",
             "regional cooperation", "the multistakeholder model", "human rights safeguards", "misinformation",
             "sustainable financing", "comparable metrics", "the IGF mandate", "the Global Digital Compact",
             "the WSIS-SDG Matrix", "community networks", "media literacy", "capacity building", "e-government services",
             "telemedicine", "online learning", "decent work", "climate resilience", "food security"]
VERBS = ["must be strengthened through", "remains constrained by", "should be aligned with", "depends on",
         "needs investment in", "can be accelerated by", "is undermined by", "requires coordination on"]


def sentence(rng: random.Random) -> str:
    a, b = rng.sample(FRAGMENTS, 2)
    return f"{rng.choice(OPENERS)} {a} {rng.choice(VERBS)} {b} across {rng.choice(FRAGMENTS)}."


def lit(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def base_quads() -> list[str]:
    out = []
    for graph_iri, g in ((ns.GRAPH_ONTOLOGY, ontology_graph()), (ns.GRAPH_REFERENCE, reference_graph())):
        for line in g.serialize(format="nt", encoding="utf-8").decode("utf-8").splitlines():
            if line.strip():
                out.append(f"{line[:-1].rstrip()} <{graph_iri}> .")
    return out


def synthetic_document(rng: random.Random, n: int, statements: int) -> list[str]:
    slug = f"synthetic-{n:06d}"
    doc, session = f"<{ID}doc/{slug}>", f"<{ID}session/{slug}>"
    g, lg = f"<{ID}graph/doc/{slug}>", f"<{ID}graph/links/{slug}>"
    q = [f"{doc} <{ns.RDF}type> <{W}SourceDocument> {g} .",
         f'{doc} <{ns.DCTERMS}title> {lit(f"Synthetic outcome document {n}")} {g} .',
         f'{doc} <{ns.DCTERMS}identifier> "{slug}.txt" {g} .',
         f"{doc} <{W}describesSession> {session} {g} .",
         f"{session} <{ns.RDF}type> <{W}Session> {g} .",
         f'{session} <{ns.DCTERMS}title> {lit(f"Synthetic session {n}")} {g} .',
         f'{session} <{ns.DCTERMS}date> "20{10 + n % 16:02d}-0{1 + n % 9}-1{n % 10}"^^<{XSD}date> {g} .',
         f"{session} <{W}partOfProcess> <{ID}process/{rng.choice(PROCESSES)}> {g} ."]
    for i in range(1, statements + 1):
        s = f"<{ID}statement/{slug}/{i}>"
        q += [f"{s} <{ns.RDF}type> <{W}{rng.choice(KINDS)}> {g} .",
              f"{s} <{W}text> {lit(sentence(rng))}@en {g} .",
              f"{s} <{ns.PROV}wasDerivedFrom> {doc} {g} .",
              f'{s} <{W}sourceLine> "{i * 2 + 10}"^^<{XSD}positiveInteger> {g} .',
              f'{s} <{W}sourceSection> "Key Recommendations" {g} .',
              f"{s} <{W}fromSession> {session} {g} .",
              f"{s} <{W}addressesActionLine> <{ID}action-line/{rng.choice(ACTION_LINES)}> {g} .",
              f"{s} <{W}hasTheme> <{ID}theme/{rng.choice(THEMES)}> {g} .",
              f"{s} <{W}voicedBy> <{ID}stakeholder/{rng.choice(STAKEHOLDERS)}> {g} ."]
        if rng.random() < 0.6:
            q.append(f"{s} <{W}supportsSDG> <{ns.SDG}{rng.choice(SDG_TARGETS)}> {g} .")
        if rng.random() < 0.4:
            q.append(f"{s} <{W}mentionsEntity> <{ID}org/{rng.choice(BODIES)}> {g} .")
        # one machine link with its reification
        target = f"<{ID}gdc/{rng.choice(GDC)}>"
        a = f"<{ID}link/{slug}-{i}>"
        q += [f"{s} <{W}relatesToGDC> {target} {lg} .",
              f"{a} <{ns.RDF}type> <{W}LinkAssertion> {lg} .",
              f"{a} <{ns.RDF}subject> {s} {lg} .",
              f"{a} <{ns.RDF}predicate> <{W}relatesToGDC> {lg} .",
              f"{a} <{ns.RDF}object> {target} {lg} .",
              f'{a} <{W}method> "hidden-label-match" {lg} .',
              f'{a} <{W}score> "{rng.randint(70, 99) / 100:.2f}"^^<{XSD}decimal> {lg} .']
    return q


def generate(triples: int, seed: int = 20250708, include_entries: bool = True) -> list[str]:
    rng = random.Random(seed)
    quads = base_quads()
    if include_entries:
        import rdflib
        for slug, path in entry_files(None).items():
            g = rdflib.Graph().parse(path, format="turtle")
            for line in g.serialize(format="nt", encoding="utf-8").decode("utf-8").splitlines():
                if line.strip():
                    quads.append(f"{line[:-1].rstrip()} <{ns.doc_graph(slug)}> .")
    n = 0
    while len(quads) < triples:
        n += 1
        quads += synthetic_document(rng, n, 50)
    return quads


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Generate a graph shaped like ours (N-Quads).")
    parser.add_argument("--triples", type=int, required=True)
    parser.add_argument("--seed", type=int, default=20250708)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    quads = generate(args.triples, args.seed)
    args.out.write_text("\n".join(quads) + "\n", encoding="utf-8")
    print(f"{len(quads)} quads -> {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
