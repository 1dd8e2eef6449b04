"""Summaries kept as data are never stale (issue 17.1).

A named query that reads a summary (graph/summaries.py, queries/summaries/) must give the rows the
same question asked of the raw graph gives: the query as it was, kept in
tests/fixtures/reference_queries/<name>.rq. Compared after every kind of write: the build, an ingest,
an ingest again of the same document, `wsiskg remove`, and /update through the server (a change to
statements only, which recomputes the rows it reaches, and a change to anything else, which
recomputes every summary).
"""
from __future__ import annotations

import re
from pathlib import Path

import pyoxigraph as ox
import pytest

from conftest import wsiskg
from wsiskg.graph import library, summaries
from wsiskg.graph import namespaces as ns
from wsiskg.graph.store import EmbeddedStore
from wsiskg.server.app import create_app
from wsiskg.server.backend import Backend
from wsiskg.server.config import ServerConfig

FIXTURES = Path(__file__).parent / "fixtures"
REFERENCE = FIXTURES / "reference_queries"
TOKEN = "summaries-token-0123456789abcdef"
SUMMARIES = [s.name for s in summaries.all_summaries()]
# the named queries that read a summary, each with the raw-graph query it must answer like
READERS = sorted(q.name for q in library.all_queries() if ns.ID + "graph/summaries/" in q.text)


LIST = re.compile(r", |; | [|] ")


def canon(rows) -> list[tuple]:
    """Rows as sorted tuples of terms; a literal holding a list has its parts in order (the order of
    a GROUP_CONCAT is the engine's)."""
    def term(t):
        if t is None:
            return None
        if isinstance(t, ox.Literal) and LIST.search(t.value):
            parts = ", ".join(sorted(LIST.split(t.value)))
            return str(ox.Literal(parts, language=t.language) if t.language else ox.Literal(parts, datatype=t.datatype))
        return str(t)
    return sorted(tuple(term(t) for t in row) for row in rows)


def answers(store_root: Path) -> dict[str, tuple[list, list]]:
    """name -> (the named query's rows, the raw-graph reference query's rows)."""
    out = {}
    with EmbeddedStore.open(store_root, read_only=True) as store:
        for name in READERS:
            out[name] = (canon(store.query(library.get(name).text).rows),
                         canon(store.query((REFERENCE / f"{name}.rq").read_text()).rows))
    return out


def assert_fresh(store_root: Path) -> dict[str, list]:
    found = answers(store_root)
    for name, (kept, raw) in found.items():
        assert kept == raw, (f"{name}: the summary differs from the raw graph; only in the summary: "
                             f"{sorted(set(kept) - set(raw))[:3]}; only in the raw answer: {sorted(set(raw) - set(kept))[:3]}")
    return {name: kept for name, (kept, _) in found.items()}


def test_every_summary_is_read_and_every_reader_has_a_reference_query():
    assert {"stakeholder-voice", "report-body-actionline", "gdc-gaps", "actionline-gdc-coverage"} <= set(READERS)
    for name in SUMMARIES:
        assert any(summaries.graph_of(name) + ">" in library.get(q).text for q in READERS), f"no named query reads {name}"
    for name in READERS:
        assert (REFERENCE / f"{name}.rq").is_file(), f"{name}: no raw-graph reference query to test it against"


def test_the_built_summaries_are_the_raw_answers(built_store):
    kept = assert_fresh(built_store)
    assert len(kept["stakeholder-voice"]) > 100
    with EmbeddedStore.open(built_store, read_only=True) as store:  # why stakeholder-voice's sessions add up
        assert not store.query(f"ASK {{ ?a <{ns.WSIS}fromSession> ?session ; <{ns.PROV}wasDerivedFrom> ?d1 . "
                               f"?b <{ns.WSIS}fromSession> ?session ; <{ns.PROV}wasDerivedFrom> ?d2 . "
                               "FILTER(?d1 != ?d2) }").boolean, "a session's statements come from two documents"
    with EmbeddedStore.open(built_store, read_only=True) as store:  # no mark outlives its transaction
        assert not store.query(f"ASK {{ GRAPH <{summaries.MARKS_GRAPH}> {{ ?s ?p ?o }} }}").boolean


def test_ingest_again_and_remove_recompute_the_rows_they_reach(fresh_store):
    before = assert_fresh(fresh_store)
    wsiskg("ingest", FIXTURES / "reworded_session_440.txt", store=fresh_store, check=True)
    after = assert_fresh(fresh_store)
    assert after["stakeholder-voice"] != before["stakeholder-voice"], "the ingest changed no summary row"
    wsiskg("ingest", FIXTURES / "reworded_session_440.txt", store=fresh_store, check=True)
    assert assert_fresh(fresh_store) == after
    wsiskg("remove", "reworded-session-440", store=fresh_store, check=True)
    assert assert_fresh(fresh_store) == before


