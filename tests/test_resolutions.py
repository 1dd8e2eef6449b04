"""The General Assembly's texts: the parser (graph/resolutions.py), the whole Compact in the reference
data, one resolution graph per shipped text in the build, and the errors a bad text gets.

Expected values come from the shipped texts themselves (graph/sources/resolutions/, byte copies of the
official extracts) and, for the Compact and A/RES/80/173, from the independent parse in
../shared/reference/un-resolutions/crosscheck/ (compared against, never loaded).
"""
from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest
from rdflib import Literal, URIRef
from rdflib.namespace import XSD

from conftest import REPO
from wsiskg.graph import namespaces as ns
from wsiskg.graph.resolutions import ParseError, parse

TEXTS = REPO / "graph" / "sources" / "resolutions"
CROSSCHECK = REPO.parent / "shared" / "reference" / "un-resolutions" / "crosscheck"
WSIS = ns.WSIS


def text(name: str) -> str:
    return (TEXTS / name).read_text(encoding="utf-8")


def line(name: str, number: int) -> str:
    return text(name).split("\n")[number - 1]


def sequential_numbers(raw: str, start: str, stop: str | None) -> int:
    """An independent count: paragraph numbers at a line start, in order 1, 2, 3 … (a list item "1."
    inside a paragraph restarts nothing), between the lines `start` and `stop`."""
    lines = raw.split("\n")
    first = next(i for i, l in enumerate(lines) if l.strip().rstrip(",") == start)
    last = next((i for i, l in enumerate(lines) if i > first and stop and l.strip() == stop), len(lines))
    expected = 1
    for l in lines[first:last]:
        m = re.match(r"^(\d{1,3})\.(\s|$)", l)
        if m and int(m.group(1)) == expected:
            expected += 1
    return expected - 1


# -- the parser on the shipped texts ----------------------------------------------------------------

def test_the_compact_has_74_paragraphs_89_lettered_items_76_tagged():
    doc = parse(text("A_RES_79_1.txt"), "A_RES_79_1.txt")
    annex = doc.part("I")
    assert annex.title == "Global Digital Compact"
    assert len(annex.numbered()) == 74 == sequential_numbers(text("A_RES_79_1.txt"), "Annex I", "Annex II")
    assert [p.number for p in annex.numbered()] == [str(n) for n in range(1, 75)]
    assert len(annex.items()) == 89
    tagged = [p for p in annex.items() if re.search(r"\((?:all )?SDGs?\b[^)]*\)[;.]?$", p.text)]
    assert len(tagged) == 76
    # every tag printed in the annex is kept: 76 on items, 9 on numbered paragraphs (46-49, 58-62)
    assert sorted(int(p.number) for p in annex.numbered() if "(SDG" in p.text or "(all SDGs)" in p.text) == \
        [46, 47, 48, 49, 58, 59, 60, 61, 62]


def test_gdc_29d_verbatim_with_its_line():
    annex = parse(text("A_RES_79_1.txt"), "A_RES_79_1.txt").part("I")
    p = next(p for p in annex.paragraphs if p.number == "29(d)")
    assert p.text == "Refrain from Internet shutdowns and measures that target Internet access (SDG 16)."
    assert p.line == 3148 and line("A_RES_79_1.txt", 3148).startswith("(d)")
    assert p.heading == "Internet governance" and p.parent == "29"


def test_wsis20_outcome_paragraphs_99_113_122_verbatim_with_lines():
    doc = parse(text("A_RES_80_173.txt"), "A_RES_80_173.txt")
    body = doc.part("")
    assert len(body.numbered()) == 127 == sequential_numbers(text("A_RES_80_173.txt"), "The General Assembly", None)
    assert body.items() == []
    by_number = {p.number: p for p in body.paragraphs}
    assert by_number["99"].text == (
        "We decide that the Internet Governance Forum shall be made a permanent forum of the United Nations, with a "
        "continued secretariat hosted by the Department of Economic and Social Affairs of the Secretariat, on a stable "
        "and sustainable basis with appropriate staffing and resources, in accordance with United Nations budgetary "
        "procedures.")
    assert by_number["113"].text == (
        "We request the action line facilitators, in coordination with the United Nations Group on the Information "
        "Society, to develop targeted and result-oriented implementation road maps for their respective action lines "
        "and the outcomes of the present resolution, linking the World Summit action lines with relevant Sustainable "
        "Development Goal targets and Global Digital Compact commitments, including potential targets, indicators and "
        "metrics to facilitate monitoring and measurement, and to report on the outcomes of this work to the "
        "Commission on Science and Technology for Development at its thirtieth session, in 2027.")
    assert by_number["122"].text.startswith(
        "We note the World Summit process and 2030 Agenda–Global Digital Compact matrix, prepared by the United "
        "Nations Group on the Information Society,")
    assert "we request the United Nations Group on the Information Society, within existing mandates and resources, " \
           "to prepare a joint implementation road map" in by_number["122"].text
    assert by_number["122"].text.endswith("across the United Nations system.")
    for number, at in (("99", 1062), ("113", 1186), ("122", 1269)):
        assert by_number[number].line == at and line("A_RES_80_173.txt", at).startswith(f"{number}.")
    assert by_number["113"].heading == "Development of the World Summit on the Information Society framework"
    assert by_number["122"].heading == "Follow-up and review"
    assert (doc.symbol, doc.adopted) == ("A/RES/80/173", "17 December 2025")


