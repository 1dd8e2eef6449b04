"""`body-overlap`: umbrellas and parent-child pairs are never two bodies duplicating each other, and
the pairs that share assigned work (co-facilitated Action Lines) rank first.

Two levels: the query itself on a small graph written here (each rule in isolation, with the summaries
it reads computed from that graph), and the query on the store built from the shipped sources, with
expectations worked out from the reference tables.
"""
from __future__ import annotations

import csv
import re
from collections import defaultdict
from itertools import combinations

import pyoxigraph as ox
import pytest

from conftest import REPO
from test_queries import al_notation, run, table
from wsiskg.graph import summaries

ID = "https://w3id.org/wsis-kg/id/"
W = "https://w3id.org/wsis-kg/ontology#"
QUERY = (REPO / "queries" / "body-overlap.rq").read_text(encoding="utf-8")


# -- the query's rules, one by one, on a graph written here -----------------------------------------

SMALL = """
@prefix wsis: <https://w3id.org/wsis-kg/ontology#> .
@prefix o:    <https://w3id.org/wsis-kg/id/org/> .
@prefix al:   <https://w3id.org/wsis-kg/id/action-line/> .
@prefix th:   <https://w3id.org/wsis-kg/id/theme/> .
@prefix st:   <https://w3id.org/wsis-kg/id/s/> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix org:  <http://www.w3.org/ns/org#> .
@prefix prov: <http://www.w3.org/ns/prov#> .
<https://w3id.org/wsis-kg/id/doc/d> a wsis:SourceDocument .
st:1 prov:wasDerivedFrom <https://w3id.org/wsis-kg/id/doc/d> .
st:2 prov:wasDerivedFrom <https://w3id.org/wsis-kg/id/doc/d> .
st:3 prov:wasDerivedFrom <https://w3id.org/wsis-kg/id/doc/d> .
st:4 prov:wasDerivedFrom <https://w3id.org/wsis-kg/id/doc/d> .
st:5 prov:wasDerivedFrom <https://w3id.org/wsis-kg/id/doc/d> .
o:un a wsis:UNEntity , wsis:UmbrellaEntity ; skos:prefLabel "United Nations"@en .
o:council a wsis:UNEntity ; skos:prefLabel "Council"@en ; org:subOrganizationOf o:un .
o:commission a wsis:UNEntity ; skos:prefLabel "Commission"@en ; org:subOrganizationOf o:council .
o:group a wsis:UNEntity ; skos:prefLabel "Working group"@en ; org:subOrganizationOf o:commission .
o:a a wsis:UNEntity ; skos:prefLabel "Agency A"@en .
o:b a wsis:UNEntity ; skos:prefLabel "Agency B"@en .
o:c a wsis:UNEntity ; skos:prefLabel "Agency C"@en .
al:C3 skos:notation "C3" .
al:C7 skos:notation "C7" .
th:t skos:prefLabel "Theme T"@en .
th:u skos:prefLabel "Theme U"@en .
# C3: only A and B (weight 1); C7: A, B and C (weight 1/2 each pair)
o:a wsis:leadFacilitator al:C3 , al:C7 .
o:b wsis:coFacilitator al:C3 , al:C7 .
o:c wsis:coFacilitator al:C7 .
# the umbrella and the working group's grandparent speak of theme T, as does the group
st:1 wsis:mentionsEntity o:un ; wsis:hasTheme th:t .
st:2 wsis:mentionsEntity o:group ; wsis:hasTheme th:t .
st:3 wsis:voicedBy o:council ; wsis:hasTheme th:t .
st:4 wsis:mentionsEntity o:a ; wsis:hasTheme th:t .
# B and C are only ever named together on theme U: no evidence they do the same work
st:5 wsis:mentionsEntity o:b , o:c ; wsis:hasTheme th:u .
"""


