"""The named-query library (queries/*.rq), run through the CLI on the store built from the seed sources.

Expected answers are worked out here from the sources themselves - the shipped source documents
(graph/sources), the reference tables (graph/reference/*.csv), the curators' entry files
(graph/entries/*.ttl, read with rdflib) and the linking vocabulary - never copied from query output.
Where the linker may add links a curator did not write, the test checks what the curated links alone
decide (for example: curated pairs are counted exactly in `curatorStatements`).
"""
from __future__ import annotations

import csv
import json
import re
import shutil
import warnings
from collections import defaultdict
from pathlib import Path

import pytest
from rdflib import Graph, Namespace, URIRef

from conftest import REPO, wsiskg

QUERIES = REPO / "queries"
SOURCES = REPO / "graph" / "sources"
ENTRIES = REPO / "graph" / "entries"
REFERENCE = REPO / "graph" / "reference"

ID = "https://w3id.org/wsis-kg/id/"
SDG = "http://metadata.un.org/sdg/"
WSIS = Namespace("https://w3id.org/wsis-kg/ontology#")
SKOS = Namespace("http://www.w3.org/2004/02/skos/core#")
DOC_PREFIX = ID + "graph/doc/"

# The reference tables name the C7 sub-lines by their own ids; the contract's IRIs use these suffixes.
C7_IRI_SUFFIX = {
    "C7.EGOV": "C7-e-government", "C7.EBUS": "C7-e-business", "C7.ELEARN": "C7-e-learning",
    "C7.EHEALTH": "C7-e-health", "C7.EEMPLOY": "C7-e-employment", "C7.EENV": "C7-e-environment",
    "C7.EAGRI": "C7-e-agriculture", "C7.ESCI": "C7-e-science",
}
TWELVE = ["actionline-sdg-coverage", "matrix-divergence", "actionline-gdc-coverage", "gdc-gaps", "sdg-gaps",
          "body-overlap", "near-duplicates", "theme-across-processes", "stakeholder-voice",
          "statement-provenance", "session-summary", "search"]


# -- helpers ---------------------------------------------------------------------------------------

def run(store, name, **params) -> list[dict[str, str]]:
    """A named query through the CLI, as SPARQL 1.1 JSON; rows as {variable: lexical value}."""
    args = ["query", name, "--format", "json"]
    for key, value in params.items():
        args += ["--param", f"{key}={value}"]
    result = wsiskg(*args, store=store)
    assert result.returncode == 0, f"{name} {params} failed ({result.returncode}):\n{result.stderr}"
    data = json.loads(result.stdout)
    return [{var: cell["value"] for var, cell in row.items()} for row in data["results"]["bindings"]]


def al_notation(table_id: str) -> str:
    return C7_IRI_SUFFIX.get(table_id, table_id)


def al_iri(table_id: str) -> str:
    return ID + "action-line/" + al_notation(table_id)


def goal_of(sdg_iri: str) -> str:
    """http://metadata.un.org/sdg/9.c -> http://metadata.un.org/sdg/9 (a goal is its own goal)."""
    return SDG + sdg_iri[len(SDG):].split(".")[0]


def table(name: str) -> list[dict[str, str]]:
    with open(REFERENCE / name, newline="", encoding="utf-8") as handle:
        return [{k: (v or "").strip() for k, v in row.items()} for row in csv.DictReader(handle)]


def matrix_rows() -> list[dict[str, str]]:
    return table("wsis_sdg_matrix.csv")


def matrix_code(row: dict[str, str]) -> str:
    return row["sdg_target"] or row["sdg_goal"]


def matrix_goal_pairs() -> dict[tuple[str, str], set[str]]:
    """(Action Line IRI, goal IRI) -> the matrix codes under it, from the matrix table."""
    pairs = defaultdict(set)
    for row in matrix_rows():
        pairs[(al_iri(row["action_line"]), SDG + row["sdg_goal"])].add(matrix_code(row))
    return pairs


def gdc_paragraph_objectives() -> dict[str, str | None]:
    """GDC paragraph IRI -> objective IRI (None outside the objectives), from the official text."""
    from wsiskg.graph.texts import gdc_annex, gdc_objective
    return {ID + "gdc/paragraph/" + p.slug: (ID + "gdc/objective/" + gdc_objective(p)) if gdc_objective(p) else None
            for p in gdc_annex().paragraphs}


def gdc_sdg_tags() -> dict[str, set[str] | str]:
    """GDC paragraph IRI -> the goals of its printed SDG tag ("all" for "(all SDGs)")."""
    from wsiskg.graph.texts import gdc_annex, sdg_tag
    tags = {}
    for p in gdc_annex().paragraphs:
        tag = sdg_tag(p.text) or ""
        tags[ID + "gdc/paragraph/" + p.slug] = "all" if tag.startswith("all") else {SDG + n for n in re.findall(r"\d+", tag)}
    return tags


