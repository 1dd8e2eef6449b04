"""The duplication map: generated from the seed graph, self-contained, with heatmaps, tables and CSV twins."""
from __future__ import annotations

import csv
import html
import io
import re
import urllib.parse
from html.parser import HTMLParser
from pathlib import Path

import pyoxigraph as ox
import pytest

from wsiskg.graph import namespaces as ns
from wsiskg.graph.report import QUERIES, duplication_report, render_html, write_report
from wsiskg.graph.similarity import CLUSTERS_GRAPH, Pair, cluster_ntriples, similarity_ntriples
from wsiskg.graph.store import EmbeddedStore

from conftest import REPO, wsiskg

ACTION_LINES_CSV = REPO / "graph" / "reference" / "wsis_action_lines.csv"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def report(built_store):
    store = EmbeddedStore.open(built_store, read_only=True)
    try:
        yield duplication_report(store)
    finally:
        store.close()


@pytest.fixture(scope="module")
def page(report) -> str:
    return render_html(report)


class Tags(HTMLParser):
    """Every start tag with its attributes."""

    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def tags(text: str) -> list[tuple[str, dict]]:
    parser = Tags()
    parser.feed(text)
    return parser.tags


def svg_of(page: str, ident: str) -> str:
    match = re.search(rf'<svg[^>]*id="{ident}".*?</svg>', page, re.S)
    assert match, f"no SVG {ident} in the report"
    return match.group(0)


def cells(svg: str) -> list[dict]:
    return [attrs for tag, attrs in tags(svg) if tag == "g" and attrs.get("class") == "cell"]


def lead_facilitators() -> dict[str, str]:
    """Action Line notation -> its single lead facilitator, as the reference table states it."""
    leads = {}
    with ACTION_LINES_CSV.open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            lead = row["lead_facilitator_confirmed"].strip()
            if lead and re.fullmatch(r"[A-Z]+", lead):
                leads[ns.action_line_notation(row["id"])] = lead
    return leads


def test_report_runs_its_named_queries(report):
    assert set(report.tables) == set(QUERIES)
    for name in ("body-actionline", "actionline-gdc", "body-overlap"):
        assert report.tables[name].rows, f"{name} is empty on the seed graph"
    assert report.version and report.version >= 1


def test_body_actionline_heatmap_holds_the_reference_facilitators(page):
    grid = cells(svg_of(page, "heatmap-body-actionline"))
    assert sum(1 for c in grid if float(c["data-value"]) > 0) >= 5  # cells with statements
    by_key = {(c["data-row"], c["data-col"]): c for c in grid}
    assert by_key[("ITU", "C2")]["data-role"] == "lead"  # ITU leads C2 (wsis_action_lines.csv)
    leads = lead_facilitators()
    assert leads["C2"] == "ITU"
    for line, body in leads.items():
        assert by_key[(body, line)]["data-role"] == "lead", (body, line)
    # a co-facilitator: the reference table lists ITU as co-facilitator of C3
    assert by_key[("ITU", "C3")]["data-role"] == "co"
    # cells carry a hover title
    assert re.search(r'data-row="ITU" data-col="C2"[^>]*><title>ITU × C2: lead facilitator', page)


def test_actionline_gdc_heatmap_matches_its_query(report, page):
    grid = {(c["data-row"], c["data-col"]): c for c in cells(svg_of(page, "heatmap-actionline-gdc"))}
    assert sum(1 for c in grid.values() if float(c["data-value"]) > 0) >= 10
    for row in report.tables["actionline-gdc"].dicts():
        cell = grid[(row["actionLineNotation"].value, row["objectiveNumber"].value)]
        assert int(float(cell["data-value"])) == int(row["statements"].value)
        assert int(cell["data-curator"]) == int(row["curatorStatements"].value)
    assert 'id="legend-actionline-gdc"' in page and 'id="legend-body-actionline"' in page


def test_csv_downloads_decode(report, page):
    links = {a["download"]: a["href"] for tag, a in tags(page) if tag == "a" and "download" in a}
    assert set(links) == {f"{name}.csv" for name in QUERIES}
    for name, result in report.tables.items():
        href = links[f"{name}.csv"]
        prefix = "data:text/csv;charset=utf-8,"
        assert href.startswith(prefix)
        assert not re.search(r"[\s<>\"]", href[len(prefix):]), "the CSV payload must be percent-encoded"
        rows = list(csv.reader(io.StringIO(urllib.parse.unquote(href[len(prefix):]))))
        assert rows[0] == result.variables
        assert len(rows) - 1 == len(result.rows)
        if name != "near-duplicate-clusters":
            assert len(rows) > 1, f"{name}.csv has no rows"
    overlap = list(csv.DictReader(io.StringIO(urllib.parse.unquote(links["body-overlap.csv"][len(prefix):]))))
    assert any(r["bodyA"] == ns.ID + "org/itu" and r["bodyB"] == ns.ID + "org/unesco"
               and "C3 (co/lead)" in r["actionLines"] for r in overlap)


def test_no_external_resources(page):
    assert not re.search(r"<(script|link|img|iframe|object|embed|base)\b", page, re.I)
    assert "@import" not in page and "url(" not in page
    for tag, attrs in tags(page):
        assert "src" not in attrs, (tag, attrs)
        for key in ("href", "xlink:href", "action", "poster", "data"):
            value = attrs.get(key) or ""
            if re.match(r"\s*(https?:)?//", value, re.I):
                assert tag == "a" and key == "href" and value.startswith(ns.ID), (tag, key, value)