# (file, unnumbered preambular paragraphs, numbered paragraphs, lettered items) of the body, as printed
BODIES = {
    "A_RES_80_173.txt": (127, 0), "A_RES_80_118.txt": (74, 2), "A_RES_79_194.txt": (69, 2),
    "A_RES_80_147.txt": (55, 0), "A_RES_79_325.txt": (12, 12), "A_RES_80_215.txt": (26, 11),
    "A_RES_79_175.txt": (17, 26), "A_RES_79_277.txt": (6, 0), "A_RES_79_1.txt": (84, 242),
}


@pytest.mark.parametrize("name", sorted(BODIES))
def test_each_resolution_body_counts_as_printed(name):
    doc = parse(text(name), name)
    body = doc.part("")
    numbered, items = BODIES[name]
    assert (len(body.numbered()), len(body.items())) == (numbered, items)
    stop = "Annex I" if name == "A_RES_79_1.txt" else None
    assert len(body.numbered()) == sequential_numbers(text(name), "The General Assembly", stop)
    # every lettered item under its paragraph, letters in order a, b, c …
    for parent in {p.parent for p in body.items()}:
        letters = [p.letter for p in body.items() if p.parent == parent]
        assert letters == [chr(ord("a") + i) for i in range(len(letters))]
    # the preamble: unnumbered paragraphs, each opening with a capital, none holding page furniture
    for p in body.paragraphs:
        assert p.text and p.text[0].isupper() or p.text[0] in "“(", (name, p.number, p.text[:40])
        assert not re.search(r"\b\d\d-\d{5}\b|\b\d+/\d+ (?=[A-Z])|_{5}", p.text), (name, p.number)
        assert p.kind in ("preambular", "operative")
    numbered_kinds = {p.kind for p in body.numbered()}
    assert numbered_kinds == {"operative"}


def test_page_furniture_and_footnotes_are_gone():
    doc = parse(text("A_RES_80_173.txt"), "A_RES_80_173.txt")
    by_number = {p.number: p for p in doc.part("").paragraphs}
    # "…Universal Declaration of Human Rights.2" (footnote 2) and a paragraph broken by a page header
    assert by_number["1"].text.endswith("upholding the Universal Declaration of Human Rights.")
    assert "information and communications technology challenges" in by_number["5"].text
    # every footnote of every text had its reference cut, in order
    for name in BODIES:
        raw = text(name)
        notes = re.findall(r"(?m)^(\d{1,3}) +\S", "\n".join(
            block for block in re.findall(r"(?s)_{5,}[^\n]*\n(.*?)(?:\n\n|\Z)", raw)))
        doc = parse(raw, name)
        cut = [n for _, n in doc.footnote_refs]
        assert cut == [str(i) for i in range(1, len(cut) + 1)], name
        assert len(cut) == len({n for n in notes if int(n) <= len(cut) + 1}) or len(cut) >= 1


