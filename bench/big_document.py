"""A synthetic WSIS Forum session outcome document of any size, for measuring `wsiskg ingest`.

    python bench/big_document.py --bytes 1000000 --out /tmp/doc-1m.txt

The document follows the template `graph/parse.py` reads (header, "Key Issues Discussed",
"Tangible Outcomes" with achievements and commitments, "Key Recommendations"), repeated as
numbered parts so every section grows with the size. Each bullet is a varied sentence built from
phrases that also occur in the shipped sources, so similarity and the linker have real work: many
statements score above the threshold against the corpus and against each other. Same size and
seed, same bytes.
"""
from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

ACTORS = ["Participants", "Delegates", "Speakers", "Civil-society organisations", "Member States",
          "Youth-led networks", "Technical-community experts", "Private-sector representatives",
          "Regional Commissions", "Academic researchers", "Women's rights groups", "Local authorities"]
VERBS = {
    "KeyIssue": ["stressed the importance of", "discussed", "highlighted", "raised concerns about",
                 "examined", "reflected on"],
    "Achievement": ["welcomed progress on", "acknowledged the success of", "celebrated advances in",
                    "reported measurable gains in"],
    "Commitment": ["committed to expanding", "will curate resources on", "pledged funding for",
                   "agreed to coordinate work on"],
    "Recommendation": ["called for stronger", "recommended investment in", "urged governments to prioritise",
                       "proposed a framework for"],
}
TOPICS = ["meaningful connectivity in rural areas", "affordable broadband access", "digital skills for women and girls",
          "content in local languages", "trustworthy and accountable artificial intelligence",
          "cybersecurity capacity in developing countries", "e-waste management and the circular economy",
          "open data and data governance", "digital public infrastructure", "community networks",
          "last-mile infrastructure and resilient backbones", "online child protection",
          "accessibility for persons with disabilities", "e-health services in remote clinics",
          "e-learning platforms and open educational resources", "e-agriculture and climate resilience",
          "multistakeholder internet governance", "information integrity and media literacy",
          "measurement of ICT indicators aligned with the SDGs", "financing mechanisms for digital development",
          "privacy and personal data protection", "the digital economy and cross-border data flows",
          "the ethical dimensions of the information society", "e-government services for citizens",
          "scientific cooperation and open science", "gender-responsive digital policies"]
QUALIFIERS = ["across every Action Line", "in least developed countries", "through public-private partnerships",
              "with the Global Digital Compact in view", "aligned with the WSIS-SDG Matrix",
              "by 2030", "in small island developing states", "with youth co-leadership",
              "under national broadband plans", "through regional implementation", "with measurable targets",
              "while safeguarding human rights", "in partnership with UNESCO and ITU", "at the local level"]
TAILS = ["so that no one is left behind", "to close persistent digital divides", "building on two decades of WSIS",
         "as reported in national reviews", "with open datasets published annually", "drawing on IGF outputs",
         "and noted remaining gaps in funding", "and asked for comparable metrics", ""]
SECTIONS = [("Key Issues Discussed", "KeyIssue"), ("Key achievements acknowledged", "Achievement"),
            ("Agreements / commitments", "Commitment"), ("Key Recommendations & Forward-Looking Action Plan",
                                                         "Recommendation")]
HEADER = """Session Outcome Document

Session Title: Synthetic Session on Digital Cooperation at Scale

WSIS

Tuesday, 8 July 2025 — 12:00–14:00 (Room L)

<https://www.itu.int/net4/wsis/forum/2025/Agenda/Session/9999>

"""


def sentence(rng: random.Random, kind: str, n: int) -> str:
    """One bullet: actor, verb for the section's kind, one or two topics, qualifier, optional tail."""
    topics = rng.sample(TOPICS, rng.choice((1, 1, 2)))
    text = f"{rng.choice(ACTORS)} {rng.choice(VERBS[kind])} {' and '.join(topics)} {rng.choice(QUALIFIERS)}"
    tail = rng.choice(TAILS)
    # a number keeps statements distinct, as real documents cite figures and sessions
    return f"{text}{' ' + tail if tail else ''} (item {n})."


def document(size: int, seed: int = 1, pool: int | None = None) -> str:
    """About `size` bytes (UTF-8) of outcome document, ending after the part that crosses `size`.

    With `pool`, every bullet repeats one of `pool` sentences per kind (only its item number
    changes), as boilerplate repeats across a series of documents: two such documents are near
    duplicates of each other many times over, the worst case for similarity pairs."""
    rng = random.Random(seed)
    fixed = {kind: [sentence(random.Random(k), kind, 0).rsplit(" (item", 1)[0] for k in range(pool)]
             for _, kind in SECTIONS} if pool else None
    out = [HEADER]
    total, n, part = len(HEADER.encode("utf-8")), 0, 0
    while total < size:
        part += 1
        for heading, kind in SECTIONS:
            block = [f"{heading} – part {part}\n\n" if kind in ("KeyIssue", "Recommendation") else
                     f"Tangible Outcomes of the Session – part {part}\n\n{heading}\n\n"]
            for _ in range(rng.randint(8, 14)):
                n += 1
                text = f"{rng.choice(fixed[kind])} (item {n})." if fixed else sentence(rng, kind, n)
                block.append(f"- {text}\n")
            block.append("\n")
            text = "".join(block)
            out.append(text)
            total += len(text.encode("utf-8"))
            if total >= size:
                break
    return "".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bytes", type=int, required=True)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--pool", type=int, default=None, help="repeat this many sentences per kind")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    text = document(args.bytes, args.seed, args.pool)
    if args.out:
        args.out.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