def un_ids_to_iris() -> dict[str, str]:
    """Every name the UN-bodies table gives a body (id, acronym) -> its IRI (lower-case id)."""
    names = {}
    for row in table("un_bodies.csv"):
        iri = ID + "org/" + row["id"].lower().replace("_", "-")
        names[row["id"]] = iri
        if row["acronym"]:
            names[row["acronym"]] = iri
    return names


_ENTRIES = None


def entries() -> Graph:
    """The curators' entry files, all together (only the links a curator wrote)."""
    global _ENTRIES
    if _ENTRIES is None:
        g = Graph()
        for path in sorted(ENTRIES.glob("*.ttl")):
            g.parse(path, format="turtle")
        _ENTRIES = g
    return _ENTRIES


def curated(predicate) -> dict[str, set[str]]:
    """statement IRI -> the objects a curator linked it to with `predicate`."""
    links = defaultdict(set)
    for s, o in entries().subject_objects(predicate):
        if (s, WSIS.text, None) in entries():
            links[str(s)].add(str(o))
    return links


def source_line(path: Path, text: str) -> int:
    """The 1-based line of `path` where the statement `text` starts (bullet markers ignored)."""
    head = text[:40]
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        body = re.sub(r"^\s*(?:[-•*]|\d+[.)]|[a-z][.)])\s+", "", line)
        if body.startswith(head):
            return number
    raise AssertionError(f"{head!r} not found in {path.name}")


def needs_entry(slug: str):
    return pytest.mark.skipif(not (ENTRIES / f"{slug}.ttl").exists(),
                              reason=f"entry file graph/entries/{slug}.ttl not written yet")


# -- the library as a whole -------------------------------------------------------------------------

def query_files():
    return sorted(QUERIES.glob("*.rq"))


def test_the_twelve_named_queries_exist():
    names = {p.stem for p in query_files()}
    assert set(TWELVE) <= names, sorted(set(TWELVE) - names)


@pytest.mark.parametrize("path", query_files(), ids=lambda p: p.stem)
def test_every_query_has_a_summary_and_an_example(path):
    from wsiskg.graph import library
    q = library.load(path)
    assert q.summary.strip(), f"{path.name}: no '#+ summary:'"
    assert q.example.strip().startswith("wsiskg query"), f"{path.name}: no '#+ example:' command"
    assert q.description.strip(), f"{path.name}: no '#+ description:'"
    for p in q.parameters:  # every parameter is typed
        assert p.type in {"iri", "integer", "decimal", "boolean", "date", "string", "literal"} or len(p.type) == 2


@pytest.mark.parametrize("path", query_files(), ids=lambda p: p.stem)
def test_sparqlwrapper_reads_the_commented_query_as_what_it_is(path):
    """Trap 1: SPARQLWrapper strips only every other comment line and then takes the first keyword
    it sees (ADD inside "address", DROP inside "dropped" ...) for the query form."""
    from SPARQLWrapper import SPARQLWrapper
    from wsiskg.graph import library
    text = path.read_text(encoding="utf-8")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        seen = SPARQLWrapper("http://127.0.0.1:9/sparql")._parseQueryType(text)
    assert seen == library.load(path).form, f"{path.name}: SPARQLWrapper would send it as {seen}"


@pytest.mark.parametrize("path", [p for p in query_files() if p.stem in TWELVE or p.stem in {
    "actionline-profile", "entities-without-external-link", "doubtful-matrix-links", "uncovered-statements"}],
    ids=lambda p: p.stem)
def test_selects_have_a_stable_order(path):
    from wsiskg.graph import library
    q = library.load(path)
    body = "\n".join(line for line in q.text.splitlines() if not line.lstrip().startswith("#"))
    assert q.form == "SELECT" and re.search(r"^ORDER BY ", body, re.M), f"{path.name}: no ORDER BY"
    assert "NOT EXISTS" not in body.upper(), f"{path.name}: FILTER NOT EXISTS is slow on Oxigraph (trap 2)"
    for p in q.parameters:  # a parameter is substituted, never projected (the SELECT clause is before WHERE)
        select_clause = body[body.index("SELECT"):body.index("WHERE")]
        assert f"?{p.variable}" not in select_clause


def test_an_iri_parameter_rejects_a_non_iri(built_store):
    result = wsiskg("query", "theme-across-processes", "--param", "theme=not an iri", store=built_store)
    assert result.returncode == 1
    assert "theme" in result.stderr and "Traceback" not in result.stderr
    result = wsiskg("query", "session-summary", "--param", "session=<oops>", store=built_store)
    assert result.returncode == 1 and "session" in result.stderr


def test_a_decimal_parameter_rejects_a_non_number(built_store):
    result = wsiskg("query", "near-duplicates", "--param", "minScore=high", store=built_store)
    assert result.returncode == 1 and "minScore" in result.stderr


