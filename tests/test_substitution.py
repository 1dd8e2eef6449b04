"""Parameter substitution rewrites only real variables: never text inside a string, a comment or an IRI.

A parameter's `?var` written inside a string literal used to be replaced by the value's term, whose
quotes then closed the string around it: a string parameter became query syntax (issue 18.3).
"""
from __future__ import annotations

import json

import pyoxigraph as ox
import pytest

from wsiskg.graph import library
from wsiskg.graph.store import EmbeddedStore, substitute_text

from conftest import wsiskg

# `?_who_string` stands in a string, in a comment, in an IRI, as a SELECT column and in the pattern
QUERY = """#+ summary: echoes a name
# the comment names ?_who_string too
SELECT ?_who_string ?note ?where WHERE {
  BIND("note: ?_who_string" AS ?note)
  BIND(<http://example.org/?_who_string> AS ?where)
  BIND('''also ?_who_string''' AS ?also)
}
"""

# Written into the string, the term's own quotes close it (inner quotes are escaped, so the
# attacker's text needs none): the old substitution answered three rows here, one of them 'injected'.
INJECTABLE = """SELECT ?note WHERE {
  { BIND("note: ?_who_string" AS ?note) }
}"""
ATTEMPTS = [
    " AS ?note) } UNION { BIND('injected' AS ?note) } UNION { BIND(",
    "x",
    "it's \"quoted\" \\ and\nnew-lined",
]


@pytest.mark.parametrize("value", ATTEMPTS)
def test_a_string_parameter_never_closes_a_string_around_its_variable(value):
    store = EmbeddedStore.in_memory()
    result = store.query(INJECTABLE, bindings={"_who_string": ox.Literal(value)})
    assert [[t.value for t in row] for row in result.rows] == [["note: ?_who_string"]]


@pytest.mark.parametrize("value", ATTEMPTS)
def test_a_string_parameter_is_one_term_and_text_around_it_stays(value):
    store = EmbeddedStore.in_memory()
    result = store.query(QUERY, bindings={"_who_string": ox.Literal(value)})
    assert result.variables == ["_who_string", "note", "where"]
    assert [[t.value for t in row] for row in result.rows] == [
        [value, "note: ?_who_string", "http://example.org/?_who_string"]]


def test_only_variable_tokens_are_replaced():
    text = substitute_text(QUERY, {"_who_string": ox.Literal("v")})
    assert text.count('"v"') == 1  # the SELECT column only: the pattern never uses it
    assert '("v" AS ?_who_string)' in text
    for kept in ("# the comment names ?_who_string too", '"note: ?_who_string"',
                 "<http://example.org/?_who_string>", "'''also ?_who_string'''"):
        assert kept in text


def test_integers_stay_bare_digits_and_projected_parameters_keep_their_column():
    text = ("SELECT ?_n_integer (COUNT(?_n_integer) AS ?c) WHERE { ?s ?p ?_n_integer }\n"
            "LIMIT ?_n_integer OFFSET $_n_integer")
    out = substitute_text(text, {"_n_integer": ox.Literal("7", datatype=ox.NamedNode(
        "http://www.w3.org/2001/XMLSchema#integer"))})
    assert out == "SELECT (7 AS ?_n_integer) (COUNT(7) AS ?c) WHERE { ?s ?p 7 }\nLIMIT 7 OFFSET 7"


def test_a_longer_variable_sharing_the_prefix_is_left_alone():
    out = substitute_text("SELECT ?x WHERE { ?_a ?_ab ?x }", {"_a": ox.NamedNode("http://e.org/a")})
    assert out == "SELECT ?x WHERE { <http://e.org/a> ?_ab ?x }"


def test_a_query_file_with_the_name_in_a_string_is_unharmed_through_the_cli(built_store, tmp_path):
    path = tmp_path / "echo.rq"
    path.write_text(QUERY, encoding="utf-8")
    named = library.load(path)
    assert [p.name for p in named.parameters] == ["who"]
    value = ATTEMPTS[0]
    path.write_text("#+ summary: echoes a name\n" + INJECTABLE, encoding="utf-8")
    result = wsiskg("query", str(path), "--format", "json", "--param", f"who={value}", store=built_store)
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)["results"]["bindings"]
    assert [{k: v["value"] for k, v in row.items()} for row in rows] == [
        {"note": "note: ?_who_string"}]
