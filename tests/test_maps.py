"""The two maps of A/RES/80/173 (issue 16.4): the WSIS-GDC matrix (para 122) and an Action Line's road
map (para 113), each checked against the store's own links and the reference tables."""
from __future__ import annotations

import csv
import json
from collections import defaultdict

from conftest import REPO, wsiskg
from wsiskg.graph import namespaces as ns
from wsiskg.graph.store import EmbeddedStore

W = ns.WSIS


def run(store, name, **params) -> list[dict[str, str]]:
    args = ["query", name, "--format", "json"]
    for key, value in params.items():
        args += ["--param", f"{key}={value}"]
    result = wsiskg(*args, store=store)
    assert result.returncode == 0, result.stderr
    return [{k: c["value"] for k, c in row.items()} for row in json.loads(result.stdout)["results"]["bindings"]]


def test_the_wsis_gdc_matrix_has_every_commitment_and_the_action_lines_its_evidence_names(built_store):
    rows = run(built_store, "wsis-gdc-matrix")
    with EmbeddedStore.open(built_store, read_only=True) as store:
        commitments = {g.value for (g,) in store.query(f"SELECT ?g WHERE {{ ?g a <{W}GDCCommitment> ; <{W}paragraphNumber> ?n }}").rows}
        cells = defaultdict(set)
        for g, al in store.query(f"""SELECT DISTINCT ?g ?al WHERE {{ ?g a <{W}GDCCommitment> .
              {{ ?g <{W}addressesActionLine> ?al }} UNION {{ ?s <{W}relatesToGDC> ?g ; <{W}addressesActionLine> ?al }}
              UNION {{ ?s <{W}takenUpBy> ?g ; <{W}addressesActionLine> ?al }} }}""").rows:
            cells[g.value].add(al.value)
        uptake_29d = {al.value for (al,) in store.query(f"""SELECT DISTINCT ?al WHERE {{
              ?s <{W}takenUpBy> <{ns.ID}gdc/paragraph/29d> ; <{W}addressesActionLine> ?al }}""").rows}
    assert {r["gdc"] for r in rows} == commitments
    got = defaultdict(set)
    for r in rows:
        got[r["gdc"]].add(r.get("actionLineIri", ""))
    for g in commitments:
        assert got[g] == (cells[g] or {""}), g
    # GDC 29(d): its row, cell by cell, as the store's links give it
    row_29d = [r for r in rows if r["gdc"] == ns.ID + "gdc/paragraph/29d"]
    assert {r["commitment"] for r in row_29d} == {"GDC 29(d)"}
    assert {r.get("actionLineIri", "") for r in row_29d} == (cells[ns.ID + "gdc/paragraph/29d"] or {""})
    for r in row_29d:
        assert ("uptake" in r["sources"]) == (r.get("actionLineIri") in uptake_29d)
    assert any(r["sources"] for r in rows)


def test_the_c6_road_map_has_its_facilitators_matrix_sdgs_gdc_items_and_statements(built_store):
    rows = run(built_store, "actionline-roadmap", actionLine="id:action-line/C6")
    section = defaultdict(list)
    for r in rows:
        section[r["section"]].append(r)
    table = list(csv.DictReader((REPO / "graph" / "reference" / "wsis_action_lines.csv").open(encoding="utf-8")))
    lead = next(r["lead_facilitator_confirmed"] for r in table if r["id"] == "C6")
    assert [r["detail"] for r in section["facilitator"] if lead.split()[0] in r["itemLabel"] or lead.split()[0].lower() in r["item"]] == ["lead"]
    matrix = list(csv.DictReader((REPO / "graph" / "reference" / "wsis_sdg_matrix.csv").open(encoding="utf-8")))
    codes = {(r["sdg_target"] or r["sdg_goal"]) for r in matrix if r["action_line"] == "C6"}
    assert {r["detail"] for r in section["SDG"]} == codes
    goals = [int(r["detail"].split(".")[0]) for r in section["SDG"]]
    assert goals == sorted(goals)  # in goal order
    with EmbeddedStore.open(built_store, read_only=True) as store:
        al = ns.ID + "action-line/C6"
        gdc = {g.value for (g,) in store.query(f"""SELECT DISTINCT ?g WHERE {{ ?s <{W}addressesActionLine> <{al}> .
               {{ ?s <{W}relatesToGDC> ?g }} UNION {{ ?s <{W}takenUpBy> ?g }} ?g a <{W}GDCCommitment> }}""").rows}
        statements = {s.value for (s,) in store.query(f"""SELECT DISTINCT ?s WHERE {{ ?s <{W}addressesActionLine> <{al}> ;
               <{W}text> ?t ; <{ns.PROV}wasDerivedFrom> ?d }}""").rows}
        mandates = {m.value for (m,) in store.query(f"""SELECT DISTINCT ?m WHERE {{ ?m a <{W}Mandate> ; <{W}inParagraph> ?p .
               ?p <{W}addressesActionLine> <{al}> }}""").rows}
    assert gdc and {r["item"] for r in section["GDC commitment"]} == gdc
    assert {r["item"] for r in section["mandate"]} == mandates
    kinds = ("Achievement", "Challenge", "Recommendation", "Key issue", "Commitment")
    assert {r["item"] for k in kinds for r in section[k]} == statements
    assert section["Challenge"] and section["Recommendation"]
    assert any(r.get("uptake") for k in kinds for r in section[k])
