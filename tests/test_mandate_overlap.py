"""mandate-overlap (issue 16.3): bodies asked by different paragraphs to work on the same topics.

The expected pairs are recomputed here in Python from the mandates, the paragraphs' links, the
similar-deliverable links (id:graph/links/deliverable-similarity) and the chart's hierarchy read
from the store; the query must agree and never pair an umbrella or a parent with its child.
"""
from __future__ import annotations

import json
from collections import defaultdict

import pytest

from conftest import wsiskg
from wsiskg.graph import namespaces as ns
from wsiskg.graph.store import EmbeddedStore

W = ns.WSIS


def rows(store) -> list[dict[str, str]]:
    result = wsiskg("query", "mandate-overlap", "--format", "json", store=store)
    assert result.returncode == 0, result.stderr
    return [{k: c["value"] for k, c in row.items()} for row in json.loads(result.stdout)["results"]["bindings"]]


def expected(store_root):
    with EmbeddedStore.open(store_root, read_only=True) as store:
        q = store.query
        bodies = {b.value for (b,) in q(f"SELECT ?b WHERE {{ ?b a <{W}UNEntity> }}").rows}
        umbrellas = {b.value for (b,) in q(f"SELECT ?b WHERE {{ ?b a <{W}UmbrellaEntity> }}").rows}
        parent = defaultdict(set)
        for c, p in q("SELECT ?c ?p WHERE { ?c <http://www.w3.org/ns/org#subOrganizationOf> ?p }").rows:
            parent[c.value].add(p.value)
        mandates = [(b.value, p.value) for b, p in q(
            f"SELECT DISTINCT ?b ?p WHERE {{ ?m a <{W}Mandate> ; <{W}addressedTo> ?b ; <{W}inParagraph> ?p }}").rows]
        topics = defaultdict(set)
        for p, t in q(f"""SELECT DISTINCT ?p ?t WHERE {{ ?m a <{W}Mandate> ; <{W}inParagraph> ?p .
                         {{ ?p <{W}addressesActionLine>|<{W}relatesToGDC>|<{W}supportsSDG> ?t }}
                         UNION {{ ?p a <{W}GDCCommitment> BIND(?p AS ?t) }} }}""").rows:
            topics[p.value].add(t.value)
        addressed = defaultdict(set)
        for m, b in q(f"SELECT ?m ?b WHERE {{ ?m a <{W}Mandate> ; <{W}addressedTo> ?b }}").rows:
            addressed[m.value].add(b.value)
        similar = [(a.value, b.value) for a, b in q(f"""SELECT ?a ?b WHERE {{ ?l <{ns.RDF}subject> ?a ;
                   <{ns.RDF}predicate> <{W}similarDeliverable> ; <{ns.RDF}object> ?b }}""").rows]

    def ancestors(b):
        seen, todo = set(), [b]
        while todo:
            for p in parent[todo.pop()] - seen:
                seen.add(p)
                todo.append(p)
        return seen

    on = defaultdict(set)  # (body, topic) -> paragraphs
    holders = defaultdict(set)
    for b, p in mandates:
        if b in bodies:
            for t in topics[p]:
                on[b, t].add(p)
                if b not in umbrellas:
                    holders[t].add(b)
    pairs = defaultdict(float)
    for (a, t), pa in on.items():
        for (b, t2), pb in on.items():
            if t2 != t or not a < b or len(holders[t]) < 2:
                continue
            if a in umbrellas or b in umbrellas or a in ancestors(b) or b in ancestors(a):
                continue
            if any(x != y for x in pa for y in pb):
                pairs[a, b] += 1 / (len(holders[t]) - 1)
    # a pair of similar deliverables weighs 1 for each pair of bodies it joins, once however it is read,
    # unless both mandates ask both bodies (one joint request repeated)
    for m1, m2 in similar:
        joined = {tuple(sorted((x, y))) for x in addressed[m1] & bodies for y in addressed[m2] & bodies
                  if x != y and not (x in addressed[m2] and y in addressed[m1])}
        for a, b in joined:
            if not (a in umbrellas or b in umbrellas or a in ancestors(b) or b in ancestors(a)):
                pairs[a, b] += 1
    return pairs, umbrellas, ancestors


