"""Answers kept per version of the data: a result cache, a response cache, and a warmer.

The graph changes rarely (a build, an ingest, a write through /update or /data) and is read often,
mostly through the same coherence questions. So an answer, once computed, is kept until the data
changes: every entry is filed under the store's identity (`Backend.key()`: the database in use and
its write stamp), and the whole cache is dropped the moment that identity changes. A cached answer
is therefore never older than the data it describes.

Two levels, one budget each:
- `ResultCache` keeps query results (`Result`) by query text, bindings, dataset and row limit, so
  any route and any format asking the same question shares one computation. Identical questions
  arriving together are computed once (the others wait for it).
- `ResponseCache` (WSGI middleware) keeps whole 200 responses of read routes by method, path, query
  string, body and the headers negotiation reads, so a repeated request skips routing, the worker
  round trip and serialisation. Each carries a strong ETag (a hash of its body); `If-None-Match`
  gets 304.

Responses also depend on the named-query files: their state (names, sizes, times; looked at once
a second) is part of the responses' identity, so an edited query is not answered from before.

`Cache-Control: no-cache` (or `no-store`) on a request bypasses both levels: the answer is computed
afresh (and, for no-cache, kept). Every response of a cacheable route says `X-WSISKG-Cache: hit`,
`miss` or `bypass`.

`Warmer` computes the named queries' default answers in the background after start-up and after
every change of the data, one at a time (the other workers stay free for users).
"""
from __future__ import annotations

import contextvars
import hashlib
import logging
import sys
import threading
import time
from collections import OrderedDict
from typing import Callable, Hashable

import pyoxigraph as ox

log = logging.getLogger("wsiskg.server")

# Set for the duration of a request that asked to bypass the caches (read by ResultCache).
bypass = contextvars.ContextVar("wsiskg_cache_bypass", default=False)

CACHE_HEADER = "X-WSISKG-Cache"


class BoundedCache:
    """A thread-safe LRU map with a byte budget, emptied whenever the data's identity changes."""

    def __init__(self, max_bytes: int, max_entry_bytes: int | None = None):
        self.max_bytes = max_bytes
        self.max_entry_bytes = max_entry_bytes if max_entry_bytes is not None else max_bytes // 4
        self._entries: OrderedDict[Hashable, tuple[object, int]] = OrderedDict()
        self._size = 0
        self._identity = None
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def _check_identity(self, identity) -> None:
        if identity != self._identity:
            self._entries.clear()
            self._size = 0
            self._identity = identity

    def get(self, identity, key):
        with self._lock:
            self._check_identity(identity)
            entry = self._entries.get(key)
            if entry is None:
                self.misses += 1
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return entry[0]

    def put(self, identity, key, value, size: int) -> bool:
        if size > self.max_entry_bytes or self.max_bytes <= 0:
            return False
        with self._lock:
            self._check_identity(identity)
            old = self._entries.pop(key, None)
            if old is not None:
                self._size -= old[1]
            self._entries[key] = (value, size)
            self._size += size
            while self._size > self.max_bytes and self._entries:
                _, (_, dropped) = self._entries.popitem(last=False)
                self._size -= dropped
        return True

    def stats(self) -> dict:
        with self._lock:
            return {"entries": len(self._entries), "bytes": self._size, "max_bytes": self.max_bytes,
                    "hits": self.hits, "misses": self.misses}


