"""Issue 2: the build loads what the references hold; the shapes reject broken entries with their messages."""
from __future__ import annotations

import csv
import json
from pathlib import Path

import pyoxigraph as ox
import pytest

from conftest import REPO, wsiskg

REF = REPO / "graph" / "reference"
ID = "https://w3id.org/wsis-kg/id/"
WSIS = "https://w3id.org/wsis-kg/ontology#"

PREFIXES = """@prefix wsis: <https://w3id.org/wsis-kg/ontology#> .
@prefix prov: <http://www.w3.org/ns/prov#> .
@prefix dcterms: <http://purl.org/dc/terms/> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
"""
DOC = f"""<{ID}doc/test-doc> a wsis:SourceDocument ; dcterms:title "A test document" ;
    dcterms:identifier "test-doc.txt" .
"""


def statement(body: str, n: int = 1, kind: str = "wsis:Recommendation") -> str:
    return f"<{ID}statement/test-doc/{n}> a {kind} ;\n{body} .\n"


GOOD = statement(f"""    wsis:text "Strengthen regional implementation of the Action Lines."@en ;
    prov:wasDerivedFrom <{ID}doc/test-doc> ;
    wsis:sourceLine "12"^^xsd:positiveInteger ;
    wsis:sourceSection "Recommendations" ;
    wsis:addressesActionLine <{ID}action-line/C11> ;
    wsis:supportsSDG <http://metadata.un.org/sdg/17.6>""")


def query_json(store, text: str, tmp_path: Path) -> dict:
    path = tmp_path / "q.rq"
    path.write_text(text)
    result = wsiskg("query", path, "--format", "json", store=store, check=True)
    return json.loads(result.stdout)


def count(store, where: str, tmp_path: Path) -> int:
    data = query_json(store, f"SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE {{ {where} }}", tmp_path)
    return int(data["results"]["bindings"][0]["n"]["value"])