def test_an_unknown_parameter_is_refused(built_store):
    result = wsiskg("query", "sdg-gaps", "--param", "colour=blue", store=built_store)
    assert result.returncode == 1 and "colour" in result.stderr


# -- actionline-sdg-coverage -------------------------------------------------------------------------

def test_actionline_sdg_coverage_shows_the_matrix_of_c1(built_store):
    rows = run(built_store, "actionline-sdg-coverage")
    expected = {goal: codes for (al, goal), codes in matrix_goal_pairs().items() if al == ID + "action-line/C1"}
    got = {r["sdgGoal"]: set(r.get("matrixSDGs", "").split(", ")) for r in rows
           if r["actionLine"] == ID + "action-line/C1" and r["inMatrix"] == "true"}
    assert got == expected
    c1_16 = next(r for r in rows if r["actionLine"] == ID + "action-line/C1" and r["sdgGoal"] == SDG + "16")
    assert c1_16["goal"] == "16" and c1_16["actionLineNotation"] == "C1" and c1_16["goalLabel"]
    assert c1_16["matrixStatus"] == "listed"


def test_actionline_sdg_coverage_counts_the_curated_statements_exactly(built_store):
    """curatorStatements = statements whose Action Line and SDG links are both written by a curator."""
    als, sdgs = curated(WSIS.addressesActionLine), curated(WSIS.supportsSDG)
    expected = defaultdict(set)
    for s in set(als) & set(sdgs):
        for al in als[s]:
            for sdg in sdgs[s]:
                expected[(al, goal_of(sdg))].add(s)
    rows = run(built_store, "actionline-sdg-coverage")
    got = {(r["actionLine"], r["sdgGoal"]): int(r["curatorStatements"]) for r in rows}
    assert expected, "no curated Action Line + SDG statements in the entries"
    for pair, statements in expected.items():
        assert got.get(pair) == len(statements), pair
    assert all(n == 0 or (al, goal) in expected for (al, goal), n in got.items())
    # every row counts at least the curated ones
    assert all(int(r["statements"]) >= int(r["curatorStatements"]) for r in rows)


# -- matrix-divergence -------------------------------------------------------------------------------

def test_matrix_divergence_lists_curated_pairs_the_matrix_lacks(built_store):
    matrix = matrix_goal_pairs()
    als, sdgs = curated(WSIS.addressesActionLine), curated(WSIS.supportsSDG)
    voiced = defaultdict(set)
    for s in set(als) & set(sdgs):
        for al in als[s]:
            for sdg in sdgs[s]:
                voiced[(al, goal_of(sdg))].add(s)
    rows = run(built_store, "matrix-divergence")
    extra = {(r["actionLine"], r["sdgGoal"]): r for r in rows if r["divergence"] == "voiced, not in matrix"}
    missing = {(r["actionLine"], r["sdgGoal"]): r for r in rows if r["divergence"] == "in matrix, not voiced"}
    outside = {pair: n for pair, n in voiced.items() if pair not in matrix}
    assert outside, "the curated entries voice no pair outside the matrix"
    for pair, statements in outside.items():
        assert int(extra[pair]["curatorStatements"]) == len(statements), pair
    assert all(pair not in matrix for pair in extra)
    for pair, row in missing.items():
        assert pair in matrix and pair not in voiced
        assert set(row["matrixSDGs"].split(", ")) == matrix[pair]


# -- actionline-gdc-coverage -------------------------------------------------------------------------

def test_actionline_gdc_coverage_counts_the_curated_statements_exactly(built_store):
    paragraph_objective = gdc_paragraph_objectives()
    als, gdcs = curated(WSIS.addressesActionLine), curated(WSIS.relatesToGDC)
    expected = defaultdict(set)
    for s in set(als) & set(gdcs):
        for gdc in gdcs[s]:
            objective = paragraph_objective.get(gdc, gdc if "/gdc/objective/" in gdc else None)
            if objective:
                for al in als[s]:
                    expected[(al, objective)].add(s)
    rows = run(built_store, "actionline-gdc-coverage")
    got = {(r["actionLine"], r["objective"]): r for r in rows}
    assert expected
    for pair, statements in expected.items():
        assert int(got[pair]["curatorStatements"]) == len(statements), pair
    row = got[next(iter(sorted(expected)))]
    assert row["objectiveLabel"] and row["actionLineLabel"] and row["exampleText"]