def _chunk(n: int) -> int:
    """What malloc hands out for an n-byte string (glibc: an 8-byte header, 16-byte steps, 32 at least)."""
    return max(32, (n + 8 + 15) // 16 * 16)


_XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"


def _term_heap(term) -> int:
    """The bytes a term's strings hold outside its Python object: Oxigraph keeps each as its own
    allocation, a typed literal also its datatype IRI (a count's "3" carries 40 bytes of
    xsd:integer) and a tagged one its language."""
    if term is None:
        return 0
    size = _chunk(len(term.value))
    if isinstance(term, ox.Literal):
        if term.language:
            size += _chunk(len(term.language))
        elif term.datatype.value != _XSD_STRING:
            size += _chunk(len(term.datatype.value))
    return size


def _object(n: int) -> int:
    return (n + 15) // 16 * 16  # Python's allocator rounds to 16 bytes


def result_size(result) -> int:
    """Bytes a `Result` holds, measured on a sample of its rows: each row's list, each term's Python
    object and the strings Oxigraph keeps for it (or each Triple and its terms' strings).

    Checked against the process's resident memory in tests/test_user_fixes.py: within ±25% for
    rows of IRIs, of long tagged texts, of small counts, and for triples. The first estimate counted
    96 bytes + the text per term and missed the datatype IRIs and the row lists: small counts took
    1.5x what it said (about half its real memory across a cache of such answers)."""
    items = result.rows if result.kind == "solutions" else result.triples
    if not items:
        return 256
    sample = items[:64]
    if result.kind == "solutions":
        term_object = {}
        def item_size(row) -> int:
            size = _object(sys.getsizeof(row))
            for term in row:
                if term is not None:
                    kind = type(term)
                    if kind not in term_object:
                        term_object[kind] = _object(sys.getsizeof(term))
                    size += term_object[kind] + _term_heap(term)
            return size
    else:
        def item_size(triple) -> int:
            return _object(sys.getsizeof(triple)) + sum(_term_heap(t) for t in (triple.subject, triple.predicate, triple.object))
    per_item = sum(item_size(item) for item in sample) / len(sample)
    return int(256 + per_item * len(items))


class ResultCache:
    """Query results by (question, data identity); one computation for simultaneous identical asks."""

    def __init__(self, max_bytes: int, wait_limit: float):
        self.entries = BoundedCache(max_bytes)
        self.wait_limit = wait_limit
        self._inflight: dict[Hashable, threading.Event] = {}
        self._lock = threading.Lock()

    @staticmethod
    def key(sparql: str, bindings: dict | None, default_graphs, named_graphs, limit) -> tuple:
        bound = tuple(sorted((name, str(term)) for name, term in (bindings or {}).items()))
        return (sparql, bound, tuple(default_graphs or ()), tuple(named_graphs or ()), limit)

    def get_or_compute(self, identity, key, compute: Callable[[], object]):
        if bypass.get():
            result = compute()
            self.entries.put(identity, key, result, result_size(result))
            return result
        while True:
            found = self.entries.get(identity, key)
            if found is not None:
                return found
            with self._lock:
                event = self._inflight.get((identity, key))
                leader = event is None
                if leader:
                    event = self._inflight[(identity, key)] = threading.Event()
            if leader:
                break
            if not event.wait(self.wait_limit):  # the first asker is slow: ask ourselves
                return compute()
            if self.entries.get(identity, key) is None:  # it failed or was too big to keep
                return compute()
        try:
            result = compute()
            self.entries.put(identity, key, result, result_size(result))
            return result
        finally:
            with self._lock:
                self._inflight.pop((identity, key), None)
            event.set()


# -- whole responses ---------------------------------------------------------------------------------

# request headers that change the answer (negotiation, page language, absolute URLs in the body)
VARY = ("HTTP_ACCEPT", "HTTP_ACCEPT_LANGUAGE", "HTTP_HOST", "wsgi.url_scheme", "SCRIPT_NAME", "CONTENT_TYPE")


def _cacheable(environ, policy_of: Callable) -> bool:
    """Whether the route's policy (server/policy.py) keeps this request's answer."""
    method = environ.get("REQUEST_METHOD", "GET")
    if method in ("GET", "HEAD"):
        return policy_of(environ.get("PATH_INFO", ""), "GET").cached
    return (method == "POST" and policy_of(environ.get("PATH_INFO", ""), "POST").cached_post
            and environ.get("CONTENT_TYPE", "").split(";")[0].strip() in
            ("application/sparql-query", "application/x-www-form-urlencoded"))


def _directives(environ) -> set[str]:
    value = environ.get("HTTP_CACHE_CONTROL", "") + "," + environ.get("HTTP_PRAGMA", "")
    return {part.strip().lower() for part in value.split(",") if part.strip()}


def _etag(body: bytes) -> str:
    return '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'


def _matches(if_none_match: str, etag: str) -> bool:
    tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
    return "*" in tags or etag in tags


class ResponseCache:
    """WSGI middleware keeping 200 responses of read routes for the current version of the data."""

    def __init__(self, app, identity: Callable[[], object], policy_of: Callable, max_bytes: int,
                 max_request_bytes: int):
        self.app = app
        self.identity = identity
        self.policy_of = policy_of  # (path, method) -> RoutePolicy
        self.entries = BoundedCache(max_bytes)  # one response may take a quarter of it
        self.max_request_bytes = max_request_bytes  # POST bodies longer than this are not keyed on

    def __call__(self, environ, start_response):
        if not _cacheable(environ, self.policy_of):
            return self.app(environ, start_response)
        body_in = b""
        if environ.get("REQUEST_METHOD") == "POST":
            body_in = self._read_body(environ)
            if body_in is None:  # too big to key on: let the app refuse it
                return self.app(environ, start_response)
        directives = _directives(environ)
        skip = bool(directives & {"no-cache", "no-store"})
        identity = self.identity()
        key = (environ.get("REQUEST_METHOD") == "POST", environ.get("PATH_INFO", ""), environ.get("QUERY_STRING", ""),
               body_in, *(environ.get(name, "") for name in VARY))
        if not skip:
            found = self.entries.get(identity, key)
            if found is not None:
                return self._send(environ, start_response, *found, state="hit")
        token = bypass.set(skip)
        head = environ.get("REQUEST_METHOD") == "HEAD"
        if head:  # ask for the GET it stands for, so what is kept has its body
            environ["REQUEST_METHOD"] = "GET"
        try:
            status, headers, body = self._call(environ)
        finally:
            bypass.reset(token)
            if head:
                environ["REQUEST_METHOD"] = "HEAD"
        if not status.startswith("200"):
            return self._send(environ, start_response, status, headers, body, etag=None,
                              state="bypass" if skip else "miss")
        etag = _etag(body)
        if "no-store" not in directives:
            self.entries.put(identity, key, (status, headers, body, etag),
                             len(body) + sum(len(k) + len(v) for k, v in headers) + 256)
        return self._send(environ, start_response, status, headers, body, etag, state="bypass" if skip else "miss")

    def _read_body(self, environ) -> bytes | None:
        """The POST body, read once and handed on to the app unchanged."""
        import io
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return None
        if length > self.max_request_bytes:
            return None
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)
        return body

    def _call(self, environ) -> tuple[str, list, bytes]:
        captured = {}

        def start(status, headers, exc_info=None):
            captured["status"], captured["headers"] = status, list(headers)
            return lambda data: captured.setdefault("written", []).append(data)

        iterable = self.app(environ, start)
        try:
            body = b"".join(captured.pop("written", [])) + b"".join(iterable)
        finally:
            if hasattr(iterable, "close"):
                iterable.close()
        return captured["status"], captured["headers"], body

    @staticmethod
    def _send(environ, start_response, status, headers, body, etag, state):
        headers = [(k, v) for k, v in headers if k.lower() not in ("etag", "cache-control", CACHE_HEADER.lower())]
        headers.append((CACHE_HEADER, state))
        if etag:
            headers += [("ETag", etag), ("Cache-Control", "no-cache")]  # keep, but ask us before reuse
            if _matches(environ.get("HTTP_IF_NONE_MATCH", ""), etag):
                kept = {"etag", "cache-control", "vary", CACHE_HEADER.lower(), "access-control-allow-origin",
                        "access-control-expose-headers"}
                start_response("304 Not Modified", [(k, v) for k, v in headers if k.lower() in kept])
                return [b""]
        start_response(status, headers)
        return [b""] if environ.get("REQUEST_METHOD") == "HEAD" else [body]