def test_the_compact_matches_the_independent_parse():
    if not CROSSCHECK.is_dir():
        pytest.skip("../shared/reference/un-resolutions/crosscheck/ is not on this machine")
    annex = parse(text("A_RES_79_1.txt"), "A_RES_79_1.txt").part("I")
    mine = {p.number: p.text for p in annex.paragraphs}

    def words(t: str) -> str:  # the crosscheck keeps footnote numbers; compare the words
        return " ".join(re.sub(r"\d+", " ", t).split())

    with open(CROSSCHECK / "gdc_annexI_draft.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    theirs = {r["para"] + (f"({r['sub']})" if r["sub"] else ""): r for r in rows}
    # it also keeps a space after a compound's hyphen at a line end ("forward- looking", 5 paragraphs):
    # we join those ("forward-looking", as printed)
    broken = [k for k in theirs if re.search(r"[A-Za-z]- [A-Za-z]", theirs[k]["text"])]
    assert len(broken) == 5 and all(re.search(r"[A-Za-z]-[A-Za-z]", mine[k]) for k in broken)
    for k in broken:
        theirs[k] = {**theirs[k], "text": re.sub(r"([A-Za-z])- ([A-Za-z])", r"\1-\2", theirs[k]["text"])}

    # the crosscheck lists paragraph 7's five objectives as items; the text numbers them inside paragraph 7
    objectives = {k for k in theirs if "objective-" in k}
    assert len(objectives) == 5
    assert set(mine) == set(theirs) - objectives
    differ = sorted(k for k in mine if words(mine[k]) != words(theirs[k]["text"]))
    # 7: the objectives are in our paragraph 7; 56(a): the crosscheck ran footnote 22 into the item
    assert differ == ["56(a)", "7"]
    assert words(theirs["56(a)"]["text"]).startswith(words(mine["56(a)"]))
    tagged = {k for k, r in theirs.items() if r["sdg_tags"]}
    assert tagged == {k for k, t in mine.items() if re.search(r"\((?:all )?SDGs?\b[^)]*\)[;.]?$", t)}


def test_the_outcome_matches_the_independent_parse():
    if not CROSSCHECK.is_dir():
        pytest.skip("../shared/reference/un-resolutions/crosscheck/ is not on this machine")
    body = parse(text("A_RES_80_173.txt"), "A_RES_80_173.txt").part("")
    mine = {p.number: p for p in body.numbered()}
    with open(CROSSCHECK / "wsis20_outcome_A_RES_80_173_draft.csv", newline="", encoding="utf-8") as handle:
        rows = {r["para"]: r for r in csv.DictReader(handle)}
    assert set(mine) == set(rows)

    def words(t: str) -> str:
        return " ".join(re.sub(r"\d+", " ", t).split())

    def joined(t: str) -> str:  # its line-end hyphens keep a space ("High- level"); ours are joined
        return re.sub(r"([A-Za-z])- ([A-Za-z])", r"\1-\2", t)

    assert sorted((k for k in rows if joined(rows[k]["text"]) != rows[k]["text"]), key=int) == ["33", "58", "66"]
    differ = sorted((k for k in mine if words(mine[k].text) != words(joined(rows[k]["text"]))), key=int)
    assert differ == ["127"]  # the crosscheck ran the signature ("68th plenary meeting …") into 127
    assert words(rows["127"]["text"]).startswith(words(mine["127"].text))


# -- bad input ----------------------------------------------------------------------------------------

def test_a_missing_paragraph_number_is_reported_with_its_line():
    raw = text("A_RES_80_173.txt").split("\n")
    at = next(i for i, l in enumerate(raw) if re.match(r"^57\.(\s|$)", l))
    raw[at] = raw[at].replace("57.", "", 1)  # paragraph 57's number lost: 56 is followed by 58
    with pytest.raises(ParseError) as caught:
        parse("\n".join(raw), "A_RES_80_173.txt")
    following = next(i for i, l in enumerate(raw) if re.match(r"^58\.(\s|$)", l)) + 1
    assert (caught.value.file, caught.value.line) == ("A_RES_80_173.txt", following)
    assert "paragraph 57 is missing" in str(caught.value) and f"line {following}" in str(caught.value)


def test_a_garbled_page_is_reported_with_its_line():
    raw = text("A_RES_80_118.txt").split("\n")
    page_break = [i for i, l in enumerate(raw) if l == ""][3]
    for i in range(page_break, page_break + 9):  # the page's header lost its page and job numbers
        if re.match(r"^\s*(\d+/\d+|\d\d-\d{5})\s*$", raw[i]):
            raw[i] = "garbled"
    with pytest.raises(ParseError) as caught:
        parse("\n".join(raw), "A_RES_80_118.txt")
    assert (caught.value.file, caught.value.line) == ("A_RES_80_118.txt", page_break + 1)
    assert "garbled page" in str(caught.value)


def test_a_bad_text_fails_the_build_and_leaves_the_store_unchanged(built_store, tmp_path, monkeypatch):
    import shutil

    from wsiskg.graph import texts
    from wsiskg.graph.build import BuildFailed, build
    from wsiskg.graph.store import database_path

    store = tmp_path / "store"
    shutil.copytree(built_store, store, symlinks=True)
    before = database_path(store)
    folder = tmp_path / "texts"
    shutil.copytree(TEXTS, folder)
    raw = (folder / "A_RES_79_277.txt").read_text(encoding="utf-8").split("\n")
    at = next(i for i, l in enumerate(raw) if re.match(r"^3\.(\s|$)", l))
    raw[at] = raw[at].replace("3.", "", 1)
    (folder / "A_RES_79_277.txt").write_text("\n".join(raw), encoding="utf-8")
    original = texts.text_graphs
    monkeypatch.setattr(texts, "text_graphs", lambda: original(folder))
    with pytest.raises(BuildFailed) as caught:
        build(store, linkers=[])
    [error] = caught.value.errors
    following = next(i for i, l in enumerate(raw) if re.match(r"^4\.(\s|$)", l)) + 1
    assert (Path(error.file).name, error.line) == ("A_RES_79_277.txt", following)
    assert database_path(store) == before
    assert sorted(p.name for p in store.iterdir()) == sorted(p.name for p in built_store.iterdir())


# -- in the built store ---------------------------------------------------------------------------------

def test_the_build_holds_each_resolution_and_the_whole_compact(built_store):
    from wsiskg.graph.store import EmbeddedStore
    with EmbeddedStore.open(built_store, read_only=True) as store:
        def rows(q):
            return [[t.value if t is not None else None for t in r] for r in store.query(ns.sparql_prefixes() + q).rows]

        counts = dict(rows("""SELECT ?id (COUNT(?p) AS ?n) WHERE {
            ?r a wsis:Resolution ; dcterms:identifier ?id .
            GRAPH ?g { ?p a wsis:OperativeParagraph ; dcterms:isPartOf ?r . FILTER NOT EXISTS { ?p wsis:annex ?a } }
            FILTER NOT EXISTS { ?p dcterms:isPartOf ?q . ?q a wsis:Paragraph } } GROUP BY ?id"""))
        assert {k: int(v) for k, v in counts.items()} == {
            "A/RES/" + name[6:-4].replace("_", "/"): numbered + (1 if name in ("A_RES_80_173.txt", "A_RES_79_1.txt") else 0)
            for name, (numbered, _) in BODIES.items()}  # + the unnumbered "Adopts the following …"
        [[graph, line_, section]] = rows("""SELECT ?g ?line ?section WHERE { GRAPH ?g {
            <https://w3id.org/wsis-kg/id/resolution/A-RES-80-173/para/113> wsis:sourceLine ?line ; wsis:sourceSection ?section } }""")
        assert graph == ns.doc_graph("a-res-80-173") and line_ == "1186"
        gdc = rows("""SELECT (COUNT(DISTINCT ?p) AS ?n) (COUNT(DISTINCT ?i) AS ?items) (COUNT(DISTINCT ?t) AS ?tagged) WHERE {
            { ?p a wsis:GDCCommitment , wsis:Paragraph . FILTER NOT EXISTS { ?p dcterms:isPartOf/a wsis:GDCCommitment } }
            UNION { ?i a wsis:GDCCommitment ; dcterms:isPartOf ?parent . ?parent a wsis:GDCCommitment }
            UNION { ?t a wsis:GDCCommitment ; wsis:sdgTag ?tag ; dcterms:isPartOf ?tp . ?tp a wsis:GDCCommitment } }""")
        assert [int(x) for x in gdc[0]] == [74, 89, 76]
        d29 = URIRef(ns.ID + "gdc/paragraph/29d")
        [[txt, ln, sdg]] = rows(f"""SELECT ?t ?l ?s WHERE {{ <{d29}> wsis:text ?t ; wsis:sourceLine ?l ; wsis:supportsSDG ?s ;
            skos:broader <{ns.ID}gdc/objective/3> }}""")
        assert (txt, ln, sdg) == ("Refrain from Internet shutdowns and measures that target Internet access (SDG 16).",
                                  "3148", ns.SDG + "16")
        # "(all SDGs)" is kept as printed and as wsis:supportsAllSDGs, not as 17 links
        [[all_n, linked]] = rows("""SELECT (COUNT(DISTINCT ?p) AS ?n) (COUNT(?s) AS ?links) WHERE {
            ?p wsis:supportsAllSDGs true ; wsis:sdgTag "all SDGs" . OPTIONAL { ?p wsis:supportsSDG ?s } }""")
        annex_text = text("A_RES_79_1.txt").split("Annex II")[0].split("Annex I")[-1]
        assert (int(all_n), int(linked)) == (len(re.findall(r"\(all\s+SDGs\)", annex_text)), 0) == (20, 0)
        # the linker links paragraphs as it links statements, into id:graph/links/<slug>
        [[links]] = rows(f"""SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{ns.links_graph('a-res-80-173')}> {{
            <{ns.ID}resolution/A-RES-80-173/para/99> wsis:mentionsEntity ?e }} }}""")
        assert int(links) >= 1
