"""Issue 14 item 4: input nested deeper than the engine's parsers can take is refused with 400 before it
reaches a worker. Before, ~3,000 levels of `{` overflowed a query worker's stack: the client got 500
and the worker needed seconds to come back. Every kind of nesting is tried, on the real server, and
the workers are the same processes afterwards (none crashed).
"""
from __future__ import annotations

import json

import pytest

from conftest import child_pids
from httpclient import get, post

from wsiskg.graph.sparqltext import MAX_NESTING, REMEMBERED_TEXT_CHARS, TooDeep, check_nesting, nesting_depth

DEEP = 3000
SKOS = "http://www.w3.org/2004/02/skos/core#"
EX = "https://example.org/"

QUERIES = {
    "braces": "ASK { " + "{ " * DEEP + "}" * DEEP + " }",
    "parentheses": "ASK { FILTER(" + "(" * DEEP + "1" + ")" * DEEP + ") }",
    "bang": "ASK { FILTER(" + "!" * DEEP + "false) }",
    "bang-parentheses": "ASK { FILTER(" + "!(" * DEEP + "false" + ")" * DEEP + ") }",
    "unary-minus": "SELECT (" + "- " * DEEP + "1 AS ?x) {}",
    "blank-node-brackets": "ASK { ?s ?p " + f"[ <{SKOS}note> " * DEEP + "1" + " ]" * DEEP + " }",
    "inverse-path": f"ASK {{ ?s {'^' * DEEP}<{SKOS}broader> ?o }}",
}


def _deep_jsonld() -> bytes:
    node: dict = {"@id": EX + "leaf", f"{SKOS}note": "x"}
    text = json.dumps(node)
    for i in range(DEEP):
        text = '{"@id": "%s%d", "%snarrower": %s}' % (EX, i, SKOS, text)
    return text.encode()


DATA = {
    "json-ld-objects": ("application/ld+json", _deep_jsonld()),
    "json-ld-arrays": ("application/ld+json",
                       ('{"@id": "%sa", "%snote": %s"x"%s}' % (EX, SKOS, "[" * DEEP, "]" * DEEP)).encode()),
    "turtle-blank-nodes": ("text/turtle", (f"<{EX}a> <{SKOS}related> " + f"[ <{SKOS}related> " * DEEP
                                           + '"x"' + " ]" * DEEP + " .").encode()),
    "turtle-collections": ("text/turtle", (f"<{EX}a> <{SKOS}note> " + "( " * DEEP + '"x"' + " )" * DEEP
                                           + " .").encode()),
    "rdf-xml-elements": ("application/rdf+xml", (
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:skos="%s">' % SKOS
        + f'<rdf:Description rdf:about="{EX}a"><skos:related>' * 1 + "<rdf:Description><skos:related>" * DEEP
        + "<rdf:Description/>" + "</skos:related></rdf:Description>" * DEEP
        + "</skos:related></rdf:Description></rdf:RDF>").encode()),
}


def test_depth_counts_brackets_and_prefix_operators_not_strings_or_comments():
    assert nesting_depth("ASK { ?s ?p ?o }")[0] == 1
    assert nesting_depth("ASK { FILTER(!(!BOUND(?x))) }")[0] == 4  # { ( ( (, or { ( ( plus one !
    assert nesting_depth("ASK { FILTER(!!!!!?x) }")[0] == 2 + 5
    assert nesting_depth('ASK { ?s ?p "(((((((" } # {{{{{{{{')[0] == 1
    assert nesting_depth("ASK { ?s ?p <http://x/((((> }")[0] == 1
    text = "SELECT * {\n  " + "{ " * 250 + "}" * 250 + "\n}"
    depth, where = nesting_depth(text)
    assert depth == 251 and text[where] == "{" and text.count("\n", 0, where) == 1


