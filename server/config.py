"""The server's settings, in one object the app factory receives."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from wsiskg.graph.paths import QUERIES_DIR


@dataclass
class ServerConfig:
    store_root: Path | None = None  # the embedded store (ignored when `endpoint` is set)
    endpoint: str | None = None  # a remote SPARQL 1.1 query endpoint
    update_endpoint: str | None = None  # its update URL, for writes
    allow_service: list[str] = field(default_factory=list)  # endpoints SERVICE may call
    token: str | None = None  # enables /update and /data writes when set
    timeout: float = 30.0  # per query, seconds
    max_rows: int = 10_000  # rows (or triples) returned before truncating
    workers: int = 2  # query worker processes
    max_query_bytes: int = 1_000_000  # request-size cap for /sparql, /update, /queries
    max_data_bytes: int = 10_000_000  # request-size cap for /validate and /data
    queries_dir: Path = QUERIES_DIR  # the named queries served under /queries
    memory: str = "auto"  # workers copy the store into memory: auto | always | never
    memory_max_quads: int = 10_000_000  # "auto" copies stores up to this size, if the copies fit in memory
    cache_mb: int = 256  # answers kept for the current version of the data (half results, half responses)
    warm: bool = True  # compute the named queries' default answers after start-up and after each write
    allow_reference_writes: bool = False  # let token holders write the ontology and reference graphs
    max_removal_share: float = 0.10  # a write removing more of the store needs ?confirm=large-removal
    write_wait: float = 5.0  # seconds a write waits for the store's write lock (a build) before 503
    # a public endpoint's limits (issue 14; see executor.py and guards.py)
    worker_memory: str = "auto"  # memory a query may use beyond its worker's copy of the data: auto | none | 2G
    slow_after: float = 2.0  # a query running longer is slow work (the pool's time-slice), seconds
    reserve_workers: int | None = None  # workers slow work may not take (None: 1 when there are 2 or more)
    client_slow_queries: int = 1  # slow queries one client address may run at once
    connections_per_client: int = 64  # open connections one client address may hold
    read_timeout: float = 30.0  # seconds a client may take to send a whole request (headers and body)

    @property
    def remote(self) -> bool:
        return bool(self.endpoint)


def read_token(path: str | Path | None) -> str | None:
    """The bearer token from its file (surrounding whitespace ignored); an empty file enables nothing."""
    if not path:
        return None
    token = Path(path).read_text(encoding="utf-8").strip()
    if len(token) < 16:
        raise ValueError(f"the token in {path} is too short: use at least 16 characters "
                         "(for example: python -c 'import secrets; print(secrets.token_urlsafe(32))')")
    return token
