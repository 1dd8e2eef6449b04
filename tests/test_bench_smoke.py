"""A small run of the benchmark, so it cannot rot: seed-size graph, two named queries, few runs.

No timing is asserted (speed stays out of pass/fail); only that the command runs, writes the
contract's JSON shape, and that every engine gives the same answers.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.process  # kills or starts processes from helper functions (conftest: the fast lane)

REPO = Path(__file__).resolve().parent.parent
QUERIES = ["describe-entity", "entities-without-external-link"]
ENGINES = ("wsiskg_http", "rdflib", "oxigraph_server")


def _oxigraph_available() -> bool:
    import shutil
    return (Path(sys.executable).parent / "oxigraph").exists() or shutil.which("oxigraph") is not None


@pytest.fixture(scope="module")
def smoke(tmp_path_factory) -> dict:
    work = tmp_path_factory.mktemp("bench")
    out = work / "smoke.json"
    cmd = [sys.executable, str(REPO / "bench" / "run.py"), "--triples", "10000", "--out", str(out),
           "--queries", *QUERIES, "--warmup", "1", "--reps", "2", "--cli-reps", "1", "--rdflib-reps", "1",
           "--cold-reps", "1", "--query-timeout", "30", "--throughput-seconds", "1", "--throughput-requests", "50",
           "--throughput-query", QUERIES[0], "--no-link-all", "--no-ingest", "--workdir", str(work / "run")]
    if not _oxigraph_available():
        cmd.append("--no-oxigraph")
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=240, cwd="/")
    assert out.exists(), f"no results file:\n{done.stderr[-3000:]}"
    report = json.loads(out.read_text())
    report["_exit"] = done.returncode
    report["_stderr"] = done.stderr[-3000:]
    return report


def test_contract_shape(smoke):
    assert not smoke.get("failure"), smoke.get("failure")
    assert set(smoke["queries"]) == set(QUERIES)
    for name, cells in smoke["queries"].items():
        for engine in ENGINES:
            assert engine in cells, (name, engine)
            if engine == "oxigraph_server" and not _oxigraph_available():
                continue
            assert isinstance(cells[engine], (int, float)) and cells[engine] > 0, (name, engine, cells[engine])


def test_every_engine_agrees(smoke):
    assert smoke["mismatches"] == [], json.dumps(smoke["mismatches"], indent=1)[:3000]
    for name, entry in smoke["agreement"].items():
        assert entry["rows"].get("wsiskg_http", 0) > 0, (name, entry)
        expected = {"wsiskg_cli", "wsiskg_sparql", "wsiskg_http_cold", "rdflib"} | ({"oxigraph_server"} if _oxigraph_available() else set())
        assert expected <= set(entry["agree"]), (name, entry)
        assert all(v != "DIFFERENT" for v in entry["agree"].values()), (name, entry)
    assert smoke["ok"] is True and smoke["_exit"] == 0, smoke["_stderr"]


def test_the_rest_is_measured(smoke):
    assert smoke["triples"] > 20000  # the seed graph: reference data and shipped entries
    assert smoke["build"]["quads"] == smoke["triples"]
    assert smoke["validate"]["in_process"]["conforms"] is True
    server = smoke["wsiskg_server"]
    assert server["memory"]["total_mb"] > 0
    assert server["throughput"]["lookup"]["ok"] > 0
    assert smoke["machine"]["nproc"] >= 1
