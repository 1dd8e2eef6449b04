"""Every data file the code reads ships in the wheel: `pip install .` (what users and CI run) copies only
what pyproject.toml's package-data names, and a file missing there breaks the installed build
(mandates.yaml once did: the editable install of a checkout hid it)."""
from __future__ import annotations

import fnmatch
import subprocess
import tomllib

from conftest import REPO

PACKAGES = {"graph": "wsiskg.graph", "server": "wsiskg.server", "ontology": "wsiskg.ontology",
            "shapes": "wsiskg.shapes", "queries": "wsiskg.queries"}


def test_every_tracked_data_file_is_package_data():
    config = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    patterns = config["package-data"]
    assert set(config["package-dir"].values()) == set(PACKAGES)
    tracked = subprocess.run(["git", "ls-files", *PACKAGES], cwd=REPO, capture_output=True, text=True,
                             check=True).stdout.split()
    missing = []
    for path in tracked:
        folder, _, inside = path.partition("/")
        if path.endswith(".py") or "/__pycache__/" in path:
            continue
        if not any(fnmatch.fnmatch(inside, p) and inside.count("/") == p.count("/")
                   for p in patterns.get(PACKAGES[folder], [])):
            missing.append(path)
    assert not missing, f"not in pyproject.toml's package-data, so not installed: {missing}"
