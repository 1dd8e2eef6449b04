"""Writes that are never lost: one writer at a time, files that land with their commit, and a
journal of the writes made through the HTTP API.

- **One writer at a time.** Every writer holds `store_lock(root)` (an exclusive `flock` on
  `<root>/write.lock`) while it commits: a build for its whole run, ingest, import, link, remove
  and restore, and the server for each write. Under the lock a writer first checks that the database
  it holds is the one `current` names (`require_current`): a build may have swapped it, and a write
  into the replaced database would be acknowledged and then seen by nobody.
- **Files that land with their commit.** A commit often has files beside the store that must agree
  with it (an ingested entry, a kept graph, a journal entry). They are staged under
  `<root>/pending/<version>/` first and moved into place right after the commit that makes
  `<version>`. A writer killed in between leaves the folder; the next writer (under the lock) lands
  it if the store reached that version and discards it if not (`recover`). So a kill -9 never
  leaves an entry file that the store does not have, or store data that the next build forgets.
- **The journal.** Each write through `/update` or `/data` is kept as the exact change it committed
  (a SPARQL Update of DELETE DATA / INSERT DATA / DROP GRAPH) in `<root>/journal/<version>.ru`,
  with a JSON header. `wsiskg build` replays the journal after the entries, so users' writes survive
  rebuilds and are validated again like every other kept graph; `wsiskg restore VERSION` sets aside
  the entries after VERSION and rebuilds.
"""
from __future__ import annotations

import fcntl
import json
import os
import shutil
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from .paths import atomic_write, fsync_dir
from .store import StoreError, database_path

LOCK_FILE = "write.lock"
PENDING_DIR = "pending"
JOURNAL_DIR = "journal"
UNDONE_DIR = "undone"  # journal entries set aside by `wsiskg restore`
HEADER = "# wsiskg journal entry: "


class StoreBusy(StoreError):
    """Another writer holds the store's write lock (a build, an ingest, another write)."""

    def __init__(self, message: str, holder: str = ""):
        self.holder = holder
        super().__init__(message)


def _holder(fd: int) -> str:
    try:
        text = os.pread(fd, 400, 0).decode("utf-8", "replace").strip()
    except OSError:
        return ""
    try:
        info = json.loads(text)
        since = time.strftime("%H:%M:%S", time.localtime(info["since"]))
        return f"{info['purpose']} (process {info['pid']}, since {since})"
    except (ValueError, KeyError, TypeError):
        return ""


@contextmanager
def store_lock(root: Path, purpose: str, wait: float = 60.0):
    """Hold the store's write lock; wait at most `wait` seconds for it, then raise StoreBusy."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    fd = os.open(root / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    holder = _holder(fd)
                    raise StoreBusy(f"the store at {root} is being written by {holder or 'another process'}; "
                                    "nothing was changed: try again when it has finished", holder) from None
                time.sleep(0.05)
        info = json.dumps({"pid": os.getpid(), "purpose": purpose, "since": time.time()}).encode()
        os.ftruncate(fd, 0)
        os.pwrite(fd, info, 0)
        try:
            yield
        finally:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def require_current(store, root: Path) -> None:
    """Refuse to commit into a database that a build has replaced since `store` was opened."""
    if getattr(store, "database", None) is not None and database_path(root) != store.database:
        raise StoreError(f"the store at {root} was rebuilt while this command ran; nothing was changed: "
                         "run the command again")


# -- files that land with their commit ---------------------------------------------------------------

class Landing:
    """Files to put in place (or remove) once the commit that produces `version` is in the store.

    Use: `put`/`remove` what must follow the commit, `stage()`, commit, `land()`; on a failed
    commit, `discard()`. Paths are inside the store folder.
    """

    def __init__(self, root: Path, version: int):
        self.root = Path(root)
        self.version = version
        self.folder = self.root / PENDING_DIR / f"{version:012d}"
        self.moves: list[dict] = []

    def _relative(self, target: Path) -> str:
        relative = Path(os.path.relpath(Path(target).resolve(), self.root.resolve()))
        if relative.parts and relative.parts[0] == "..":
            raise ValueError(f"{target} is outside the store folder {self.root}")
        return str(relative)

    def put(self, target: Path, data: bytes) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        staged = self.folder / f"{len(self.moves)}.data"
        with open(staged, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        self.moves.append({"staged": staged.name, "target": self._relative(target)})

    def remove(self, target: Path) -> None:
        self.moves.append({"staged": None, "target": self._relative(target)})

    def stage(self) -> None:
        """Record what is to land (the manifest is what makes the folder count)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        atomic_write(self.folder / "manifest.json", json.dumps({"version": self.version, "moves": self.moves}).encode())
        fsync_dir(self.folder.parent)

    def land(self) -> None:
        for move in self.moves:
            target = self.root / move["target"]
            if move["staged"] is None:
                target.unlink(missing_ok=True)
            else:
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(self.folder / move["staged"], target)
            fsync_dir(target.parent)
        self.discard()

    def discard(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)

    @classmethod
    def read(cls, root: Path, folder: Path) -> "Landing | None":
        try:
            manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        landing = cls(root, int(manifest["version"]))
        landing.moves = manifest["moves"]
        return landing