def test_links_follow_the_base(report):
    served = render_html(report, base="/id/")
    hrefs = [a["href"] for tag, a in tags(served) if tag == "a" and "href" in a]
    assert "/id/org/itu" in hrefs
    assert not [h for h in hrefs if h.startswith("http")]


def test_labels_are_escaped(report):
    evil = '<script>alert("x")</script>'
    tables = dict(report.tables)
    for name, column in (("body-overlap", "bodyALabel"), ("body-actionline", "bodyNotation"),
                         ("actionline-gdc", "objectiveLabel")):
        result = tables[name]
        i = result.variables.index(column)
        rows = [list(r) for r in result.rows]
        rows[0][i] = ox.Literal(evil)
        tables[name] = type(result)(result.kind, variables=result.variables, rows=rows)
    text = render_html(type(report)(tables, report.queries, report.version, report.generated))
    assert "<script" not in text.lower()
    assert html.escape(evil) in text


def test_near_duplicates_on_the_seed_graph(report, page):
    if report.tables["near-duplicate-clusters"].rows:
        assert "Cluster 1:" in page
    else:
        assert "No near-duplicate statements found." in page
        assert 'class="cluster"' not in page


def test_clusters_group_connected_pairs(built_store):
    """Similarity links chained across three documents make one cluster, a separate pair another."""
    source = EmbeddedStore.open(built_store, read_only=True)
    try:
        copy = ox.Store()
        copy.bulk_load(source.dump(ox.RdfFormat.N_QUADS), format=ox.RdfFormat.N_QUADS)
    finally:
        source.close()
    store = EmbeddedStore(copy)
    s = ns.ID + "statement/"
    a, b, c = s + "wsis-forum-2025-session-440/1", s + "wsis20-open-consultation-outcomes/3", \
        s + "wsis20-questionnaire-stakeholder-submission/4"
    d, e = s + "wsis-forum-2025-session-480/2", s + "wsis20-elements-paper-consultation-2025-07-29/5"
    pairs = [Pair(a, b, 0.71, 5), Pair(b, c, 0.52, 4), Pair(d, e, 0.6, 4)]
    store.replace_graphs({ns.links_graph("similarity"): similarity_ntriples(pairs),
                          CLUSTERS_GRAPH: cluster_ntriples((p.a, p.b) for p in pairs)})  # as every writer does
    report = duplication_report(store)
    clusters = report.tables["near-duplicate-clusters"].dicts()
    assert [(r["clusterSize"].value, r["statement"].value) for r in clusters][:3] == \
        [("3", a), ("3", b), ("3", c)]
    assert {r["cluster"].value for r in clusters} == {a, d}
    first = clusters[0]
    assert first["line"].value == "17" and first["file"].value == "000_319479e8c5ebbfb1.txt"
    assert first["section"].value.startswith("Key Issues Discussed")
    text = render_html(report, base="/id/")
    assert "Cluster 1: 3 statements from 3 documents" in text
    assert "Cluster 2: 2 statements from 2 documents" in text
    assert 'href="/id/statement/wsis-forum-2025-session-440/1"' in text
    assert "No near-duplicate statements found." not in text


def test_cli_writes_html_and_csv(built_store, tmp_path):
    out = tmp_path / "report"
    result = wsiskg("report", "duplication", "--out", out, store=built_store, check=True)
    assert "duplication.html" in result.stdout
    page = (out / "duplication.html").read_text(encoding="utf-8")
    assert 'id="heatmap-body-actionline"' in page and 'id="heatmap-actionline-gdc"' in page
    for name in QUERIES:
        rows = list(csv.reader((out / f"{name}.csv").open(encoding="utf-8")))
        assert rows and rows[0], name
        if name != "near-duplicate-clusters":
            assert len(rows) > 1, name


def test_report_renders_in_a_headless_browser(built_store, tmp_path):
    if not CHROMIUM.exists():
        pytest.skip("Debian's Chromium is not installed (apt-get install -y chromium)")
    sync_playwright = pytest.importorskip("playwright.sync_api").sync_playwright
    store = EmbeddedStore.open(built_store, read_only=True)
    try:
        path = write_report(store, tmp_path / "report")
    finally:
        store.close()
    requested = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1300, "height": 900})
            page.on("request", lambda r: requested.append(r.url))
            page.goto(path.resolve().as_uri())
            for ident in ("heatmap-body-actionline", "heatmap-actionline-gdc"):
                box = page.locator(f"#{ident}").bounding_box()
                assert box and box["width"] > 200 and box["height"] > 200, (ident, box)
                filled = page.locator(f"#{ident} g.cell").evaluate_all(
                    "cells => cells.filter(c => parseFloat(c.dataset.value) > 0).length")
                assert filled > 0, ident
                labels = page.locator(f"#{ident} text.col-label").evaluate_all(
                    "ts => ts.filter(t => t.getBBox().width > 10).length")
                assert labels > 3, ident
            assert page.locator("table.overlaps tbody tr").count() > 5
            assert page.locator("a.csv").count() == len(QUERIES)
            page.screenshot(path="/tmp/wsiskg-report-screenshot.png", full_page=True)
        finally:
            browser.close()
    assert requested == [path.resolve().as_uri()], "the report asked for something beyond its own file"
