"""The server's settings, in one object the app factory receives; each declared once, with its default
and the help of the `wsiskg serve` option that sets it."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import click

from wsiskg.graph.paths import QUERIES_DIR


def setting(default=None, *, factory=None, **option):
    """A setting's default and, when `option` is given (click's keyword arguments, `help` among them;
    `flag` for a --x/--no-x pair, `unset` for an option's own default that leaves the setting's), the
    `wsiskg serve` option that sets it: the one place a setting, its default and its help are written."""
    meta = {"option": option} if option else {}
    if factory is not None:
        return field(default_factory=factory, metadata=meta)
    return field(default=default, metadata=meta)


@dataclass
class ServerConfig:
    """The server's settings. Those with an option are `wsiskg serve`'s options, in this order
    (server/cli.py builds them from these fields)."""

    host: str = setting("127.0.0.1", show_default=True)
    port: int = setting(8000, show_default=True, type=click.IntRange(1, 65535))
    endpoint: str | None = setting(help="Serve a remote SPARQL 1.1 endpoint instead of the embedded store.")
    update_endpoint: str | None = setting(help="The remote endpoint's update URL (for writes).")
    allow_service: list[str] = setting(factory=list, multiple=True, metavar="URL",
                                       help="An endpoint SERVICE clauses may call (repeatable).")
    token_file: str | None = setting(type=click.Path(dir_okay=False, exists=True),
                                     help="File holding the bearer token that enables /update and /data.")
    timeout: float = setting(30.0, show_default=True, type=float, help="Per-query time limit, seconds.")
    max_rows: int = setting(10_000, show_default=True, type=int, help="Rows returned before truncating.")
    workers: int = setting(2, show_default=True, type=int, help="Query worker processes.")
    threads: int | None = setting(type=int, help="HTTP threads (default: from the machine, at least 16).")
    max_query_bytes: int = setting(1_000_000, show_default=True, type=int,
                                   help="Largest request accepted on /sparql and /queries (413 beyond).")
    max_data_bytes: int = setting(10_000_000, show_default=True, type=int,
                                  help="Largest request accepted on /validate, /data and /update (413 beyond).")
    memory: str = setting("auto", type=click.Choice(["auto", "always", "never"]), show_default=True,
                          help="Query workers copy the store into memory (auto: when every worker's copy fits in "
                               "half the free memory, up to 10M quads).")
    queries_dir: Path = setting(QUERIES_DIR, type=click.Path(file_okay=False, exists=True, path_type=Path),
                                unset=None, help="Serve the named queries of this folder instead of the shipped ones.")
    cache_mb: int = setting(256, show_default=True, type=click.IntRange(min=0),
                            help="Memory for answers kept until the data changes (0: no cache).")
    warm: bool = setting(True, show_default=True, flag="--warm/--no-warm",
                         help="Compute the named queries' default answers after start-up and after every write.")
    allow_reference_writes: bool = setting(False, is_flag=True,
                                           help="Let token holders write the ontology and reference graphs (refused by default).")
    max_removal_share: float = setting(0.10, show_default=True, type=click.FloatRange(0, 1),
                                       help="A write removing more than this share of the store needs ?confirm=large-removal.")
    # a public endpoint's limits (issue 14; see executor.py and guards.py)
    worker_memory: str = setting("auto", show_default=True, metavar="SIZE",
                                 help="Memory one query may use beyond its worker's copy of the data (e.g. 2G, 512M; "
                                      "none: no limit); auto: 2G, less when the machine is small. A query needing more gets 503.")
    slow_after: float = setting(2.0, show_default=True, type=click.FloatRange(min=0.05),
                                help="Seconds after which a query counts as slow work (the workers' time-slice).")
    reserve_workers: int | None = setting(type=click.IntRange(min=0),
                                          help="Workers kept for quick queries, never given to slow ones (default: 1 when --workers >= 2).")
    client_slow_queries: int = setting(1, show_default=True, type=click.IntRange(min=1),
                                       help="Slow queries one client address may run at once (more get 503 at once).")
    connections_per_client: int = setting(64, show_default=True, type=click.IntRange(min=1),
                                          help="Open connections one client address may hold (more are closed at once).")
    read_timeout: float = setting(30.0, show_default=True, type=click.FloatRange(min=1),
                                  help="Seconds a client may take to send a whole request; also the idle keep-alive limit.")
    # set by the server, not by an option
    store_root: Path | None = None  # the embedded store (ignored when `endpoint` is set)
    token: str | None = None  # enables /update and /data writes when set (read from `token_file`)
    memory_max_quads: int = 10_000_000  # "auto" copies stores up to this size, if the copies fit in memory
    write_wait: float = 5.0  # seconds a write waits for the store's write lock (a build) before 503

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
