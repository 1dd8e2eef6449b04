"""The coherence report (first the duplication map): one self-contained HTML report built from named queries, plus its CSV twins.

The report asks the graph only through named queries (`queries/*.rq`); Python here only lays the
answers out: three heatmaps (UN body x Action Line, Action Line x GDC objective, UN body x mandate
topic), clusters of near-duplicate statements, ranked lists of overlapping UN bodies (by their work
and by their mandates) and the uptake of the consultation inputs. The HTML has inline CSS and SVG,
no script and no external resource, so it opens from disk with no internet; each table is also
offered as CSV (a `data:` link in the page, and a file beside it from `write_report`).
"""
from __future__ import annotations

import re
import urllib.parse
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import pyoxigraph as ox

from . import library
from . import namespaces as ns
from .results import serialize
from .store import Result, Store
from .svg import Axis, Cell, clip, esc, heatmap, legend, outline_swatch, strip_swatch

DEFAULT_BASE = ns.ID  # entity links; the server passes "/id/"

# table name (also the CSV file name) -> the named query that answers it
QUERIES = {
    "body-actionline": "report-body-actionline",
    "actionline-gdc": "actionline-gdc-coverage",
    "near-duplicate-clusters": "report-near-duplicate-clusters",
    "body-overlap": "body-overlap",
    "body-mandate-topic": "report-body-mandate-topic",
    "mandate-overlap": "mandate-overlap",
    "uptake": "uptake",
}
# parameters other than the queries' defaults: the report counts every statement, not a page
PARAMS = {"uptake": {"limit": "1000000000"}}


@dataclass
class Report:
    tables: dict[str, Result]  # table name -> query result
    queries: dict[str, str] = field(default_factory=lambda: dict(QUERIES))
    version: int | None = None  # store version the report was made from
    generated: str = ""  # UTC time, ISO 8601


def default_threshold() -> float | None:
    """The lowest score of a link that joins a cluster by default: the embedding model's (its stored
    pairs, at a lower threshold, chain into one cluster of most of the corpus), none for TF-IDF."""
    from .embed import MODELS, model_name
    name = model_name()
    return MODELS[name].cluster_threshold if name else None