def _post_update(store_root: Path, text: str, allow_reference_writes: bool = False):
    config = ServerConfig(store_root=store_root, workers=1, warm=False, cache_mb=0, timeout=60, token=TOKEN,
                          allow_reference_writes=allow_reference_writes)
    backend = Backend(config)
    try:
        client = create_app(config, backend).test_client()
        reply = client.post("/update", data=text, headers={"Content-Type": "application/sparql-update",
                                                           "Authorization": f"Bearer {TOKEN}"})
        assert reply.status_code == 200, reply.get_data(as_text=True)
    finally:
        backend.close()


def _voiced_statement(store_root: Path) -> tuple[str, str, str]:
    """(statement, its document graph, the group it is voiced by) for a statement a curator voiced."""
    with EmbeddedStore.open(store_root, read_only=True) as store:
        row = store.query(f"SELECT ?s ?g ?group WHERE {{ GRAPH ?g {{ ?s <{ns.WSIS}voicedBy> ?group ; "
                          f"<{ns.WSIS}hasTheme> ?theme }} FILTER(STRSTARTS(STR(?g), '{ns.ID}graph/doc/')) }} "
                          "ORDER BY ?s LIMIT 1").rows[0]
    return row[0].value, row[1].value, row[2].value


def test_an_update_to_statements_recomputes_the_rows_it_reaches(fresh_store):
    before = assert_fresh(fresh_store)
    statement, graph, group = _voiced_statement(fresh_store)
    _post_update(fresh_store, f"DELETE DATA {{ GRAPH <{graph}> {{ <{statement}> <{ns.WSIS}voicedBy> <{group}> }} }}")
    after = assert_fresh(fresh_store)
    assert after["stakeholder-voice"] != before["stakeholder-voice"]


def test_an_update_to_reference_data_recomputes_every_summary(fresh_store):
    before = assert_fresh(fresh_store)
    group = _voiced_statement(fresh_store)[2]
    label = ns.SKOS + "prefLabel"
    with EmbeddedStore.open(fresh_store, read_only=True) as store:
        old = store.query(f"SELECT ?l WHERE {{ GRAPH <{ns.GRAPH_REFERENCE}> {{ <{group}> <{label}> ?l }} "
                          "FILTER(LANG(?l) = 'en') }").rows[0][0]
    _post_update(fresh_store, f"DELETE DATA {{ GRAPH <{ns.GRAPH_REFERENCE}> {{ <{group}> <{label}> {old} }} }} ;\n"
                              f"INSERT DATA {{ GRAPH <{ns.GRAPH_REFERENCE}> {{ <{group}> <{label}> \"Renamed group\"@en }} }}",
                 allow_reference_writes=True)
    after = assert_fresh(fresh_store)
    renamed = [row for row in after["stakeholder-voice"] if row[1] == '"Renamed group"@en']
    assert renamed and len(renamed) == sum(1 for row in before["stakeholder-voice"] if row[1] == str(old))


def test_a_change_to_what_no_summary_reads_recomputes_nothing(built_store):
    """A note in a graph of its own (the runaway test's follow-up write) reaches no summary: recomputing
    every summary for it took seconds; a change with a predicate a summary reads still recomputes."""
    with EmbeddedStore.open(built_store, read_only=True) as store:
        note = ox.Quad(ox.NamedNode(ns.ID + "test/x"), ox.NamedNode(ns.SKOS + "note"), ox.Literal("ok"),
                       ox.NamedNode(ns.ID + "graph/test"))
        assert summaries.change_update(store, [note]) == ""
        voice = ox.Quad(ox.NamedNode(ns.ID + "test/x"), ox.NamedNode(ns.WSIS + "voicedBy"), ox.NamedNode(ns.ID + "org/itu"),
                        ox.NamedNode(ns.ID + "graph/test"))
        assert summaries.change_update(store, [note, voice]) == summaries.rebuild_update()
        typed = ox.Quad(note.subject, ox.NamedNode(ns.RDF + "type"), ox.NamedNode(ns.WSIS + "UNEntity"), note.graph_name)
        assert summaries.change_update(store, [typed]) == summaries.rebuild_update()


def test_which_changes_are_statements_only():
    statement = ox.NamedNode(ns.ID + "statement/doc-a/1")
    quad = ox.Quad(statement, ox.NamedNode(ns.WSIS + "voicedBy"), ox.NamedNode(ns.ID + "stakeholder/youth"),
                   ox.NamedNode(ns.doc_graph("doc-a")))
    assert summaries.statements_only([quad]) == {statement.value}
    body = ox.Quad(ox.NamedNode(ns.ID + "stakeholder/youth"), quad.predicate, quad.object, quad.graph_name)
    assert summaries.statements_only([quad, body]) is None  # anything else: every summary again
    tampered = ox.Quad(statement, quad.predicate, quad.object, ox.NamedNode(summaries.graph_of("stakeholder-voice")))
    assert summaries.statements_only([tampered]) is None


