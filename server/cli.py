"""`wsiskg serve`: the server's command. It joins the `wsiskg` group through the `wsiskg.commands`
entry point (pyproject.toml), so graph/ never imports the server."""
from __future__ import annotations

import click

from wsiskg.graph.cli import ensure_built, store_root, user_errors

from .executor import parse_size


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--endpoint", "remote", default=None, help="Serve a remote SPARQL 1.1 endpoint instead of the embedded store.")
@click.option("--update-endpoint", default=None, help="The remote endpoint's update URL (for writes).")
@click.option("--allow-service", multiple=True, metavar="URL", help="An endpoint SERVICE clauses may call (repeatable).")
@click.option("--token-file", type=click.Path(dir_okay=False, exists=True), default=None,
              help="File holding the bearer token that enables /update and /data.")
@click.option("--timeout", default=30.0, show_default=True, type=float, help="Per-query time limit, seconds.")
@click.option("--max-rows", default=10000, show_default=True, type=int, help="Rows returned before truncating.")
@click.option("--workers", default=2, show_default=True, type=int, help="Query worker processes.")
@click.option("--threads", default=None, type=int, help="HTTP threads (default: from the machine, at least 16).")
@click.option("--max-query-bytes", default=1_000_000, show_default=True, type=int,
              help="Largest request accepted on /sparql and /queries (413 beyond).")
@click.option("--max-data-bytes", default=10_000_000, show_default=True, type=int,
              help="Largest request accepted on /validate, /data and /update (413 beyond).")
@click.option("--memory", type=click.Choice(["auto", "always", "never"]), default="auto", show_default=True,
              help="Query workers copy the store into memory (auto: when every worker's copy fits in half "
                   "the free memory, up to 10M quads).")
@click.option("--queries-dir", type=click.Path(file_okay=False, exists=True), default=None,
              help="Serve the named queries of this folder instead of the shipped ones.")
@click.option("--cache-mb", default=256, show_default=True, type=click.IntRange(min=0),
              help="Memory for answers kept until the data changes (0: no cache).")
@click.option("--warm/--no-warm", default=True, show_default=True,
              help="Compute the named queries' default answers after start-up and after every write.")
@click.option("--allow-reference-writes", is_flag=True,
              help="Let token holders write the ontology and reference graphs (refused by default).")
@click.option("--max-removal-share", default=0.10, show_default=True, type=click.FloatRange(0, 1),
              help="A write removing more than this share of the store needs ?confirm=large-removal.")
@click.option("--worker-memory", default="auto", show_default=True, metavar="SIZE",
              help="Memory one query may use beyond its worker's copy of the data (e.g. 2G, 512M; none: no "
                   "limit); auto: 2G, less when the machine is small. A query needing more gets 503.")
@click.option("--slow-after", default=2.0, show_default=True, type=click.FloatRange(min=0.05),
              help="Seconds after which a query counts as slow work (the workers' time-slice).")
@click.option("--reserve-workers", default=None, type=click.IntRange(min=0),
              help="Workers kept for quick queries, never given to slow ones (default: 1 when --workers >= 2).")
@click.option("--client-slow-queries", default=1, show_default=True, type=click.IntRange(min=1),
              help="Slow queries one client address may run at once (more get 503 at once).")
@click.option("--connections-per-client", default=64, show_default=True, type=click.IntRange(min=1),
              help="Open connections one client address may hold (more are closed at once).")
@click.option("--read-timeout", default=30.0, show_default=True, type=click.FloatRange(min=1),
              help="Seconds a client may take to send a whole request; also the idle keep-alive limit.")
@click.pass_context
def serve(ctx, host, port, remote, update_endpoint, allow_service, token_file, timeout, max_rows, workers, threads,
          max_query_bytes, max_data_bytes, memory, queries_dir, cache_mb, warm, allow_reference_writes,
          max_removal_share, worker_memory, slow_after, reserve_workers, client_slow_queries, connections_per_client,
          read_timeout):
    """Serve the SPARQL endpoint, named queries, pages and reports over HTTP."""
    root = store_root(ctx)
    remote = remote or ctx.obj.get("endpoint")
    if not remote:
        ensure_built(ctx, quiet=False)
    for name, value in (("--timeout", timeout), ("--max-rows", max_rows), ("--workers", workers),
                        ("--threads", 1 if threads is None else threads),
                        ("--max-query-bytes", max_query_bytes), ("--max-data-bytes", max_data_bytes)):
        if value <= 0:
            raise click.UsageError(f"{name} must be positive")
    if worker_memory != "auto":
        try:
            parse_size(worker_memory)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--worker-memory") from None
    from .app import serve as run_server
    with user_errors(ValueError, OSError, prefix="cannot serve: "):
        run_server(store_root=root, endpoint=remote, update_endpoint=update_endpoint, host=host, port=port,
                   allow_service=list(allow_service), token_file=token_file, timeout=timeout, max_rows=max_rows,
                   workers=workers, threads=threads, queries_dir=queries_dir, max_query_bytes=max_query_bytes,
                   max_data_bytes=max_data_bytes, memory=memory, cache_mb=cache_mb, warm=warm,
                   allow_reference_writes=allow_reference_writes, max_removal_share=max_removal_share,
                   worker_memory=worker_memory, slow_after=slow_after, reserve_workers=reserve_workers,
                   client_slow_queries=client_slow_queries, connections_per_client=connections_per_client,
                   read_timeout=read_timeout)
