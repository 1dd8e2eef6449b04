"""Issue 14 items 10 and 12: ingest and CSV import cost in proportion to their input, similarity
pairs are bounded per statement and other document (by words and by meaning) and ingest still gets
exactly the build's pairs, and a bad CSV is refused at its first bad rows.

Times are CPU seconds (user + system) of the real CLI in a child process, read with wait4: steadier
than wall time on a shared machine. Each bound is a ratio against a smaller input measured in the
same run, never a fixed number of seconds.
"""
from __future__ import annotations

import re
import sys

import pytest

from conftest import REPO, wsiskg
from wsiskg.graph import namespaces as ns
from wsiskg.graph.store import EmbeddedStore

sys.path.insert(0, str(REPO / "bench"))
from big_document import document  # noqa: E402
from big_inputs import MAPPING, run_measured, stocktaking_csv  # noqa: E402

POOL = 20  # sentences per kind: documents of the series repeat each other many times over
SLACK = 1.5  # how far above proportional a larger input may go (a fixed start-up cost only helps)


def measured(store, *args) -> dict:
    result = run_measured(["--store", str(store), *map(str, args)], memory_limit_gb=6, timeout=900)
    assert not result["killed_at_timeout"], result
    return result


def ingested(result: dict) -> tuple[int, int]:
    """(statements, similar pairs) from the ingest's summary line."""
    assert result["exit"] == 0, result
    statements = int(re.search(r"(\d+) statements", result["stdout"]).group(1))
    pairs = int(re.search(r"(\d+) similar pairs", result["stdout"]).group(1))
    return statements, pairs


def look_alikes(size: int) -> tuple[list, list]:
    """(statement IRI, text, document IRI) of two look-alike documents of about `size` bytes each."""
    from wsiskg.graph.parse import parse_document

    def items(seed, name):
        doc = parse_document(document(size, seed, pool=POOL), f"{name}.txt")
        return [(f"http://x/{name}/{i:05d}", st.text, f"http://d/{name}") for i, st in enumerate(doc.statements)]
    return items(2, "earlier"), items(1, "new")


def check_bounded(corpus, earlier, new, per_document, **options):
    rows = corpus.rows_of("http://d/new")
    unbounded = corpus.pairs(rows, per_document=None, **options)
    incremental = corpus.pairs(rows, per_document=per_document, **options)
    everything = corpus.pairs(per_document=per_document, **options)
    # the all-pairs computation (the build) gives the new document exactly the pairs ingest gives it
    assert sorted((p.a, p.b, p.score) for p in everything if "/new/" in p.a + p.b) == \
        sorted((p.a, p.b, p.score) for p in incremental)
    # without a bound the two look-alike documents pair nearly every statement with its repeats
    assert len(unbounded) > per_document * (len(earlier) + len(new))
    assert len(incremental) <= per_document * (len(earlier) + len(new))
    # the bound keeps each statement's best: every new statement with a pair keeps one
    assert {p.b if "/new/" in p.b else p.a for p in incremental} == {p.b if "/new/" in p.b else p.a for p in unbounded}
    per_side: dict[str, int] = {}
    best = {}
    for p in incremental:
        mine = p.b if "/new/" in p.b else p.a
        per_side[mine] = per_side.get(mine, 0) + 1
    for p in unbounded:
        mine = p.b if "/new/" in p.b else p.a
        best[mine] = max(best.get(mine, 0), p.score)
    top = {}
    for p in incremental:
        mine = p.b if "/new/" in p.b else p.a
        top[mine] = max(top.get(mine, 0), p.score)
    assert top == best


def test_word_pairs_are_bounded_and_ingest_matches_the_full_computation():
    from wsiskg.graph.similarity import PER_DOCUMENT, Corpus
    earlier, new = look_alikes(100_000)
    check_bounded(Corpus.from_items(earlier + new), earlier, new, PER_DOCUMENT)


