"""Issue 13 (items 4, 5, 6, 7, 11, 13) and 14 (item 13, a named query's huge `limit`): the command
line's answers to a user's slips, run in process with click's runner (the exit code and the words
are what is tested; a process boundary adds nothing) and, where the store matters, on a real store."""
from __future__ import annotations

import csv
import io
import json
import re
import subprocess

import pyoxigraph as ox
import pytest
from click.testing import CliRunner

from conftest import wsiskg
from wsiskg.graph.cli import cli

ID = "https://w3id.org/wsis-kg/id/"
WSIS = "https://w3id.org/wsis-kg/ontology#"
XSD = "http://www.w3.org/2001/XMLSchema#"

QUERIES = {
    "SELECT": "PREFIX skos: <http://www.w3.org/2004/02/skos/core#>\n"
              "SELECT ?al ?n WHERE { ?al skos:notation ?n FILTER(?n IN (\"C1\", \"C2\")) } ORDER BY ?n",
    "ASK": "ASK { ?s ?p ?o }",
    "CONSTRUCT": f"CONSTRUCT {{ <{ID}action-line/C1> ?p ?o }} WHERE {{ <{ID}action-line/C1> ?p ?o }}",
    "DESCRIBE": f"DESCRIBE <{ID}action-line/C1>",
}
# written out here, not read from graph/results.py: the formats each query form's answer fits
SOLUTION_FORMATS = ["json", "xml", "csv", "tsv"]
GRAPH_FORMATS = ["turtle", "ntriples", "jsonld", "xml", "trig", "nquads"]
FITS = {"SELECT": SOLUTION_FORMATS, "ASK": SOLUTION_FORMATS, "CONSTRUCT": GRAPH_FORMATS, "DESCRIBE": GRAPH_FORMATS}
ALL = ["table", *dict.fromkeys(SOLUTION_FORMATS + GRAPH_FORMATS)]
RDF = {"turtle": ox.RdfFormat.TURTLE, "ntriples": ox.RdfFormat.N_TRIPLES, "jsonld": ox.RdfFormat.JSON_LD,
       "xml": ox.RdfFormat.RDF_XML, "trig": ox.RdfFormat.TRIG, "nquads": ox.RdfFormat.N_QUADS}


def run(*args, store=None):
    """The CLI in process; a Python exception escaping it is a traceback for the user."""
    argv = (["--store", str(store)] if store else []) + [str(a) for a in args]
    result = CliRunner().invoke(cli, argv, catch_exceptions=True)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"{argv} raised {result.exception!r} (a traceback for the user)") from result.exception
    return result


@pytest.fixture(scope="module")
def query_files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("forms")
    paths = {}
    for form, text in QUERIES.items():
        paths[form] = folder / f"{form.lower()}.rq"
        paths[form].write_text(text)
    return paths


@pytest.mark.parametrize("form", sorted(QUERIES))
@pytest.mark.parametrize("fmt", ALL)
def test_every_format_and_query_form(built_store, query_files, form, fmt):
    result = run("query", query_files[form], "--format", fmt, store=built_store)
    out = result.stdout_bytes if hasattr(result, "stdout_bytes") else result.output.encode()
    if fmt == "table" or fmt in FITS[form]:
        assert result.exit_code == 0, result.output
        check_output(form, fmt, out)
        return
    assert result.exit_code == 2, (result.exit_code, result.output)
    message = result.output
    named_form = {"SELECT": "SELECT", "ASK": "ASK", "CONSTRUCT": "CONSTRUCT", "DESCRIBE": "DESCRIBE"}[form]
    assert f"--format {fmt}" in message and named_form in message, message
    offered = re.search(r"use one of: ([a-z, ]+)", message).group(1).split(", ")
    assert offered == ["table", *FITS[form]], message
    assert not out.strip().startswith((b"<", b"@prefix", b"{")), "nothing but the message is written"


def check_output(form: str, fmt: str, out: bytes) -> None:
    """The answer parses in the format asked for, and holds what the query asks."""
    text = out.decode("utf-8")
    if fmt == "table":
        assert ("C1" in text) if form != "ASK" else text.strip() == "true"
    elif form == "ASK":
        if fmt == "json":
            assert json.loads(text)["boolean"] is True
        elif fmt == "xml":
            assert bool(ox.parse_query_results(out, format=ox.QueryResultsFormat.XML)) is True
        else:
            assert text.splitlines() == ["_askResult", "true"]
    elif form == "SELECT":
        if fmt == "json":
            assert [b["n"]["value"] for b in json.loads(text)["results"]["bindings"]] == ["C1", "C2"]
        elif fmt == "csv":
            assert [r["n"] for r in csv.DictReader(io.StringIO(text))] == ["C1", "C2"]
        else:
            solutions = ox.parse_query_results(out, format={"xml": ox.QueryResultsFormat.XML,
                                                            "tsv": ox.QueryResultsFormat.TSV}[fmt])
            assert [s["n"].value for s in solutions] == ["C1", "C2"]
    else:
        triples = list(ox.parse(out, format=RDF[fmt]))
        assert triples and all(t.subject == ox.NamedNode(ID + "action-line/C1") for t in triples)


