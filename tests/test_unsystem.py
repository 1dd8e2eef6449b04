"""The UN System Chart's entities in the built store: all 169, their principal organs and parents,
umbrellas, and the IRIs and Wikidata items the project had before, unchanged.

Expectations come from the tables themselves (graph/reference/un_system_chart.csv, the chart's own
table; un_system_alignment.csv; un_bodies.csv), read here with the csv module.
"""
from __future__ import annotations

import csv
import json
import re
import shutil
from pathlib import Path

import pytest

from conftest import REPO, wsiskg

REFERENCE = REPO / "graph" / "reference"
ID = "https://w3id.org/wsis-kg/id/"
PROCESS_IDS = {"WSIS", "WSISFORUM", "WSISSTOCKTAKING", "IGF", "GDAIG"}


def rows(name: str, folder: Path = REFERENCE) -> list[dict[str, str]]:
    with open(folder / name, newline="", encoding="utf-8") as handle:
        return [{k: (v or "").strip() for k, v in r.items()} for r in csv.DictReader(handle)]


def iri(ref_id: str) -> str:
    return ID + "org/" + ref_id.lower().replace("_", "-")


def chart_iris() -> dict[str, str]:
    """Chart entity name -> IRI: an existing body's (by id, acronym or the alignment's id), else the slug."""
    bodies = {r["id"]: r for r in rows("un_bodies.csv")}
    names = {**{r["acronym"]: i for i, r in bodies.items() if r["acronym"]}, **{i: i for i in bodies}}
    fixes = {r["chart_name"]: r["id"] for r in rows("un_system_alignment.csv") if r["chart_column"] == "entity"}
    out = {}
    for r in rows("un_system_chart.csv"):
        name = r["entity"]
        ref = fixes.get(name) or names.get(name) or re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
        out[name] = iri(ref)
    return out


def new_entities() -> dict[str, dict[str, str]]:
    """IRI -> {notation, url} of every UN entity the chart work added (chart rows new to un_bodies.csv,
    and the alignment's bodies found in neither)."""
    existing = {iri(r["id"]) for r in rows("un_bodies.csv")}
    names = chart_iris()
    out = {}
    for r in rows("un_system_chart.csv"):
        if names[r["entity"]] not in existing:
            out[names[r["entity"]]] = {"notation": r["entity"], "url": r["entity_link"]}
    for r in rows("un_system_alignment.csv"):
        if r["id"] and iri(r["id"]) not in existing and iri(r["id"]) not in out:
            out[iri(r["id"])] = {"notation": r["id"], "url": ""}
    return out


def select(store, sparql: str) -> list[dict[str, str]]:
    path = Path(store) / "q.rq"
    path.write_text(sparql, encoding="utf-8")
    result = wsiskg("query", str(path), "--format", "json", store=store)
    assert result.returncode == 0, result.stderr
    return [{k: v["value"] for k, v in b.items()} for b in json.loads(result.stdout)["results"]["bindings"]]


@pytest.fixture(scope="module")
def store(tmp_path_factory, built_store):
    """A copy of the built store (the queries are written beside it)."""
    root = tmp_path_factory.mktemp("unsystem") / "store"
    shutil.copytree(built_store, root, symlinks=True)
    return root


PREFIXES = """PREFIX wsis: <https://w3id.org/wsis-kg/ontology#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX org: <http://www.w3.org/ns/org#>
PREFIX schema: <http://schema.org/>
"""


def test_the_chart_has_169_entities_and_all_are_un_entities(store):
    chart = rows("un_system_chart.csv")
    assert len(chart) == 169
    got = select(store, PREFIXES + "SELECT ?e ?name WHERE { ?e a wsis:UNEntity ; wsis:systemChartName ?name }")
    assert len(got) == 169
    assert {r["name"]: r["e"] for r in got} == chart_iris()
    # every UN entity: the chart's, un_bodies.csv's bodies (processes apart), and the alignment's additions
    everyone = set(chart_iris().values()) | {iri(r["id"]) for r in rows("un_bodies.csv") if r["id"] not in PROCESS_IDS}
    everyone |= {iri(r["id"]) for r in rows("un_system_alignment.csv") if r["id"]}
    all_entities = select(store, PREFIXES + "SELECT DISTINCT ?e WHERE { ?e a wsis:UNEntity }")
    assert {r["e"] for r in all_entities} == everyone


def test_parents_of_cstd_its_working_group_odet_and_the_igf_secretariat(store):
    got = select(store, PREFIXES + """SELECT ?e ?p WHERE { ?e org:subOrganizationOf ?p }""")
    parents = {}
    for r in got:
        parents.setdefault(r["e"], set()).add(r["p"])
    assert parents[iri("CSTD")] == {iri("ECOSOC")}
    assert parents[iri("CSTDWGDG")] == {iri("CSTD")}
    assert parents[iri("ODET")] == {iri("UNSEC")}
    assert parents[iri("IGFSEC")] == {iri("UNDESA")}
    assert parents[iri("UNDESA")] == {iri("UNSEC")}
    # the chain: the working group is under ECOSOC through CSTD, and ECOSOC under the Organization
    chain = select(store, PREFIXES + f"SELECT ?a WHERE {{ <{iri('CSTDWGDG')}> org:subOrganizationOf+ ?a }}")
    assert {r["a"] for r in chain} == {iri("CSTD"), iri("ECOSOC"), iri("UN")}
    # a chart entity filed under two principal organs has both as parents
    hlpf = next(r for r in rows("un_system_chart.csv") if r["entity"] == "HLPF")
    assert "General Assembly" in hlpf["un_principal_organ"] and "Economic and Social Council" in hlpf["un_principal_organ"]
    assert parents[iri("HLPF")] == {iri("UNGA"), iri("ECOSOC")}