def recover(root: Path, store_version: int) -> list[str]:
    """Finish what a killed writer left: land the files of commits the store has (version reached),
    drop those of commits it never made. Call with the write lock held. Returns what was done."""
    done = []
    pending = Path(root) / PENDING_DIR
    for folder in sorted(pending.glob("*")) if pending.is_dir() else []:
        landing = Landing.read(root, folder)
        if landing is not None and landing.version <= store_version:
            landing.land()
            done.append(f"landed {folder.name}")
        else:
            shutil.rmtree(folder, ignore_errors=True)
            done.append(f"discarded {folder.name}")
    return done


# -- the journal of API writes --------------------------------------------------------------------

@dataclass
class JournalEntry:
    path: Path
    version: int
    time: str
    route: str
    graphs: list[str]
    added: int
    removed: int
    update: str

    def as_dict(self) -> dict:
        return {"version": self.version, "time": self.time, "route": self.route, "graphs": self.graphs,
                "added": self.added, "removed": self.removed, "file": str(self.path)}


def journal_dir(root: Path) -> Path:
    return Path(root) / JOURNAL_DIR


def journal_path(root: Path, version: int) -> Path:
    return journal_dir(root) / f"{version:012d}.ru"


def journal_text(update: str, version: int, route: str, graphs, added: int, removed: int) -> bytes:
    header = {"version": version, "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "route": route,
              "graphs": sorted(graphs), "added": added, "removed": removed}
    return (HEADER + json.dumps(header) + "\n" + update + "\n").encode("utf-8")


def read_entry(path: Path) -> JournalEntry:
    text = path.read_text(encoding="utf-8")
    first, _, update = text.partition("\n")
    if not first.startswith(HEADER):
        raise StoreError(f"{path}: not a journal entry (its first line should start with {HEADER.strip()!r})")
    try:
        header = json.loads(first[len(HEADER):])
        return JournalEntry(path, int(header["version"]), header.get("time", ""), header.get("route", ""),
                            list(header.get("graphs", [])), int(header.get("added", 0)),
                            int(header.get("removed", 0)), update)
    except (ValueError, KeyError, TypeError) as exc:
        raise StoreError(f"{path}: the journal header cannot be read: {exc}") from None


def entries(root: Path, upto: int | None = None) -> list[JournalEntry]:
    """The journal in commit order (up to version `upto` when given)."""
    found = [read_entry(p) for p in sorted(journal_dir(root).glob("*.ru"))]
    return [e for e in found if upto is None or e.version <= upto]


def set_aside_after(root: Path, version: int) -> list[JournalEntry]:
    """Move the journal entries after `version` into journal/undone/ (kept, never replayed)."""
    moved = []
    undone = journal_dir(root) / UNDONE_DIR
    for entry in entries(root):
        if entry.version > version:
            undone.mkdir(parents=True, exist_ok=True)
            os.replace(entry.path, undone / entry.path.name)
            moved.append(entry)
    if moved:
        fsync_dir(journal_dir(root))
    return moved