def test_actionline_gdc_coverage_lists_the_paragraphs_cited(built_store):
    """Issue 16.6: the `paragraphs` column was empty whenever a row also held a statement on the
    objective itself (an unbound value in GROUP_CONCAT)."""
    paragraph_objective = gdc_paragraph_objectives()
    notation = {ID + "gdc/paragraph/" + r["paragraph"] + r["subparagraph"]:
                r["paragraph"] + (f"({r['subparagraph']})" if r["subparagraph"] else "")
                for r in table("gdc_commitments.csv")}
    als, gdcs = curated(WSIS.addressesActionLine), curated(WSIS.relatesToGDC)
    expected = defaultdict(set)
    for s in set(als) & set(gdcs):
        for gdc in gdcs[s]:
            if paragraph_objective.get(gdc):
                for al in als[s]:
                    expected[(al, paragraph_objective[gdc])].add(notation[gdc])
    objective_of = {notation[g]: paragraph_objective.get(g) for g in notation}
    rows = run(built_store, "actionline-gdc-coverage")
    got = {(r["actionLine"], r["objective"]): set(filter(None, r.get("paragraphs", "").split(", "))) for r in rows}
    assert len(expected) >= 2
    for pair, paragraphs in expected.items():
        assert paragraphs <= got[pair], pair
    for (al, objective), paragraphs in got.items():
        assert all(objective_of[p] == objective for p in paragraphs), (al, objective, paragraphs)


# -- gdc-gaps ----------------------------------------------------------------------------------------

def test_gdc_gaps_lists_paragraphs_nothing_connects(built_store):
    paragraph_objective = gdc_paragraph_objectives()
    gdcs = curated(WSIS.relatesToGDC)
    related = {gdc for targets in gdcs.values() for gdc in targets}
    matrix_goals = {SDG + row["sdg_goal"] for row in matrix_rows()}
    tags = gdc_sdg_tags()
    # the linker never links to paragraphs, so a paragraph no curated statement relates to, whose SDG
    # tags meet no goal of the matrix (and are not "all SDGs"), has no Action Line home
    homeless = {p for p in paragraph_objective
                if p not in related and tags[p] != "all" and not (tags[p] & matrix_goals)}
    assert homeless
    rows = run(built_store, "gdc-gaps")
    by_iri = {r["gdc"]: r for r in rows}
    for paragraph in homeless:
        row = by_iri[paragraph]
        assert row["kind"] == "paragraph" and row["statements"] == "0"
        assert row.get("objective") == paragraph_objective[paragraph]
    # nothing with a curated home through a curated statement that also names an Action Line
    als = curated(WSIS.addressesActionLine)
    homed = {gdc for s, targets in gdcs.items() if s in als for gdc in targets}
    homed |= {paragraph_objective[g] for g in homed if paragraph_objective.get(g)}
    assert not homed & set(by_iri)


# -- sdg-gaps ----------------------------------------------------------------------------------------

def test_sdg_gaps_are_matrix_targets_no_statement_speaks_to(built_store):
    links = Graph().parse(REFERENCE / "linking.ttl", format="turtle")
    linker_reach = {str(s) for s in links.subjects(SKOS.hiddenLabel) if str(s).startswith(SDG)}
    linker_reach |= {str(o) for o in links.objects(None, WSIS.suggestsSDG)}
    cited = {sdg for targets in curated(WSIS.supportsSDG).values() for sdg in targets}
    by_code = defaultdict(set)
    for row in matrix_rows():
        by_code[matrix_code(row)].add(al_notation(row["action_line"]))
    rows = run(built_store, "sdg-gaps")
    got = {r["code"]: r for r in rows}
    # a matrix target no curator cites and the linker cannot reach is certainly silent
    certain = {code for code in by_code if "." in code
               and SDG + code not in cited and SDG + code not in linker_reach}
    assert certain
    for code in certain:
        assert got[code]["level"] == "target"
        assert set(got[code]["actionLines"].split(", ")) == by_code[code]
        assert got[code]["goal"] == code.split(".")[0]
    for code, row in got.items():
        assert code in by_code and SDG + code not in cited
        assert set(row["actionLines"].split(", ")) == by_code[code]


def test_sdg_gaps_counts_statements_not_gdc_paragraphs(built_store, tmp_path):
    """Issue 16.6: the SDG tags of GDC paragraphs counted as statements (and hid gaps). Expected from
    the raw links: a statement is what a document gave (prov:wasDerivedFrom), GDC paragraphs are not."""
    query = tmp_path / "links.rq"
    query.write_text("SELECT ?s ?sdg WHERE { ?s <https://w3id.org/wsis-kg/ontology#supportsSDG> ?sdg . "
                     "?s <http://www.w3.org/ns/prov#wasDerivedFrom> ?doc }", encoding="utf-8")
    links = run(built_store, str(query))
    supported = {r["sdg"] for r in links}
    on_goal = defaultdict(set)
    for r in links:
        on_goal[goal_of(r["sdg"])].add(r["s"])
    tags = {SDG + t for r in table("gdc_commitments.csv") for t in re.findall(r"\d+(?:\.\w+)?", r["sdg_tags"])}
    assert tags
    expected = set()
    for row in matrix_rows():
        code = matrix_code(row)
        if "." in code:
            if SDG + code not in supported:
                expected.add(code)
        elif not any(goal_of(s) == SDG + code for s in supported):
            expected.add(code)
    rows = run(built_store, "sdg-gaps")
    assert {r["code"] for r in rows} == expected
    for r in rows:
        assert int(r["statementsOnGoal"]) == len(on_goal[SDG + r["goal"]]), r["code"]
    # some gap's goal is one a GDC paragraph is tagged with, so counting paragraphs would show
    assert any(SDG + r["goal"] in tags for r in rows)


