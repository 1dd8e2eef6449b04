"""Mandates: the requests to act in the operative paragraphs (graph/mandates.py, vocabulary in
graph/reference/mandates.yaml), their precision and recall on the hand-labelled paragraphs, and the
named queries over them (mandates, body-mandates, gdc-commitment-profile, gdc-gaps).

Expected values are read from the official texts (graph/sources/resolutions/) and from the labels in
tests/fixtures/mandates_labelled.json, written from the text before the extractor.
"""
from __future__ import annotations

import json
import re
import sys

import pytest

from conftest import REPO, query_rows
from wsiskg.graph import namespaces as ns
from wsiskg.graph.mandates import Vocabulary, extract, ordinal, vocabulary
from wsiskg.graph.reference import _org_names, known_org_ids, read_table
from wsiskg.graph.texts import document, gdc_annex

ID = ns.ID
FACILITATORS = {"FAO", "ILO", "ITU", "UNCTAD", "UNDESA", "UNEP", "UNESCO", "WHO", "WMO"}


def paragraph(file: str, number: str):
    paragraphs = document(file).part("").paragraphs
    p = next(x for x in paragraphs if x.number == number)
    return p, [x.text for x in paragraphs if x.parent == number]


run = query_rows


# -- the extractor --------------------------------------------------------------------------------------

def test_the_action_line_facilitators_are_the_lead_facilitators_of_the_reference_table():
    orgs = known_org_ids()
    from_table = {str(orgs[n]) for row in read_table("wsis_action_lines.csv")
                  for n in _org_names(row["lead_facilitator_confirmed"]) if n in orgs}
    assert set(vocabulary().facilitators) == from_table == {ID + "org/" + f.lower() for f in FACILITATORS}


def test_paragraph_113_of_the_wsis20_outcome():
    p, items = paragraph("A_RES_80_173.txt", "113")
    [m] = extract(p.text, p.heading, items)
    assert m.verb == "request"
    assert m.phrase == "the action line facilitators, in coordination with the United Nations Group on the Information Society"
    assert set(m.addressees) == set(vocabulary().facilitators) | {ID + "org/ungis"}
    assert m.deliverable.startswith("develop targeted and result-oriented implementation road maps for their "
                                    "respective action lines")
    assert "linking the World Summit action lines with relevant Sustainable Development Goal targets and Global " \
           "Digital Compact commitments" in m.deliverable
    assert (m.due, m.reports_to) == ("2027", [ID + "org/cstd"])


def test_the_second_committee_style_and_a_session_as_deadline():
    # "Requests the Secretary-General to submit to the General Assembly at its eighty-first session, through …"
    p, items = paragraph("A_RES_80_118.txt", "72")
    [m] = extract(p.text, p.heading, items)
    assert (m.verb, m.phrase, m.addressees) == ("requests", "the Secretary-General", [ID + "org/unsec"])
    assert m.due == "2026"  # the Assembly's eighty-first session opens in September 2026
    assert m.reports_to[0] == ID + "org/unga" and ID + "org/cstd" in m.reports_to
    # A/RES/80/173 122: "… at its twenty-ninth session, in 2026" under a "we request" in mid-paragraph
    p, items = paragraph("A_RES_80_173.txt", "122")
    [m] = extract(p.text, p.heading, items)
    assert (m.addressees, m.due, m.reports_to) == ([ID + "org/ungis"], "2026", [ID + "org/cstd"])
    assert m.deliverable.startswith("prepare a joint implementation road map")


def test_a_chapeau_asks_for_what_its_items_say():
    doc = document("A_RES_79_175.txt").part("")
    chapeau = next(p for p in doc.numbered() if p.text.endswith(":") and "Calls upon" in p.text)
    items = [x.text for x in doc.paragraphs if x.parent == chapeau.number]
    [m] = extract(chapeau.text, chapeau.heading, items)
    assert m.addressees == [ID + "stakeholder/government"]
    assert m.deliverable == "; ".join(items).rstrip(" ;") and len(items) >= 5


def test_two_requests_in_one_sentence_share_the_deliverable():
    p, items = paragraph("A_RES_80_118.txt", "70")  # "Calls upon Member States and invites other stakeholders to take action …"
    found = extract(p.text, p.heading, items)
    assert [(m.verb, m.phrase) for m in found] == [("calls upon", "Member States"), ("invites", "other stakeholders")]
    assert found[0].addressees == [ID + "stakeholder/government"] and found[1].addressees == []
    assert found[0].deliverable == found[1].deliverable and found[0].deliverable.startswith("take action")