def csv_rows(name: str) -> list[dict]:
    with open(REF / name, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


# -- what the build loads -------------------------------------------------------------------------

def test_build_loads_the_reference_world(built_store, tmp_path):
    sdg = csv_rows("sdg_goals_targets_indicators.csv")
    goals = sum(1 for r in sdg if r["type"] == "goal")
    targets = sum(1 for r in sdg if r["type"] == "target")
    assert (goals, targets) == (17, 169)
    assert count(built_store, "?s a <http://metadata.un.org/sdg/ontology#Goal>", tmp_path) == goals
    assert count(built_store, "?s a <http://metadata.un.org/sdg/ontology#Target>", tmp_path) == targets
    assert count(built_store, f"?s a <{WSIS}ActionLine>", tmp_path) == len(csv_rows("wsis_action_lines.csv")) == 19
    assert count(built_store, f"?s a <{WSIS}GDCObjective>", tmp_path) == 5
    # the whole Compact (A/RES/79/1, annex I): 74 numbered paragraphs and 89 lettered items
    assert count(built_store, f"?s a <{WSIS}GDCCommitment>", tmp_path) == 74 + 89
    matrix = {(r["action_line"], r["sdg_target"] or r["sdg_goal"]) for r in csv_rows("wsis_sdg_matrix.csv")}
    assert count(built_store, f"?s <{WSIS}mapsToSDG> ?o BIND(CONCAT(STR(?s), STR(?o)) AS ?x)", tmp_path) > 0
    pairs = query_json(built_store, f"SELECT ?a ?o WHERE {{ ?a <{WSIS}mapsToSDG> ?o }}", tmp_path)["results"]["bindings"]
    assert len(pairs) == len(matrix)


def test_sdg_labels_in_the_six_un_languages(built_store, tmp_path):
    data = query_json(built_store, """SELECT DISTINCT ?lang WHERE {
        <http://metadata.un.org/sdg/4.4> <http://www.w3.org/2004/02/skos/core#prefLabel> ?l BIND(LANG(?l) AS ?lang) }""", tmp_path)
    assert {b["lang"]["value"] for b in data["results"]["bindings"]} >= {"en", "fr", "es", "ar", "ru", "zh"}


def test_facilitators_and_wikidata_from_the_tables(built_store, tmp_path):
    data = query_json(built_store, f"""SELECT ?org WHERE {{ ?org <{WSIS}leadFacilitator> <{ID}action-line/C2> }}""", tmp_path)
    assert [b["org"]["value"] for b in data["results"]["bindings"]] == [f"{ID}org/itu"]
    itu = next(r for r in csv_rows("un_bodies.csv") if r["id"] == "ITU")
    data = query_json(built_store, f"""SELECT ?w WHERE {{ <{ID}org/itu> <http://www.w3.org/2004/02/skos/core#exactMatch> ?w }}""", tmp_path)
    assert [b["w"]["value"] for b in data["results"]["bindings"]] == ["http://www.wikidata.org/entity/" + itu["wikidata_qid"]]


def test_doubtful_matrix_link_is_flagged(built_store, tmp_path):
    doubtful = [r for r in csv_rows("wsis_sdg_matrix.csv") if r["status"] == "doubtful"]
    data = query_json(built_store, f"""SELECT ?al ?sdg WHERE {{ ?m <{WSIS}status> "doubtful" ; <{WSIS}actionLine> ?al ; <{WSIS}sdg> ?sdg }}""", tmp_path)
    assert len(data["results"]["bindings"]) == len(doubtful) >= 1


def test_rebuild_is_idempotent(fresh_store, tmp_path):
    first = wsiskg("export", "--format", "nquads", store=fresh_store, check=True).stdout
    wsiskg("build", store=fresh_store, check=True)
    second = wsiskg("export", "--format", "nquads", store=fresh_store, check=True).stdout
    assert canonical(first) == canonical(second)
    assert len(canonical(first)) > 20000


def canonical(nquads: str) -> set[str]:
    """The dataset with blank nodes canonically named (RDFC-1.0), minus the store-version counter."""
    dataset = ox.Dataset(ox.parse(nquads.encode("utf-8"), format=ox.RdfFormat.N_QUADS))
    dataset.canonicalize(ox.CanonicalizationAlgorithm.RDFC_1_0)
    return {str(q) for q in dataset if q.graph_name.value != ID + "graph/meta"}


def test_failed_build_keeps_the_previous_store(fresh_store, tmp_path):
    before = wsiskg("export", "--format", "nquads", store=fresh_store, check=True).stdout
    entries = fresh_store / "entries"
    entries.mkdir(exist_ok=True)
    (entries / "broken.ttl").write_text(PREFIXES + DOC + statement(f"""    wsis:text "No line number."@en ;
    prov:wasDerivedFrom <{ID}doc/test-doc>"""))
    result = wsiskg("build", store=fresh_store)
    assert result.returncode == 1
    assert "sourceLine" in result.stderr and "Traceback" not in result.stderr
    after = wsiskg("export", "--format", "nquads", store=fresh_store, check=True).stdout
    assert before == after


# -- validate: each shape rejects its broken entry, the correct one passes ------------------------

def run_validate(store, tmp_path, body: str):
    path = tmp_path / "entry.ttl"
    path.write_text(PREFIXES + DOC + body)
    result = wsiskg("validate", path, "--format", "json", store=store)
    assert "Traceback" not in result.stderr
    return result, json.loads(result.stdout) if result.stdout.strip().startswith("{") else None


def test_correct_entry_passes(built_store, tmp_path):
    result, report = run_validate(built_store, tmp_path, GOOD)
    assert result.returncode == 0, result.stdout
    assert report["conforms"] is True


BROKEN = {
    "wrong datatype": (GOOD.replace('"12"^^xsd:positiveInteger', '"twelve"'), WSIS + "sourceLine"),
    "missing text": (GOOD.replace('wsis:text "Strengthen regional implementation of the Action Lines."@en ;', ""), WSIS + "text"),
    "plain string text": (GOOD.replace('Action Lines."@en', 'Action Lines."'), WSIS + "text"),
    "link to wrong class": (GOOD.replace(f"<{ID}action-line/C11>", f"<{ID}org/itu>"), WSIS + "addressesActionLine"),
    "link to undefined IRI": (GOOD.replace(f"<{ID}action-line/C11>", f"<{ID}action-line/C12>"), WSIS + "addressesActionLine"),
    "SDG link to an indicator": (GOOD.replace("<http://metadata.un.org/sdg/17.6>", "<http://metadata.un.org/sdg/C170601>"), WSIS + "supportsSDG"),
    "bad line number": (GOOD.replace('"12"^^xsd:positiveInteger', '"0"^^xsd:positiveInteger'), WSIS + "sourceLine"),
    "derived from nothing": (GOOD.replace(f"prov:wasDerivedFrom <{ID}doc/test-doc> ;", ""), "http://www.w3.org/ns/prov#wasDerivedFrom"),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_shape_rejects_broken_entry(built_store, tmp_path, case):
    body, path = BROKEN[case]
    result, report = run_validate(built_store, tmp_path, body)
    assert result.returncode == 1, result.stdout
    violations = [p for p in report["problems"] if p["severity"] == "Violation"]
    assert any(p["path"] == path for p in violations), violations
    hit = next(p for p in violations if p["path"] == path)
    assert hit["message"] and hit["message"] != "does not conform to its shape"
    assert hit["focus"] == f"{ID}statement/test-doc/1"
    assert hit["line"] == 1 + PREFIXES.count("\n") + DOC.count("\n")


def test_syntax_error_names_line_and_column(built_store, tmp_path):
    path = tmp_path / "bad.ttl"
    path.write_text(PREFIXES + DOC + "<http://x> wsis:text \"unterminated ;\n")
    result = wsiskg("validate", path, store=built_store)
    assert result.returncode == 1
    assert "Traceback" not in result.stdout + result.stderr
    line = PREFIXES.count("\n") + DOC.count("\n") + 1
    assert f"bad.ttl:{line}:" in result.stdout


def test_missing_file_is_a_clear_error(built_store, tmp_path):
    result = wsiskg("validate", tmp_path / "nope.ttl", store=built_store)
    assert result.returncode == 1
    assert "nope.ttl" in result.stdout and "Traceback" not in result.stderr


def test_statement_without_links_is_only_a_warning(built_store, tmp_path):
    body = GOOD.replace(f"    wsis:addressesActionLine <{ID}action-line/C11> ;\n", "").replace(
        " ;\n    wsis:supportsSDG <http://metadata.un.org/sdg/17.6>", "")
    result, report = run_validate(built_store, tmp_path, body)
    assert result.returncode == 0, result.stdout
    assert any(p["severity"] == "Warning" for p in report["problems"])


def test_usage_error_exits_2(built_store):
    result = wsiskg("validate", store=built_store)
    assert result.returncode == 2


def test_the_shapes_read_fast_are_the_shapes_rdflib_reads():
    """validate.shapes_graph reads the shapes with Oxigraph's parser; pyshacl must see the same graph."""
    from rdflib import Graph
    from rdflib.compare import isomorphic
    from wsiskg.graph.paths import SHAPES_DIR
    from wsiskg.graph.validate import shapes_graph
    reference = Graph()
    for path in sorted(SHAPES_DIR.glob("*.ttl")):
        reference.parse(path, format="turtle")
    fast = shapes_graph.__wrapped__()  # a fresh read: pyshacl adds two RDFS axioms to the cached one on first use
    assert len(fast) == len(reference) > 500
    assert isomorphic(fast, reference)
    assert dict(fast.namespaces())["wsis-sh"] == dict(reference.namespaces())["wsis-sh"]
