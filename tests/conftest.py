"""Shared fixtures: a real store built from the shipped sources, and real servers on 127.0.0.1."""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SEEDS = REPO / "graph" / "sources"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wsiskg(*args, store=None, check=False, input=None, timeout=300, env=None) -> subprocess.CompletedProcess:
    """Run the installed CLI as a user would, from a neutral directory."""
    cmd = [sys.executable, "-m", "wsiskg.graph.cli"]
    if store is not None:
        cmd += ["--store", str(store)]
    cmd += [str(a) for a in args]
    full_env = {**os.environ, **(env or {})}
    result = subprocess.run(cmd, capture_output=True, text=True, cwd="/", input=input, timeout=timeout, env=full_env)
    if check and result.returncode != 0:
        raise AssertionError(f"{cmd} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return result


@pytest.fixture(scope="session")
def built_store(tmp_path_factory) -> Path:
    """One store built from the shipped sources for the whole session (treat as read-only)."""
    root = tmp_path_factory.mktemp("store")
    wsiskg("build", store=root, check=True)
    return root


@pytest.fixture
def fresh_store(tmp_path, built_store) -> Path:
    """A private copy of the built store, for tests that write."""
    root = tmp_path / "store"
    shutil.copytree(built_store, root, symlinks=True)
    return root


def wait_until_up(proc, url: str, seconds: float, stop, what: str) -> None:
    """Poll `url` until it answers; fail early if the process exits, and stop it on a time-out."""
    deadline = time.time() + seconds
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except Exception:
            time.sleep(0.2)
    stop()
    raise RuntimeError(f"{what} did not start in {seconds:g} s")


def stop_process(proc) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def child_pids(pid: int) -> list[int]:
    """The direct children of a process (e.g. a server's query workers), from /proc."""
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                out.append(int(entry.name))
    return out


class ServerProcess:
    def __init__(self, args, env=None, ready_path="/sparql"):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        cmd = [sys.executable, "-m", "wsiskg.graph.cli", *map(str, args), "--host", "127.0.0.1", "--port", str(self.port)]
        self.log = open(os.devnull, "w") if not os.environ.get("WSISKG_TEST_LOG") else None
        self.proc = subprocess.Popen(cmd, cwd="/", env={**os.environ, **(env or {})},
                                     stdout=self.log, stderr=subprocess.STDOUT if self.log else None)
        wait_until_up(self.proc, self.url + ready_path, 90, stop=self.stop, what=" ".join(cmd))

    def stop(self):
        stop_process(self.proc)
        if self.log:
            self.log.close()


@pytest.fixture(scope="session")
def server(built_store):
    """`wsiskg serve` on the embedded store, on 127.0.0.1."""
    srv = ServerProcess(["--store", built_store, "serve"])
    yield srv
    srv.stop()


def start_server(args, env=None) -> ServerProcess:
    return ServerProcess(args, env=env)


class OxigraphServer:
    """A real Oxigraph server (the `oxigraph` package) on 127.0.0.1, loaded from an export of a store."""

    def __init__(self, store_root: Path, workdir: Path):
        dump = workdir / "dump.nq"
        with open(dump, "wb") as out:
            subprocess.run([sys.executable, "-m", "wsiskg.graph.cli", "--store", str(store_root), "export",
                            "--format", "nquads"], stdout=out, check=True, cwd="/", timeout=300)
        binary = shutil.which("oxigraph") or str(Path(sys.executable).with_name("oxigraph"))
        location = workdir / "oxigraph"
        subprocess.run([binary, "load", "--location", str(location), "--file", str(dump)], check=True,
                       capture_output=True, timeout=300)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.query_url = self.url + "/query"
        # Oxigraph's default graph is only the union of the named graphs when asked (ours always is)
        self.proc = subprocess.Popen([binary, "serve", "--location", str(location), "--bind", f"127.0.0.1:{self.port}",
                                      "--union-default-graph"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_until_up(self.proc, self.query_url + "?query=ASK%7B%7D", 60, stop=self.stop, what="oxigraph serve")

    def stop(self):
        stop_process(self.proc)


@pytest.fixture(scope="session")
def oxigraph_server(built_store, tmp_path_factory):
    """A standalone Oxigraph server holding the built store's data."""
    srv = OxigraphServer(built_store, tmp_path_factory.mktemp("oxigraph"))
    yield srv
    srv.stop()


@pytest.fixture(scope="session")
def remote_server(oxigraph_server):
    """`wsiskg serve --endpoint` in front of the Oxigraph server (remote mode)."""
    srv = ServerProcess(["serve", "--endpoint", oxigraph_server.query_url])
    yield srv
    srv.stop()


def query_rows(store, name, **params) -> list[dict[str, str]]:
    """A named query's answer through the CLI, as rows of plain values (unbound variables left out)."""
    import json
    args = ["query", name, "--format", "json"]
    for key, value in params.items():
        args += ["--param", f"{key}={value}"]
    result = wsiskg(*args, store=store)
    assert result.returncode == 0, result.stderr
    return [{k: c["value"] for k, c in row.items()} for row in json.loads(result.stdout)["results"]["bindings"]]
