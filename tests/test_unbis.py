"""The UNBIS Thesaurus in its own named graph, and our themes joined to its headings in six languages.

Expectations come from the shipped tables (graph/reference/unbis_thesaurus.csv, converted from the
scraped dump; unbis_theme_mapping.csv), read here with the csv module.
"""
from __future__ import annotations

import csv
import json
import shutil
from collections import Counter
from pathlib import Path

import pytest

from conftest import REPO, wsiskg

REFERENCE = REPO / "graph" / "reference"
DUMP = REPO.parent / "shared" / "reference" / "unbis"
ID = "https://w3id.org/wsis-kg/id/"
GRAPH = ID + "graph/unbis"
UNBIS = "http://metadata.un.org/thesaurus/"
LANGS = ("en", "fr", "es", "ar", "ru", "zh")
PREFIXES = """PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX wsis: <https://w3id.org/wsis-kg/ontology#>
"""


def table(name: str, folder: Path = REFERENCE) -> list[dict[str, str]]:
    with open(folder / name, newline="", encoding="utf-8") as handle:
        return [{k: (v or "").strip() for k, v in r.items()} for r in csv.DictReader(handle)]


def select(store: Path, sparql: str) -> list[dict[str, str]]:
    path = store / "q.rq"
    path.write_text(PREFIXES + sparql, encoding="utf-8")
    result = wsiskg("query", str(path), "--format", "json", store=store)
    assert result.returncode == 0, result.stderr
    return [{k: v["value"] for k, v in b.items()} for b in json.loads(result.stdout)["results"]["bindings"]]


@pytest.fixture(scope="module")
def store(tmp_path_factory, built_store):
    root = tmp_path_factory.mktemp("unbis") / "store"
    shutil.copytree(built_store, root, symlinks=True)
    return root


def test_the_thesaurus_is_in_its_own_graph_with_its_hierarchy(store):
    rows = table("unbis_thesaurus.csv")
    kinds = Counter(r["kind"] for r in rows)
    assert kinds == {"concept": 7169, "microthesaurus": 143, "domain": 18}
    got = select(store, f"""SELECT (COUNT(DISTINCT ?c) AS ?concepts) (COUNT(?b) AS ?broader) WHERE {{
        GRAPH <{GRAPH}> {{ ?c a skos:Concept ; skos:inScheme <http://metadata.un.org/thesaurus> .
                          OPTIONAL {{ ?c skos:broader ?b }} }} }}""")[0]
    assert int(got["concepts"]) == kinds["concept"]
    assert int(got["broader"]) == sum(len([b for b in r["broader"].split(";") if b]) for r in rows)
    narrower = select(store, f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{GRAPH}> {{ ?a skos:narrower ?b . ?b skos:broader ?a }} }}")
    assert int(narrower[0]["n"]) == int(got["broader"])
    # none of it in the reference graph
    elsewhere = select(store, f"""SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{ID}graph/reference> {{
        <{UNBIS}1001652> ?p ?o }} }}""")
    assert elsewhere[0]["n"] == "0"
    # a concept under its broader concept and in its microthesaurus, as the table says
    digital = next(r for r in rows if r["id"] == "1001655")
    up = select(store, f"SELECT ?b WHERE {{ <{UNBIS}1001655> skos:broader ?b }}")
    assert {r["b"] for r in up} == {UNBIS + b for b in digital["broader"].split(";")} == {UNBIS + "1003205"}
    member = select(store, f"SELECT ?m WHERE {{ ?m skos:member <{UNBIS}1001655> }}")
    assert {r["m"] for r in member} == {UNBIS + m for m in digital["member_of"].split(";")}


def test_labels_in_the_six_languages(store):
    rows = {r["id"]: r for r in table("unbis_thesaurus.csv") if r["kind"] == "concept"}
    counts = select(store, f"""SELECT ?lang (COUNT(?l) AS ?n) WHERE {{ GRAPH <{GRAPH}> {{
        ?c a skos:Concept ; skos:prefLabel ?l }} BIND(LANG(?l) AS ?lang) }} GROUP BY ?lang""")
    assert {r["lang"]: int(r["n"]) for r in counts} == {
        lang: sum(1 for r in rows.values() if r[f"label_{lang}"]) for lang in LANGS}