def test_the_formats_offered_are_every_format_the_serialiser_writes():
    """trig and nquads (issue 18) are offered, and no format is offered twice."""
    option = next(p for p in cli.commands["query"].params if p.name == "fmt")
    assert list(option.type.choices) == ALL


# -- 13.5: the port ------------------------------------------------------------------------------

@pytest.mark.parametrize("port", ["0", "99999", "65536", "-1"])
def test_serve_refuses_ports_outside_1_to_65535(tmp_path, port):
    # a real process with a deadline: a server that accepted the port would serve until stopped
    try:
        result = wsiskg("serve", "--port", port, store=tmp_path / "never-built", timeout=60)
    except subprocess.TimeoutExpired:
        pytest.fail(f"serve --port {port} was accepted: the server ran")
    assert result.returncode == 2, result.stdout + result.stderr
    assert "--port" in result.stderr and "1<=x<=65535" in result.stderr.replace(" ", "")
    assert not (tmp_path / "never-built").exists(), "nothing is built before the options are checked"


# -- 13.7: a mistyped --store --------------------------------------------------------------------

@pytest.mark.parametrize("command", [["query", "actionline-sdg-coverage"], ["validate", "x.ttl"],
                                     ["export", "--format", "nquads"], ["ingest", "doc.txt"], ["describe"]])
def test_an_explicit_store_path_without_a_store_is_refused(tmp_path, command):
    typo = tmp_path / "wsiskg-sotre"
    result = wsiskg(*command, store=typo)
    assert result.returncode == 2, result.stdout + result.stderr
    assert f"no store at {typo}" in result.stderr and f"wsiskg --store {typo} build" in result.stderr
    assert "Traceback" not in result.stderr
    assert not typo.exists(), "no store was built in the mistyped folder"


def test_the_default_store_is_still_built_on_first_use(tmp_path):
    env = {"WSISKG_HOME": str(tmp_path / "home"), "XDG_DATA_HOME": str(tmp_path / "xdg"), "WSISKG_STORE": ""}
    result = wsiskg("query", "actionline-sdg-coverage", "--format", "csv", env=env)
    assert result.returncode == 0, result.stderr
    assert "building it first" in result.stderr
    assert "C1" in result.stdout


# -- 13.6: export round-trips through validate ------------------------------------------------------

def test_export_of_a_document_graph_passes_validate(built_store, tmp_path):
    graph = ID + "graph/doc/wsis-forum-2025-session-440"
    exported = tmp_path / "session-440.ttl"
    result = wsiskg("export", "--graph", graph, "--format", "turtle", store=built_store, check=True)
    exported.write_text(result.stdout)
    lines = [q.object for q in ox.parse(result.stdout.encode(), format=ox.RdfFormat.TURTLE)
             if q.predicate.value == WSIS + "sourceLine"]
    assert len(lines) == 16 and {t.datatype.value for t in lines} == {XSD + "positiveInteger"}
    checked = wsiskg("validate", exported, "--format", "json", store=built_store)
    report = json.loads(checked.stdout)
    assert checked.returncode == 0 and report["conforms"], [p for p in report["problems"] if p["severity"] == "Violation"]


@pytest.mark.parametrize("fmt", ["nquads", "trig"])
def test_a_whole_store_export_gives_line_numbers_their_datatype(built_store, fmt):
    data = wsiskg("export", "--format", fmt, store=built_store, check=True).stdout.encode()
    quads = list(ox.parse(data, format=RDF[fmt]))
    lines = [q.object for q in quads if q.predicate.value in (WSIS + "sourceLine", WSIS + "sourceEndLine")]
    stored = ox.Store.read_only(str((built_store / "current").resolve()))
    expected = sum(1 for p in ("sourceLine", "sourceEndLine")
                   for _ in stored.quads_for_pattern(None, ox.NamedNode(WSIS + p), None, None))
    assert len(lines) == expected > 100
    assert {t.datatype.value for t in lines} == {XSD + "positiveInteger"}
    assert len(quads) == len(stored)  # nothing else lost or added


