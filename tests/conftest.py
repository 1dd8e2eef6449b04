"""Shared fixtures: a real store built from the shipped sources, and real servers on 127.0.0.1."""
from __future__ import annotations

import fcntl
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SEEDS = REPO / "graph" / "sources"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wsiskg(*args, store=None, check=False, input=None, timeout=300, env=None) -> subprocess.CompletedProcess:
    """Run the installed CLI as a user would, from a neutral directory."""
    cmd = [sys.executable, "-m", "wsiskg.graph.cli"]
    if store is not None:
        cmd += ["--store", str(store)]
    cmd += [str(a) for a in args]
    full_env = {**os.environ, **(env or {})}
    result = subprocess.run(cmd, capture_output=True, text=True, cwd="/", input=input, timeout=timeout, env=full_env)
    if check and result.returncode != 0:
        raise AssertionError(f"{cmd} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return result


@pytest.fixture(scope="session")
def built_store(tmp_path_factory) -> Path:
    """One store built from the shipped sources for the whole session (treat as read-only).

    WSISKG_TEST_STORE names a folder to build it in instead, kept between runs: the build is the
    same, but finds the sentence vectors of the last run cached there (the fast lane's 10 s, not 60 s).
    """
    kept = os.environ.get("WSISKG_TEST_STORE")
    run = os.environ.get("PYTEST_XDIST_TESTRUNUID")  # set when pytest-xdist runs the tests (-n 2)
    if not run:
        root = Path(kept).expanduser() if kept else tmp_path_factory.mktemp("store")
        wsiskg("build", store=root, check=True)
        return root
    # Workers of one run share one store: the first to get here builds it, the others wait for it.
    shared = tmp_path_factory.getbasetemp().parent
    root = Path(kept).expanduser() if kept else shared / "store"
    with open(shared / "store.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        built = shared / f"store-built-{run}"
        if not built.exists():
            wsiskg("build", store=root, check=True)
            built.touch()
    return root


@pytest.fixture
def fresh_store(tmp_path, built_store) -> Path:
    """A private copy of the built store, for tests that write."""
    root = tmp_path / "store"
    shutil.copytree(built_store, root, symlinks=True)
    return root


def wait_until_up(proc, url: str, seconds: float, stop, what: str) -> None:
    """Poll `url` until it answers; fail early if the process exits, and stop it on a time-out."""
    deadline = time.time() + seconds
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except Exception:
            time.sleep(0.2)
    stop()
    raise RuntimeError(f"{what} did not start in {seconds:g} s")


def stop_process(proc) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def child_pids(pid: int) -> list[int]:
    """The direct children of a process (e.g. a server's query workers), from /proc."""
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                out.append(int(entry.name))
    return out


class ServerProcess:
    def __init__(self, args, env=None, ready_path="/sparql"):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        cmd = [sys.executable, "-m", "wsiskg.graph.cli", *map(str, args), "--host", "127.0.0.1", "--port", str(self.port)]
        self.log = open(os.devnull, "w") if not os.environ.get("WSISKG_TEST_LOG") else None
        self.proc = subprocess.Popen(cmd, cwd="/", env={**os.environ, **(env or {})},
                                     stdout=self.log, stderr=subprocess.STDOUT if self.log else None)
        wait_until_up(self.proc, self.url + ready_path, 90, stop=self.stop, what=" ".join(cmd))

    def stop(self):
        stop_process(self.proc)
        if self.log:
            self.log.close()


@pytest.fixture(scope="session")
def server(built_store):
    """`wsiskg serve` on the embedded store, on 127.0.0.1."""
    srv = ServerProcess(["--store", built_store, "serve"])
    yield srv
    srv.stop()


def start_server(args, env=None) -> ServerProcess:
    return ServerProcess(args, env=env)


class OxigraphServer:
    """A real Oxigraph server (the `oxigraph` package) on 127.0.0.1, loaded from an export of a store."""

    def __init__(self, store_root: Path, workdir: Path):
        dump = workdir / "dump.nq"
        with open(dump, "wb") as out:
            subprocess.run([sys.executable, "-m", "wsiskg.graph.cli", "--store", str(store_root), "export",
                            "--format", "nquads"], stdout=out, check=True, cwd="/", timeout=300)
        binary = shutil.which("oxigraph") or str(Path(sys.executable).with_name("oxigraph"))
        location = workdir / "oxigraph"
        subprocess.run([binary, "load", "--location", str(location), "--file", str(dump)], check=True,
                       capture_output=True, timeout=300)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.query_url = self.url + "/query"
        # Oxigraph's default graph is only the union of the named graphs when asked (ours always is)
        self.proc = subprocess.Popen([binary, "serve", "--location", str(location), "--bind", f"127.0.0.1:{self.port}",
                                      "--union-default-graph"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_until_up(self.proc, self.query_url + "?query=ASK%7B%7D", 60, stop=self.stop, what="oxigraph serve")

    def stop(self):
        stop_process(self.proc)


@pytest.fixture(scope="session")
def oxigraph_server(built_store, tmp_path_factory):
    """A standalone Oxigraph server holding the built store's data."""
    srv = OxigraphServer(built_store, tmp_path_factory.mktemp("oxigraph"))
    yield srv
    srv.stop()


@pytest.fixture(scope="session")
def remote_server(oxigraph_server):
    """`wsiskg serve --endpoint` in front of the Oxigraph server (remote mode)."""
    srv = ServerProcess(["serve", "--endpoint", oxigraph_server.query_url])
    yield srv
    srv.stop()


def query_rows(store, name, **params) -> list[dict[str, str]]:
    """A named query's answer through the CLI, as rows of plain values (unbound variables left out)."""
    import json
    args = ["query", name, "--format", "json"]
    for key, value in params.items():
        args += ["--param", f"{key}={value}"]
    result = wsiskg(*args, store=store)
    assert result.returncode == 0, result.stderr
    return [{k: c["value"] for k, c in row.items()} for row in json.loads(result.stdout)["results"]["bindings"]]


# -- the fast lane ---------------------------------------------------------------------------------
# `pytest -m "not process and not slow"` (README, "The fast lane"). A test that starts a real
# process of its own (a server, an outside engine, a browser) or kills one is marked `process`,
# found from its source and its fixtures' sources; `slow` ones build or ingest into stores of their
# own (each over 5 s on two busy cores in the run of 2026-12-05; keep the list by `--durations`).
PROCESS_STARTERS = ("start_server(", "ServerProcess(", "Oxigraph(", "OxigraphServer(", "Virtuoso(", "Popen(",
                    "oxigraph_server", "remote_server", "SIGKILL", "chromium", "playwright", "bench/run.py")
SLOW = {
    "test_clusters.py::test_an_update_through_the_server_rewrites_the_clusters",
    "test_big_inputs.py::test_meaning_pairs_are_bounded_and_ingest_matches_the_full_computation",
    "test_deliverable_similarity.py::test_a_build_without_the_model_leaves_the_graph_empty_and_says_so",
    "test_big_inputs.py::test_import_grows_linearly_and_a_bad_file_is_refused_at_once",
    "test_big_inputs.py::test_ingest_grows_linearly_with_the_document",
    "test_ingest_uptake.py::test_an_ingested_document_is_taken_up_in_the_same_commit",
    "test_clusters.py::test_ingest_and_remove_rewrite_the_clusters_in_their_commit",
    "test_cli_formats.py::test_the_default_store_is_still_built_on_first_use",
    "test_cli_formats.py::test_the_builds_warning_hint_is_a_command_that_works",
    "test_cli_formats.py::test_a_whole_store_export_gives_line_numbers_their_datatype",
    "test_similarity_index.py::test_stale_or_missing_index_gives_the_same_result",
    "test_similarity_index.py::test_build_indexes_every_statement_whatever_the_linkers",
    "test_write_safety.py::test_documents_and_remove",
    "test_write_safety.py::test_killed_ingests_never_leave_an_entry_file_the_store_lacks",
    "test_build_speed.py::test_a_build_loads_many_graphs_without_a_file_per_graph",
    "test_build_speed.py::test_failed_build_reports_what_each_entry_alone_reports",
    "test_build_speed.py::test_one_entry_checked_alone_reports_what_a_full_run_reports",
    "test_build_speed.py::test_batches_match_one_at_a_time",
    "test_similarity_index.py::test_reingest_replaces_the_documents_pairs_and_keeps_the_others",
    "test_similarity_index.py::test_ingested_pairs_are_the_all_pairs_ones",
    "test_user_fixes.py::test_ingested_statements_the_linker_linked_are_not_called_unlinked",
    "test_user_fixes.py::test_a_utf16_document_ingests_like_its_utf8_twin",
    "test_user_fixes.py::test_report_csvs_cannot_run_formulas",
    "test_ingest.py::test_ingest_links_validates_and_survives_a_rebuild",
    "test_ingest.py::test_reingest_replaces_the_document",
    "test_ingest.py::test_unreadable_documents_change_nothing",
    "test_ingest.py::test_restyled_twin_yields_the_same_statements",
    "test_ingest.py::test_reworded_copy_is_found_beside_its_original",
    "test_external.py::test_import_skip_bad_rows_lands_the_good_ones",
    "test_external.py::test_export_round_trips_with_the_same_triples_per_graph",
    "test_external.py::test_import_fails_whole_and_leaves_the_store_unchanged",
    "test_queries.py::test_near_duplicates_finds_a_reworded_copy_beside_its_original",
    "test_build_validate.py::test_rebuild_is_idempotent",
    "test_build_validate.py::test_failed_build_keeps_the_previous_store",
    "test_similarity_meaning.py::test_rebuild_and_ingest_embed_only_new_texts",
    "test_similarity_meaning.py::test_report_threshold_joins_clusters_only_by_links_at_or_above_it",
    "test_similarity_meaning.py::test_meaning_beats_words_on_recall_at_equal_or_better_precision",
    "test_executor_reload.py::test_the_query_after_a_reload_still_has_its_deadline",
    "test_executor_reload.py::test_a_reload_for_new_data_does_not_count_against_the_deadline",
    "test_ingest_pairs_change.py::test_ingest_again_of_a_built_document_scores_as_the_all_pairs_computation",
    "test_ingest_pairs_change.py::test_ingest_again_with_changes_equals_a_first_ingest",
    "test_summaries.py::test_ingest_again_and_remove_recompute_the_rows_they_reach",
    "test_summaries.py::test_an_update_to_statements_recomputes_the_rows_it_reaches",
    "test_summaries.py::test_an_update_to_reference_data_recomputes_every_summary",
    "test_summaries.py::test_an_update_moving_a_statement_to_another_document_recomputes_both",
    "test_ingest_reference.py::test_an_ingest_keeps_the_reference_reads_for_its_version_and_they_equal_the_store",
    "test_ingest_reference.py::test_a_label_changed_by_update_reaches_the_next_ingest",
    "test_ingest_reference.py::test_killed_ingests_leave_reference_reads_unused_or_right",
}


def _starts_processes(item) -> bool:
    import inspect
    functions = [getattr(item, "function", None)]
    for defs in item._fixtureinfo.name2fixturedefs.values():
        functions.extend(d.func for d in defs)
    for func in functions:
        try:
            text = inspect.getsource(func)
        except (OSError, TypeError):
            continue
        if any(s in text for s in PROCESS_STARTERS):
            return True
    return False


def pytest_collection_modifyitems(config, items):
    for item in items:
        if _starts_processes(item):
            item.add_marker(pytest.mark.process)
        if item.nodeid.split("/")[-1].split("[")[0] in SLOW:
            item.add_marker(pytest.mark.slow)
