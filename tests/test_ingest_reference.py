"""The reference reads an ingest keeps beside the store (graph/simindex.py's reference file: the
linker's labels and rules, the uptake's paragraphs, their links and the entities' names) are never
stale: used only for the database and version they were read at, carried to the next version only by
an ingest (which changes none of them), and whatever a kill leaves is either unused or right."""
from __future__ import annotations

import json
import random

from conftest import REPO, wsiskg
from test_faults import kill_at
from wsiskg.graph import linker, simindex, uptake
from wsiskg.graph import namespaces as ns
from wsiskg.graph.store import EmbeddedStore, database_path
from wsiskg.server.app import create_app
from wsiskg.server.backend import Backend
from wsiskg.server.config import ServerConfig

FIXTURES = REPO / "tests" / "fixtures"
TOKEN = "reference-token-0123456789abcdef"
PHRASE = "zorbulent meshwork"  # a made-up label no shipped text or label holds


def stored_reference(store_root):
    """(the reference file's content for the store's version, or None; the same read from the store now)."""
    with EmbeddedStore.open(store_root, read_only=True) as store:
        kept = simindex.load_reference(store_root, database_path(store_root), store.version())
        fresh = {"linker": linker.reference_rows(store), "uptake": uptake.reference_rows(store)}
    return kept, json.loads(json.dumps(fresh))  # (as the file holds it: lists, not tuples)


def statement_links(store_root, slug: str, predicate: str) -> set[tuple[str, str]]:
    with EmbeddedStore.open(store_root, read_only=True) as store:
        rows = store.query(f"SELECT ?s ?o WHERE {{ ?s <{predicate}> ?o ; <{ns.PROV}wasDerivedFrom> "
                           f"<{ns.entity('doc', slug)}> }}").rows
    return {(s.value, o.value) for s, o in rows}


def post_update(store_root, text: str) -> None:
    config = ServerConfig(store_root=store_root, workers=1, warm=False, cache_mb=0, timeout=60, token=TOKEN,
                          allow_reference_writes=True)
    backend = Backend(config)
    try:
        reply = create_app(config, backend).test_client().post(
            "/update", data=text, headers={"Content-Type": "application/sparql-update", "Authorization": f"Bearer {TOKEN}"})
        assert reply.status_code == 200, reply.get_data(as_text=True)
    finally:
        backend.close()


def test_an_ingest_keeps_the_reference_reads_for_its_version_and_they_equal_the_store(fresh_store):
    wsiskg("ingest", FIXTURES / "reworded_session_440.txt", "--slug", "first", store=fresh_store, check=True)
    kept, fresh = stored_reference(fresh_store)
    assert kept is not None, "the ingest should keep its reference reads for the version it committed"
    assert len(kept["linker"][0]) > 500 and len(kept["uptake"]["paragraphs"]) > 100
    assert kept == fresh


def test_a_label_changed_by_update_reaches_the_next_ingest(fresh_store, tmp_path):
    wsiskg("ingest", FIXTURES / "reworded_session_440.txt", "--slug", "first", store=fresh_store, check=True)
    assert stored_reference(fresh_store)[0] is not None
    action_line = ns.entity("action-line", "C5")
    post_update(fresh_store, f"INSERT DATA {{ GRAPH <{ns.GRAPH_REFERENCE}> {{ <{action_line}> "
                             f"<{ns.SKOS}hiddenLabel> \"{PHRASE}\"@en }} }}")
    kept, fresh = stored_reference(fresh_store)
    assert kept is None, "a write other than an ingest must leave the kept reads behind"
    assert any(row[0] == PHRASE for row in fresh["linker"][0])

    text = (FIXTURES / "reworded_session_440.txt").read_text()
    bullet = next(line for line in text.splitlines() if line.startswith("- "))
    document = tmp_path / "second.txt"
    document.write_text(text.replace(bullet, f"- Rural districts asked for {PHRASE}.", 1))
    wsiskg("ingest", document, "--slug", "second", store=fresh_store, check=True)
    addressed = statement_links(fresh_store, "second", ns.WSIS + "addressesActionLine")
    assert (ns.entity("statement", "second", "1"), action_line) in addressed
    kept, fresh = stored_reference(fresh_store)
    assert kept == fresh


def test_killed_ingests_leave_reference_reads_unused_or_right(fresh_store):
    document = FIXTURES / "reworded_session_440.txt"
    rng = random.Random(23)
    for _ in range(5):
        kill_at(["ingest", document], fresh_store, rng.uniform(0.5, 4.0))
        kept, fresh = stored_reference(fresh_store)
        assert kept is None or kept == fresh
    wsiskg("ingest", document, store=fresh_store, check=True)  # (finishes what a kill left: journal.recover)
    kept, fresh = stored_reference(fresh_store)
    assert kept is not None and kept == fresh