def test_ordinals_and_sessions_to_years():
    assert [ordinal(w) for w in ("first", "tenth", "twenty-ninth", "thirtieth", "eighty-first", "eightieth")] == \
        [1, 10, 29, 30, 81, 80]
    v = vocabulary()
    assert v.session_year(ID + "org/cstd", 30) == 2027 and v.session_year(ID + "org/unga", 80) == 2025
    assert v.session_year(ID + "org/hrc", 58) == 2025 and v.session_year(ID + "org/hrc", 61) == 2026


def test_the_vocabulary_is_data(tmp_path):
    import yaml
    data = yaml.safe_load((REPO / "graph" / "reference" / "mandates.yaml").read_text(encoding="utf-8"))
    p, items = paragraph("A_RES_80_173.txt", "118")  # "call upon development partners … We urge the private sector …"
    before = extract(p.text, p.heading, items)
    assert before[0].phrase == "development partners" and before[0].addressees == []
    data["addressees"].insert(0, {"phrase": "development partners", "to": ["id:stakeholder/international-organizations"]})
    path = tmp_path / "mandates.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    after = extract(p.text, p.heading, items, Vocabulary.load(path))
    assert after[0].addressees == [ID + "stakeholder/international-organizations"]
    data["verbs"].remove("urge")
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    assert len(extract(p.text, p.heading, items, Vocabulary.load(path))) == len(before) - 1


def test_precision_and_recall_on_the_labelled_paragraphs():
    sys.path.insert(0, str(REPO / "bench"))
    from mandate_eval import evaluate
    labels = json.loads((REPO / "tests" / "fixtures" / "mandates_labelled.json").read_text(encoding="utf-8"))
    assert len(labels["paragraphs"]) >= 60
    result = evaluate()
    assert result["addressees"]["precision"] >= 0.9 and result["addressees"]["recall"] >= 0.85
    held_out = evaluate(subset="held-out")
    assert held_out["paragraphs"] == 20 and evaluate(subset="development")["paragraphs"] == 68
    assert held_out["addressees"]["precision"] >= 0.85 and held_out["addressees"]["recall"] >= 0.85
    assert result["due"]["precision"] >= 0.9 and result["reportsTo"]["precision"] >= 0.9
    # labels name only our IRIs (or the facilitators) and years
    for row in labels["paragraphs"]:
        assert all(a == "@action-line-facilitators" or re.match(r"^id:(org|process|stakeholder)/[a-z0-9-]+$", a)
                   for a in row["addressees"]), row
        assert all(re.match(r"^20\d\d$", d) for d in row["due"]), row


# -- in the built store: the mandates graph and the queries ------------------------------------------------

def test_the_mandate_of_paragraph_113_in_the_store(built_store):
    rows = run(built_store, "mandates", resolution="id:resolution/A-RES-80-173", year="2027")
    by_number = {r["number"]: r for r in rows}
    assert set(by_number) == {"113", "117"}  # the two requests due in 2027 (both report to the CSTD)
    m = by_number["113"]
    assert m["mandate"] == ID + "mandate/A-RES-80-173/113" and m["line"] == "1186" and m["due"] == "2027"
    assert set(m["addresseeIris"].split()) == {ID + "org/" + f.lower() for f in FACILITATORS} | {ID + "org/ungis"}
    assert m["reportsTo"] == "Commission on Science and Technology for Development"
    assert "implementation road maps" in m["deliverable"] and m["verb"] == "request"


def test_mandates_query_filters(built_store):
    from rdflib import URIRef
    from rdflib.namespace import RDF

    from wsiskg.graph.mandates import mandates_graph
    from wsiskg.graph.texts import table
    every = run(built_store, "mandates")
    # the query lists what the extractor reads in the shipped texts, each mandate once
    extracted = mandates_graph([(r["symbol"], document(r["file"])) for r in table()])
    expected = {str(m) for m in extracted.subjects(RDF.type, URIRef(ns.WSIS + "Mandate"))}
    assert {r["mandate"] for r in every} == expected and len(every) == len(expected) > 150
    ungis = run(built_store, "mandates", body="id:org/ungis")
    # 67 invites ITU "as the secretariat of" UNGIS, "working with … other members of the Group"
    assert {r["number"] for r in ungis if r["symbol"] == "A/RES/80/173"} == {"67", "100", "113", "121", "122"}
    assert all(ID + "org/ungis" in r["addresseeIris"].split() for r in ungis)
    by_al = run(built_store, "mandates", actionLine="id:action-line/C2")
    assert by_al and set(r["mandate"] for r in by_al) < set(r["mandate"] for r in every)