def test_mandate_overlap_ranks_bodies_that_share_work_and_never_umbrellas_or_parent_and_child(built_store):
    pairs, umbrellas, ancestors = expected(built_store)
    found = rows(built_store)
    assert found and pairs
    got = {(r["bodyA"], r["bodyB"]): float(r["specificity"]) for r in found}
    assert set(got) == set(pairs)
    for pair, weight in pairs.items():
        assert abs(got[pair] - round(weight, 3)) < 1e-9, pair
    best = max(pairs.values())
    top = found[0]
    assert float(top["specificity"]) == round(best, 3)
    assert top["evidence"] and " | " in top["evidence"]
    for r in found:
        a, b = r["bodyA"], r["bodyB"]
        assert a not in umbrellas and b not in umbrellas
        assert a not in ancestors(b) and b not in ancestors(a)
    specificities = [float(r["specificity"]) for r in found]
    assert specificities == sorted(specificities, reverse=True)


def test_the_report_heatmap_counts_each_bodys_mandates_per_topic(built_store):
    import re
    from wsiskg.graph.report import duplication_report, render_html
    with EmbeddedStore.open(built_store, read_only=True) as store:
        report = duplication_report(store)
        itu = ns.ID + "org/itu"
        counts = {al.value.rsplit("/", 1)[1]: int(n.value) for al, n in store.query(f"""
            SELECT ?al (COUNT(DISTINCT ?m) AS ?n) WHERE {{ ?m a <{W}Mandate> ; <{W}addressedTo> <{itu}> ; <{W}inParagraph> ?p .
            ?p <{W}addressesActionLine> ?al }} GROUP BY ?al""").rows}
    page = render_html(report)
    svg = page[page.index('id="heatmap-body-mandate-topic"'):]
    svg = svg[:svg.index("</svg>")]
    cells = {m.group(1): int(m.group(2)) for m in re.finditer(r'data-row="ITU" data-col="(C[^"]+)" data-value="(\d+)"', svg)}
    assert counts and {k: v for k, v in cells.items() if v} == counts
    _, umbrellas, _ = expected(built_store)
    table = page[page.index('id="mandate-overlaps"'):]
    table = table[:table.index("</table>")]
    assert umbrellas and not any(f'href="{u}"' in table for u in umbrellas)  # no umbrella in the ranking
    assert table.count("<tr>") > 1


def test_similar_deliverables_are_cited_as_evidence_with_their_score(fresh_store):
    """A similar-deliverable pair between two bodies' own mandates is cited with its score; one joint
    request repeated in another text is left to the recomputation above. The shipped links are such
    repeats (one request to nine agencies in three texts), so a pair of single-body mandates is
    linked here as the build would link it."""
    with EmbeddedStore.open(fresh_store) as store:
        q = store.query
        single = {}  # body -> a mandate addressed to it alone, with its citation
        for m, b, sym, n, p in q(f"""SELECT ?m ?b ?sym ?n ?p WHERE {{ ?m a <{W}Mandate> ; <{W}addressedTo> ?b ;
                <{W}inParagraph> ?p ; <{W}inResolution>/<http://purl.org/dc/terms/identifier> ?sym .
                ?p <{W}paragraphNumber> ?n . ?b a <{W}UNEntity> .
                FILTER NOT EXISTS {{ ?b a <{W}UmbrellaEntity> }}
                FILTER NOT EXISTS {{ ?m <{W}addressedTo> ?other FILTER(?other != ?b) }}
                FILTER NOT EXISTS {{ ?b <http://www.w3.org/ns/org#subOrganizationOf> ?up }}
                FILTER NOT EXISTS {{ ?down <http://www.w3.org/ns/org#subOrganizationOf> ?b }} }}
                ORDER BY ?m""").rows:
            single.setdefault(b.value, (m.value, f"{sym.value} {n.value}", p.value))
        (a, (ma, cite_a, pa)), (b, (mb, cite_b, pb)) = [x for x in sorted(single.items())][:2]
        assert pa != pb
        graph, link = ns.links_graph("deliverable-similarity"), f"{ns.ID}test/deliverable-link"
        store.update(f"""INSERT DATA {{ GRAPH <{graph}> {{
            <{ma}> <{W}similarDeliverable> <{mb}> . <{mb}> <{W}similarDeliverable> <{ma}> .
            <{link}> a <{W}LinkAssertion> ; <{ns.RDF}subject> <{ma}> ; <{ns.RDF}predicate> <{W}similarDeliverable> ;
                <{ns.RDF}object> <{mb}> ; <{W}score> "0.512"^^<{ns.XSD}decimal> }} }}""")
    by_pair = {(r["bodyA"], r["bodyB"]): r for r in rows(fresh_store)}
    row = by_pair[tuple(sorted((a, b)))]
    assert f"similar deliverables ({cite_a} | {cite_b}, 0.512)" in row["evidence"].split("; ")
