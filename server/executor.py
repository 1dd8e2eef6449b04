"""Queries with a real deadline: a small pool of worker processes that can be stopped.

Oxigraph checks its own timeout only on storage reads, so a CPU-bound query keeps a core busy
long after its limit, and a Python thread cannot be killed (docs/traps.md #3). Every query therefore
runs in a worker process. When a query passes its deadline the worker is killed (its CPU work
ends with it) and a fresh one takes its place, while the other workers keep serving.

A worker returns a fully read `Result`, capped at `limit` rows (plus one, read to know whether
there were more), so the HTTP layer decides the status before sending its first byte (docs/traps.md #9).

Embedded mode: each worker opens the store read-only (several processes may, alongside the one
read-write handle the server keeps for writes) and copies it into memory when it is small enough
(Oxigraph answers several times faster from memory; docs/traps.md #7). Every job carries the store's
identity (the database folder in use and the version after the server's last write); a worker
whose copy is older reloads before answering. Remote mode: workers query the endpoint through
`RemoteStore`.

A public endpoint must survive hostile queries (issue 14), so the pool also bounds:
- memory: each worker runs under an OS limit (RLIMIT_DATA) set after it has loaded its copy of the
  data; a query that needs more makes the engine's allocation fail, the worker dies, the client gets
  `MemoryLimit` (503) and a fresh worker takes its place;
- capacity: queries known to be slow (their shape passed the time-slice before) start only while
  fewer than `size - reserve` workers run slow work and their client runs fewer than `per_client`;
  otherwise they are refused at once (503 with Retry-After), never queued. Any other query starts on
  any idle worker, and when it passes the time-slice it becomes slow work: it keeps running if there
  is room for it, and is stopped (its worker replaced) if there is not; its client's queries then all
  count as slow for a while (a new query text does not buy another time-slice). So `reserve`
  workers are free within one time-slice for quick queries. The server's own work (the warmer) and
  token holders' update checks are never stopped for want of room, nor counted as users' slow work. A slow query with no room may
  wait in a short line (`Lanes.waiting`, one place per client); beyond it, 503 at once;
- nesting: a query nested deeper than the engine's parser can take (graph/sparqltext.py) is refused
  before it is sent.
"""
from __future__ import annotations

import contextvars
import logging
import multiprocessing
import os
import queue
import resource
import signal
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from wsiskg.graph.sparqltext import REMEMBERED_TEXT_CHARS, check_nesting, tokens

from .config import ServerConfig

log = logging.getLogger("wsiskg.server")

STARTUP_LIMIT = 300.0  # seconds a new worker may take to open (and copy) the store
RESTART_WAIT = 10.0  # a slow query in line may wait at least this long (a worker restart takes ~3 s)


class ExecutorError(Exception):
    """Base for the executor's own failures."""


class QueryTimeout(ExecutorError):
    def __init__(self, seconds: float):
        self.seconds = seconds
        super().__init__(f"the query ran longer than the {seconds:g} s limit and was stopped")


class Busy(ExecutorError):
    """No capacity for this query now: refused at once, the client should retry shortly."""


class MemoryLimit(ExecutorError):
    def __init__(self, megabytes: int):
        self.megabytes = megabytes
        super().__init__(f"the query needed more than {megabytes} MB of memory and was stopped")


class WorkerCrashed(ExecutorError):
    pass


class DataError(ExecutorError):
    """Posted RDF that cannot be read; the message names line and column where known."""

    def __init__(self, message: str, line: int | None = None, column: int | None = None):
        self.line, self.column = line, column
        super().__init__(message)


class QueryFailed(ExecutorError):
    """The engine raised something other than a syntax or store error while evaluating."""


@dataclass
class WorkerSpec:
    """What a worker needs to open the data; picklable (workers are spawned, not forked)."""

    store_root: str | None = None
    endpoint: str | None = None
    timeout: float = ServerConfig.timeout  # (the defaults are the server's settings', server/config.py)
    memory: str = ServerConfig.memory  # "auto" | "always" | "never"
    memory_max_quads: int = ServerConfig.memory_max_quads
    workers: int = ServerConfig.workers  # how many workers will each hold a copy (for the memory check)
    initial_version: int | None = None  # the version the server knows at start (None: no writes)
    initial_key: tuple | None = None  # the data to open first (Backend.key()); None: current_key(...)
    worker_memory: str = ServerConfig.worker_memory  # beyond the worker's copy: "auto", "none", "2G", "512M"