def test_body_mandates_lists_deadlines_and_reporting_lines(built_store):
    rows = run(built_store, "body-mandates", body="id:org/ungis")
    assert [r["mandate"].rsplit("/", 2)[-2:] for r in rows[:2]] == [["A-RES-80-173", "122"], ["A-RES-80-173", "113"]]
    assert [r["due"] for r in rows[:2]] == ["2026", "2027"] and all("due" not in r for r in rows[2:])
    first = rows[1]
    assert first["reportsTo"] == "Commission on Science and Technology for Development"
    assert "International Telecommunication Union" in first["alongside"]
    # every body the Secretary-General is asked of, across resolutions
    sg = run(built_store, "body-mandates", body="id:org/unsec")
    assert {r["symbol"] for r in sg} >= {"A/RES/80/173", "A/RES/80/118", "A/RES/79/194", "A/RES/79/1"}


def test_gdc_commitment_profile_of_29d(built_store):
    rows = run(built_store, "gdc-commitment-profile", paragraph="id:gdc/paragraph/29d")
    sections = {}
    for r in rows:
        sections.setdefault(r["section"], []).append(r)
    [text] = sections["text"]
    annex = {p.number: p for p in gdc_annex().paragraphs}
    assert text["count"] == "3148" and text["detail"] == "Internet governance | " + annex["29(d)"].text
    assert [r["item"] for r in sections["objective"]] == [ID + "gdc/objective/3"]
    assert [(r["item"], r["detail"]) for r in sections["SDG tag"]] == [(ns.SDG + "16", "SDG 16")]
    import csv
    with open(REPO / "graph" / "reference" / "wsis_sdg_matrix.csv", newline="", encoding="utf-8") as handle:
        matrix = {row["action_line"] for row in csv.DictReader(handle) if row["sdg_goal"] == "16"}
    assert {r["item"] for r in sections["Action Line (matrix)"]} == {ns.action_line(a) for a in matrix}


def test_gdc_gaps_covers_the_whole_compact_with_the_preamble_apart(built_store):
    rows = run(built_store, "gdc-gaps")
    paragraphs = [r for r in rows if r["kind"] == "paragraph"]
    parts = [r["part"] for r in paragraphs]
    assert parts == sorted(parts) and set(parts) == {"operative", "preambular"}  # operative first
    preambular = {r["notation"] for r in paragraphs if r["part"] == "preambular"}
    assert preambular and all(int(re.match(r"\d+", n).group()) <= 8 for n in preambular)
    # listed paragraphs from every objective, and none tagged "(all SDGs)" (which meets every matrix goal)
    all_sdgs = {p.number for p in gdc_annex().paragraphs if "(all SDGs)" in p.text}
    assert not all_sdgs & {r["notation"] for r in paragraphs}
    assert {r.get("objective") for r in paragraphs} >= {ID + f"gdc/objective/{n}" for n in (1, 3, 4)}


# -- whom consultation statements ask -----------------------------------------------------------------

def test_statement_addressees_by_the_same_vocabulary():
    from wsiskg.graph.mandates import statement_addressees
    assert statement_addressees("The ITU should evaluate the successes of current privacy frameworks.") == \
        [(ID + "org/itu", "The ITU")]
    assert statement_addressees("UNGIS must continue serving as an inter-agency mechanism.") == [(ID + "org/ungis", "UNGIS")]
    assert statement_addressees("Member States must protect journalists, and companies should publish reports.") == \
        [(ID + "stakeholder/government", "Member States"), (ID + "stakeholder/private-sector", "companies")]
    # the operative verbs too; and a statement that asks nobody has no addressee
    assert statement_addressees("We call upon Governments to invest in connectivity.") == \
        [(ID + "stakeholder/government", "Governments")]
    assert statement_addressees("Connectivity remains unequal between regions.") == []


def test_statement_addressees_in_the_store(built_store):
    from wsiskg.graph.store import EmbeddedStore
    with EmbeddedStore.open(built_store, read_only=True) as store:
        rows = store.query(f"""PREFIX wsis: <{ns.WSIS}>
            SELECT ?s ?text ?o ?method WHERE {{ GRAPH <{ID}graph/links/addressees> {{
              ?s wsis:addressedTo ?o . ?a <{ns.RDF}subject> ?s ; <{ns.RDF}object> ?o ; wsis:method ?method }}
              ?s wsis:text ?text }}""").rows
    found = {(text.value, o.value) for _, text, o, _ in rows}
    assert ("UNGIS must continue serving as an inter-agency mechanism on digital for development.",
            ID + "org/ungis") in found
    assert {m.value for *_, m in rows} == {"addressee-vocabulary"}
    # whom a statement asks is kept apart from who voiced it: no addressee link is a voicedBy restated
    assert all("should" in t or "must" in t or "urge" in t or "call" in t or "invite" in t or "shall" in t
               or "need" in t or "encourag" in t or "recommend" in t for t, _ in found)