# -- body-overlap ------------------------------------------------------------------------------------

def test_body_overlap_finds_the_action_lines_two_bodies_facilitate(built_store):
    names = un_ids_to_iris()
    roles = defaultdict(dict)  # action line -> {body IRI: "lead" | "co"}
    for row in table("wsis_action_lines.csv"):
        for name in row["lead_facilitator_confirmed"].split(";"):
            name = re.sub(r"\s*\(.*$", "", name).strip()
            if name in names:
                roles[al_notation(row["id"])][names[name]] = "lead"
        for name in re.findall(r"([A-Za-z][\w -]*?)\s*\(co-facilitator", row["other_roles_confirmed"]):
            if name.strip() in names:
                roles[al_notation(row["id"])].setdefault(names[name.strip()], "co")
    expected = defaultdict(set)
    for al, bodies in roles.items():
        for a in bodies:
            for b in bodies:
                if a < b:
                    expected[(a, b)].add(f"{al} ({bodies[a]}/{bodies[b]})")
    rows = run(built_store, "body-overlap")
    got = {(r["bodyA"], r["bodyB"]): set(filter(None, r.get("actionLines", "").split("; "))) for r in rows}
    assert expected[(ID + "org/itu", ID + "org/unesco")] == {"C3 (co/lead)", "C10 (co/lead)"}
    for pair, evidence in expected.items():
        assert got[pair] == evidence, pair
    assert {pair for pair, ev in got.items() if ev} == set(expected)
    itu_unesco = next(r for r in rows if (r["bodyA"], r["bodyB"]) == (ID + "org/itu", ID + "org/unesco"))
    assert itu_unesco["bodyALabel"] == "International Telecommunication Union"
    assert int(itu_unesco["overlap"]) >= 2


# -- near-duplicates ---------------------------------------------------------------------------------

def test_near_duplicates_rows_come_from_different_documents(built_store):
    rows = run(built_store, "near-duplicates")
    for r in rows:  # the seed corpus may hold none (its documents say different things)
        assert r["documentA"] != r["documentB"] or r.get("sessionA") != r.get("sessionB")
        assert 0 < float(r["score"]) <= 1 and r["method"] and r["textA"] and r["textB"]
    assert run(built_store, "near-duplicates", minScore="1.01") == []


REWORDINGS = [("every", "each"), ("within", "in"), ("ensure", "guarantee"), ("Strengthen", "Reinforce"),
              ("annual", "yearly"), ("Boost", "Increase"), ("remain", "stay"), ("acknowledge", "recognise")]


@needs_entry("wsis-forum-2025-session-440")
def test_near_duplicates_finds_a_reworded_copy_beside_its_original(fresh_store):
    """A reworded copy of session 440's outcome document, added as a user entry and built: each of
    its statements is listed beside the original it restates, with the original's source line."""
    text = (ENTRIES / "wsis-forum-2025-session-440.ttl").read_text(encoding="utf-8")
    text = re.sub(r"<https://w3id.org/wsis-kg/id/session/wsis-forum-2025-440> a wsis:Session ;.*?\.\n\n", "",
                  text, flags=re.S)
    text = text.replace("wsis-forum-2025-session-440", "wsis-forum-2025-session-440-reworded")
    text = text.replace("000_319479e8c5ebbfb1.txt", "000-reworded.txt")

    def reword(match):
        words = match.group(1)
        for old, new in REWORDINGS:
            words = re.sub(rf"\b{old}\b", new, words)
        return f'wsis:text "{words} (as restated)"@en'

    text, copies = re.subn(r'wsis:text "((?:[^"\\]|\\.)*)"@en', reword, text)
    folder = fresh_store / "entries"
    folder.mkdir(exist_ok=True)
    (folder / "wsis-forum-2025-session-440-reworded.ttl").write_text(text, encoding="utf-8")
    wsiskg("build", store=fresh_store, check=True)

    rows = run(fresh_store, "near-duplicates")
    source = SOURCES / "000_319479e8c5ebbfb1.txt"
    originals = {str(s): str(t) for s, t in Graph().parse(ENTRIES / "wsis-forum-2025-session-440.ttl",
                                                          format="turtle").subject_objects(WSIS.text)}
    found = 0
    for n in range(1, copies + 1):
        copy = f"{ID}statement/wsis-forum-2025-session-440-reworded/{n}"
        original = f"{ID}statement/wsis-forum-2025-session-440/{n}"
        pair = [r for r in rows if {r["statementA"], r["statementB"]} == {copy, original}]
        assert len(pair) == 1, f"statement {n}: its reworded copy is not listed beside it"
        row = pair[0]
        side = "A" if row["statementA"] == original else "B"
        assert row[f"line{side}"] == str(source_line(source, originals[original]))
        assert row[f"file{side}"] == "000_319479e8c5ebbfb1.txt"
        assert row[f"session{side}"] == ID + "session/wsis-forum-2025-440"
        assert row["method"] and float(row["score"]) >= 0.45
        found += 1
    assert found == copies == 16