def test_a_plain_line_number_is_accepted_and_a_wrong_datatype_is_named(built_store, tmp_path):
    def entry(line: str) -> str:
        return (f"@prefix wsis: <{WSIS}> .\n@prefix prov: <http://www.w3.org/ns/prov#> .\n"
                f"@prefix dcterms: <http://purl.org/dc/terms/> .\n@prefix xsd: <{XSD}> .\n"
                f"<{ID}doc/curated> a wsis:SourceDocument ; dcterms:title \"A curated document\" ;"
                " dcterms:identifier \"curated.txt\" .\n"
                f"<{ID}statement/curated/1> a wsis:Recommendation ; wsis:text \"Fund local access.\"@en ;\n"
                f"    prov:wasDerivedFrom <{ID}doc/curated> ; wsis:sourceLine {line} ; wsis:sourceEndLine 14 ;\n"
                f"    wsis:addressesActionLine <{ID}action-line/C2> .\n")
    path = tmp_path / "curated.ttl"
    path.write_text(entry("12"))
    result = wsiskg("validate", path, "--format", "json", store=built_store)
    assert result.returncode == 0, result.stdout
    for wrong in ('"12"', "12.0", "0"):
        path.write_text(entry(wrong))
        result = wsiskg("validate", path, "--format", "json", store=built_store)
        assert result.returncode == 1, (wrong, result.stdout)
        messages = [p["message"] for p in json.loads(result.stdout)["problems"]
                    if p["severity"] == "Violation" and p["path"] == WSIS + "sourceLine"]
        assert any(m.startswith("Wrong datatype for wsis:sourceLine") for m in messages), (wrong, messages)
        assert not any("exactly one" in m for m in messages), (wrong, messages)  # the count is right


# -- 13.11: the build's hint works -------------------------------------------------------------------

def test_the_builds_warning_hint_is_a_command_that_works(fresh_store):
    entries = fresh_store / "entries"
    entries.mkdir(exist_ok=True)
    _unlinked_entry(entries)
    result = wsiskg("build", store=fresh_store, check=True)
    hint = re.search(r"the (\d+) warning\(s\) of entry files: see them with:\n\s+wsiskg (.+)", result.stdout)
    assert hint, result.stdout
    count, command = int(hint.group(1)), hint.group(2)
    assert "(and" not in command
    args = command.split()
    shown = wsiskg(*args)
    assert shown.returncode == 0, shown.stdout + shown.stderr
    assert shown.stdout.count("Warning:") == count
    assert "unlinked.ttl" in command


def _unlinked_entry(folder):
    path = folder / "unlinked.ttl"
    path.write_text(f"@prefix wsis: <{WSIS}> .\n@prefix prov: <http://www.w3.org/ns/prov#> .\n"
                    f"@prefix dcterms: <http://purl.org/dc/terms/> .\n"
                    f"<{ID}doc/unlinked> a wsis:SourceDocument ; dcterms:title \"Unlinked\" ; dcterms:identifier \"u.txt\" .\n"
                    f"<{ID}statement/unlinked/1> a wsis:KeyIssue ; wsis:text \"Qwertyuiop zxcvbnm.\"@en ;\n"
                    f"    prov:wasDerivedFrom <{ID}doc/unlinked> ; wsis:sourceLine 3 .\n")
    return path


# -- 13.13: an unknown prefix ------------------------------------------------------------------------

@pytest.mark.parametrize("text, prefix, where, declaration", [
    ("SELECT * WHERE { ?s skos:prefLabel ?o } LIMIT 1", "skos", "1:21",
     "PREFIX skos: <http://www.w3.org/2004/02/skos/core#>"),
    ("PREFIX x: <http://x/>\nSELECT * WHERE {\n  ?s x:a ?o . ?s foo:bar ?c }", "foo", "3:18", "PREFIX foo: <"),
    ("SELECT * WHERE { ?s :b ?c }", "", "1:21", "PREFIX : <"),
])
def test_an_unknown_prefix_is_named_with_its_declaration(built_store, tmp_path, text, prefix, where, declaration):
    path = tmp_path / "q.rq"
    path.write_text(text)
    result = run("query", path, store=built_store)
    assert result.exit_code == 1
    assert f"error at {where}: unknown prefix {prefix}:" in result.output, result.output
    assert declaration in result.output
    assert "\\u{" not in result.output and len(result.output) < 400, result.output


# -- 14.13: a named query's huge row count -----------------------------------------------------------

def test_a_huge_limit_is_a_parameter_error(built_store):
    result = run("query", "search", "--param", "limit=18446744073709551616", store=built_store)
    assert result.exit_code == 1
    assert "parameter limit counts rows" in result.output and "9223372036854775807" in result.output
    assert "syntax error" not in result.output