def test_principal_organs_categories_and_ceb_membership_follow_the_chart(store):
    organs = {r["chart_name"]: r["id"] for r in rows("un_system_alignment.csv") if r["chart_column"] == "un_principal_organ"}
    names = chart_iris()
    expected_organs, expected_ceb = set(), {}
    for r in rows("un_system_chart.csv"):
        for organ in re.findall(r"[A-Z][A-Za-z ]+[a-z]", r["un_principal_organ"]):
            if organs[organ]:
                expected_organs.add((names[r["entity"]], iri(organs[organ])))
        if r["is_ceb_member"] in ("True", "False"):
            expected_ceb[names[r["entity"]]] = "true" if r["is_ceb_member"] == "True" else "false"
    got = select(store, PREFIXES + "SELECT ?e ?o WHERE { ?e wsis:principalOrgan ?o }")
    assert {(r["e"], r["o"]) for r in got} == expected_organs
    ceb = select(store, PREFIXES + "SELECT ?e ?m WHERE { ?e wsis:cebMember ?m }")
    assert {r["e"]: r["m"] for r in ceb} == expected_ceb
    assert sum(1 for v in expected_ceb.values() if v == "true") == 30
    itu = select(store, PREFIXES + f"SELECT ?c ?w WHERE {{ <{iri('ITU')}> wsis:systemChartCategory ?c ; schema:sameAs ?w }}")
    assert itu == [{"c": "Specialized Agencies", "w": "https://en.wikipedia.org/wiki/International_Telecommunication_Union"}]
    wiki = select(store, PREFIXES + "SELECT ?e ?w WHERE { ?e schema:sameAs ?w }")
    expected_wiki = {(names[r["entity"]], r["entity_wikipedia_page"]) for r in rows("un_system_chart.csv")
                     if r["entity_wikipedia_page"].startswith("https://")}
    assert {(r["e"], r["w"]) for r in wiki} == expected_wiki


def test_umbrellas_are_marked_in_the_data(store):
    expected = {iri(r["id"]) for r in rows("un_system_alignment.csv") if r["umbrella"] == "yes"}
    assert iri("UN") in expected
    got = select(store, PREFIXES + "SELECT ?e WHERE { ?e a wsis:UmbrellaEntity }")
    assert {r["e"] for r in got} == expected


def test_existing_iris_labels_and_wikidata_items_are_unchanged(store):
    got = select(store, PREFIXES + """SELECT ?e ?label ?qid WHERE {
        ?e a wsis:UNEntity ; skos:prefLabel ?label . OPTIONAL { ?e skos:exactMatch ?qid } }""")
    labels = {}
    qids = {}
    for r in got:
        labels.setdefault(r["e"], set()).add(r["label"])
        if "qid" in r:
            qids.setdefault(r["e"], set()).add(r["qid"])
    for r in rows("un_bodies.csv"):
        if r["id"] in PROCESS_IDS:
            continue
        assert labels[iri(r["id"])] == {r["name_en"]}, r["id"]
        expected = {"http://www.wikidata.org/entity/" + r["wikidata_qid"]} if r["wikidata_qid"] else set()
        assert qids.get(iri(r["id"]), set()) == expected, r["id"]
    # no QID is invented for a body the chart brought
    assert not set(qids) & set(new_entities())
    # the chart's DESA is the project's UN DESA
    assert chart_iris()["DESA"] == iri("UNDESA") and chart_iris()["StatCom"] == iri("UNSC_STAT")


def test_a_broken_chart_table_is_reported_with_its_line(tmp_path):
    from wsiskg.graph.reference import reference_graph
    from wsiskg.graph.unsystem import ChartError
    folder = tmp_path / "reference"
    shutil.copytree(REFERENCE, folder)
    lines = (folder / "un_system_chart.csv").read_text(encoding="utf-8").split("\n")
    line = next(n for n, l in enumerate(lines, 1) if l.startswith("CSTD,"))
    assert ",Economic and Social Council," in lines[line - 1]
    lines[line - 1] = lines[line - 1].replace(",Economic and Social Council,", ",Economic Council,")
    (folder / "un_system_chart.csv").write_text("\n".join(lines), encoding="utf-8")
    with pytest.raises(ChartError) as caught:
        reference_graph(folder)
    message = str(caught.value)
    assert "Economic Council" in message and "un_system_alignment.csv" in message
    assert caught.value.line == line and caught.value.file.endswith("un_system_chart.csv")