def duplication_report(store: Store, threshold: float | None | str = "default") -> Report:
    """Run the report's named queries (with their defaults) against `store`; near-duplicate clusters
    joined only by links scoring at least `threshold` ("default": `default_threshold()`; None: every
    stored link)."""
    threshold = default_threshold() if threshold == "default" else threshold
    tables = {}
    for table, name in QUERIES.items():
        query = library.get(name)
        tables[table] = store.query(query.text, bindings=query.bind(PARAMS.get(name, {})))
    if threshold is not None:
        tables["near-duplicate-clusters"] = clusters_at(tables["near-duplicate-clusters"], threshold)
    try:
        version = store.version()
    except Exception:  # a remote endpoint may not expose our meta graph
        version = None
    return Report(tables, dict(QUERIES), version, datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"))


def clusters_at(result: Result, threshold: float) -> Result:
    """The clusters query's rows with only the links scoring at least `threshold`: statements left with
    none drop out, and clusters are joined again from the links kept (same columns, same order rule).
    The query joins clusters with a property path, which cannot filter on a link's score."""
    variables, rows = result.variables, result.dicts()
    kept, parent = [], {}

    def find(x):
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for row in rows:
        links = [item for item in filter(None, _v(row, "similarTo").split("; "))
                 if float(item.rpartition(" ")[2]) >= threshold]
        if links:
            kept.append((row, links))
            for item in links:
                a, b = find(_v(row, "statement")), find(item.rpartition(" ")[0])
                parent[max(a, b)] = min(a, b)
    members, documents = {}, {}
    for row, _ in kept:
        root = find(_v(row, "statement"))
        members[root] = members.get(root, 0) + 1
        documents.setdefault(root, set()).add(_v(row, "document"))
    integer = ox.NamedNode(ns.XSD + "integer")
    out = []
    for row, links in kept:
        root = find(_v(row, "statement"))
        row = dict(row, cluster=ox.NamedNode(root), clusterSize=ox.Literal(str(members[root]), datatype=integer),
                   clusterDocuments=ox.Literal(str(len(documents[root])), datatype=integer),
                   similarTo=ox.Literal("; ".join(links)),
                   bestScore=ox.Literal(max(links, key=lambda i: float(i.rpartition(" ")[2])).rpartition(" ")[2],
                                        datatype=ox.NamedNode(ns.XSD + "decimal")))
        out.append(row)
    out.sort(key=lambda r: (-members[_v(r, "cluster")], _v(r, "cluster"), _v(r, "document"), _n(r, "line"),
                            _v(r, "statement")))
    return Result("solutions", variables, [[r.get(v) for v in variables] for r in out])


def report_csv(result: Result) -> bytes:
    """A report table as CSV for spreadsheets: formula-like cells neutralised (graph/results.py)."""
    return serialize(result, "csv", spreadsheet=True)


def csv_text(result: Result) -> str:
    return report_csv(result).decode("utf-8")


def write_report(store: Store, out_dir: Path, base: str = DEFAULT_BASE, threshold: float | None | str = "default") -> Path:
    """Write duplication.html and one CSV per table into `out_dir`; return the HTML file's path."""
    report = duplication_report(store, threshold)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    for table, result in report.tables.items():
        (out_dir / f"{table}.csv").write_bytes(report_csv(result))
    path = out_dir / "duplication.html"
    path.write_text(render_html(report, base=base), encoding="utf-8")
    return path


# -- layout helpers -----------------------------------------------------------------------------

def _v(row: dict, key: str, default: str = "") -> str:
    term = row.get(key)
    return default if term is None else term.value


def _n(row: dict, key: str) -> int:
    try:
        return int(float(_v(row, key, "0")))
    except ValueError:
        return 0


def _href(iri: str, base: str) -> str | None:
    return base + iri[len(ns.ID):] if iri.startswith(ns.ID) else None


def _link(iri: str, text: str, base: str) -> str:
    href = _href(iri, base)
    return f'<a href="{esc(href)}">{esc(text)}</a>' if href else esc(text)


def _line_key(notation: str):
    match = re.match(r"C(\d+)(.*)$", notation)
    return (int(match.group(1)), match.group(2)) if match else (999, notation)


def _download(table: str, result: Result) -> str:
    data = "data:text/csv;charset=utf-8," + urllib.parse.quote(csv_text(result), safe="")
    rows = len(result.rows)
    return (f'<a class="csv" download="{esc(table)}.csv" href="{esc(data)}">Download {esc(table)}.csv</a> '
            f'<span class="muted">({rows} row{"s" if rows != 1 else ""}; named query '
            f'<code>{esc(QUERIES.get(table, ""))}</code>)</span>')



def _action_lines(report: Report) -> list[Axis]:
    """Every Action Line either table names, in Action Line order (C7 sub-lines after C7)."""
    lines = {}
    for table in ("body-actionline", "actionline-gdc"):
        for row in report.tables[table].dicts():
            notation = _v(row, "actionLineNotation")
            label = _v(row, "actionLineLabel")
            short = notation if notation.lower().endswith(label.lower()) else f"{notation} {label}"
            lines[notation] = Axis(notation, clip(short, 34), f"{notation}. {label}")
    return [lines[k] for k in sorted(lines, key=_line_key)]


# -- the four parts -----------------------------------------------------------------------------

def _body_heatmap(report: Report) -> tuple[str, int]:
    rows = report.tables["body-actionline"].dicts()
    cols = _action_lines(report)
    bodies, cells = {}, {}
    for row in rows:
        body, line = _v(row, "bodyNotation"), _v(row, "actionLineNotation")
        role, n = _v(row, "role"), _n(row, "statements")
        entry = bodies.setdefault(body, {"label": _v(row, "bodyLabel"), "roles": 0, "statements": 0})
        entry["roles"] += 1 if role else 0
        entry["statements"] += n
        role_text = {"lead": "lead facilitator", "co": "co-facilitator"}.get(role, "no facilitation role")
        cells[(body, line)] = Cell(
            n, text=str(n) if n else "", tag={"lead": "L", "co": "co"}.get(role, ""), outline=role,
            title=f"{body} × {line}: {role_text}; {n} statement{'s' if n != 1 else ''} naming {body} on {line}",
            data={"role": role, "statements": n})
    order = sorted(bodies, key=lambda b: (-bodies[b]["roles"], -bodies[b]["statements"], b))
    axes = [Axis(b, b, bodies[b]["label"]) for b in order]
    svg = heatmap(axes, cols, cells, title="UN body × WSIS Action Line: facilitation role and statements",
                  ident="heatmap-body-actionline")
    vmax = max((c.value for c in cells.values()), default=0)
    key = legend(vmax, "Statements naming the body on the line",
                 [(outline_swatch("lead"), "L: lead facilitator"), (outline_swatch("co"), "co: co-facilitator")],
                 ident="legend-body-actionline")
    return svg + key, sum(1 for c in cells.values() if c.value or c.outline)


def _gdc_heatmap(report: Report) -> tuple[str, int]:
    rows = report.tables["actionline-gdc"].dicts()
    objectives, cells = {}, {}
    for row in rows:
        line, number = _v(row, "actionLineNotation"), _v(row, "objectiveNumber")
        label = _v(row, "objectiveLabel")
        objectives[number] = Axis(number, clip(f"{number}. {label}", 46), f"GDC objective {number}: {label}")
        n, curated, linked = _n(row, "statements"), _n(row, "curatorStatements"), _n(row, "linkerStatements")
        paragraphs = _v(row, "paragraphs")
        cells[(line, number)] = Cell(
            n, text=str(n), strip=(curated / n) if n else None,
            title=(f"{line} × GDC objective {number}: {n} statement{'s' if n != 1 else ''} "
                   f"({curated} linked by curators, {linked} by the linker)"
                   + (f"; paragraphs {paragraphs}" if paragraphs else "")
                   + f"; e.g. “{clip(_v(row, 'exampleText'), 160)}”"),
            data={"curator": curated, "linker": linked})
    cols = [objectives[k] for k in sorted(objectives, key=lambda k: (len(k), k))]
    svg = heatmap(_action_lines(report), cols, cells, title="WSIS Action Line × GDC objective: statements linking both",
                  ident="heatmap-actionline-gdc")
    vmax = max((c.value for c in cells.values()), default=0)
    key = legend(vmax, "Statements linking both", [(strip_swatch(), "orange foot: share linked by curators")],
                 ident="legend-actionline-gdc")
    return svg + key, sum(1 for c in cells.values() if c.value)


def _clusters(report: Report, base: str) -> tuple[str, int]:
    result = report.tables["near-duplicate-clusters"]
    rows = result.dicts()
    if not rows:
        return ('<p class="empty"><strong>No near-duplicate statements found.</strong> The graph holds no '
                'similarity links (<code>wsis:similarTo</code>): no statement in this corpus repeats a statement '
                'of another document closely enough to pass the similarity threshold used at build and ingest, '
                'so there are no clusters to show.</p>'), 0
    clusters: dict[str, list[dict]] = {}
    for row in rows:
        clusters.setdefault(_v(row, "cluster"), []).append(row)
    out = []
    for number, members in enumerate(clusters.values(), 1):
        first = members[0]
        out.append(f'<section class="cluster" id="cluster-{number}"><h3>Cluster {number}: '
                   f'{_n(first, "clusterSize")} statements from {_n(first, "clusterDocuments")} documents</h3>'
                   '<table><thead><tr><th>Statement</th><th>Text</th><th>Source</th><th>Similar to (score)</th>'
                   '</tr></thead><tbody>')
        for row in members:
            iri = _v(row, "statement")
            short = iri[len(ns.ID + "statement/"):] if iri.startswith(ns.ID + "statement/") else iri
            doc = _v(row, "document")
            source = [_link(doc, _v(row, "documentTitle") or doc, base) if doc else ""]
            if _v(row, "file"):
                source.append(f'<span class="muted">{esc(_v(row, "file"))}</span>')
            source.append(f'section “{esc(_v(row, "section") or "–")}”, line {esc(_v(row, "line") or "–")}')
            if _v(row, "session"):
                source.append("session " + _link(_v(row, "session"), _v(row, "sessionTitle") or _v(row, "session"), base))
            links = []
            for item in filter(None, _v(row, "similarTo").split("; ")):
                other, _, score = item.rpartition(" ")
                label = other[len(ns.ID + "statement/"):] if other.startswith(ns.ID + "statement/") else other
                links.append(f"{_link(other, label, base)} ({esc(score)})")
            out.append(f'<tr><td>{_link(iri, short, base)}<br><span class="muted">{esc(_v(row, "type"))}</span></td>'
                       f'<td class="text">{esc(_v(row, "text"))}</td><td>{"<br>".join(source)}</td>'
                       f'<td>{"<br>".join(links)}</td></tr>')
        out.append("</tbody></table></section>")
    return "".join(out), len(clusters)


def _evidence(text: str) -> str:
    items = [i for i in text.split("; ") if i]
    return "<ul>" + "".join(f"<li>{esc(i)}</li>" for i in items) + "</ul>" if items else '<span class="muted">–</span>'


def _overlaps(report: Report, base: str) -> tuple[str, int]:
    rows = report.tables["body-overlap"].dicts()
    if not rows:
        return '<p class="empty"><strong>No overlaps:</strong> no two UN bodies share an Action Line, theme or GDC objective.</p>', 0
    out = ['<table class="overlaps"><thead><tr><th>#</th><th>UN bodies</th><th>Overlap</th>'
           '<th>Shared Action Lines (roles)</th><th>Shared themes (statements A+B)</th>'
           '<th>Shared GDC objectives (statements A+B)</th></tr></thead><tbody>']
    for rank, row in enumerate(rows, 1):
        a, b = _v(row, "bodyA"), _v(row, "bodyB")
        out.append(f'<tr><td>{rank}</td><td>{_link(a, _v(row, "bodyALabel") or a, base)}<br>'
                   f'<span class="muted">and</span> {_link(b, _v(row, "bodyBLabel") or b, base)}</td><td class="num">{_n(row, "overlap")}</td>'
                   f'<td><span class="num">{_n(row, "sharedActionLines")}</span>{_evidence(_v(row, "actionLines"))}</td>'
                   f'<td><span class="num">{_n(row, "sharedThemes")}</span>{_evidence(_v(row, "themes"))}</td>'
                   f'<td><span class="num">{_n(row, "sharedGDCObjectives")}</span>{_evidence(_v(row, "gdcObjectives"))}</td></tr>')
    out.append("</tbody></table>")
    return "".join(out), len(rows)


# -- mandates and uptake (issue 16.2, 16.3) ---------------------------------------------------------

def _topic_key(notation: str):
    return (1, int(notation.split()[-1])) if notation.startswith("GDC ") else (0, *_line_key(notation))


def _mandate_heatmap(report: Report) -> tuple[str, int]:
    rows = report.tables["body-mandate-topic"].dicts()
    bodies, topics, cells = {}, {}, {}
    for row in rows:
        body, topic, n = _v(row, "bodyNotation"), _v(row, "topicNotation"), _n(row, "mandates")
        bodies.setdefault(body, [_v(row, "bodyLabel"), 0])[1] += n
        topics[topic] = Axis(topic, topic, topic if topic.startswith("GDC ") else f"Action Line {topic}")
        paragraphs = _v(row, "paragraphs")
        cells[(body, topic)] = Cell(n, text=str(n), title=f"{body} × {topic}: {n} mandate{'s' if n != 1 else ''}"
                                    + (f" ({paragraphs})" if paragraphs else ""), data={"mandates": n})
    axes = [Axis(b, b, bodies[b][0]) for b in sorted(bodies, key=lambda b: (-bodies[b][1], b))]
    cols = [topics[k] for k in sorted(topics, key=_topic_key)]
    svg = heatmap(axes, cols, cells, title="UN body × mandate topic: General Assembly mandates per Action Line and GDC objective",
                  ident="heatmap-body-mandate-topic")
    key = legend(max((c.value for c in cells.values()), default=0), "Mandates asking the body to work on the topic",
                 ident="legend-body-mandate-topic")
    return svg + key, len(cells)


def _mandate_overlaps(report: Report, base: str, top: int = 15) -> tuple[str, int]:
    rows = report.tables["mandate-overlap"].dicts()
    if not rows:
        return '<p class="empty"><strong>No overlaps:</strong> no two UN bodies hold mandates on the same topic from different paragraphs.</p>', 0
    out = ['<table class="overlaps" id="mandate-overlaps"><thead><tr><th>#</th><th>UN bodies</th><th>Specificity</th>'
           '<th>Shared topics (a paragraph of each)</th></tr></thead><tbody>']
    for rank, row in enumerate(rows[:top], 1):
        a, b = _v(row, "bodyA"), _v(row, "bodyB")
        out.append(f'<tr><td>{rank}</td><td>{_link(a, _v(row, "bodyALabel") or a, base)}<br>'
                   f'<span class="muted">and</span> {_link(b, _v(row, "bodyBLabel") or b, base)}</td>'
                   f'<td class="num">{esc(_v(row, "specificity"))}</td><td>{_evidence(_v(row, "evidence"))}</td></tr>')
    out.append("</tbody></table>")
    if len(rows) > top:
        out.append(f'<p class="muted">The first {top} of {len(rows)} pairs; the CSV has them all.</p>')
    return "".join(out), len(rows)


def uptake_figures(report: Report) -> list[tuple[str, int, int]]:
    """(document title, statements, statements taken up) per consultation document, in title order."""
    per: dict[str, list[int]] = {}
    for row in report.tables["uptake"].dicts():
        entry = per.setdefault(_v(row, "documentTitle"), [0, 0])
        entry[0] += 1
        entry[1] += _v(row, "takenUp") == "true"
    return [(title, n, taken) for title, (n, taken) in sorted(per.items())]


def _uptake(report: Report, base: str) -> tuple[str, int, int]:
    figures = uptake_figures(report)
    total, taken = sum(f[1] for f in figures), sum(f[2] for f in figures)
    out = ['<table class="uptake" id="uptake-by-document"><thead><tr><th>Consultation document</th><th>Statements</th>'
           '<th>Taken up</th><th>Share</th></tr></thead><tbody>']
    for title, n, k in figures:
        out.append(f'<tr><td>{esc(title)}</td><td class="num">{n}</td><td class="num">{k}</td>'
                   f'<td class="num">{(k / n if n else 0):.0%}</td></tr>')
    out.append("</tbody></table>")
    missed = [row for row in report.tables["uptake"].dicts() if _v(row, "takenUp") != "true" and _v(row, "type") == "Recommendation"]
    if missed:
        out.append(f'<h3>Recommendations no adopted paragraph carries ({len(missed)})</h3><ul>')
        for row in missed[:20]:
            out.append(f'<li>{_link(_v(row, "statement"), clip(_v(row, "text"), 200), base)}</li>')
        out.append("</ul>" + (f'<p class="muted">The first 20 of {len(missed)}; the CSV has every statement.</p>'
                              if len(missed) > 20 else ""))
    return "".join(out), total, taken


CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:2rem auto;max-width:1200px;
padding:0 1rem;color:#1b1f23;line-height:1.45}
h1{font-size:1.6rem;margin-bottom:.2rem}h2{margin-top:2.5rem;border-bottom:2px solid #e1e4e8;padding-bottom:.2rem}
h3{font-size:1.05rem;margin:1.2rem 0 .4rem}.muted{color:#57606a;font-size:.9em}
.figure{overflow-x:auto;border:1px solid #e1e4e8;border-radius:6px;padding:.5rem;background:#fff}
svg .cell:hover rect:first-of-type{stroke:#000;stroke-width:1.5}
table{border-collapse:collapse;width:100%;font-size:.92rem;margin:.4rem 0}
th,td{border:1px solid #d0d7de;padding:.35rem .5rem;vertical-align:top;text-align:left}
th{background:#f6f8fa}td.text{max-width:32rem}td ul{margin:.2rem 0;padding-left:1.1rem}
.num{font-weight:bold;font-variant-numeric:tabular-nums}td .num{display:block}
a.csv{display:inline-block;margin:.4rem 0;padding:.15rem .6rem;border:1px solid #0969da;border-radius:4px;
text-decoration:none}
p.empty{background:#fff8c5;border:1px solid #d4a72c;border-radius:6px;padding:.7rem 1rem}
.cluster table{table-layout:fixed}.cluster th:nth-child(1){width:16%}.cluster th:nth-child(2){width:34%}
.cluster th:nth-child(3){width:32%}.cluster td{overflow-wrap:anywhere}.summary li{margin:.15rem 0}code{background:#f6f8fa;padding:0 .25rem;border-radius:3px}
"""


def render_html(report: Report, base: str = DEFAULT_BASE) -> str:
    """The whole report as one HTML page; entity links are `base` + the IRI's path after .../id/."""
    body_map, body_cells = _body_heatmap(report)
    gdc_map, gdc_cells = _gdc_heatmap(report)
    clusters, n_clusters = _clusters(report, base)
    overlaps, n_overlaps = _overlaps(report, base)
    mandate_map, mandate_cells = _mandate_heatmap(report)
    mandate_overlaps, n_mandate_overlaps = _mandate_overlaps(report, base)
    uptake, n_statements, n_taken = _uptake(report, base)
    t = report.tables
    version = f", store version {report.version}" if report.version is not None else ""
    dup_line = (f"{n_clusters} cluster{'s' if n_clusters != 1 else ''} of near-duplicate statements "
                f"({len(t['near-duplicate-clusters'].rows)} statements)" if n_clusters
                else "no near-duplicate statements")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Coherence report – WSIS Coherence Graph</title>
<style>{CSS}</style></head>
<body>
<h1>Coherence report</h1>
<p class="lead">Duplication map (sections 1–4), what the General Assembly asks of each body (5) and which
consultation inputs the adopted texts carry (6).</p>
<p class="muted">WSIS Coherence Graph · generated {esc(report.generated)}{esc(version)} · every figure and table
below is the answer of a named query; rerun it with <code>wsiskg query NAME</code>.</p>
<ul class="summary">
<li><a href="#bodies">UN body × Action Line</a>: {body_cells} cells with a facilitation role or statements</li>
<li><a href="#gdc">Action Line × GDC objective</a>: {gdc_cells} pairs linked by statements</li>
<li><a href="#duplicates">Near-duplicate statements</a>: {esc(dup_line)}</li>
<li><a href="#overlaps">Overlapping UN bodies</a>: {n_overlaps} pairs, ranked</li>
<li><a href="#mandates">UN body × mandate topic</a>: {mandate_cells} cells; {n_mandate_overlaps} pairs of bodies with overlapping mandates</li>
<li><a href="#uptake">Uptake</a>: {n_taken} of {n_statements} consultation statements carried by a paragraph of A/RES/80/173 or the Compact</li>
</ul>

<h2 id="bodies">1. UN body × WSIS Action Line</h2>
<p>Which bodies hold which Action Lines, and where the corpus names them. A cell's colour and number count the
statements a body voiced or that name it on that line; an outline marks its facilitation role (reference data).
Hover a cell for details.</p>
<div class="figure">{body_map}</div>
{_download("body-actionline", t["body-actionline"])}

<h2 id="gdc">2. WSIS Action Line × Global Digital Compact objective</h2>
<p>How many statements link each Action Line to each GDC objective (directly or through one of its paragraphs).
The orange strip at a cell's foot is the share of those statements whose two links a curator wrote; the rest were
made by the linker. Empty cells are Action Lines no statement connects to that objective.</p>
<div class="figure">{gdc_map}</div>
{_download("actionline-gdc", t["actionline-gdc"])}

<h2 id="duplicates">3. Near-duplicate statements</h2>
<p>Statements from different documents that say the same thing (<code>wsis:similarTo</code>), joined into clusters
when a chain of similarity links connects them.</p>
{clusters}
{_download("near-duplicate-clusters", t["near-duplicate-clusters"])}

<h2 id="overlaps">4. Overlapping UN bodies, ranked</h2>
<p>Pairs of UN bodies whose work meets: Action Lines both facilitate, themes and GDC objectives both have
statements on. Ranked by the number of shared items; the evidence lists each one.</p>
{overlaps}
{_download("body-overlap", t["body-overlap"])}

<h2 id="mandates">5. UN body × mandate topic</h2>
<p>What the General Assembly asks each body to work on: its mandates (<code>wsis:Mandate</code>) counted by the Action
Lines and GDC objectives their paragraphs speak to. Below, pairs of bodies charged with the same topic by different
paragraphs, the most specific overlaps first (umbrella entities and a body with its parent never count).</p>
<div class="figure">{mandate_map}</div>
{_download("body-mandate-topic", t["body-mandate-topic"])}
{mandate_overlaps}
{_download("mandate-overlap", t["mandate-overlap"])}

<h2 id="uptake">6. Uptake: which consultation inputs the adopted texts carry</h2>
<p>A statement is taken up (<code>wsis:takenUpBy</code>) when a paragraph of the WSIS+20 outcome (A/RES/80/173) or of
the Global Digital Compact carries its point, by meaning, shared words and shared links; each link keeps its score
and evidence.</p>
{uptake}
{_download("uptake", t["uptake"])}
</body></html>
"""
