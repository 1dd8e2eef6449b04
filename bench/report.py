"""Render benchmark results (bench/run.py JSON files) as the tables of BENCHMARKS.md.

    python bench/report.py bench/results/*.json --markdown BENCHMARKS.md

Only the text between `<!-- bench:results:begin -->` and `<!-- bench:results:end -->` is replaced;
the rest of the file (the analysis, written by hand) stays as it is.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

BEGIN, END = "<!-- bench:results:begin -->", "<!-- bench:results:end -->"
TARGET_MS, TARGET_RDFLIB_X, TARGET_DOC_S, TARGET_MEMORY_MB = 50.0, 50.0, 1.0, 2048.0


def ms(value) -> str:
    if value is None:
        return "–"
    if isinstance(value, str):
        return value
    return f"{value:,.0f}" if value >= 100 else f"{value:.1f}"


def seconds(value) -> str:
    return "–" if value is None else (value if isinstance(value, str) else f"{value:.2f} s")


def mb(value) -> str:
    return "–" if value is None else f"{value:,.0f} MB"


def ratio(baseline, ours, timeout: float | None = None) -> str:
    """How many times faster we are (baseline / ours); a baseline time-out gives a lower bound."""
    if not isinstance(ours, (int, float)) or ours <= 0:
        return "–"
    if baseline == "timeout" and timeout:
        return f"> {timeout * 1000 / ours:,.0f}×"
    if not isinstance(baseline, (int, float)):
        return "–"
    x = baseline / ours
    return f"{x:,.0f}×" if x >= 10 else f"{x:.2f}×"


def size_label(report: dict) -> str:
    n = report.get("triples") or report.get("requested_triples") or 0
    return f"{n / 1e6:.2f}M" if n >= 1e6 else f"{n / 1e3:.0f}k"


def agree_cell(entry: dict) -> str:
    agree = entry.get("agree") or {}
    if not agree:
        return "–"
    different = [e for e, v in agree.items() if v == "DIFFERENT"]
    silent = [label for key, label in (("rdflib", "rdflib"), ("oxigraph_server", "Oxigraph"))
              if entry.get(key) is not None and not isinstance(entry.get(key), (int, float))]
    note = f"; {', '.join(silent)}: no answer" if silent else ""
    if different:
        return "**differs: " + ", ".join(different) + "**" + note
    return ("agree" if all(v == "same" for v in agree.values()) else "agree (†)") + note


def render_size(r: dict) -> list[str]:
    out = [f"### {size_label(r)} triples (requested {r.get('requested_triples'):,}; store holds "
           f"{r.get('triples', 0):,} quads)", ""]
    src = (r.get("machine") or {}).get("source") or {}
    if src:
        out += [f"Code: commit {src.get('commit')}" + (" plus uncommitted changes" if src.get("uncommitted_changes")
                                                       else "") + (f" ({src['note']})" if src.get("note") else "")
                + f"; run started {r.get('started', '?')}, took {r.get('total_s', 0) / 60:.0f} min.", ""]
    if r.get("failure"):
        out += [f"**The run failed:** {r['failure']}", ""]
    timeout = (r.get("settings") or {}).get("query_timeout")
    build = r.get("build") or {}
    steps = build.get("steps_s") or {}
    gen = r.get("generate") or {}
    out += ["| step | time | peak memory | notes |", "|---|---|---|---|"]
    if build:
        out.append(f"| build (`graph.build.build`: load, link, validate) | {seconds(build.get('seconds'))} | "
                   f"{mb(build.get('peak_rss_mb'))} | {gen.get('synthetic_documents', 0)} synthetic documents, "
                   f"{build.get('statements', '?'):,} statements; validation {seconds(steps.get('validation'))}, "
                   f"entries {seconds(steps.get('entries'))}, kept graphs {seconds(steps.get('kept graphs'))} |")
    for key, label in (("link_all", "linker over every statement (not stored)"),
                       ("similarity_all", "similarity over every statement (not stored)")):
        step = r.get(key)
        if step:
            note = (f"{step.get('link_triples', 0):,} link triples" if key == "link_all"
                    else f"{step.get('statements', '?')} statements, {step.get('pairs', '?'):,} pairs"
                    if "pairs" in step else "")
            out.append(f"| {label} | {seconds(step.get('seconds')) if not step.get('timeout') else 'timeout'} | "
                       f"{mb(step.get('peak_rss_mb'))} | {note} |")
    val = r.get("validate") or {}
    if val:
        inner = val.get("in_process") or {}
        out.append(f"| validate one new outcome document | {seconds(inner.get('seconds'))} in process; "
                   f"{ms(val.get('cli_median_ms'))} ms through the CLI | {mb(inner.get('peak_rss_mb'))} | "
                   f"conforms: {inner.get('conforms')}; store open {seconds(inner.get('open_s'))} |")
    ing = r.get("ingest") or {}
    if ing:
        inner = ing.get("in_process") or {}
        parts = ", ".join(f"{k} {v:.2f} s" for k, v in (inner.get("steps_s") or {}).items())
        failure = (inner.get("error") or "").strip().splitlines()[-1:] or (ing.get("cli_stderr") or "").strip().splitlines()[-1:]
        if ing.get("cli_exit_code") not in (0, None) or inner.get("error"):
            parts = (parts + "; " if parts else "") + f"**failed**: {failure[0] if failure else 'see the JSON'}"
        cli = ing.get("cli_ms")
        out.append(f"| ingest one outcome document | {seconds(inner.get('seconds')) if 'seconds' in inner else 'timeout' if inner.get('timeout') else '–'} in process; "
                   f"{ms(cli)}{' ms' if isinstance(cli, (int, float)) else ''} through the CLI | "
                   f"{mb(inner.get('peak_rss_mb'))} | {parts} |")
    server = r.get("wsiskg_server") or {}
    ox = r.get("oxigraph_server") or {}
    rd = r.get("rdflib") or {}
    if server.get("memory"):
        mem = server["memory"]
        out.append(f"| `wsiskg serve` (workers: {', '.join(server.get('worker_mode') or []) or '?'}) | ready in "
                   f"{seconds(server.get('ready_s'))} | {mb(mem.get('total_mb'))} (sum of VmHWM of "
                   f"{len(mem.get('processes_mb') or {})} processes; main {mb(mem.get('main_mb'))}) | |")
    if ox.get("memory") or ox.get("load_s"):
        out.append(f"| Oxigraph server | load {seconds(ox.get('load_s'))} | {mb((ox.get('memory') or {}).get('total_mb'))} | |")
    if rd.get("load_s"):
        out.append(f"| rdflib Dataset | load {seconds(rd.get('load_s'))} | {mb(rd.get('peak_rss_mb'))} | |")
    out.append("")

    tp_rows = []
    for engine, block in (("wsiskg", server.get("throughput") or {}), ("Oxigraph server", ox.get("throughput") or {})):
        for kind, t in block.items():
            label = "lookup (`SELECT ?p ?o` of one statement)" if kind == "lookup" else f"named query `{t.get('query')}`"
            tp_rows.append(f"| {engine} | {label} | {t.get('requests_per_s')} | {ms(t.get('p50_ms'))} | "
                           f"{ms(t.get('p95_ms'))} | {t.get('ok')} / {t.get('requests')} |")
    if tp_rows:
        clients = next(iter((server.get("throughput") or {}).values()), {}).get("clients", 8)
        out += [f"Throughput, {clients} concurrent clients on loopback:", "",
                "| server | request | requests/s | p50 ms | p95 ms | ok / sent |", "|---|---|---|---|---|---|",
                *tp_rows, ""]

    extra = sorted({k for q in (r.get("queries") or {}).values() for k in q if k.startswith("wsiskg_http_memory_")})
    mode = ", ".join((r.get("wsiskg_server") or {}).get("worker_mode") or []) or "?"
    settings = r.get("settings") or {}
    out += [f"Named queries: median ms of {settings.get('reps')} runs after "
            f"{settings.get('warmup')} warm-up runs (rdflib: up to "
            f"{settings.get('rdflib_reps')} runs, {timeout:g} s limit). `wsiskg HTTP` is "
            f"`GET /queries/NAME` on `wsiskg serve` (default settings; workers {mode}), once its warmer has "
            "computed the default answers: what a user gets for a question already asked since the data last "
            "changed (answers kept per version of the data). `cold` is the same request with "
            f"`Cache-Control: no-cache` (median of {settings.get('cold_reps', '–')} after 1 warm-up): past both "
            "caches, the query evaluated by a worker, as after a write. `/sparql` is the same "
            "text, parameters written in, posted to our `/sparql`, as sent to the Oxigraph server and rdflib; "
            "CLI is `wsiskg query NAME --format json`, process start included.", "",
            "| named query | rows | wsiskg HTTP ms | rdflib ms | Oxigraph server ms | × vs rdflib | × vs Oxigraph | "
            "wsiskg HTTP, cold ms | cold × vs Oxigraph | wsiskg `/sparql` ms | CLI ms | "
            + "".join(f"HTTP, `--memory {k.rsplit('_', 1)[1]}` ms | " for k in extra) + "answers |",
            "|---|---|---|---|---|---|---|---|---|---|---|" + "---|" * len(extra) + "---|"]
    for name, q in (r.get("queries") or {}).items():
        ours, cold = q.get("wsiskg_http"), q.get("wsiskg_http_cold")
        out.append(f"| {name} | {q.get('rows', '–')} | {ms(ours)} | {ms(q.get('rdflib'))} | "
                   f"{ms(q.get('oxigraph_server'))} | {ratio(q.get('rdflib'), ours, timeout)} | "
                   f"{ratio(q.get('oxigraph_server'), ours)} | {ms(cold)} | {ratio(q.get('oxigraph_server'), cold)} | "
                   f"{ms(q.get('wsiskg_sparql'))} | {ms(q.get('wsiskg_cli'))} | "
                   + "".join(f"{ms(q.get(k))} | " for k in extra) + f"{agree_cell(q)} |")
    for name, reason in (r.get("skipped_queries") or {}).items():
        out.append(f"| {name} | not run: {reason} |" + " |" * (10 + len(extra)))
    out += ["", "(†) the same rows once the parts of a `GROUP_CONCAT` are put in order and computed numbers "
            "are compared by value (\"2.50\" = \"2.5\"); SPARQL leaves both to the engine. \"error\": the "
            "engine could not run the query (details in the JSON).", ""]
    for k in extra:
        other = r.get("wsiskg_server_" + k[len("wsiskg_http_"):]) or {}
        mem = (other.get("memory") or {}).get("total_mb")
        out += [f"With `--memory {k.rsplit('_', 1)[1]}` the server's workers were {', '.join(other.get('worker_mode') or []) or '?'}; "
                f"its peak memory {mb(mem)} (sum of VmHWM over its processes).", ""]
    if r.get("mismatches"):
        out += ["Answers that differ (lenient comparison; rows as sorted tuples of terms):", ""]
        for m in r["mismatches"]:
            out.append(f"- `{m['query']}`: {m['engine']} gave {m['rows'][1]} rows, {m['reference']} {m['rows'][0]}; "
                       f"{m['only_other']} rows only in {m['engine']}, {m['only_reference']} only in {m['reference']}")
        out.append("")
    out += targets(r)
    return out


def targets(r: dict) -> list[str]:
    timeout = (r.get("settings") or {}).get("query_timeout") or 60
    qs = r.get("queries") or {}
    ours = {n: q.get("wsiskg_http") for n, q in qs.items()}
    numeric = {n: v for n, v in ours.items() if isinstance(v, (int, float))}
    over = sorted(n for n, v in numeric.items() if v > TARGET_MS)
    failed = sorted(n for n, v in ours.items() if not isinstance(v, (int, float)))
    slow_vs_rdflib, slower_than_ox = [], []
    for n, q in qs.items():
        v = ours.get(n)
        if not isinstance(v, (int, float)):
            continue
        rd = q.get("rdflib")
        base = timeout * 1000 if rd == "timeout" else rd
        if isinstance(base, (int, float)) and base / v < TARGET_RDFLIB_X:
            slow_vs_rdflib.append(f"{n} ({base / v:.0f}×{' at least' if rd == 'timeout' else ''})")
        o = q.get("oxigraph_server")
        if isinstance(o, (int, float)) and v > o * 1.1 and v - o > 1.0:
            slower_than_ox.append(f"{n} ({v:.1f} vs {o:.1f} ms)")
    inner_val = (r.get("validate") or {}).get("in_process") or {}
    inner_ing = (r.get("ingest") or {}).get("in_process") or {}
    mem = ((r.get("wsiskg_server") or {}).get("memory") or {}).get("total_mb")
    mark = lambda ok: "holds" if ok else "**does not hold**"  # noqa: E731
    lines = ["Targets at this size (issue 7 sets them at 1M):", ""]
    lines.append(f"- ≤ {TARGET_MS:.0f} ms median through HTTP: {mark(not over and not failed)}"
                 + (f" — over: {', '.join(f'{n} ({numeric[n]:.0f} ms)' for n in over)}" if over else "")
                 + (f" — no answer: {', '.join(failed)}" if failed else ""))
    cold = {n: q.get("wsiskg_http_cold") for n, q in qs.items() if isinstance(q.get("wsiskg_http_cold"), (int, float))}
    if cold:
        cold_over = sorted(n for n, v in cold.items() if v > TARGET_MS)
        lines.append(f"  - cold (past the caches, as after a write): {len(cold) - len(cold_over)} of {len(cold)} within "
                     f"{TARGET_MS:.0f} ms" + (f"; over: {', '.join(f'{n} ({cold[n]:.0f} ms)' for n in cold_over)}"
                                                if cold_over else ""))
    if r.get("rdflib"):
        lines.append(f"- ≥ {TARGET_RDFLIB_X:.0f}× faster than rdflib: {mark(not slow_vs_rdflib)}"
                     + (f" — below: {', '.join(slow_vs_rdflib)}" if slow_vs_rdflib else ""))
    if r.get("oxigraph_server"):
        lines.append(f"- no slower than the Oxigraph server (10% and 1 ms slack for noise): {mark(not slower_than_ox)}"
                     + (f" — slower: {', '.join(slower_than_ox)}" if slower_than_ox else ""))
    if inner_val or inner_ing:
        v, i = inner_val.get("seconds"), inner_ing.get("seconds")
        lines.append(f"- validate / ingest one document < {TARGET_DOC_S:.0f} s (in process, after start-up): "
                     f"validate {seconds(v)} {mark(isinstance(v, (int, float)) and v < TARGET_DOC_S)}, "
                     f"ingest {seconds(i)} {mark(isinstance(i, (int, float)) and i < TARGET_DOC_S)}")
    if mem is not None:
        lines.append(f"- server peak memory < 2 GB: {mem:,.0f} MB, {mark(mem < TARGET_MEMORY_MB)}")
    mismatches = r.get("mismatches") or []
    if not mismatches:
        lines.append("- every engine gives the same answers: holds")
    else:
        who = sorted({m["engine"] for m in mismatches})
        unconfirmed = r.get("unconfirmed") or []
        lines.append(f"- every engine gives the same answers: **does not hold** — {', '.join(who)} "
                     f"{'differs' if len(who) == 1 else 'differ'} on "
                     f"{len(mismatches)} answer(s); "
                     + (f"**no baseline confirms ours on: {', '.join(unconfirmed)}**" if unconfirmed
                        else "another baseline confirms ours on each of them"))
    return lines + [""]


def machine_lines(reports: list[dict]) -> list[str]:
    m = reports[-1].get("machine") or {}
    packages = ", ".join(f"{k} {v}" for k, v in (m.get("packages") or {}).items())
    return [f"Machine: {m.get('nproc')} CPUs ({m.get('cpu')}), {m.get('memory_gb')} GB memory, {m.get('platform')}, "
            f"Python {m.get('python')}; {packages}.", ""]


def render(reports: list[dict]) -> str:
    reports = sorted(reports, key=lambda r: r.get("triples") or r.get("requested_triples") or 0)
    lines = [BEGIN, "", "<!-- generated by bench/report.py from bench/results/*.json; do not edit by hand -->", ""]
    if reports:
        lines += machine_lines(reports)
        lines += overview(reports)
    for r in reports:
        lines += render_size(r)
    lines.append(END)
    return "\n".join(lines) + "\n"


def overview(reports: list[dict]) -> list[str]:
    """One line per size: the median over the named queries of each engine and of the ratios."""
    import statistics
    out = ["| graph | named queries | wsiskg HTTP: median of medians / slowest | rdflib timeouts | "
           "median × vs rdflib | median × vs Oxigraph server | cold: median / slowest | cold: median × vs "
           "Oxigraph server | answers differ |", "|---|---|---|---|---|---|---|---|---|"]
    for r in reports:
        qs = r.get("queries") or {}
        timeout = (r.get("settings") or {}).get("query_timeout") or 60
        ours = [q["wsiskg_http"] for q in qs.values() if isinstance(q.get("wsiskg_http"), (int, float))]
        x_rd, x_ox = [], []
        for q in qs.values():
            v = q.get("wsiskg_http")
            if not isinstance(v, (int, float)) or v <= 0:
                continue
            rd = timeout * 1000 if q.get("rdflib") == "timeout" else q.get("rdflib")
            if isinstance(rd, (int, float)):
                x_rd.append(rd / v)
            if isinstance(q.get("oxigraph_server"), (int, float)):
                x_ox.append(q["oxigraph_server"] / v)
        timeouts = sum(q.get("rdflib") == "timeout" for q in qs.values())
        cold = [q["wsiskg_http_cold"] for q in qs.values() if isinstance(q.get("wsiskg_http_cold"), (int, float))]
        x_cold = [q["oxigraph_server"] / q["wsiskg_http_cold"] for q in qs.values()
                  if isinstance(q.get("wsiskg_http_cold"), (int, float)) and q["wsiskg_http_cold"] > 0
                  and isinstance(q.get("oxigraph_server"), (int, float))]
        out.append(f"| {size_label(r)} | {len(qs)} | "
                   f"{ms(statistics.median(ours)) if ours else '–'} / {ms(max(ours)) if ours else '–'} ms | "
                   f"{timeouts} | {f'{statistics.median(x_rd):,.0f}×' if x_rd else '–'} | "
                   f"{f'{statistics.median(x_ox):.2f}×' if x_ox else '–'} | "
                   f"{ms(statistics.median(cold)) if cold else '–'} / {ms(max(cold)) if cold else '–'} ms | "
                   f"{f'{statistics.median(x_cold):.2f}×' if x_cold else '–'} | {len(r.get('mismatches') or [])} |")
    return out + ["", "(× = baseline time / ours; above 1 we are faster. An rdflib time-out counts as the limit, so "
                      "its ratio is a lower bound. `wsiskg HTTP` answers come from the answers kept for the current "
                      "version of the data; `cold` ones are computed afresh (`Cache-Control: no-cache`).)", ""]


def write(markdown: Path, files: list[Path]) -> None:
    reports = [json.loads(Path(f).read_text()) for f in files]
    block = render(reports)
    text = markdown.read_text() if markdown.exists() else "# Benchmarks\n\n"
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        tail = rest.split(END, 1)[1]
        text = head + block.rstrip("\n") + tail
    else:
        text = text.rstrip("\n") + "\n\n" + block
    markdown.write_text(text)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="+", type=Path)
    parser.add_argument("--markdown", type=Path, required=True)
    args = parser.parse_args(argv)
    write(args.markdown, args.files)
    return 0


if __name__ == "__main__":
    sys.exit(main())