@dataclass
class Job:
    sparql: str = ""
    default_graphs: list[str] = field(default_factory=list)
    named_graphs: list[str] = field(default_factory=list)
    limit: int | None = None
    bindings: dict | None = None
    key: tuple | None = None  # the store identity the answer must come from
    op: str = "query"  # "query" | "validate" | "check-update" (sparql: the update)
    data: bytes = b""  # validate: the RDF posted
    data_format: str = "turtle"  # validate: turtle | nt | json-ld | xml
    merge_graph: str | None = None  # validate: also take this stored graph's triples as part of the data
    changes: tuple = ()  # recent commits as (key before, key after, update): see _WorkerState.catch_up


@dataclass
class Validated:
    """A validation job's answer: the report, and the data as N-Triples (ready to store)."""

    report: object
    ntriples: bytes


# -- the worker process -------------------------------------------------------------------------

class _WorkerState:
    def __init__(self, spec: WorkerSpec):
        self.spec = spec
        self.tell = lambda message: None  # a progress message to the pool ("loading", "loaded")
        self.store = None
        self.key = None
        self.in_memory = False
        self.pages = None  # the page index of this copy (graph/pageindex.py), built on first use

    def open(self, key) -> None:
        from wsiskg.graph.store import RemoteStore
        if self.spec.endpoint:
            if self.store is None:
                self.store = RemoteStore(self.spec.endpoint, timeout=self.spec.timeout + 5)
            return
        if self.store is not None and key == self.key:
            return
        if self.store is not None:
            self.store.close()
            self.store = None
        disk = self._open_disk(key)
        use_memory = self.spec.memory == "always" or (
            self.spec.memory == "auto" and fits_in_memory(disk.quad_count(), self.spec))
        if use_memory:
            self.store = disk.to_memory()
            disk.close()
        else:
            self.store = disk
        self.in_memory = use_memory
        self.key = key

    def forget_copy(self) -> None:
        """This copy no longer matches its key (a check could not put it back): the next job copies the store."""
        self.key = None

    def catch_up(self, key, changes) -> bool:
        """Bring an in-memory copy to `key` by applying the commits that lead there, as the writer applied
        them (each with its version bump). False when they do not lead there: the caller copies the store."""
        if not self.in_memory or self.store is None or self.spec.endpoint:
            return False
        steps, at = [], self.key
        following = {before: (after, text) for before, after, text in changes}
        while at != key:
            if at not in following or len(steps) > len(changes):
                return False
            at, text = following[at]
            steps.append(text)
        try:
            for text in steps:
                self.store.replay(text)
        except Exception:  # e.g. the memory cap: copy the store instead (open() replaces this copy)
            self.key = None
            return False
        self.key = key
        return True

    def _open_disk(self, key):
        """The database the key names (a snapshot, or the folder `current` pointed to), read-only."""
        import pyoxigraph as ox
        from wsiskg.graph.store import EmbeddedStore, StoreError
        if not key or not key[0] or not os.path.isdir(str(key[0])):
            return EmbeddedStore.open(Path(self.spec.store_root), read_only=True)
        try:
            return EmbeddedStore(ox.Store.read_only(str(key[0])), Path(self.spec.store_root), read_only=True)
        except OSError as exc:
            raise StoreError(f"cannot open the store: {exc}") from None

    def run(self, job: Job):
        self.open(job.key)
        if job.op == "validate":  # the checks live with validation; here they get the deadline
            from wsiskg.graph.validate import validate_posted
            return Validated(*validate_posted(job.data, job.data_format, self.store, job.merge_graph))
        if job.op == "check-update":
            from wsiskg.graph.validate import check_update
            # copying the store for the check is the server's work, not the update's: like a reload,
            # it is told to the pool, which starts the update's deadline after it
            self.tell("loading")
            # in memory, the update is checked on this copy and put back: no second copy of the store
            return check_update(job.sparql, self.store, copied=lambda: self.tell("loaded"),
                                in_place=self.forget_copy if self.in_memory else None)
        sparql = job.sparql
        if not self.spec.endpoint:  # a page of statements, found beside the store (another engine reads them all)
            from wsiskg.graph import pageindex
            self.pages = self.pages or pageindex.Kept()
            sparql = pageindex.fill(sparql, job.bindings, self.store,
                                    lambda kind: self.pages.get(self.store, self.key, kind))
        return self.store.query(sparql, default_graphs=job.default_graphs or None,
                                named_graphs=job.named_graphs or None, limit=job.limit, bindings=job.bindings)


