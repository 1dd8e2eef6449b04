"""Issue 16 (uptake) for ingested documents: `wsiskg ingest` links the new document's statements to
the paragraphs of the adopted texts in the same commit, as a rebuild would, without the rebuild;
ingesting it again replaces them and `wsiskg remove` takes them out.

The document is the shipped reworded session-440 fixture plus one recommendation that asks, in its
own words, for what paragraph 99 of A/RES/80/173 decides (a permanent Internet Governance Forum).
"""
from __future__ import annotations

import numpy as np

from conftest import REPO, query_rows, wsiskg
from wsiskg.graph import embed, simindex, uptake
from wsiskg.graph import namespaces as ns
from wsiskg.graph.store import EmbeddedStore

FIXTURE = REPO / "tests" / "fixtures" / "reworded_session_440.txt"
PARA_99 = ns.ID + "resolution/A-RES-80-173/para/99"
IGF_CALL = ("Participants called for the Internet Governance Forum to be given a permanent mandate, with "
            "sustainable funding and a dedicated secretariat.")
SLUG = "igf-session"


def stored_links(store, slug: str) -> list[tuple]:
    prefix = ns.entity("statement", slug, "")
    rows = store.query(f"""PREFIX wsis: <{ns.WSIS}> PREFIX rdf: <{ns.RDF}>
      SELECT ?s ?p ?score ?evidence ?method WHERE {{ GRAPH <{ns.links_graph('uptake')}> {{
        ?s wsis:takenUpBy ?p .
        ?link rdf:subject ?s ; rdf:predicate wsis:takenUpBy ; rdf:object ?p ;
              wsis:score ?score ; wsis:evidenceText ?evidence ; wsis:method ?method .
        FILTER(STRSTARTS(STR(?s), "{prefix}")) }} }}""").rows
    return sorted((s.value, p.value, float(score.value), evidence.value, method.value)
                  for s, p, score, evidence, method in rows)


def assert_kept_sums_are_current(store_root) -> None:
    """The point-vector sums an ingest keeps for the next one are those of the store as it now is."""
    model = embed.load_model()
    if model is None:
        return  # no meaning part, no sums
    with EmbeddedStore.open(store_root, read_only=True) as store:
        kept = simindex.load_uptake_sums(store_root, store.database, store.version(), model.name)
        assert kept is not None, "the ingest did not keep the sums for this version of the store"
        recomputed = uptake.document_point_sums(store, model)
    order = [kept.documents.index(d) for d in recomputed.documents]
    assert sorted(kept.documents) == recomputed.documents
    assert list(kept.counts[order]) == list(recomputed.counts)
    assert np.allclose(kept.sums[order], recomputed.sums, atol=1e-6)


def test_an_ingested_document_is_taken_up_in_the_same_commit(fresh_store, tmp_path):
    document = tmp_path / f"{SLUG}.txt"
    text = FIXTURE.read_text(encoding="utf-8")
    document.write_text(text.rstrip("\n") + f"\n- {IGF_CALL}\n", encoding="utf-8")
    result = wsiskg("ingest", document, store=fresh_store, check=True)
    statements = text.count("\n- ") + 1
    assert f"{statements} statements" in result.stdout

    rows = query_rows(fresh_store, "uptake", document=f"id:doc/{SLUG}")
    assert len(rows) == statements
    call = [r for r in rows if r["text"] == IGF_CALL]
    assert len(call) == 1 and call[0]["takenUp"] == "true", call
    assert "A/RES/80/173 99 (" in call[0]["paragraphs"], call
    taken = sum(r["takenUp"] == "true" for r in rows)
    assert f"{taken} statements taken up by adopted texts" in result.stdout

    # exactly the links the build's computation gives these statements on the store as it now is
    with EmbeddedStore.open(fresh_store, read_only=True) as store:
        links = stored_links(store, SLUG)
        built = uptake.from_store(store)
        expected = sorted((s, p, score, evidence, built.method) for s, p, score, evidence in built.links_found()
                          if s.startswith(ns.entity("statement", SLUG, "")))
    assert links == expected and any(p == PARA_99 for _, p, *_ in links)
    assert_kept_sums_are_current(fresh_store)

    # ingesting the document again without the call replaces its links: none is left behind
    document.write_text(text, encoding="utf-8")
    wsiskg("ingest", document, store=fresh_store, check=True)
    with EmbeddedStore.open(fresh_store, read_only=True) as store:
        again = stored_links(store, SLUG)
    assert not any(p == PARA_99 for _, p, *_ in again)
    assert again and {s for s, *_ in again} < {s for s, *_ in links}
    assert_kept_sums_are_current(fresh_store)

    # removing the document takes its uptake links out with it
    wsiskg("remove", SLUG, store=fresh_store, check=True)
    with EmbeddedStore.open(fresh_store, read_only=True) as store:
        assert stored_links(store, SLUG) == []
