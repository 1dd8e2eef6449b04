"""Uptake (issue 16.2): consultation inputs linked to the paragraphs of the adopted texts that carry them.

The IGF calls are found in the shipped entry files by their words and their uptake asserted in a store
built from the shipped sources; paragraph 99's text is read from the shipped A/RES/80/173.
"""
from __future__ import annotations

import re

from conftest import REPO, query_rows, wsiskg
from wsiskg.graph import namespaces as ns
from wsiskg.graph.store import EmbeddedStore
from wsiskg.graph.uptake import THRESHOLD, point

PARA_99 = ns.ID + "resolution/A-RES-80-173/para/99"


run = query_rows


def igf_calls() -> dict[str, str]:
    """Statement IRI -> text, for every recommendation in the two documents whose point is a permanent IGF mandate."""
    calls = {}
    for slug in ("wsis20-elements-paper-consultation-2025-07-29", "wsis20-questionnaire-stakeholder-submission"):
        text = (REPO / "graph" / "entries" / f"{slug}.ttl").read_text(encoding="utf-8")
        for iri, body in re.findall(r"<(https://w3id.org/wsis-kg/id/statement/[^>]+)> a wsis:Recommendation ;\s+wsis:text \"([^\"]+)\"", text):
            # the call is the statement's point (elements-paper 40 lists it as one of five points: not counted)
            if re.search(r"permanent IGF mandate|Internet Governance Forum by granting it a permanent mandate", body):
                calls[iri] = body
    return calls


def test_paragraph_99_makes_the_igf_permanent():
    text = (REPO / "graph" / "sources" / "resolutions" / "A_RES_80_173.txt").read_text(encoding="utf-8")
    start = text.index("\n99. ")
    assert "Internet Governance Forum shall be made a permanent" in " ".join(text[start:start + 200].split())


def test_the_calls_for_a_permanent_igf_are_taken_up_by_paragraph_99(built_store):
    calls = igf_calls()
    documents = {iri.rsplit("/", 2)[1] for iri in calls}
    assert documents == {"wsis20-elements-paper-consultation-2025-07-29", "wsis20-questionnaire-stakeholder-submission"}
    assert len(calls) >= 3, calls
    with EmbeddedStore.open(built_store, read_only=True) as store:
        for iri in calls:
            rows = store.query(f"""PREFIX wsis: <{ns.WSIS}> PREFIX rdf: <{ns.RDF}>
              SELECT ?method ?score ?evidence WHERE {{ GRAPH <{ns.links_graph('uptake')}> {{
                <{iri}> wsis:takenUpBy <{PARA_99}> .
                ?link rdf:subject <{iri}> ; rdf:predicate wsis:takenUpBy ; rdf:object <{PARA_99}> ;
                      wsis:method ?method ; wsis:score ?score ; wsis:evidenceText ?evidence . }} }}""").rows
            assert len(rows) == 1, f"{iri} ({calls[iri]}) is not taken up by paragraph 99"
            method, score, evidence = (term.value for term in rows[0])
            assert method.startswith("uptake:")
            assert float(score) >= THRESHOLD
            assert "Internet Governance Forum" in evidence  # the shared body, named in the point


def test_the_uptake_query_lists_every_statement_of_a_document_and_what_took_it_up(built_store):
    slug = "wsis20-questionnaire-stakeholder-submission"
    rows = run(built_store, "uptake", document=f"id:doc/{slug}")
    in_file = set(re.findall(r"^<(https://w3id.org/wsis-kg/id/statement/[^>]+)> a wsis:",
                             (REPO / "graph" / "entries" / f"{slug}.ttl").read_text(encoding="utf-8"), re.M))
    assert {r["statement"] for r in rows} == in_file
    by_iri = {r["statement"]: r for r in rows}
    for iri in igf_calls():
        if slug in iri:
            assert by_iri[iri]["takenUp"] == "true"
            assert "A/RES/80/173 99 (" in by_iri[iri]["paragraphs"]
    not_taken = [r for r in rows if r["takenUp"] == "false"]
    assert not_taken and all(r["paragraphCount"] == "0" and not r.get("paragraphs") for r in not_taken)
    with EmbeddedStore.open(built_store, read_only=True) as store:
        linked = {s.value for (s,) in store.query(
            f"SELECT DISTINCT ?s WHERE {{ GRAPH <{ns.links_graph('uptake')}> {{ ?s <{ns.WSIS}takenUpBy> ?p }} }}").rows}
    assert {r["statement"] for r in rows if r["takenUp"] == "true"} == linked & in_file


