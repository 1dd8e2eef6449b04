"""An ingest again writes only the similarity triples that change (similarity.document_pairs_change):
the stored result must be the one a first ingest of the new text gives."""
from __future__ import annotations

import shutil

from conftest import REPO, wsiskg

FIXTURES = REPO / "tests" / "fixtures"
LINK_GRAPHS = tuple(f"<https://w3id.org/wsis-kg/id/graph/links/{g}>" for g in ("similarity", "similarity-clusters", "uptake"))


def link_graphs(store) -> dict[str, set[str]]:
    out = wsiskg("export", "--format", "nquads", store=store, check=True).stdout
    graphs: dict[str, set[str]] = {g: set() for g in LINK_GRAPHS}
    for line in out.splitlines():
        for g in LINK_GRAPHS:
            if line.endswith(f" {g} ."):
                graphs[g].add(line)
    return graphs


def test_ingest_again_with_changes_equals_a_first_ingest(fresh_store, built_store, tmp_path):
    original = (FIXTURES / "reworded_session_440.txt").read_text()
    # one statement dropped, one reworded, one added: its pairs go, change and come
    lines = original.splitlines()
    bullets = [n for n, line in enumerate(lines) if line.startswith("- ")]
    assert len(bullets) >= 3
    lines[bullets[0]] = "- Community networks in rural areas need spectrum and backhaul they cannot afford."
    del lines[bullets[1]]
    lines.insert(bullets[2], "- Artificial intelligence governance must include the Global South from the start.")
    edited = "\n".join(lines) + "\n"
    assert edited != original

    doc = tmp_path / "session.txt"
    doc.write_text(original)
    wsiskg("ingest", doc, store=fresh_store, check=True)
    first = link_graphs(fresh_store)
    doc.write_text(edited)
    wsiskg("ingest", doc, store=fresh_store, check=True)
    again = link_graphs(fresh_store)

    other = tmp_path / "other"
    shutil.copytree(built_store, other, symlinks=True)
    wsiskg("ingest", doc, store=other, check=True)
    once = link_graphs(other)

    similarity = LINK_GRAPHS[0]
    mine = [line for line in once[similarity] if "/statement/session/" in line]
    assert len(mine) > 50, "the document should have similarity pairs"
    # the second ingest both removed and added similarity triples, and kept most
    assert first[similarity] - again[similarity] and again[similarity] - first[similarity]
    assert len(first[similarity] & again[similarity]) > len(again[similarity] - first[similarity])
    for g in LINK_GRAPHS:
        assert again[g] == once[g], g


def test_ingest_again_of_a_built_document_scores_as_the_all_pairs_computation(fresh_store, tmp_path):
    """A document in the build's embedding index, ingested again: its rows leave the index's kept sums
    (the corpus's mean cosine) and its new rows join them; the pairs are still the all-pairs ones."""
    from test_similarity_index import all_pairs_of, pairs_of, stored_pairs
    doc = tmp_path / "session.txt"
    doc.write_text((FIXTURES / "reworded_session_440.txt").read_text())
    wsiskg("ingest", doc, store=fresh_store, check=True)
    wsiskg("build", store=fresh_store, check=True)
    text = doc.read_text()
    first = next(line for line in text.splitlines() if line.startswith("- "))
    doc.write_text(text.replace(first + "\n", ""))
    wsiskg("ingest", doc, store=fresh_store, check=True)
    stored = pairs_of(stored_pairs(fresh_store), "session")
    assert len(stored) > 10
    assert stored == all_pairs_of(fresh_store, "session")