def test_meaning_pairs_are_bounded_and_ingest_matches_the_full_computation():
    from wsiskg.graph import embed
    model = embed.load_model(embed.DEFAULT_MODEL)
    if model is None:
        pytest.skip("the embedding model is not installed")
    earlier, new = look_alikes(15_000)  # about 90 statements each: embedding costs ~0.05 s a text
    corpus = embed.EmbeddedCorpus.from_items(earlier + new, model, None)
    check_bounded(corpus, earlier, new, 3)


def test_ingest_grows_linearly_with_the_document(fresh_store, tmp_path):
    from wsiskg.graph.similarity import PER_DOCUMENT
    earlier = tmp_path / "earlier-session.txt"
    earlier.write_text(document(50_000, seed=2, pool=POOL), encoding="utf-8")
    wsiskg("ingest", earlier, store=fresh_store, check=True)
    small, large = tmp_path / "small-session.txt", tmp_path / "large-session.txt"
    small.write_text(document(10_000, seed=1, pool=POOL), encoding="utf-8")
    large.write_text(document(100_000, seed=3, pool=POOL), encoding="utf-8")
    first = measured(fresh_store, "ingest", small)
    second = measured(fresh_store, "ingest", large)
    small_statements, _ = ingested(first)
    large_statements, large_pairs = ingested(second)
    earlier_statements = len(re.findall(r"^- ", earlier.read_text(encoding="utf-8"), re.M))
    # pairs with the look-alike document: at most PER_DOCUMENT per statement, counted from either side
    with EmbeddedStore.open(fresh_store, read_only=True) as store:
        between = int(store.query(f"""SELECT (COUNT(*) AS ?n) WHERE {{
            ?a <{ns.PROV}wasDerivedFrom> <{ns.entity('doc', 'large-session')}> .
            ?b <{ns.PROV}wasDerivedFrom> <{ns.entity('doc', 'earlier-session')}> .
            GRAPH <{ns.links_graph('similarity')}> {{ ?a <{ns.WSIS}similarTo> ?b }} }}""").rows[0][0].value)
    assert 0 < between <= PER_DOCUMENT * (large_statements + earlier_statements), second
    assert between <= large_pairs
    size_ratio = large.stat().st_size / small.stat().st_size
    assert second["cpu_s"] <= SLACK * size_ratio * first["cpu_s"], (first, second)


def test_import_grows_linearly_and_a_bad_file_is_refused_at_once(fresh_store, tmp_path):
    small, large, bad = tmp_path / "small.csv", tmp_path / "large.csv", tmp_path / "bad.csv"
    small.write_text(stocktaking_csv(2_000), encoding="utf-8")
    large.write_text(stocktaking_csv(20_000, seed=2), encoding="utf-8")
    bad.write_text(stocktaking_csv(50_000, seed=3, bad_row=5), encoding="utf-8")

    before = wsiskg("export", "--format", "nquads", store=fresh_store, check=True).stdout
    refused = measured(fresh_store, "import", bad, "--mapping", MAPPING)
    assert refused["exit"] == 1, refused
    assert "Traceback" not in refused["stderr"]
    assert "row 5, column 'Action Lines'" in refused["stderr"] and "'C12'" in refused["stderr"]
    assert "stopped reading there and nothing was imported" in refused["stderr"]
    assert not (fresh_store / "graphs" / "import").exists()
    assert wsiskg("export", "--format", "nquads", store=fresh_store, check=True).stdout == before

    first = measured(fresh_store, "import", small, "--mapping", MAPPING)
    assert first["exit"] == 0 and "Imported 2000 of 2000 row(s)" in first["stdout"], first
    second = measured(fresh_store, "import", large, "--mapping", MAPPING)
    assert second["exit"] == 0 and "Imported 20000 of 20000 row(s)" in second["stdout"], second
    assert second["cpu_s"] <= SLACK * 10 * first["cpu_s"], (first, second)
    # refusing 50k rows costs a small part of importing 20k: it stops at its first bad batch
    assert refused["cpu_s"] <= 0.25 * second["cpu_s"], (refused, second)