BYTES_PER_QUAD = 600  # an in-memory copy, measured: 440 MB for 1M quads, plus room for query work


def available_memory() -> int | None:
    try:
        with open("/proc/meminfo") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def fits_in_memory(quads: int, spec: WorkerSpec) -> bool:
    """`--memory auto`: a copy per worker, if all of them take at most half of the memory free now."""
    if quads > spec.memory_max_quads:
        return False
    free = available_memory()
    return free is None or quads * BYTES_PER_QUAD * spec.workers <= free // 2


def parse_size(text: str) -> int | None:
    """Bytes for "2G", "512M", "300k", "1073741824"; None for "none"/"0" (no limit). ValueError otherwise."""
    value = text.strip().lower()
    if value in ("none", "0", "off", "unlimited"):
        return None
    units = {"k": 2 ** 10, "m": 2 ** 20, "g": 2 ** 30, "t": 2 ** 40}
    number, unit = (value[:-1], value[-1]) if value[-1:] in units else (value.removesuffix("b"), "")
    if number.endswith("b") or not number:
        number = number.removesuffix("b")
    try:
        size = float(number) * units.get(unit, 1)
    except ValueError:
        raise ValueError(f"cannot read the memory size {text!r}: write e.g. 2G, 512M or auto") from None
    if size < 64 * 2 ** 20:
        raise ValueError(f"a worker memory limit of {text!r} is too small: give at least 64M")
    return int(size)


WORKER_MEMORY_DEFAULT = 2 * 2 ** 30  # what one query may use beyond the worker's copy of the data


