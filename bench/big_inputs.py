"""Time and peak memory of `wsiskg ingest` and `wsiskg import` on large generated inputs (issue 14).

    python bench/big_inputs.py ingest --sizes 100000 1000000 5000000
    python bench/big_inputs.py import --rows 10000 100000 [--bad-row 5]

Each run is the real CLI in a child process, on a private copy of a store built from the shipped
sources, under an address-space cap (`--memory-limit-gb`) and a time-out so a runaway input cannot
take the machine down. Wall time, CPU time (user + system: steadier than wall on a shared machine)
and peak resident memory (the child's own ru_maxrss, from wait4) are printed as one JSON line per
run. Documents come from bench/big_document.py; CSVs from `stocktaking_csv` below.

The CLI runs under a wrapper (CHILD) that also counts the CPU seconds spent in the sentence encoder
(`embed.Model.encode`, process CPU time, its threads included) and the texts it embedded, reported as
`embed_cpu_s` and `embedded`: the embedding's part of an ingest. `--code DIR` runs another version of
the code (a folder holding `wsiskg/graph/...`, e.g. `git archive main` unpacked into DIR/wsiskg), to
measure before and after with the same harness and inputs.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "bench"))
from big_document import document  # noqa: E402

MAPPING = REPO / "graph" / "mappings" / "stocktaking.yaml"
ACTION_LINES = ["C1", "C2", "C3", "C4", "C5", "C6", "C7-e-government", "C7-e-health", "C7-e-learning", "C8",
                "C9", "C10", "C11"]
SDGS = ["1", "4", "4.4", "5.b", "9", "9.c", "16", "16.10", "17.8"]
COUNTRIES = ["Kenya", "Chile", "Ghana", "Togo", "Nepal", "Rwanda", "Peru", "Viet Nam", "Fiji", "Jordan", "Bolivia"]
WORDS = ["Rural", "Broadband", "Open", "Library", "Cyber", "Hygiene", "Telemedicine", "Skills", "Girls",
         "Data", "Portal", "Community", "Network", "Language", "Keyboards", "E-Waste", "Schools", "Radio"]
HEADER = "Project ID,Title,Organisation,Country,Action Lines,SDGs,Year,Website\n"


def stocktaking_csv(rows: int, seed: int = 1, bad_row: int | None = None) -> str:
    """A stocktaking export of `rows` valid projects; with `bad_row` (a 1-based file row, the header
    being row 1), that row's Action Lines cell names C12, which no shape accepts."""
    rng = random.Random(seed)
    out = [HEADER]
    for n in range(1, rows + 1):
        als = ";".join(rng.sample(ACTION_LINES, rng.choice((1, 2))))
        if bad_row is not None and n + 1 == bad_row:
            als = "C12"
        title = " ".join(rng.sample(WORDS, 3))
        site = f"https://example.org/projects/p-{n:06d}" if rng.random() < 0.5 else ""
        out.append(f"P-{n:06d},{title} {n},Org {n % 977} (synthetic),{';'.join(rng.sample(COUNTRIES, rng.choice((1, 2))))},"
                   f"{als},{';'.join(rng.sample(SDGS, rng.choice((1, 2))))},{rng.randint(2003, 2025)},{site}\n")
    return "".join(out)


def built_store(workdir: Path, code: Path | None = None) -> Path:
    root = workdir / "base"
    if not (root / "current").exists():
        subprocess.run([sys.executable, "-m", "wsiskg.graph.cli", "--store", str(root), "build"], check=True,
                       capture_output=True, cwd="/", env=dict(os.environ, PYTHONPATH=str(code)) if code else None)
    return root


CHILD = """
import atexit, sys, time
from wsiskg.graph import embed
spent = [0.0, 0]
encode = embed.Model.encode
def timed(self, texts):
    start = time.process_time()
    try:
        return encode(self, texts)
    finally:
        spent[0] += time.process_time() - start
        spent[1] += len(texts)
embed.Model.encode = timed
atexit.register(lambda: print(f"EMBED {spent[0]:.2f} {spent[1]}", file=sys.stderr))
from wsiskg.graph.cli import main
main(sys.argv[1:])
"""


def run_measured(args: list[str], memory_limit_gb: float, timeout: float, code: Path | None = None) -> dict:
    """The CLI in a child under an address-space cap: exit code, wall and CPU seconds, peak RSS (MB),
    and the encoder's CPU seconds and texts (embed_cpu_s, embedded; None when it did not report)."""
    limit = int(memory_limit_gb * 1024 ** 3)

    def cap():
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    env = dict(os.environ, PYTHONPATH=str(code)) if code else None
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", CHILD, *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, cwd="/", preexec_fn=cap, env=env)
    deadline, status, usage, killed = start + timeout, None, None, False
    while status is None:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid == 0:
            status = None
            if time.perf_counter() > deadline:
                proc.kill()
                killed = True
            time.sleep(0.05)
    wall = time.perf_counter() - start
    stdout, stderr = proc.stdout.read().decode(), proc.stderr.read().decode()
    proc.returncode = os.waitstatus_to_exitcode(status)
    embedded = [line.split() for line in stderr.splitlines() if line.startswith("EMBED ")]
    stderr = "\n".join(line for line in stderr.splitlines() if not line.startswith("EMBED "))
    return {"exit": proc.returncode, "killed_at_timeout": killed, "wall_s": round(wall, 2),
            "cpu_s": round(usage.ru_utime + usage.ru_stime, 2), "peak_rss_mb": usage.ru_maxrss // 1024,
            "embed_cpu_s": float(embedded[-1][1]) if embedded else None,
            "embedded": int(embedded[-1][2]) if embedded else None,
            "stdout": stdout.strip(), "stderr": stderr.strip()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=["ingest", "import"])
    parser.add_argument("--sizes", type=int, nargs="*", default=[100_000, 1_000_000, 5_000_000], help="document bytes")
    parser.add_argument("--rows", type=int, nargs="*", default=[10_000, 100_000], help="CSV data rows")
    parser.add_argument("--bad-row", type=int, default=None, help="file row (header = 1) with a bad cell")
    parser.add_argument("--memory-limit-gb", type=float, default=8.0)
    parser.add_argument("--timeout", type=float, default=600.0)
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--code", type=Path, default=None, help="run the code in DIR/wsiskg instead (before/after)")
    args = parser.parse_args(argv)
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="big-inputs-"))
    workdir.mkdir(parents=True, exist_ok=True)
    base = built_store(workdir, args.code)
    for size in (args.sizes if args.what == "ingest" else args.rows):
        store = workdir / f"store-{args.what}-{size}"
        shutil.rmtree(store, ignore_errors=True)
        shutil.copytree(base, store, symlinks=True)
        if args.what == "ingest":
            path = workdir / f"doc-{size}.txt"
            path.write_text(document(size), encoding="utf-8")
            cli = ["--store", str(store), "ingest", str(path)]
        else:
            path = workdir / f"projects-{size}.csv"
            path.write_text(stocktaking_csv(size, bad_row=args.bad_row), encoding="utf-8")
            cli = ["--store", str(store), "import", str(path), "--mapping", str(MAPPING)]
        result = run_measured(cli, args.memory_limit_gb, args.timeout, args.code)
        result["stdout"], result["stderr"] = result["stdout"][-300:], result["stderr"][-300:]
        print(json.dumps({"what": args.what, "size": size, "bytes": path.stat().st_size, **result}), flush=True)
        shutil.rmtree(store, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