def test_the_uptake_query_shows_the_evidence_of_the_best_scored_link(built_store):
    """One link's evidence, chosen alike by every engine (SAMPLE let each pick its own: issue 13.3)."""
    rows = run(built_store, "uptake")
    with EmbeddedStore.open(built_store, read_only=True) as store:
        links = store.query(f"""PREFIX wsis: <{ns.WSIS}> PREFIX rdf: <{ns.RDF}>
          SELECT ?s ?score ?evidence WHERE {{ GRAPH <{ns.links_graph('uptake')}> {{
            ?l rdf:subject ?s ; rdf:predicate wsis:takenUpBy ; wsis:score ?score ; wsis:evidenceText ?evidence }} }}""").rows
    by_statement: dict[str, list[tuple[float, str]]] = {}
    for s, score, evidence in links:
        by_statement.setdefault(s.value, []).append((float(score.value), evidence.value))
    taken = [r for r in rows if r["takenUp"] == "true"]
    assert len(taken) == len(by_statement) > 50
    for r in taken:
        best = max(score for score, _ in by_statement[r["statement"]])
        assert float(r["bestScore"]) == best
        assert r["evidence"] in {e for score, e in by_statement[r["statement"]] if score == best}, r["statement"]
    assert not any(r.get("evidence") for r in rows if r["takenUp"] == "false")



def test_the_point_of_a_recommendation_is_what_it_asks_for():
    assert point("The WSIS+20 review should commit to the establishment of a permanent IGF mandate, supported "
                 "by adequate resourcing.") == "the establishment of a permanent IGF mandate, supported by adequate resourcing."
    statement = "Participants highlighted that ICT remains foundational for inclusive development."
    assert point(statement) == statement  # nothing asked: the whole statement is its point


def test_the_coherence_report_has_the_uptake_per_document(built_store):
    from wsiskg.graph.report import duplication_report, render_html, uptake_figures
    rows = run(built_store, "uptake")
    expected = {}
    for r in rows:
        entry = expected.setdefault(r["documentTitle"], [0, 0])
        entry[0] += 1
        entry[1] += r["takenUp"] == "true"
    with EmbeddedStore.open(built_store, read_only=True) as store:
        report = duplication_report(store)
    figures = uptake_figures(report)
    assert {title: [n, k] for title, n, k in figures} == expected
    assert all(0 < k < n for _, n, k in figures if n > 20)  # some taken up, some not, in every large document
    page = render_html(report)
    assert "<h1>Coherence report</h1>" in page and 'id="uptake-by-document"' in page
    total, taken = sum(v[0] for v in expected.values()), sum(v[1] for v in expected.values())
    assert f"{taken} of {total} consultation statements" in page


def test_the_uptake_list_comes_a_page_at_a_time(built_store):
    whole = run(built_store, "uptake", limit="100000")
    with EmbeddedStore.open(built_store, read_only=True) as store:
        statements = {s.value for (s,) in store.query(
            f"SELECT DISTINCT ?s WHERE {{ ?s <{ns.WSIS}text> ?t ; <{ns.PROV}wasDerivedFrom> ?d }}").rows}
    assert len({r["statement"] for r in whole}) == len(statements) > 300
    assert run(built_store, "uptake") == whole[:500]  # the default page
    pages = [run(built_store, "uptake", limit="40", offset=str(start)) for start in range(0, 120, 40)]
    assert [r for page in pages for r in page] == whole[:120]
    one = run(built_store, "uptake", document="id:doc/wsis20-questionnaire-stakeholder-submission", limit="3", offset="1")
    mine = [r for r in whole if r["document"].endswith("/doc/wsis20-questionnaire-stakeholder-submission")]
    assert one == mine[1:4] and len(mine) > 4