GOOD = ("#+ keys: a\n#+ document: d\n#+ partition: d\n#+ totals:\n#+   b: sum\n",
        "SELECT ?a ?d ?b WHERE {\n #@ document\n GRAPH ?g { ?a <urn:b> ?b ; <urn:d> ?d } }")


@pytest.mark.parametrize("header, text, message", [
    (GOOD[0], GOOD[1].replace("<urn:b> ?b", "?p ?b").replace("SELECT ?a", "SELECT ?p ?a"), "variable as its predicate"),
    (GOOD[0].replace("#+ keys: a\n", ""), GOOD[1], "names no `keys`"),
    (GOOD[0].replace("#+ partition: d\n", ""), GOOD[1], "`document` must name one of its `partition`"),
    (GOOD[0].split("#+ totals")[0], GOOD[1], "no `totals`"),
    (GOOD[0], GOOD[1].replace("#@ document", ""), "no `#@ document` line"),
    (GOOD[0].replace("keys: a", "keys: z"), GOOD[1], "z is not a projected variable"),
    (GOOD[0].replace("b: sum", "b: average"), GOOD[1], "totals b: average: say how the parts add up"),
    (GOOD[0].replace("b: sum", "c: sum"), GOOD[1], "c is not a projected variable"),
    (GOOD[0], GOOD[1][:-1], "error at"),
])
def test_a_summary_file_that_cannot_work_is_refused_with_its_reason(tmp_path, header, text, message):
    path = tmp_path / "broken.rq"
    path.write_text(header + text)
    with pytest.raises(summaries.SummaryError, match=re.escape(message) if message != "error at" else message):
        summaries.load(path)
    path.write_text(GOOD[0] + GOOD[1])
    assert summaries.load(path).totals == (("b", "sum"),)


def test_prefixes_are_written_out_for_an_update_operation():
    """Oxigraph reads a prologue only at the start of an update, so a summary's text is written out:
    prefixed names become IRIs; comments (the #@ lines among them) and strings are left as they are."""
    from wsiskg.graph.sparqltext import expand_prefixes
    text = ('PREFIX wsis: <https://w3id.org/wsis-kg/ontology#>\nPREFIX skos: <http://www.w3.org/2004/02/skos/core#>\n'
            'SELECT ?s WHERE {\n  #@ document wsis:text\n  ?s wsis:text "wsis:text" ; skos:prefLabel ?l ; a wsis:Statement }')
    out = expand_prefixes(text)
    assert "PREFIX" not in out and "#@ document wsis:text" in out and '"wsis:text"' in out
    assert f"?s <{ns.WSIS}text>" in out and f"<{ns.SKOS}prefLabel>" in out and f"a <{ns.WSIS}Statement>" in out
    assert ox.Store().query(out).variables == [ox.Variable("s")]
    with pytest.raises(ValueError, match="unknown prefix dc"):
        expand_prefixes("SELECT * WHERE { ?s dc:title ?t }")


def test_the_predicates_read_follow_the_summary_files(tmp_path, monkeypatch):
    """What a change must touch to recompute a summary comes from the summary files themselves: a folder
    with other files gives other predicates once `all_summaries` is read again (one cache to clear)."""
    assert ns.WSIS + "voicedBy" in summaries.read_predicates()
    (tmp_path / "only.rq").write_text(GOOD[0] + GOOD[1])
    monkeypatch.setattr(summaries, "SUMMARIES_DIR", tmp_path)
    summaries.all_summaries.cache_clear()
    try:
        assert summaries.read_predicates() == {"urn:b", "urn:d", ns.RDF + "type"}
    finally:
        monkeypatch.undo()
        summaries.all_summaries.cache_clear()
    assert ns.WSIS + "voicedBy" in summaries.read_predicates()


def test_an_update_moving_a_statement_to_another_document_recomputes_both(fresh_store):
    """Both documents' rows change: the one the statement leaves is found from the removed triple (the
    check runs on the worker's own copy, so the store before the write is not there to read)."""
    before = assert_fresh(fresh_store)
    statement, graph, _ = _voiced_statement(fresh_store)
    with EmbeddedStore.open(fresh_store, read_only=True) as store:
        (old,), = store.query(f"SELECT ?d WHERE {{ <{statement}> <{ns.PROV}wasDerivedFrom> ?d }}").rows
        (new,), = store.query(f"SELECT ?d WHERE {{ ?d a <{ns.WSIS}SourceDocument> FILTER(?d != {old}) }} "
                              "ORDER BY ?d LIMIT 1").rows
    _post_update(fresh_store, f"DELETE DATA {{ GRAPH <{graph}> {{ <{statement}> <{ns.PROV}wasDerivedFrom> {old} }} }} ;\n"
                              f"INSERT DATA {{ GRAPH <{graph}> {{ <{statement}> <{ns.PROV}wasDerivedFrom> {new} }} }}")
    after = assert_fresh(fresh_store)
    assert after != before