@pytest.fixture(scope="module")
def small_rows():
    store = ox.Store()
    store.load(SMALL.encode(), format=ox.RdfFormat.TURTLE, to_graph=ox.NamedNode(ID + "graph/test"))
    store.update(summaries.rebuild_update())  # what the query reads, as a build computes it
    results = store.query(QUERY, use_default_graph_as_union=True)
    names = results.variables
    return [{v.value: s[v].value for v in names if s[v] is not None} for s in results]


def _pairs(rows):
    return [(r["bodyA"][len(ID):], r["bodyB"][len(ID):]) for r in rows]


def test_umbrella_never_ranks(small_rows):
    assert not [p for p in _pairs(small_rows) if "org/un" in p]


def test_parent_child_and_ancestor_pairs_never_rank(small_rows):
    pairs = set(_pairs(small_rows))
    chain = ["org/council", "org/commission", "org/group"]
    assert not {p for p in pairs if set(p) <= set(chain)}
    # the group and the council's other theme-T speakers that are no kin of theme T's group do pair
    assert ("org/a", "org/group") in pairs and ("org/a", "org/council") in pairs


def test_statements_naming_both_bodies_are_no_evidence(small_rows):
    themes = {p: r.get("themes", "") for p, r in zip(_pairs(small_rows), small_rows)}
    assert "Theme U" not in themes.get(("org/b", "org/c"), "")


def test_action_lines_weigh_by_how_few_bodies_share_them(small_rows):
    by_pair = dict(zip(_pairs(small_rows), small_rows))
    assert float(by_pair[("org/a", "org/b")]["actionLineSpecificity"]) == 1.5  # C3 (1) + C7 (1/2)
    assert float(by_pair[("org/a", "org/c")]["actionLineSpecificity"]) == 0.5
    assert _pairs(small_rows)[0] == ("org/a", "org/b")
    # assigned work ranks before statements: every pair with a shared Action Line comes first
    kinds = [float(r["actionLineSpecificity"]) > 0 for r in small_rows]
    assert kinds == sorted(kinds, reverse=True)


# -- on the store built from the shipped sources ---------------------------------------------------

def _iri(ref_id: str) -> str:
    return ID + "org/" + ref_id.lower().replace("_", "-")


