"""The server's door to the data: reads through the worker pool, writes through the `Store`.

Reads never run in the HTTP threads (they could not be stopped); writes run in the server process,
which holds the one read-write handle of the embedded store (or the remote update URL), one at a
time and under the store's write lock (graph/journal.py), each in one transaction that also bumps the
store version, so the workers know to reload. Every write is checked on a scratch copy first, and
exactly the change checked is committed and kept in the journal, so a rebuild replays it.
"""
from __future__ import annotations

import os
import shutil
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Callable

from wsiskg.graph import journal, summaries
from wsiskg.graph.store import EmbeddedStore, RemoteStore, Result, Store, database_path, read_stamp

from .cache import ResultCache, bypass, result_size
from .config import ServerConfig
from .executor import Executor, Job, Lanes, WorkerSpec, current_key

# Each job carries the recent commits, so a worker holding an older copy in memory applies them
# rather than copying the whole store again (at 1M triples a copy took 86 s after a write). Bounded,
# since every job carries them: a larger or older change makes the workers copy the store.
CHANGES_KEPT = 4
CHANGE_TEXT_MAX = 256 * 1024


class Backend:
    def __init__(self, config: ServerConfig):
        self.config = config
        self.writer: Store | None = None
        self.version: int | None = None
        self.writes = 0  # writes made through this server
        self._write_lock = threading.Lock()
        self._cache: dict = {}
        self._cache_lock = threading.Lock()
        self.results = ResultCache(config.cache_mb * 2 ** 20 // 2, wait_limit=config.timeout + 5)
        self.changes: tuple = ()  # recent commits (before key, after key, update), for workers' copies (Job.changes)
        self.warmer = None  # a cache.Warmer, when `serve` starts one
        if config.token:
            if config.remote:
                self.writer = RemoteStore(config.endpoint, config.update_endpoint, timeout=config.timeout)
            else:
                self.writer = EmbeddedStore.open(Path(config.store_root))
                self.version = self.writer.version()
        # A read-write server gives its workers snapshots to read (see _snapshot)
        self.snapshot: str | None = None
        self._snapshots: list[tuple[Path, float | None]] = []  # (folder, when it was superseded)
        if isinstance(self.writer, EmbeddedStore):
            # we hold the database's write lock, so no other writing server uses these: left-overs of a
            # server that was killed
            shutil.rmtree(self._snapshot_folder(), ignore_errors=True)
            self._snapshot()
        spec = WorkerSpec(store_root=None if config.remote else str(config.store_root), endpoint=config.endpoint,
                          timeout=config.timeout, memory=config.memory, memory_max_quads=config.memory_max_quads,
                          workers=config.workers, worker_memory=config.worker_memory,
                          initial_version=self.version, initial_key=self.key())
        self.executor = Executor(spec, size=config.workers, timeout=config.timeout,
                                 lanes=Lanes(slow_after=config.slow_after, reserve=config.reserve_workers,
                                             per_client=config.client_slow_queries))

    @property
    def writable(self) -> bool:
        if self.writer is None:
            return False
        return not isinstance(self.writer, RemoteStore) or bool(self.writer.update_url)

    def key(self) -> tuple | None:
        """The identity of the data: workers reload and caches refresh when it changes. A remote
        endpoint can change behind our back, so there it is a one-minute clock (plus our writes)."""
        if self.config.remote:
            return ("remote", int(time.time() // 60), self.writes)
        if self.snapshot:
            return (self.snapshot, self.version)
        if self.writer is None:  # read-only: another process (ingest, build) may write; its stamp tells
            return current_key(str(self.config.store_root), read_stamp(self.config.store_root))
        return current_key(str(self.config.store_root), self.version)

    def _snapshot_folder(self) -> Path:
        return Path(self.config.store_root) / "snapshots"

    def _snapshot(self) -> None:
        """A checkpoint of the database (RocksDB hard links: cheap, consistent) for the workers to read.

        Opening a RocksDB read-only while another process writes it is undefined behaviour (Oxigraph's
        documentation of Store.read_only); it showed as "Corruption: ... .sst: No such file" when a
        compaction after a write removed a file while a worker was opening the database. Nobody writes
        a snapshot. Superseded ones are removed once no job can still be using them.
        """
        folder = self._snapshot_folder()
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / f"v{self.version}-{os.getpid()}-{time.monotonic_ns()}"
        self.writer.backup(target)
        now = time.monotonic()
        self._snapshots = [(path, superseded or now) for path, superseded in self._snapshots]
        self._snapshots.append((target, None))
        self.snapshot = str(target)
        keep_for = max(120.0, 3 * self.config.timeout)
        for path, superseded in list(self._snapshots):
            if superseded is not None and now - superseded > keep_for:
                shutil.rmtree(path, ignore_errors=True)
                self._snapshots.remove((path, superseded))

    # -- reading ----------------------------------------------------------------------------------
    def query(self, sparql: str, *, default_graphs=None, named_graphs=None, limit: int | None = None,
              bindings: dict | None = None, capped: bool = True) -> Result:
        """Run a query in the pool; at most `limit` rows (default: the server's row cap; none when
        `capped` is false, for internal callers whose answers must be complete)."""
        if limit is None and capped:
            limit = self.config.max_rows
        identity = self.key()
        job = Job(sparql, list(default_graphs or []), list(named_graphs or []), limit, bindings, identity,
                  changes=self.changes)
        question = ResultCache.key(sparql, bindings, default_graphs, named_graphs, limit)
        if self.executor.known_slow(job):  # asked alone: waiting for another asker would hold an HTTP thread
            found = None if bypass.get() else self.results.entries.get(identity, question)
            if found is None:
                found = self.executor.run(job)
                self.results.entries.put(identity, question, found, result_size(found))
            return found
        return self.results.get_or_compute(identity, question, lambda: self.executor.run(job))

    def validate(self, data: bytes, data_format: str, merge_graph: str | None = None):
        """Check posted RDF against the shapes, with what it points to from the store (in the pool:
        a big upload cannot hold an HTTP thread past the deadline). Returns a `Validated`."""
        job = Job(key=self.key(), changes=self.changes, op="validate", data=data, data_format=data_format, merge_graph=merge_graph,
                  limit=None)
        return self.executor.run(job)

    def cached(self, name: str, compute: Callable[[], object]):
        """A value computed once per version of the data (VoID statistics, the graph list)."""
        key = (name, self.key())
        with self._cache_lock:
            if key in self._cache:
                return self._cache[key]
        value = compute()
        with self._cache_lock:
            self._cache = {k: v for k, v in self._cache.items() if k[1] == key[1]}
            self._cache[key] = value
        return value

    def as_store(self) -> Store:
        """A `Store` whose queries run in the pool (for code written against the Store interface).
        Its answers are complete unless the caller gives a limit."""
        return _PooledStore(self)

    # -- writing ----------------------------------------------------------------------------------
    @contextmanager
    def _writing(self, purpose: str):
        """One write at a time: this server's threads, and every other writer of the store (a build,
        an ingest) through the store's write lock. Under it the writer is moved onto the database
        `current` names, in case a build swapped it, and what a killed writer left is finished."""
        with self._write_lock:
            if not isinstance(self.writer, EmbeddedStore):
                yield
                return
            root = Path(self.config.store_root)
            with journal.store_lock(root, purpose, wait=self.config.write_wait):
                if database_path(root) != self.writer.database:
                    self.writer.close()
                    self.writer = EmbeddedStore.open(root)
                    self.version = self.writer.version()
                    self._snapshot()
                    self.changes = ()
                    with self._cache_lock:
                        self._cache.clear()
                journal.recover(root, self.writer.version())
                yield

    def checked_update(self, sparql: str, judge: Callable[[object], bool], route: str = "/update"):
        """Run an update against a scratch copy in the pool, let `judge` decide on the outcome (a
        `CheckedUpdate`; it may raise), and commit exactly the change that was checked if it says
        yes, recording it in the journal so rebuilds keep it. Returns the `CheckedUpdate`."""
        with self._writing(f"a server write ({route})"):
            checked = self.executor.run(Job(sparql, key=self.key(), changes=self.changes, op="check-update", limit=None))
            if judge(checked):
                self._commit(checked, sparql, route)
            return checked

    def _commit(self, checked, sparql: str, route: str) -> None:
        if not isinstance(self.writer, EmbeddedStore):
            # the endpoint's summaries are recomputed whole in the same request (its diff is not known
            # here, so not the documents it touched): slower, never stale (graph/summaries.py)
            self.writer.update((checked.commit or sparql) + " ;\n" + summaries.rebuild_update())
            self._after_write()
            return
        if checked.commit is None:  # the update changes nothing
            return
        root = Path(self.config.store_root)
        version = self.writer.version() + 1  # the version this commit makes (store.version_bump_update)
        landing = journal.Landing(root, version)
        landing.put(journal.journal_path(root, version),
                    journal.journal_text(checked.commit, version, route, checked.graphs, checked.added, checked.removed))
        landing.stage()
        # the workers' copies may take this same change instead of copying the store again, if nothing
        # else changed it since they were made (a recovered journal, another writer) and the text is
        # exact there too (INSERT DATA with blank nodes would make new ones)
        before = self.key() if version == self.version + 1 else None
        try:
            self.writer.update(checked.commit)
        except BaseException:
            landing.discard()
            raise
        landing.land()
        self._after_write()
        if before is not None and "_:" not in checked.commit and len(checked.commit) <= CHANGE_TEXT_MAX:
            self.changes = (*self.changes, (before, self.key(), checked.commit))[-CHANGES_KEPT:]
        else:
            self.changes = ()

    def _after_write(self) -> None:
        self.writes += 1
        if isinstance(self.writer, EmbeddedStore):
            self.version = self.writer.version()
            self._snapshot()
        with self._cache_lock:
            self._cache.clear()

    def close(self) -> None:
        if self.warmer is not None:
            self.warmer.stop()
        self.executor.close()
        if self.writer is not None:
            self.writer.close()
        for path, _ in self._snapshots:
            shutil.rmtree(path, ignore_errors=True)


class _PooledStore(Store):
    def __init__(self, backend: Backend):
        self.backend = backend
        self.description = "server query pool"

    def query(self, sparql, *, default_graphs=None, named_graphs=None, limit=None, bindings=None) -> Result:
        return self.backend.query(sparql, default_graphs=default_graphs, named_graphs=named_graphs,
                                  limit=limit, bindings=bindings, capped=limit is not None)
