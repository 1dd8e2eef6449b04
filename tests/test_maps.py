"""The two maps of A/RES/80/173 (issue 16.4): the WSIS-GDC matrix (para 122) and an Action Line's road
map (para 113), each checked against the store's own links and the reference tables."""
from __future__ import annotations

import csv
from collections import defaultdict

from conftest import REPO, query_rows, wsiskg
from wsiskg.graph import namespaces as ns
from wsiskg.graph.store import EmbeddedStore

W = ns.WSIS


run = query_rows
ID = ns.ID
WSIS = ns.WSIS


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


# -- the HTML: declared views and dedicated pages (Flask test client, in process) --------------------

import html as htmllib  # noqa: E402
import re  # noqa: E402

import pytest  # noqa: E402


@pytest.fixture(scope="module")
def client(built_store):
    from wsiskg.server.app import create_app
    from wsiskg.server.config import ServerConfig
    app = create_app(ServerConfig(store_root=built_store, warm=False, workers=1))
    yield app.test_client()
    app.extensions["wsiskg"].backend.close()


def page(client, url: str) -> str:
    response = client.get(url, headers={"Accept": "text/html"})
    assert response.status_code == 200, (url, response.status_code)
    return response.get_data(as_text=True)


def text_of(fragment: str) -> str:
    return htmllib.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", fragment))).strip()


def test_the_matrix_pages_draw_a_matrix_and_keep_their_machine_twins(client, built_store):
    rows = run(built_store, "wsis-gdc-matrix")
    body = page(client, "/queries/wsis-gdc-matrix")
    matrix = body[body.index('id="view-matrix"'):body.index("</section>", body.index('id="view-matrix"'))]
    header = re.findall(r'<th scope="col">([^<]*)</th>', matrix)
    assert set(header) == {r["actionLineNotation"] for r in rows if r.get("actionLineNotation")}
    row_heads = re.findall(r'<th scope="row">(.*?)</th>', matrix, re.S)
    assert len(row_heads) == len({r["gdc"] for r in rows})  # one row per commitment, not one per cell
    assert "GDC 29(d)" in text_of(" ".join(row_heads))
    twin = client.get("/queries/wsis-gdc-matrix?format=csv")
    assert twin.content_type.startswith("text/csv")
    variables = client.get("/queries/wsis-gdc-matrix?format=json").get_json()["head"]["vars"]
    assert twin.get_data(as_text=True).splitlines()[0].split(",") == variables  # the machine twins: rows, not the view
    assert len(twin.get_data(as_text=True).splitlines()) == len(rows) + 1
    coverage = page(client, "/queries/actionline-sdg-coverage")
    assert 'id="view-matrix"' in coverage
    assert re.search(r'<th scope="col">17</th>', coverage) and re.search(r'<th scope="col">1</th>', coverage)


def test_the_road_map_query_page_is_grouped_by_section(client):
    body = page(client, "/queries/actionline-roadmap?actionLine=id:action-line/C6")
    groups = re.findall(r'<a href="#group-\d+">([^<(]+) \(', body)
    assert groups[:2] == ["facilitator", "SDG"]
    assert "Recommendation" in groups and "mandate" in groups


def test_an_action_line_page_is_its_road_map(client, built_store):
    body = page(client, "/id/action-line/C6")
    roadmap = text_of(body[body.index('id="roadmap"'):body.index('class="all-properties"')])
    table = list(csv.DictReader((REPO / "graph" / "reference" / "wsis_action_lines.csv").open(encoding="utf-8")))
    assert "lead facilitator" in roadmap and "International Telecommunication Union" in roadmap
    assert next(r["lead_facilitator_confirmed"] for r in table if r["id"] == "C6") == "ITU"
    matrix = list(csv.DictReader((REPO / "graph" / "reference" / "wsis_sdg_matrix.csv").open(encoding="utf-8")))
    goals = sorted({int(r["sdg_goal"]) for r in matrix if r["action_line"] == "C6"})
    shown = [int(g) for g in re.findall(r'<li class="sdg-goal"><a [^>]*>(\d+) ', body)]
    assert shown == goals  # every matrix goal, as "4 Quality education", in goal order
    assert "4 Quality education" in roadmap
    rows = run(built_store, "actionline-roadmap", actionLine="id:action-line/C6")
    kinds = ("Achievement", "Challenge", "Recommendation", "Key issue", "Commitment")
    statements = [r for r in rows if r["section"] in kinds]
    taken = sum(1 for r in statements if r.get("uptake"))
    assert f"Consultation statements ({len(statements)}; {taken} taken up)" in roadmap
    assert all(("GDC " + r["itemLabel"].split(" ", 1)[1]) in roadmap or r["itemLabel"] in roadmap
               for r in rows if r["section"] == "GDC commitment")


def test_paragraph_gdc_and_body_pages_and_the_generic_page(client, built_store):
    para = text_of(page(client, "/id/resolution/A-RES-80-173/para/99"))
    assert "Consultation statements it takes up (uptake)" in para
    assert "permanent IGF mandate" in para
    gdc = text_of(page(client, "/id/gdc/paragraph/29b"))
    assert "Action Lines (WSIS-GDC matrix row)" in gdc or "Consultation statements that relate to it" in gdc
    itu = text_of(page(client, "/id/org/itu"))
    assert "Action Lines it facilitates" in itu and "C6 — lead facilitator" in itu
    generic = page(client, "/id/theme/internet-governance")
    assert 'id="roadmap"' not in generic and 'id="entity-sections"' not in generic and 'id="properties"' in generic


def test_a_resolution_page_lists_its_paragraphs_in_order_with_mandates_marked(client, built_store):
    """Issue 15.7: the paragraphs of A/RES/80/173 in the order of the text, the mandates marked with
    whom they ask; expected from the store's paragraphs and mandates."""
    html = page(client, "/id/resolution/A-RES-80-173")
    text = text_of(html)
    assert "Paragraphs, in the order of the text" in text
    lines = {r["p"]: int(r["line"]) for r in stored(built_store, f"""SELECT ?p ?line WHERE {{
        ?p <http://purl.org/dc/terms/isPartOf> <{ID}resolution/A-RES-80-173> ;
           a <{WSIS}Paragraph> ; <{WSIS}sourceLine> ?line }}""")}
    assert len(lines) >= 127
    shown = [m for m in re.findall(r'href="[^"]*?/id/resolution/A-RES-80-173/para/([^"?#]+)"', html)]
    ordered = sorted(lines, key=lambda p: (lines[p], p))
    assert [p.rsplit("/", 1)[1] for p in ordered] == list(dict.fromkeys(shown))
    asked = {r["p"] for r in stored(built_store, f"""SELECT DISTINCT ?p WHERE {{
        ?m <{WSIS}inParagraph> ?p . ?p <http://purl.org/dc/terms/isPartOf> <{ID}resolution/A-RES-80-173> }}""")}
    assert ID + "resolution/A-RES-80-173/para/113" in asked
    assert text.count("— mandate") == len(asked)
    para113 = text[text.index("113 (operative)"):]
    assert para113.index("mandate — asks") < para113.index("114 (operative)")
    assert "United Nations Group on the Information Society" in para113[:para113.index("114 (operative)")]


def stored(root, sparql: str) -> list[dict[str, str]]:
    with EmbeddedStore.open(root, read_only=True) as store:
        return [{k: t.value for k, t in row.items()} for row in store.query(sparql).dicts()]