class QueryFolderState:
    """The named-query files' state, looked at no more than once a second: a response depends on the
    files as well as on the data (an edited query shows within a second)."""

    def __init__(self, folder, every: float = 1.0):
        self.folder, self.every = folder, every
        self._state, self._checked = None, float("-inf")
        self._lock = threading.Lock()

    def state(self) -> tuple:
        from wsiskg.graph.library import folder_state
        now = time.monotonic()
        with self._lock:
            if now - self._checked >= self.every:
                self._state, self._checked = folder_state(self.folder), now
            return self._state


# -- the warmer ------------------------------------------------------------------------------------

class Warmer:
    """Computes every named query's default answer after start-up and after each change of the data."""

    def __init__(self, backend, queries_dir, interval: float = 1.0):
        self.backend = backend
        self.queries_dir = queries_dir
        self.interval = interval
        self.warmed_identity = None
        self.last: dict = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="wsiskg-warmer", daemon=True)

    def start(self) -> "Warmer":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()

    ATTEMPTS = 3  # passes over the queries for one version of the data, while some fail (workers starting)

    def _loop(self) -> None:
        attempts: dict = {}
        while not self._stop.is_set():
            identity = self.backend.key()
            if identity != self.warmed_identity:
                tries = attempts[identity] = attempts.get(identity, 0) + 1
                attempts = {identity: tries}
                if self.warm(identity) and (not self.last["failed"] or tries >= self.ATTEMPTS):
                    self.warmed_identity = identity
            self._stop.wait(self.interval)

    def warm(self, identity) -> bool:
        """True when every default answer was tried for `identity` (False: the data moved on meanwhile);
        answers already kept are not computed again, so a second pass only retries the failures."""
        from wsiskg.graph import library
        from wsiskg.graph.sparqltext import analyse
        started = time.perf_counter()
        done, failed = 0, []
        for q in library.all_queries(self.queries_dir):
            if self._stop.is_set() or self.backend.key() != identity:
                return False
            if analyse(q.text).services:
                continue  # answers from outside endpoints are not ours to prefetch
            try:
                bindings = q.bind({})
            except library.ParameterError:
                continue  # a required parameter without a default: nothing to guess
            try:
                self.backend.query(q.text, bindings=bindings)
                done += 1
            except Exception as exc:  # noqa: BLE001 - a failed warm-up is only a missed head start
                failed.append(f"{q.name}: {type(exc).__name__}")
        seconds = time.perf_counter() - started
        self.last = {"queries": done, "failed": failed, "seconds": round(seconds, 3)}
        log.info("cache warmed: %d named queries in %.2f s%s", done, seconds,
                 f" ({len(failed)} failed: {', '.join(failed)})" if failed else "")
        return True