# -- theme-across-processes --------------------------------------------------------------------------

def test_theme_across_processes_counts_curated_ai_statements_per_action_line(built_store):
    ai = ID + "theme/ai"
    themes, als = curated(WSIS.hasTheme), curated(WSIS.addressesActionLine)
    expected = defaultdict(set)
    for s, targets in themes.items():
        if ai in targets:
            for al in als.get(s, ()):
                expected[al].add(s)
    rows = run(built_store, "theme-across-processes")  # default: id:theme/ai
    assert rows and all(r["theme"] == ai and r["themeLabel"] == "Artificial intelligence" for r in rows)
    wsis_rows = {r["item"]: r for r in rows if r["via"] == "Action Line"}
    assert expected
    for al, statements in expected.items():
        row = wsis_rows[al]
        assert row["process"] == ID + "process/wsis" and int(row["curatorStatements"]) == len(statements)
    # the thesaurus says AI usually falls under GDC objective 5
    assert any(r["via"] == "theme vocabulary" and r["item"] == ID + "gdc/objective/5" for r in rows)


def test_theme_across_processes_takes_another_theme(built_store):
    rows = run(built_store, "theme-across-processes", theme="id:theme/gender")
    assert rows and {r["theme"] for r in rows} == {ID + "theme/gender"}
    assert any(r["process"] == ID + "process/2030-agenda" and r["item"] == SDG + "5" for r in rows)


# -- stakeholder-voice -------------------------------------------------------------------------------

def test_stakeholder_voice_counts_curated_voices_per_theme(built_store):
    voices, themes = curated(WSIS.voicedBy), curated(WSIS.hasTheme)
    expected = defaultdict(set)
    for s, groups in voices.items():
        for group in groups:
            if "/stakeholder/" in group:
                for theme in themes.get(s, ()):
                    expected[(group, theme)].add(s)
    rows = run(built_store, "stakeholder-voice")
    got = {(r["group"], r["item"]): r for r in rows if r["dimension"] == "theme"}
    assert expected
    for pair, statements in expected.items():
        assert int(got[pair]["curatorStatements"]) == len(statements), pair
    youth = got[(ID + "stakeholder/youth", ID + "theme/youth")]
    assert youth["groupLabel"] == "Youth" and youth["itemLabel"] == "Youth"


# -- statement-provenance ----------------------------------------------------------------------------

@needs_entry("wsis20-open-consultation-outcomes")
def test_statement_provenance_gives_the_line_and_links_of_a_002_statement(built_store):
    statement = ID + "statement/wsis20-open-consultation-outcomes/1"
    text = str(entries().value(URIRef(statement), WSIS.text))
    rows = run(built_store, "statement-provenance", statement=statement)
    assert rows and {r["statement"] for r in rows} == {statement}
    first = rows[0]
    assert first["text"] == text
    assert first["file"] == "002_ce760feb3b1f7c56.txt"
    assert first["line"] == str(source_line(SOURCES / "002_ce760feb3b1f7c56.txt", text))
    assert first["document"] == ID + "doc/wsis20-open-consultation-outcomes"
    curated_links = {(str(p), str(o)) for p, o in entries().predicate_objects(URIRef(statement))
                     if str(p) in {str(WSIS[x]) for x in ("addressesActionLine", "supportsSDG", "relatesToGDC",
                                                          "hasTheme", "voicedBy", "concerns", "mentionsEntity")}}
    assert {(r["link"], r["target"]) for r in rows if r.get("origin") == "curator"} == curated_links
    for r in rows:
        if r.get("origin") == "linker":
            assert r["method"] and r["score"] and r["evidence"]


@needs_entry("wsis-forum-2025-session-440")
def test_statement_provenance_finds_statements_by_a_piece_of_text(built_store):
    rows = run(built_store, "statement-provenance", text="YOUTH scorecards")
    source = SOURCES / "000_319479e8c5ebbfb1.txt"
    expected_line = next(n for n, line in enumerate(source.read_text(encoding="utf-8").splitlines(), 1)
                         if "Youth Scorecards" in line)
    assert {r["line"] for r in rows} == {str(expected_line)}
    assert {r["type"] for r in rows} == {"Commitment"}
    assert run(built_store, "statement-provenance") == []  # neither parameter: nothing


# -- session-summary ---------------------------------------------------------------------------------

