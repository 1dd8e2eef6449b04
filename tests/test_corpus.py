"""Issue 3: the seed corpus in the graph, statement by statement, checked against the source files."""
from __future__ import annotations

import re

import pytest

from conftest import REPO
from wsiskg.graph.store import EmbeddedStore

SOURCES = REPO / "graph" / "sources"
ID = "https://w3id.org/wsis-kg/id/"
WSIS = "https://w3id.org/wsis-kg/ontology#"
PREFIX = "PREFIX wsis: <https://w3id.org/wsis-kg/ontology#>\nPREFIX prov: <http://www.w3.org/ns/prov#>\nPREFIX dcterms: <http://purl.org/dc/terms/>\n"


@pytest.fixture(scope="module")
def store(built_store):
    with EmbeddedStore.open(built_store, read_only=True) as s:
        yield s


def rows(store, query):
    return [[t.value if t is not None else None for t in row] for row in store.query(PREFIX + query).rows]


def type_counts(store, doc_slug):
    result = rows(store, f"""SELECT ?type (COUNT(?s) AS ?n) WHERE {{
        ?s prov:wasDerivedFrom <{ID}doc/{doc_slug}> ; a ?type }} GROUP BY ?type""")
    return {t.rsplit("#", 1)[1]: int(n) for t, n in rows_or(result)}


def rows_or(result):
    return [(t, n) for t, n in result]


@pytest.mark.parametrize("slug, expected", [
    ("wsis-forum-2025-session-440", {"KeyIssue": 7, "Achievement": 2, "Commitment": 2, "Recommendation": 5}),
    ("wsis-forum-2025-session-480", {"KeyIssue": 6, "Achievement": 2, "Commitment": 2, "Recommendation": 4}),
])
def test_session_documents_have_their_statements(store, slug, expected):
    assert type_counts(store, slug) == expected


def test_open_consultation_has_54_achievements_and_54_challenges_under_their_action_lines(store):
    counts = type_counts(store, "wsis20-open-consultation-outcomes")
    assert counts["Achievement"] == 54 and counts["Challenge"] == 54
    per_line = rows(store, f"""SELECT ?type ?al (COUNT(?s) AS ?n) WHERE {{
        GRAPH <{ID}graph/doc/wsis20-open-consultation-outcomes> {{
          ?s a ?type ; wsis:sourceSection ?section ; wsis:addressesActionLine ?al .
          VALUES ?type {{ wsis:Achievement wsis:Challenge }} }}
        ?al <http://www.w3.org/2004/02/skos/core#notation> ?notation .
        FILTER(STRSTARTS(?section, CONCAT(REPLACE(?notation, "-e-.*", ""), "."))) }} GROUP BY ?type ?al""")
    # Every achievement and challenge sits under the action line its section names.
    assert sum(int(n) for _, _, n in per_line) >= 108
    lines = {al for _, al, _ in per_line}
    assert len(lines) == 18  # C1-C6, the eight C7 sub-lines, C8-C11


def test_every_statement_starts_on_its_source_line(store):
    """For every statement in the graph: its source file's line holds the start of its words."""
    result = rows(store, """SELECT ?s ?text ?line ?file WHERE {
        ?s wsis:text ?text ; wsis:sourceLine ?line ; prov:wasDerivedFrom ?doc . ?doc dcterms:identifier ?file }""")
    assert len(result) > 300
    files = {}
    bad = []
    for subject, text, line, file in result:
        lines = files.setdefault(file, (SOURCES / file).read_text(encoding="utf-8").splitlines())
        words = re.findall(r"\w+", text)[:4]
        here = lines[int(line) - 1]
        # The first word stands on the statement's line (a sentence may begin mid-line) and the
        # first words follow each other from there, across a wrapped line if need be.
        span = " ".join(re.findall(r"\w+", " ".join(lines[int(line) - 1:int(line) + 2])))
        if words[0] not in re.findall(r"\w+", here) or " ".join(words) not in span:
            bad.append((subject, line, text[:60], here[:60]))
    assert bad == []


def line_of(file: str, fragment: str) -> int:
    for number, line in enumerate((SOURCES / file).read_text(encoding="utf-8").splitlines(), start=1):
        if fragment in line:
            return number
    raise AssertionError(f"{fragment!r} not in {file}")