def test_a_theme_joins_to_its_unbis_heading_in_six_languages(store):
    concepts = {r["id"]: r for r in table("unbis_thesaurus.csv") if r["kind"] == "concept"}
    mapping = [r for r in table("unbis_theme_mapping.csv") if r["match"] != "none"]
    got = select(store, f"""SELECT ?theme ?match ?heading ?label WHERE {{
        VALUES ?match {{ skos:exactMatch skos:closeMatch }}
        ?theme a wsis:Theme ; ?match ?heading .
        GRAPH <{GRAPH}> {{ ?heading a skos:Concept ; skos:prefLabel ?label }} }}""")
    labels = {}
    for r in got:
        labels.setdefault((r["theme"], r["match"].rsplit("#", 1)[1], r["heading"]), set()).add(r["label"])
    expected = {(ID + "theme/" + r["theme"], r["match"], UNBIS + r["unbis_id"]):
                {concepts[r["unbis_id"]][f"label_{lang}"] for lang in LANGS} for r in mapping}
    assert labels == expected
    assert expected[(ID + "theme/digital-divide", "exactMatch", UNBIS + "1001652")] == {
        "DIGITAL DIVIDE", "FOSSE NUMERIQUE", "BRECHA DIGITAL", "الفجوة الرقمية", "Цифровой разрыв", "数字鸿沟"}


def test_a_statement_joins_to_the_library_subject_heading(store):
    on_theme = select(store, f"SELECT DISTINCT ?s WHERE {{ ?s wsis:hasTheme <{ID}theme/digital-divide> }}")
    assert on_theme
    joined = select(store, f"""SELECT DISTINCT ?s ?heading WHERE {{
        ?s wsis:hasTheme ?theme . ?theme skos:exactMatch ?heading .
        GRAPH <{GRAPH}> {{ ?heading skos:prefLabel "FOSSE NUMERIQUE"@fr }} }}""")
    assert {r["s"] for r in joined} == {r["s"] for r in on_theme}


def test_every_mapping_row_is_a_reviewable_record_with_its_note(store):
    mapping = [r for r in table("unbis_theme_mapping.csv") if r["match"] != "none"]
    got = select(store, f"""SELECT ?theme ?concept ?note WHERE {{ GRAPH <{GRAPH}> {{
        ?m a wsis:VocabularyMapping ; wsis:fromConcept ?theme ; wsis:toConcept ?concept ; skos:note ?note }} }}""")
    assert {(r["theme"], r["concept"], r["note"]) for r in got} == {
        (ID + "theme/" + r["theme"], UNBIS + r["unbis_id"], r["note"]) for r in mapping}
    themes = select(store, "SELECT ?t WHERE { ?t a wsis:Theme }")
    assert {r["theme"] for r in table("unbis_theme_mapping.csv")} == {r["t"][len(ID + "theme/"):] for r in themes}


def test_a_mapping_to_an_unknown_theme_is_a_violation_with_a_message(store, tmp_path):
    from wsiskg.graph import unbis
    from wsiskg.graph.store import EmbeddedStore
    from wsiskg.graph.validate import validate_entries
    folder = tmp_path / "reference"
    shutil.copytree(REFERENCE, folder)
    text = (folder / "unbis_theme_mapping.csv").read_text(encoding="utf-8")
    (folder / "unbis_theme_mapping.csv").write_text(text.replace("\nyouth,", "\nyouths,"), encoding="utf-8")
    with EmbeddedStore.open(store, read_only=True) as opened:
        problems = validate_entries(unbis.entries_to_validate(folder), opened)
    violations = [p for p in problems if p.severity == "Violation"]
    assert len(violations) == 1 and "theme" in violations[0].message
    assert violations[0].focus.endswith("unbis-mapping/youths-1007107")


def test_a_mapping_to_an_unknown_concept_names_its_line(tmp_path):
    from wsiskg.graph import unbis
    from wsiskg.graph.validate import EntryError
    folder = tmp_path / "reference"
    shutil.copytree(REFERENCE, folder)
    lines = (folder / "unbis_theme_mapping.csv").read_text(encoding="utf-8").split("\n")
    number = next(n for n, l in enumerate(lines, 1) if l.startswith("ethics,"))
    lines[number - 1] = lines[number - 1].replace("1002128", "9999999")
    (folder / "unbis_theme_mapping.csv").write_text("\n".join(lines), encoding="utf-8")
    with pytest.raises(EntryError) as caught:
        unbis.theme_mapping(folder)
    assert caught.value.line == number and "9999999" in str(caught.value)


@pytest.mark.skipif(not (DUMP / "all_topics.json").exists(), reason="the scraped dump is not on this machine")
def test_the_shipped_table_is_the_conversion_of_the_dump(tmp_path):
    from wsiskg.graph import unbis
    out = tmp_path / "unbis_thesaurus.csv"
    unbis.convert(DUMP, out)
    assert out.read_bytes() == (REFERENCE / "unbis_thesaurus.csv").read_bytes()
    topics = json.loads((DUMP / "all_topics.json").read_text(encoding="utf-8"))["topics"]
    assert len(topics) == 7312 == sum(1 for r in table("unbis_thesaurus.csv") if r["kind"] != "domain")