def source_sections(path: Path) -> dict[str, list[int]]:
    """Heading -> the line numbers of the '- ' bullets under it."""
    sections, heading = defaultdict(list), None
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if line.startswith("- "):
            sections[heading].append(number)
        elif line.strip() and not line.startswith("<"):
            heading = line.strip()
    return sections


@needs_entry("wsis-forum-2025-session-440")
def test_session_summary_of_440_counts_statements_by_type(built_store):
    sections = source_sections(SOURCES / "000_319479e8c5ebbfb1.txt")
    kinds = {"Key issue": "Key Issues Discussed", "Achievement": "achievements acknowledged",
             "Commitment": "commitments", "Recommendation": "Key Recommendations"}
    expected = {}
    for label, words in kinds.items():
        lines = next(v for k, v in sections.items() if k and words.lower() in k.lower())
        expected[label] = (len(lines), min(lines), max(lines))
    assert {k: v[0] for k, v in expected.items()} == {"Key issue": 7, "Achievement": 2, "Commitment": 2,
                                                      "Recommendation": 5}
    rows = run(built_store, "session-summary")  # default: session 440
    got = {r["typeLabel"]: (int(r["statements"]), int(r["firstLine"]), int(r["lastLine"])) for r in rows}
    assert got == expected
    assert [r["typeLabel"] for r in rows] == ["Key issue", "Achievement", "Recommendation", "Commitment"]
    assert {r["file"] for r in rows} == {"000_319479e8c5ebbfb1.txt"}
    assert {r["date"] for r in rows} == {"2025-07-08"}


@needs_entry("wsis-forum-2025-session-480")
def test_session_summary_takes_another_session(built_store):
    rows = run(built_store, "session-summary", session="id:session/wsis-forum-2025-480")
    assert rows and {r["session"] for r in rows} == {ID + "session/wsis-forum-2025-480"}
    assert {r["file"] for r in rows} == {"001_5e32a28119d73e9f.txt"}


# -- search ------------------------------------------------------------------------------------------

@needs_entry("wsis-forum-2025-session-440")
def test_search_ranks_the_statement_with_both_words_first(built_store):
    rows = run(built_store, "search", words="youth scorecards")
    top = rows[0]
    source = SOURCES / "000_319479e8c5ebbfb1.txt"
    line = next(n for n, text in enumerate(source.read_text(encoding="utf-8").splitlines(), 1)
                if "Youth Scorecards" in text)
    assert (top["wordsMatched"], top["wholeWordMatches"], top["wordsSearched"]) == ("2", "2", "2")
    assert top["line"] == str(line) and top["file"] == "000_319479e8c5ebbfb1.txt"
    assert all(int(r["wordsMatched"]) <= 2 for r in rows)
    ranks = [(-int(r["wordsMatched"]), -int(r["wholeWordMatches"])) for r in rows]
    assert ranks == sorted(ranks)


def test_search_matches_word_starts_not_substrings(built_store):
    rows = run(built_store, "search", words="AI")
    assert rows
    for r in rows:
        words = re.split(r"[^\w]|_", r["text"].lower())
        assert any(w.startswith("ai") for w in words), r["text"]
    everything = run(built_store, "statement-provenance", text="sustainab")
    sustainable_only = {r["statement"] for r in everything
                        if not any(w.startswith("ai") for w in re.split(r"[^\w]|_", r["text"].lower()))}
    assert sustainable_only and not sustainable_only & {r["statement"] for r in rows}


def test_search_pages_through_the_ranking(built_store):
    whole = run(built_store, "search", words="digital inclusion", limit="1000")
    assert len(whole) > 12
    default = run(built_store, "search", words="digital inclusion")
    assert default == whole[:100]
    pages = [run(built_store, "search", words="digital inclusion", limit="5", offset=str(start))
             for start in range(0, 15, 5)]
    assert [r["statement"] for page in pages for r in page] == [r["statement"] for r in whole[:15]]
    assert run(built_store, "search", words="digital inclusion", limit="0") == []


def test_statement_provenance_pages_by_statement_not_by_row(built_store):
    whole = run(built_store, "statement-provenance", text="digital", limit="1000")
    statements = list(dict.fromkeys(r["statement"] for r in whole))
    assert len(statements) > 6
    page = run(built_store, "statement-provenance", text="digital", limit="3", offset="2")
    assert list(dict.fromkeys(r["statement"] for r in page)) == statements[2:5]
    assert page == [r for r in whole if r["statement"] in statements[2:5]]  # every link row of each


@pytest.mark.parametrize("value", ["-1", "1.5", "ten"])
def test_a_page_size_must_be_a_whole_number(built_store, value):
    result = wsiskg("query", "search", "--param", f"limit={value}", store=built_store)
    assert result.returncode == 1 and "limit" in result.stderr and "Traceback" not in result.stderr