PINS = [
    # (file, fragment of the source line, expected type, an action line it must address)
    ("000_319479e8c5ebbfb1.txt", "Cybersecurity & AI integration", "KeyIssue", "C5"),
    ("000_319479e8c5ebbfb1.txt", "Commitment by youth-led networks", "Commitment", None),
    ("001_5e32a28119d73e9f.txt", "Commitment to create liaison-officer arrangements", "Commitment", None),
    ("002_ce760feb3b1f7c56.txt", "Digital skills gaps", "Challenge", "C7-e-business"),
    ("002_ce760feb3b1f7c56.txt", "Privacy violations", "Challenge", "C10"),
    ("003_e580bd3b69fe50e9.txt", "Civil‑society organisations criticised market‑led paradigms", "Recommendation", None),
]


@pytest.mark.parametrize("file, fragment, kind, action_line", PINS)
def test_pinned_statements(store, file, fragment, kind, action_line):
    line = line_of(file, fragment)
    result = rows(store, f"""SELECT ?s ?type WHERE {{
        ?s wsis:sourceLine ?line ; a ?type ; prov:wasDerivedFrom/dcterms:identifier "{file}" .
        FILTER(?line = {line}) FILTER(?type != wsis:Statement) }}""")
    assert [t.rsplit("#", 1)[1] for _, t in result] == [kind]
    if action_line:
        links = rows(store, f"SELECT ?al WHERE {{ <{result[0][0]}> wsis:addressesActionLine ?al }}")
        assert f"{ID}action-line/{action_line}" in [a for (a,) in links]


def test_sessions_carry_title_date_address_and_process(store):
    result = rows(store, f"""SELECT ?date ?url ?process WHERE {{ <{ID}session/wsis-forum-2025-440> dcterms:date ?date ;
        <http://schema.org/url> ?url ; wsis:partOfProcess ?process }}""")
    assert ("2025-07-08", "https://www.itu.int/net4/wsis/forum/2025/Agenda/Session/440", f"{ID}process/wsis-forum") in {tuple(r) for r in result}
    consultation = rows(store, f"""SELECT ?date (COUNT(?p) AS ?n) WHERE {{
        <{ID}session/wsis20-elements-paper-consultation-2025-07-29> dcterms:date ?date ; wsis:coFacilitatedBy ?p }} GROUP BY ?date""")
    assert consultation == [["2025-07-29", "2"]]


def test_most_statements_link_to_a_frame(store):
    """At least 80% of statements reach an action line, an SDG or the GDC (curator or linker)."""
    total, linked = rows(store, """SELECT (COUNT(DISTINCT ?s) AS ?all) (COUNT(DISTINCT ?l) AS ?linked) WHERE {
        ?s wsis:text ?t ; prov:wasDerivedFrom ?d .
        OPTIONAL { ?s wsis:addressesActionLine|wsis:supportsSDG|wsis:relatesToGDC ?x BIND(?s AS ?l) } }""")[0]
    assert int(total) > 300
    assert int(linked) / int(total) >= 0.8


def test_machine_links_say_how_they_were_made(store):
    result = rows(store, f"""PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
        SELECT ?method (COUNT(?a) AS ?n) (MIN(?score) AS ?low) (MAX(?score) AS ?high) WHERE {{
        GRAPH ?g {{ ?a a wsis:LinkAssertion ; wsis:method ?method ; wsis:score ?score ; rdf:subject ?s ; rdf:predicate ?p ; rdf:object ?o .
                   ?s ?p ?o }}
        FILTER(STRSTARTS(STR(?g), "{ID}graph/links/")) }} GROUP BY ?method""")
    methods = {m: (int(n), float(lo), float(hi)) for m, n, lo, hi in result}
    assert "hidden-label-match" in methods and "label-match" in methods
    assert all(0 <= lo <= hi <= 1 for _, lo, hi in methods.values())
    # A curator's link is never repeated by the linker.
    dupes = rows(store, f"""SELECT (COUNT(*) AS ?n) WHERE {{
        GRAPH ?doc {{ ?s ?p ?o . ?s wsis:text ?t }} GRAPH ?links {{ ?s ?p ?o }}
        FILTER(STRSTARTS(STR(?doc), "{ID}graph/doc/") && STRSTARTS(STR(?links), "{ID}graph/links/")) }}""")
    assert dupes == [["0"]]
