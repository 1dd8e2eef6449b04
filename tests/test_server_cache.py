"""Answers kept per version of the data (server/cache.py): reused while the data stays the same,
never served once it has changed — after a write through the server, and after `wsiskg ingest` in
another process while a read-only server runs."""
from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import pytest

from conftest import start_server, wsiskg
from httpclient import get, post, request

ID = "https://w3id.org/wsis-kg/id/"
JSON = {"Accept": "application/sparql-results+json"}
TOKEN = "cache-test-token-0123456789-abcdef"
FIXTURES = Path(__file__).resolve().parent / "fixtures"
COUNT_DOCS = ("PREFIX wsis: <https://w3id.org/wsis-kg/ontology#> "
              "SELECT (COUNT(DISTINCT ?d) AS ?n) WHERE { ?d a wsis:SourceDocument }")


def wait_warm(server, seconds: float = 60) -> dict:
    deadline = time.time() + seconds
    while time.time() < deadline:
        health = get(server.url + "/health").json()
        if health["warm"] and health["warm"]["current"]:
            return health
        time.sleep(0.2)
    raise AssertionError(f"the warmer did not finish: {health}")


def count_docs(server, **headers) -> tuple[int, str]:
    reply = get(server.url + "/sparql", params={"query": COUNT_DOCS}, headers={**JSON, **headers})
    assert reply.status == 200, reply.text
    return int(reply.json()["results"]["bindings"][0]["n"]["value"]), reply.headers["x-wsiskg-cache"]


def test_a_repeated_request_is_answered_from_the_cache_with_the_same_bytes(server):
    url = server.url + "/queries/body-overlap"
    first = get(url, headers=JSON)
    second = get(url, headers=JSON)
    assert first.status == second.status == 200
    assert second.headers["x-wsiskg-cache"] == "hit"
    assert second.body == first.body and second.headers["etag"] == first.headers["etag"]
    assert second.headers["content-type"] == first.headers["content-type"]
    assert second.headers["x-wsiskg-truncated"] == "false"


def test_each_format_is_its_own_entry(server):
    url = server.url + "/queries/gdc-gaps"
    as_json = get(url, headers=JSON)
    as_csv = get(url, headers={"Accept": "text/csv"})
    again_csv = get(url, headers={"Accept": "text/csv"})
    assert as_json.mimetype == "application/sparql-results+json" and as_csv.mimetype == "text/csv"
    assert again_csv.body == as_csv.body and again_csv.headers["x-wsiskg-cache"] == "hit"
    rows = json.loads(as_json.body)["results"]["bindings"]
    assert len(as_csv.text.strip().splitlines()) == len(rows) + 1  # header line + the same rows


def test_etag_revalidation_gives_304_without_a_body(server):
    url = server.url + "/queries/session-summary"
    first = get(url, headers=JSON)
    etag = first.headers["etag"]
    assert first.headers["cache-control"] == "no-cache"
    again = get(url, headers={**JSON, "If-None-Match": etag})
    assert again.status == 304 and again.body == b"" and again.headers["etag"] == etag
    other = get(url, headers={**JSON, "If-None-Match": '"not-this-one"'})
    assert other.status == 200 and other.body == first.body


def test_no_cache_asks_the_engine_again(server):
    url = server.url + "/queries/matrix-divergence"
    cached = get(url, headers=JSON)
    fresh = get(url, headers={**JSON, "Cache-Control": "no-cache"})
    assert fresh.status == 200 and fresh.headers["x-wsiskg-cache"] == "bypass"
    assert json.loads(fresh.body) == json.loads(cached.body)


def test_head_from_the_cache_has_the_headers_and_no_body(server):
    url = server.url + "/queries/sdg-gaps"
    full = get(url, headers=JSON)
    head = request("HEAD", url, headers=JSON)
    assert head.status == 200 and head.body == b""
    assert head.headers["x-wsiskg-cache"] == "hit"
    assert int(head.headers["content-length"]) == len(full.body)


def test_a_head_request_first_keeps_the_whole_answer_for_the_gets_after_it(server):
    url = server.url + "/queries/search?words=broadband+head"
    head = request("HEAD", url, headers=JSON)
    assert head.status == 200 and head.body == b"" and head.headers["x-wsiskg-cache"] == "miss"
    full = get(url, headers=JSON)
    assert full.headers["x-wsiskg-cache"] == "hit"
    assert len(full.body) == int(head.headers["content-length"]) > 0
    assert full.json()["results"]["bindings"]


def test_posted_queries_are_kept_by_their_text(server):
    text = "SELECT ?n WHERE { VALUES ?n { 1 2 3 } } ORDER BY ?n"
    headers = {"Content-Type": "application/sparql-query", **JSON}
    first = post(server.url + "/sparql", data=text, headers=headers)
    second = post(server.url + "/sparql", data=text, headers=headers)
    other = post(server.url + "/sparql", data=text.replace("3", "4"), headers=headers)
    assert second.headers["x-wsiskg-cache"] == "hit" and second.body == first.body
    assert other.headers["x-wsiskg-cache"] == "miss"
    assert [b["n"]["value"] for b in other.json()["results"]["bindings"]] == ["1", "2", "4"]
    form = post(server.url + "/sparql", form={"query": text}, headers=JSON)
    assert form.status == 200 and form.json() == first.json()


def test_errors_are_never_kept(server):
    for _ in range(2):
        reply = get(server.url + "/sparql", params={"query": "SELECT ?x WHERE { ?x ?y }"}, headers=JSON)
        assert reply.status == 400 and reply.headers["x-wsiskg-cache"] == "miss"
        assert "etag" not in reply.headers


