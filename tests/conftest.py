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


class ServerProcess:
    def __init__(self, args, env=None, ready_path="/sparql"):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        cmd = [sys.executable, "-m", "wsiskg.graph.cli", *map(str, args), "--host", "127.0.0.1", "--port", str(self.port)]
        self.log = open(os.devnull, "w") if not os.environ.get("WSISKG_TEST_LOG") else None
        self.proc = subprocess.Popen(cmd, cwd="/", env={**os.environ, **(env or {})},
                                     stdout=self.log, stderr=subprocess.STDOUT if self.log else None)
        deadline = time.time() + 90
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}: {cmd}")
            try:
                with urllib.request.urlopen(self.url + ready_path, timeout=2):
                    return
            except Exception:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError("server did not start in 90 s")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
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