def memory_budget(setting: str, workers: int) -> int | None:
    """Bytes one worker's queries may use beyond its copy of the data: `--worker-memory`, or for "auto"
    2 GB, less on a machine where every worker at once would not fit in half the memory free now."""
    if setting != "auto":
        return parse_size(setting)
    free = available_memory()
    if free is None:
        return WORKER_MEMORY_DEFAULT
    return max(256 * 2 ** 20, min(WORKER_MEMORY_DEFAULT, free // 2 // max(1, workers)))


def _data_size() -> int:
    """This process's data segment (VmData: what RLIMIT_DATA counts), bytes."""
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith("VmData:"):
                return int(line.split()[1]) * 1024
    return 0


def limit_memory(budget: int | None) -> int | None:
    """Cap this worker at its present data size plus `budget` (RLIMIT_DATA; soft, so a reload can lift it).

    Measured (pyoxigraph 0.5): RLIMIT_AS and RLIMIT_DATA both stop the engine's allocations, in memory
    and on disk (RocksDB reads files, it does not map them writable); RLIMIT_AS also counts address space
    reserved but never used (VmSize 390 MB for 50 MB resident), so RLIMIT_DATA is the closer measure.
    The engine aborts the process when an allocation fails: the pool sees SIGABRT."""
    _, hard = resource.getrlimit(resource.RLIMIT_DATA)
    if budget is None:
        resource.setrlimit(resource.RLIMIT_DATA, (hard, hard))
        return None
    cap = _data_size() + budget
    if hard != resource.RLIM_INFINITY:
        cap = min(cap, hard)
    resource.setrlimit(resource.RLIMIT_DATA, (cap, hard))
    return cap


def current_key(store_root: str | None, version: int | None) -> tuple | None:
    """The identity of the data in use: the database folder `current` points to, and a version."""
    if not store_root:
        return None
    return (os.path.realpath(os.path.join(store_root, "current")), version)


def worker_main(conn, spec: WorkerSpec) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C stops the server, which stops us
    os.environ["RUST_BACKTRACE"] = "0"  # an allocation refused at the memory limit: one line in the log, not 30
    from wsiskg.graph import pageindex  # noqa: F401 (what a query job imports, imported before the memory cap)
    from wsiskg.graph.store import QuerySyntaxError, StoreError
    from wsiskg.graph.validate import EntryError, UpdateRejected
    state = _WorkerState(spec)
    state.tell = lambda message: conn.send((message, None))
    budget = memory_budget(spec.worker_memory, spec.workers)
    try:
        state.open(spec.initial_key or current_key(spec.store_root, spec.initial_version))
        limit_memory(budget)
        conn.send(("ready", {"pid": os.getpid(), "in_memory": state.in_memory,
                             "memory_mb": None if budget is None else budget // 2 ** 20}))
    except StoreError as exc:
        conn.send(("ready", {"pid": os.getpid(), "error": str(exc)}))
    except Exception as exc:  # a bug: report it, keep serving (each job retries the open)
        conn.send(("ready", {"pid": os.getpid(), "error": f"{type(exc).__name__}: {exc}"}))
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return
        if job is None:
            return
        try:
            if job.key != state.key and not spec.endpoint:  # new data: reload first (the copy needs room)
                conn.send(("loading", None))  # the reload is the server's work: the client's clock waits
                caught_up = state.catch_up(job.key, job.changes)
                if not caught_up:
                    limit_memory(None)
                    state.open(job.key)
                    limit_memory(budget)
                # the time-slice counts the query, not the reload
                conn.send(("loaded", "caught up" if caught_up else "copied"))
            if job.op == "check-update":
                # a token holder's write is checked against the whole store (its copy, or a scratch copy), diffed as sets of
                # quads: that grows with the store (5-7 GB at 1M triples with the summaries), not with
                # the update, so one query's cap does not apply (it refused every /update at 1M: 503)
                limit_memory(None)
            try:
                reply = ("ok", state.run(job))
            finally:
                if job.op == "check-update":
                    limit_memory(budget)
        except MemoryError:
            conn.send(("memory", None))  # Python's own allocations failed: this process may be damaged
            return
        except QuerySyntaxError as exc:
            reply = ("syntax", str(exc))
        except EntryError as exc:
            reply = ("entry", (str(exc), exc.line, exc.column))
        except UpdateRejected as exc:
            reply = ("rejected", str(exc))
        except StoreError as exc:
            reply = ("store", str(exc))
        except Exception as exc:
            reply = ("failed", f"{type(exc).__name__}: {exc}")
        try:
            conn.send(reply)
        except (EOFError, OSError):
            return


# -- the pool, in the server process --------------------------------------------------------------

class _Worker:
    def __init__(self, ctx, spec: WorkerSpec):
        parent, child = ctx.Pipe(duplex=True)
        self.process = ctx.Process(target=worker_main, args=(child, spec), daemon=True, name="wsiskg-query-worker")
        self.process.start()
        child.close()
        self.conn = parent
        self.pid = self.process.pid

    def stop(self, kill: bool = False) -> None:
        try:
            if kill:
                self.process.kill()  # SIGKILL: the engine's CPU work ends now
            else:
                self.conn.send(None)
        except (OSError, ValueError):
            pass
        self.process.join(timeout=5)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(timeout=5)
        try:
            self.conn.close()
        except OSError:
            pass


class _Reconsider(Exception):
    """A query became known as slow work while it waited for a worker."""


# The client a job is run for (its address), set by the HTTP layer; None: the server itself (warmer).
client_address: contextvars.ContextVar[str | None] = contextvars.ContextVar("wsiskg_client", default=None)


@dataclass
class Lanes:
    """How the pool shares its workers between quick and slow queries (see the module docstring)."""

    slow_after: float = 2.0  # the time-slice: a query running longer is slow work
    reserve: int | None = None  # workers slow work may never take (None: 1 when there are 2 or more)
    per_client: int = 1  # slow queries one client address may run at once
    remembered: int = 4096  # query shapes remembered as slow
    waiting: int = 4  # slow queries that may wait for room (one per client); more are refused at once
    penalty: float = 30.0  # seconds a client whose query was stopped for want of room counts as slow


def query_shape(job: Job) -> tuple | None:
    """What the cost of a query depends on, roughly: its text with literals and numbers blanked, and
    which parameters are bound (a named query is one shape whatever its arguments)."""
    if job.op != "query":
        return None
    text = _blanked(job.sparql) if len(job.sparql) <= REMEMBERED_TEXT_CHARS else _blank(job.sparql)
    return (text, tuple(sorted(job.bindings or ())), tuple(job.default_graphs), tuple(job.named_graphs))


def _blank(sparql: str) -> str:
    parts = []
    for tok in tokens(sparql):
        if tok.kind == "string":
            parts.append('""')
        elif tok.kind == "other" and tok.text.isdigit():
            if not parts or parts[-1] != "0":
                parts.append("0")
        else:
            parts.append(tok.text)
    return " ".join(parts)


_blanked = lru_cache(maxsize=512)(_blank)  # every request of a named query asks about the same text


class Executor:
    """Runs `Job`s in `size` worker processes with a deadline each, fairly (see the module docstring)."""

    def __init__(self, spec: WorkerSpec, size: int = 2, timeout: float = 30.0, lanes: Lanes | None = None):
        self.spec = spec
        self.size = max(1, size)
        self.timeout = timeout
        self.lanes = lanes or Lanes()
        self.reserve = min(self.size - 1, 1 if self.lanes.reserve is None else max(0, self.lanes.reserve))
        self._ctx = multiprocessing.get_context("spawn")
        self._idle: queue.Queue[_Worker] = queue.Queue()
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)  # a worker became ready, or slow work ended
        self._workers: set[_Worker] = set()
        self._ready: set[_Worker] = set()  # started and able to take work (busy or idle)
        self._starting = 0  # workers on their way
        self._slow_running = 0
        self._slow_by_client: dict[str, int] = {}
        self._slow_shapes: OrderedDict[tuple, None] = OrderedDict()
        self._slow_waiting: list[str | None] = []  # clients whose slow query waits for room
        self._penalty: dict[str, float] = {}  # client -> until when its queries all count as slow
        self.memory_mb: int | None = None  # the per-worker budget the workers report
        self.refused = 0  # slow queries refused for want of room (for /health)
        self.preempted = 0  # queries stopped at the time-slice for want of room
        self.reloads = {"caught up": 0, "copied": 0}  # how workers took new data: commits applied, or a new copy
        self._closed = False
        for _ in range(self.size):
            self._start_async()

    # workers come and go
    def _start_async(self) -> None:
        with self._lock:
            self._starting += 1
        threading.Thread(target=self._start_one, name="wsiskg-worker-start", daemon=True).start()

    def _start_one(self) -> None:
        attempt = 0
        while not self._closed:
            worker = _Worker(self._ctx, self.spec)
            with self._lock:
                self._workers.add(worker)
            if worker.conn.poll(STARTUP_LIMIT):
                try:
                    status, info = worker.conn.recv()
                except (EOFError, OSError):
                    status, info = "died", {}
                if status == "ready":
                    if info.get("error"):
                        log.warning("query worker %s could not open the data yet: %s", worker.pid, info["error"])
                    else:
                        log.info("query worker %s ready (%s, %s)", worker.pid,
                                 "in memory" if info.get("in_memory") else
                                 ("remote endpoint" if self.spec.endpoint else "on disk"),
                                 "no memory limit" if info.get("memory_mb") is None else
                                 f"queries may use {info['memory_mb']} MB")
                    self.memory_mb = info.get("memory_mb")
                    if self._closed:
                        self._discard(worker)
                        with self._lock:
                            self._starting -= 1
                        return
                    with self._changed:
                        self._ready.add(worker)
                        self._starting -= 1
                        self._changed.notify_all()
                    self._idle.put(worker)
                    return
            log.error("query worker %s did not start; retrying", worker.pid)
            self._discard(worker, kill=True)
            attempt += 1
            time.sleep(min(30.0, 0.5 * 2 ** attempt))

    def _discard(self, worker: _Worker, kill: bool = True) -> None:
        with self._lock:
            self._ready.discard(worker)
        worker.stop(kill=kill)
        with self._lock:
            self._workers.discard(worker)

    def _replace(self, worker: _Worker) -> None:
        """Kill a worker (its query's CPU work stops with it) and start another."""
        self._discard(worker, kill=True)
        if not self._closed:
            self._start_async()

    def worker_pids(self) -> list[int]:
        with self._lock:
            return sorted(w.pid for w in self._workers)

    # slow work: who may run it
    def _room_for_slow(self, client: str | None, running: bool = False) -> str | None:
        """Why one more slow query cannot run now (None: it can). Called with the lock held. A query
        that would start counts only ready workers (one restarting is not there to be kept for quick
        queries); one already running is not stopped for a restart elsewhere."""
        room = (self.size if running else len(self._ready)) - self.reserve
        if self._slow_running >= room:
            return (f"the server is busy with long queries ({self._slow_running} running; {room} at a time, "
                    f"{self.reserve} worker(s) kept for quick ones)")
        if client is not None and self._slow_by_client.get(client, 0) >= self.lanes.per_client:
            return (f"this client already has {self._slow_by_client[client]} long query(ies) running "
                    f"(at most {self.lanes.per_client} at a time)")
        return None

    def _take_slow(self, client: str | None, wait: float = 0.0, running: bool = False) -> str | None:
        """Count one more slow query for `client`, or say why not. With no room now, a query may wait up
        to `wait` s in a short line (`Lanes.waiting` places, one per client, none for a client already
        running its share): a few slow queries queue, an attack's many are refused at once."""
        deadline = time.monotonic() + wait
        waiting = False
        with self._changed:
            try:
                while True:
                    reason = self._room_for_slow(client, running)
                    if reason is None:
                        self._slow_running += 1
                        if client is not None:
                            self._slow_by_client[client] = self._slow_by_client.get(client, 0) + 1
                        return None
                    remaining = deadline - time.monotonic()
                    if not waiting:
                        if (remaining <= 0 or self._closed or len(self._slow_waiting) >= self.lanes.waiting
                                or (client is not None and (client in self._slow_waiting or self._slow_by_client.get(
                                    client, 0) >= self.lanes.per_client))):
                            self.refused += 1
                            return reason
                        waiting = True
                        self._slow_waiting.append(client)
                    elif remaining <= 0 or self._closed:
                        self.refused += 1
                        return reason
                    self._changed.wait(min(remaining, 1.0))
            finally:
                if waiting:
                    self._slow_waiting.remove(client)

    def _release_slow(self, client: str | None) -> None:
        with self._changed:
            self._changed.notify_all()
            self._slow_running -= 1
            if client is not None:
                left = self._slow_by_client.get(client, 1) - 1
                if left > 0:
                    self._slow_by_client[client] = left
                else:
                    self._slow_by_client.pop(client, None)

    def _remember_slow(self, shape: tuple | None) -> None:
        if shape is None:
            return
        with self._lock:
            self._slow_shapes[shape] = None
            self._slow_shapes.move_to_end(shape)
            while len(self._slow_shapes) > self.lanes.remembered:
                self._slow_shapes.popitem(last=False)

    def _penalise(self, client: str) -> None:
        """For a while, treat everything `client` asks as slow work (called with the lock held)."""
        now = time.monotonic()
        self._penalty = {c: t for c, t in self._penalty.items() if t > now}
        self._penalty[client] = now + self.lanes.penalty

    def known_slow(self, job: Job) -> bool:
        shape = query_shape(job)
        with self._lock:
            return shape is not None and shape in self._slow_shapes

    # the one entry point
    def run(self, job: Job, timeout: float | None = None):
        """The job's `Result`; raises QuerySyntaxError, StoreError, QueryTimeout, Busy, MemoryLimit,
        WorkerCrashed, TooDeep (graph/sparqltext.py)."""
        if job.op in ("query", "check-update"):
            check_nesting(job.sparql, "query" if job.op == "query" else "update")
        limit = self.timeout if timeout is None else timeout
        client = client_address.get()
        shape = query_shape(job)
        slow = False
        if self._counts_as_slow(shape, client):
            reason = self._take_slow(client, wait=max(limit, RESTART_WAIT))
            if reason is not None:
                raise Busy(f"this query ran long before and {reason}; try again shortly")
            slow = True
        try:
            try:
                return self._run(job, limit, client, shape, slow)
            except _Reconsider:  # found slow while it waited for a worker: admit it as slow work
                reason = self._take_slow(client, wait=max(limit, RESTART_WAIT))
                if reason is not None:
                    raise Busy(f"this query ran long before and {reason}; try again shortly") from None
                slow = True
                return self._run(job, limit, client, shape, slow)
        finally:
            if slow:
                self._release_slow(client)

    def _counts_as_slow(self, shape: tuple | None, client: str | None) -> bool:
        with self._lock:
            return ((client is not None and self._penalty.get(client, 0.0) > time.monotonic())
                    or (shape is not None and shape in self._slow_shapes))

    def _run(self, job: Job, limit: float, client: str | None, shape: tuple | None, slow: bool):
        from wsiskg.graph.store import QuerySyntaxError, StoreError
        from wsiskg.graph.validate import UpdateRejected
        # a slow query waits for a worker no longer than a quick one takes to free one
        wait_until = time.monotonic() + (min(limit, self.lanes.slow_after) if slow else limit)
        while True:
            remaining = wait_until - time.monotonic()
            if remaining <= 0 or self._closed:
                raise Busy(f"all {self.size} query workers are busy; try again shortly")
            try:
                worker = self._idle.get(timeout=remaining)
            except queue.Empty:
                raise Busy(f"all {self.size} query workers are busy; try again shortly") from None
            if worker.process.is_alive():
                break
            log.error("query worker %s had died; replacing it", worker.pid)
            self._replace(worker)
        if not slow and self._counts_as_slow(shape, client):
            self._idle.put(worker)
            raise _Reconsider()
        promoted = False
        try:
            worker.conn.send(job)
            started = time.monotonic()
            deadline = started + limit
            slice_ends = started + self.lanes.slow_after
            while True:
                sliced = not slow and not promoted and slice_ends < deadline
                if not worker.conn.poll(max(0.0, (slice_ends if sliced else deadline) - time.monotonic())):
                    if not sliced:
                        self._remember_slow(shape)
                        log.warning("query stopped at the %g s limit; killing worker %s", limit, worker.pid)
                        self._replace(worker)
                        raise QueryTimeout(limit)
                    # past the time-slice: this is slow work now, and runs on only if there is room for it
                    self._remember_slow(shape)
                    if client is None or job.op == "check-update":  # the server's own work (the warmer), a
                        slice_ends = deadline                       # token holder's write: never stopped,
                        continue                                    # nor counted against users
                    reason = self._take_slow(client, running=True)
                    if reason is None:
                        promoted = True
                        continue
                    log.warning("query passed the %g s time-slice with no room for slow work; stopping it "
                                "(worker %s)", self.lanes.slow_after, worker.pid)
                    with self._lock:
                        self.preempted += 1
                        self._penalise(client)  # varying the query must not buy another time-slice
                    self._replace(worker)
                    raise Busy(f"the query ran longer than {self.lanes.slow_after:g} s and {reason}; "
                               "try again shortly")
                message = worker.conn.recv()
                if message[0] == "loading":  # new data since this worker's last job: a reload first, which
                    deadline = time.monotonic() + max(limit, STARTUP_LIMIT)  # is not the query's time
                    slice_ends = deadline
                    continue
                if message[0] == "loaded":  # reloaded: the query's time-slice and deadline start now
                    if message[1] in self.reloads:
                        with self._lock:
                            self.reloads[message[1]] += 1
                    started = time.monotonic()
                    deadline = started + limit
                    slice_ends = started + self.lanes.slow_after
                    continue
                status, payload = message
                break
        except (QueryTimeout, Busy):
            raise
        except (EOFError, OSError, ValueError) as exc:
            worker.process.join(timeout=2)
            code = worker.process.exitcode
            self._replace(worker)
            if code == -signal.SIGABRT and self.memory_mb is not None:
                # the engine aborts when an allocation fails: the worker met its memory limit
                self._remember_slow(shape)
                if client is not None:
                    with self._lock:
                        self._penalise(client)
                log.warning("query stopped at the worker memory limit (%d MB); worker %s replaced",
                            self.memory_mb, worker.pid)
                raise MemoryLimit(self.memory_mb) from None
            log.error("query worker %s failed: %s (exit code %s)", worker.pid, exc, code)
            raise WorkerCrashed("a query worker stopped unexpectedly") from None
        except BaseException:
            self._replace(worker)
            raise
        finally:
            if promoted:
                self._release_slow(client)
        if status == "memory":
            self._remember_slow(shape)
            self._replace(worker)
            raise MemoryLimit(self.memory_mb or 0)
        self._idle.put(worker)
        if status == "ok":
            return payload
        if status == "syntax":
            raise QuerySyntaxError(payload)
        if status == "store":
            raise StoreError(payload)
        if status == "entry":
            raise DataError(*payload)
        if status == "rejected":
            raise UpdateRejected(payload)
        raise QueryFailed(payload)

    def stats(self) -> dict:
        with self._lock:
            return {"workers": self.size, "ready": len(self._ready), "reserved_for_quick": self.reserve,
                    "slow_running": self._slow_running, "slow_refused": self.refused, "preempted": self.preempted,
                    "slow_shapes": len(self._slow_shapes), "memory_mb": self.memory_mb, "reloads": dict(self.reloads)}

    def close(self) -> None:
        self._closed = True
        with self._lock:
            workers = list(self._workers)
        for worker in workers:
            self._discard(worker, kill=False)