def kin_and_umbrellas() -> tuple[dict[str, set[str]], set[str]]:
    """Each body's parents (IRIs) and the umbrella IRIs, from the reference tables: un_bodies.csv's
    parent_or_host where it is a body id, the alignment table's parents and umbrellas, and the chart's
    principal organs (the alignment says which body each organ name is)."""
    bodies = {r["id"]: r for r in table("un_bodies.csv")}
    names = {**{r["acronym"]: i for i, r in bodies.items() if r["acronym"]}, **{i: i for i in bodies}}
    align = table("un_system_alignment.csv")
    parents = defaultdict(set)
    for ref_id, row in bodies.items():
        if row["parent_or_host"] in bodies and ref_id not in ("WSIS", "WSISFORUM", "WSISSTOCKTAKING", "IGF", "GDAIG"):
            parents[_iri(ref_id)].add(_iri(row["parent_or_host"]))
    for row in align:
        if row["id"] and row["parent"]:
            parents[_iri(row["id"])].add(_iri(row["parent"]))
    organs = {r["chart_name"]: r["id"] for r in align if r["chart_column"] == "un_principal_organ"}
    fixes = {r["chart_name"]: r for r in align if r["chart_column"] == "entity"}
    with open(REPO / "graph" / "reference" / "un_system_chart.csv", newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            fix = fixes.get(row["entity"], {})
            iri = _iri(fix.get("id") or names.get(row["entity"]) or re.sub(r"[^a-z0-9]+", "-", row["entity"].lower()).strip("-"))
            if fix.get("parent"):
                parents[iri].add(_iri(fix["parent"]))
                continue
            for organ in re.findall(r"[A-Z][A-Za-z ]+[a-z]", row["un_principal_organ"]):
                if organs.get(organ) and _iri(organs[organ]) != iri:
                    parents[iri].add(_iri(organs[organ]))
    umbrellas = {_iri(r["id"]) for r in align if r["umbrella"] == "yes"}
    return parents, umbrellas


def ancestors(body: str, parents: dict[str, set[str]]) -> set[str]:
    seen, todo = set(), list(parents.get(body, ()))
    while todo:
        p = todo.pop()
        if p not in seen:
            seen.add(p)
            todo.extend(parents.get(p, ()))
    return seen


def co_facilitators() -> dict[tuple[str, str], float]:
    """Pairs of bodies facilitating the same Action Line (wsis_action_lines.csv), with the expected
    specificity: each Action Line shared by n bodies adds 1/(n-1)."""
    bodies = {r["id"]: r for r in table("un_bodies.csv")}
    names = {**{r["acronym"]: i for i, r in bodies.items() if r["acronym"]}, **{i: i for i in bodies}}
    _, umbrellas = kin_and_umbrellas()
    weights = defaultdict(float)
    for row in table("wsis_action_lines.csv"):
        found = {re.sub(r"\s*\(.*$", "", n).strip() for n in row["lead_facilitator_confirmed"].split(";")}
        found |= {n.strip() for n in re.findall(r"([A-Za-z][\w -]*?)\s*\(co-facilitator", row["other_roles_confirmed"])}
        facilitators = {_iri(names[n]) for n in found if n in names} - umbrellas
        for a, b in combinations(sorted(facilitators), 2):
            weights[(a, b)] += 1 / (len(facilitators) - 1)
    return weights


def test_the_umbrella_and_kin_never_rank_on_the_shipped_data(built_store):
    parents, umbrellas = kin_and_umbrellas()
    assert _iri("UN") in umbrellas
    assert ancestors(_iri("CSTDWGDG"), parents) >= {_iri("CSTD"), _iri("ECOSOC")}
    rows = run(built_store, "body-overlap")
    assert rows
    for r in rows:
        a, b = r["bodyA"], r["bodyB"]
        assert a not in umbrellas and b not in umbrellas, (a, b)
        assert a not in ancestors(b, parents) and b not in ancestors(a, parents), (a, b)
    assert "United Nations" not in {r.get("bodyALabel") for r in rows} | {r.get("bodyBLabel") for r in rows}


def test_the_top_rows_are_bodies_that_share_assigned_work(built_store):
    expected = co_facilitators()
    parents, _ = kin_and_umbrellas()
    expected = {p: w for p, w in expected.items()
                if p[0] not in ancestors(p[1], parents) and p[1] not in ancestors(p[0], parents)}
    assert (_iri("ITU"), _iri("UNESCO")) in expected and (_iri("UNEP"), _iri("WMO")) in expected
    rows = run(built_store, "body-overlap")
    top = rows[:len(expected)]
    assert {(r["bodyA"], r["bodyB"]) for r in top} == set(expected)
    for r in top:
        assert float(r["actionLineSpecificity"]) == pytest.approx(expected[(r["bodyA"], r["bodyB"])], abs=1e-3)
    ranks = [float(r["actionLineSpecificity"]) for r in top]
    assert ranks == sorted(ranks, reverse=True)
    best = max(expected.values())
    assert float(rows[0]["actionLineSpecificity"]) == pytest.approx(best, abs=1e-3)
    # the pairs the issue names: ITU-UNESCO on C3 and C10 first; ITU, UNEP and WMO on C7 e-environment
    assert (rows[0]["bodyA"], rows[0]["bodyB"]) == (_iri("ITU"), _iri("UNESCO"))
    e_env = al_notation("C7.EENV")
    for pair in combinations([_iri("ITU"), _iri("UNEP"), _iri("WMO")], 2):
        row = next(r for r in top if (r["bodyA"], r["bodyB"]) == pair)
        assert e_env in row["actionLines"]