def test_a_remembered_depth_refuses_the_same_text_every_time_and_long_texts_are_checked_too():
    deep = "ASK {" + " {" * (MAX_NESTING + 5) + " }" * (MAX_NESTING + 5) + " }"
    padded = deep + " " + "#" * REMEMBERED_TEXT_CHARS  # past what is remembered: checked afresh each time
    for text in (deep, deep, padded, padded):
        with pytest.raises(TooDeep) as refused:
            check_nesting(text)
        assert refused.value.depth == MAX_NESTING + 6
    check_nesting("ASK { ?s ?p ?o }")
    check_nesting("ASK { ?s ?p ?o }")


@pytest.mark.parametrize("kind", sorted(QUERIES))
def test_deep_queries_are_refused_before_the_engine(server, kind):
    workers = set(child_pids(server.proc.pid))
    reply = get(server.url + "/sparql", params={"query": QUERIES[kind]}, headers={"Accept": "application/json"},
                timeout=60)
    assert reply.status == 400, (reply.status, reply.text[:300])
    body = reply.json()
    assert body["limit"] == MAX_NESTING and body["depth"] > MAX_NESTING, body
    assert f"the limit is {MAX_NESTING}" in body["message"] and "nested" in body["message"]
    assert set(child_pids(server.proc.pid)) == workers  # no worker crashed or was replaced


def test_nesting_up_to_the_limit_is_answered(server):
    n = MAX_NESTING - 2
    reply = get(server.url + "/sparql", params={"query": "ASK { " + "{ " * n + "}" * n + " }"},
                headers={"Accept": "application/json"})
    assert reply.status == 200, reply.text[:300]
    assert reply.json()["boolean"] is True


@pytest.mark.parametrize("kind", sorted(DATA))
def test_deeply_nested_rdf_is_refused_on_validate(server, kind):
    content_type, body = DATA[kind]
    workers = set(child_pids(server.proc.pid))
    reply = post(server.url + "/validate", data=body, headers={"Content-Type": content_type,
                                                                "Accept": "application/json"}, timeout=60)
    assert reply.status == 400, (reply.status, reply.text[:300])
    found = reply.json()
    assert found["limit"] == MAX_NESTING and found["depth"] >= DEEP, found
    assert f"nested {found['depth']} levels deep" in found["message"] and found["line"] == 1
    assert set(child_pids(server.proc.pid)) == workers


def test_shallow_json_ld_still_validates(server):
    body = json.dumps({"@id": EX + "a", SKOS + "note": [[{"@value": "x"}]]}).encode()
    reply = post(server.url + "/validate", data=body, headers={"Content-Type": "application/ld+json",
                                                                "Accept": "application/json"}, timeout=60)
    assert reply.status == 200, reply.text[:300]
    assert "conforms" in reply.json()


def test_deep_update_is_refused_and_changes_nothing(fresh_store, tmp_path):
    from conftest import start_server
    token = "nesting-token-0123456789-abcdef"
    (tmp_path / "token").write_text(token)
    srv = start_server(["--store", fresh_store, "serve", "--token-file", tmp_path / "token", "--no-warm"])
    try:
        count = "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }"

        def triples() -> int:
            reply = get(srv.url + "/sparql", params={"query": count}, headers={"Accept": "application/json",
                                                                               "Cache-Control": "no-cache"})
            return int(reply.json()["results"]["bindings"][0]["n"]["value"])
        before = triples()
        update = (f"INSERT {{ GRAPH <{EX}g> {{ <{EX}a> <{SKOS}note> \"x\" }} }} WHERE {{ "
                  + "{ " * DEEP + "}" * DEEP + " }")
        reply = post(srv.url + "/update", data=update, timeout=60,
                     headers={"Content-Type": "application/sparql-update", "Accept": "application/json",
                              "Authorization": f"Bearer {token}"})
        assert reply.status == 400, (reply.status, reply.text[:300])
        assert "the update is nested" in reply.json()["message"]
        assert triples() == before
    finally:
        srv.stop()
