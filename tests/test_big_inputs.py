"""Issue 14 item 12: a CSV import costs in proportion to its input, and a bad CSV is refused at its
first bad rows. (Item 10's bounded ingest waits on its merge with similarity by meaning.)

Times are CPU seconds (user + system) of the real CLI in a child process, read with wait4: steadier
than wall time on a shared machine. Each bound is a ratio against a smaller input measured in the
same run, never a fixed number of seconds.
"""
from __future__ import annotations

import sys

from conftest import REPO, wsiskg

sys.path.insert(0, str(REPO / "bench"))
from big_inputs import MAPPING, run_measured, stocktaking_csv  # noqa: E402

SLACK = 1.5  # how far above proportional a larger input may go (a fixed start-up cost only helps)


def measured(store, *args) -> dict:
    result = run_measured(["--store", str(store), *map(str, args)], memory_limit_gb=6, timeout=900)
    assert not result["killed_at_timeout"], result
    return result



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