def test_search_is_unharmed_by_an_injection_attempt(fresh_store, tmp_path):
    count = tmp_path / "count.rq"
    count.write_text("SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }\n", encoding="utf-8")

    def quads():
        return run(fresh_store, str(count))[0]["n"]

    before = quads()
    for attempt in ['") } ; DROP ALL ; #', "x\" . } DELETE WHERE { ?s ?p ?o } #", "(.*)+[ \\ $"]:
        rows = run(fresh_store, "search", words=attempt)
        for r in rows:  # the attempt is only words: "drop", "all", "delete" ...
            assert int(r["wordsMatched"]) >= 1
    assert quads() == before


# -- the extra queries ---------------------------------------------------------------------------------

def test_actionline_profile_lists_the_facilitators_from_the_table(built_store):
    names = un_ids_to_iris()
    for row in table("wsis_action_lines.csv"):
        if row["id"] not in ("C2", "C7.EENV"):
            continue
        leads = {names[re.sub(r"\s*\(.*$", "", n).strip()] for n in row["lead_facilitator_confirmed"].split(";")}
        rows = run(built_store, "actionline-profile", actionLine="id:action-line/" + al_notation(row["id"]))
        assert {r["item"] for r in rows if r["section"] == "lead facilitator"} == leads
        matrix = {SDG + matrix_code(m) for m in matrix_rows() if m["action_line"] == row["id"]}
        assert {r["item"] for r in rows if r["section"] == "matrix SDG"} == matrix
    itu = next(r for r in run(built_store, "actionline-profile") if r["section"] == "lead facilitator")
    assert (itu["item"], itu["itemLabel"], itu["actionLineNotation"]) == (
        ID + "org/itu", "International Telecommunication Union", "C2")


def test_entities_without_external_link_lists_bodies_lacking_wikidata(built_store):
    conventions = (REPO / "docs" / "conventions.md").read_text(encoding="utf-8")
    listed = re.search(r"UN entities \(`wsis:UNEntity`\):[^:]*:(.*?)\n- ", conventions, re.S).group(1)
    un_entities = {w.strip(" .\n") for w in listed.split(",")}
    from test_unsystem import chart_iris, new_entities
    expected = {row["id"] for row in table("un_bodies.csv")
                if not row["wikidata_qid"] and row["id"].lower().replace("_", "-") in un_entities}
    # the UN System Chart's entities new to the project: no Wikidata item confirmed for any of them
    added = new_entities()
    expected |= {e["notation"] for e in added.values()}
    rows = run(built_store, "entities-without-external-link")
    got = {r["notation"] for r in rows if r["kind"] == "UN entity" and r["missing"] == "Wikidata item"}
    assert "UNCTAD" in expected and "Board of Auditors" in expected and got == expected
    # a body of un_bodies.csv without a page gets the chart's page where the chart has one
    chart_pages = {iri for name, iri in chart_iris().items()
                   if next(r for r in table("un_system_chart.csv") if r["entity"] == name)["entity_link"]}
    no_page = {row["id"] for row in table("un_bodies.csv")
               if not row["url"] and row["id"].lower().replace("_", "-") in un_entities
               and ID + "org/" + row["id"].lower().replace("_", "-") not in chart_pages}
    no_page |= {e["notation"] for e in added.values() if not e["url"]}
    assert "UNGIS" in no_page and "ODET" not in no_page
    assert {r["notation"] for r in rows if r["kind"] == "UN entity" and r["missing"] == "official web page"} == no_page


def test_doubtful_matrix_links_are_the_doubtful_rows_of_the_matrix(built_store):
    expected = {(al_iri(r["action_line"]), SDG + matrix_code(r)) for r in matrix_rows() if r["status"] == "doubtful"}
    rows = run(built_store, "doubtful-matrix-links")
    assert expected and {(r["actionLine"], r["sdg"]) for r in rows} == expected
    assert all(r["status"] == "doubtful" and r["note"] for r in rows)
    listed = run(built_store, "doubtful-matrix-links", status="listed")
    assert len(listed) == sum(1 for r in matrix_rows() if r["status"] == "listed")


def test_uncovered_statements_have_no_frame_link_and_their_own_line(built_store):
    als, sdgs, gdcs = (curated(WSIS.addressesActionLine), curated(WSIS.supportsSDG),
                       curated(WSIS.relatesToGDC))
    rows = run(built_store, "uncovered-statements")
    assert rows
    for r in rows:
        s = r["statement"]
        assert s not in als and s not in sdgs and s not in gdcs
        assert r["line"] == str(entries().value(URIRef(s), WSIS.sourceLine))
    recommendations = run(built_store, "uncovered-statements", type="wsis:Recommendation")
    assert {r["type"] for r in recommendations} <= {"Recommendation"}
    assert {r["statement"] for r in recommendations} == {r["statement"] for r in rows if r["type"] == "Recommendation"}