def test_the_warmer_computes_every_default_answer(server):
    health = wait_warm(server)
    from wsiskg.graph import library
    # every shipped query has defaults for its required parameters; those calling outside endpoints are left out
    calls_out = [q.name for q in library.all_queries()
                 if any("SERVICE" in line.upper() for line in q.text.splitlines() if not line.lstrip().startswith("#"))]
    assert calls_out == ["federated-entity-facts"]
    expected = len(library.all_queries()) - len(calls_out)
    assert health["warm"]["queries"] == expected and not health["warm"]["failed"]
    assert health["cache"]["results"]["entries"] >= expected


def test_a_write_through_the_server_is_seen_at_once(built_store, tmp_path):
    root = tmp_path / "store"
    shutil.copytree(built_store, root, symlinks=True)
    (tmp_path / "token").write_text(TOKEN)
    srv = start_server(["--store", root, "serve", "--token-file", tmp_path / "token"])
    try:
        before, _ = count_docs(srv)
        assert count_docs(srv)[1] == "hit"
        summary = get(srv.url + "/queries/session-summary", headers=JSON).body
        update = f"""PREFIX wsis: <https://w3id.org/wsis-kg/ontology#>
PREFIX dcterms: <http://purl.org/dc/terms/>
INSERT DATA {{ GRAPH <{ID}graph/doc/cache-test> {{
  <{ID}doc/cache-test> a wsis:SourceDocument ; dcterms:title "Cache test" ; dcterms:identifier "cache-test.txt" .
}} }}"""
        done = post(srv.url + "/update", data=update,
                    headers={"Content-Type": "application/sparql-update", "Authorization": f"Bearer {TOKEN}"})
        assert done.status in (200, 204), done.text
        after, state = count_docs(srv)
        assert (after, state) == (before + 1, "miss")
        # an answer the write did not change is computed again too (the whole cache belongs to a version)
        again = get(srv.url + "/queries/session-summary", headers=JSON)
        assert again.headers["x-wsiskg-cache"] == "miss" and json.loads(again.body) == json.loads(summary)
    finally:
        srv.stop()


def test_an_ingest_by_another_process_is_seen_by_a_read_only_server(built_store, tmp_path):
    root = tmp_path / "store"
    shutil.copytree(built_store, root, symlinks=True)
    srv = start_server(["--store", root, "serve"])
    try:
        before, _ = count_docs(srv)
        assert count_docs(srv)[1] == "hit"
        wsiskg("ingest", FIXTURES / "reworded_session_440.txt", "--slug", "cache-ingest", "--no-progress",
               store=root, check=True)
        after, state = count_docs(srv)
        assert after == before + 1 and state == "miss"
        found = get(srv.url + "/queries/statement-provenance",
                    params={"statement": ID + "statement/cache-ingest/1"}, headers=JSON)
        assert found.status == 200 and found.json()["results"]["bindings"]
    finally:
        srv.stop()


def test_answers_longer_than_a_request_may_be_are_kept(built_store):
    srv = start_server(["--store", built_store, "serve", "--max-query-bytes", "2000", "--no-warm"])
    try:
        url = srv.url + "/queries/body-overlap"
        first, second = get(url, headers=JSON), get(url, headers=JSON)
        assert len(first.body) > 2000 and second.body == first.body
        assert second.headers["x-wsiskg-cache"] == "hit"
    finally:
        srv.stop()


@pytest.mark.parametrize("size", [0])
def test_cache_can_be_turned_off(built_store, size):
    srv = start_server(["--store", built_store, "serve", "--cache-mb", str(size), "--no-warm"])
    try:
        url = srv.url + "/queries/gdc-gaps"
        first, second = get(url, headers=JSON), get(url, headers=JSON)
        assert first.status == second.status == 200 and first.body == second.body
        assert second.headers["x-wsiskg-cache"] == "miss"
        assert get(srv.url + "/health").json()["warm"] is None
    finally:
        srv.stop()


def test_an_edited_named_query_is_not_answered_from_before(built_store, tmp_path):
    folder = tmp_path / "queries"
    folder.mkdir()
    query = folder / "goal.rq"
    query.write_text("SELECT ?goal WHERE { VALUES ?goal { <http://metadata.un.org/sdg/4> } }\n", encoding="utf-8")
    srv = start_server(["--store", built_store, "serve", "--queries-dir", folder])
    try:
        def goals():
            reply = get(srv.url + "/queries/goal", headers=JSON)
            assert reply.status == 200, reply.text
            return [b["goal"]["value"] for b in reply.json()["results"]["bindings"]], reply.headers["x-wsiskg-cache"]

        assert goals()[0] == ["http://metadata.un.org/sdg/4"]
        assert goals()[1] == "hit"
        query.write_text("SELECT ?goal WHERE { VALUES ?goal { <http://metadata.un.org/sdg/5> } }\n", encoding="utf-8")
        deadline = time.time() + 10
        while goals()[0] != ["http://metadata.un.org/sdg/5"]:
            assert time.time() < deadline, "the edited query was still answered from before"
            time.sleep(0.2)
        (folder / "other.rq").write_text("ASK { }\n", encoding="utf-8")
        deadline = time.time() + 10
        while "other" not in {q["name"] for q in get(srv.url + "/queries", params={"format": "json"}).json()["queries"]}:
            assert time.time() < deadline, "a new query file did not show in the listing"
            time.sleep(0.2)
    finally:
        srv.stop()
