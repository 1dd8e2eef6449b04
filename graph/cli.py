"""The `wsiskg` command line. Exit codes: 0 success, 1 failed validation or query, 2 usage error."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from . import library
from .paths import default_store_path
from .results import ALL_FORMATS


class UserError(click.ClickException):
    """A user's mistake: one clear message, exit 1, no traceback."""

    exit_code = 1


def _store_root(ctx) -> Path:
    return Path(ctx.obj["store"]).expanduser() if ctx.obj.get("store") else default_store_path()


def _progress(enabled: bool):
    """A tqdm bar over named steps, on stderr; silent when not a terminal unless asked."""
    from tqdm import tqdm

    def start(steps):
        bar = tqdm(total=len(steps), unit="step", file=sys.stderr, disable=not enabled, leave=False)
        state = {"first": True}

        def tick(label):
            if not state["first"]:
                bar.update(1)
            state["first"] = False
            bar.set_description(label[:40])
        return tick
    return start


class NoStore(UserError):
    """A store folder the user named (--store, WSISKG_STORE) holds no store: most likely a typo."""

    exit_code = 2


def _ensure_store(ctx, quiet=True) -> Path:
    """The store's folder, built on first use only when it is the default store: a path the user
    named that holds no store is refused, so a typo does not answer from a new, empty-handed store."""
    from .store import database_path
    root = _store_root(ctx)
    if database_path(root) is None:
        if ctx.obj.get("store") and root.resolve() != default_store_path().resolve():
            raise NoStore(f"no store at {root} (given with --store or WSISKG_STORE): check the path, "
                          f"or make one there with `wsiskg --store {root} build`")
        click.echo(f"No store at {root} yet: building it first.", err=True)
        _run_build(ctx, quiet=quiet)
    return root


def open_existing(ctx, read_only=True):
    """The store for reading commands: built on first use when it is the default one."""
    from .store import StoreError, open_store
    if ctx.obj.get("endpoint"):
        return open_store(endpoint=ctx.obj["endpoint"])
    root = _ensure_store(ctx)
    try:
        return open_store(root, read_only=read_only)
    except StoreError as exc:
        raise UserError(str(exc)) from None


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--store", "store", type=click.Path(file_okay=False), envvar="WSISKG_STORE",
              help="Store folder (default: a per-user store, built on first use).")
@click.option("--endpoint", envvar="WSISKG_ENDPOINT", default=None,
              help="Use a remote SPARQL 1.1 endpoint instead of the embedded store (query commands).")
@click.version_option(package_name="wsiskg")
@click.pass_context
def cli(ctx, store, endpoint):
    """WSIS Coherence Graph: build, validate, query and serve the knowledge graph."""
    ctx.ensure_object(dict)
    ctx.obj["store"] = store
    ctx.obj["endpoint"] = endpoint


def _print_build_failure(exc) -> None:
    for error in exc.errors:
        click.echo(f"error: {error}", err=True)
    for problem in exc.report.violations:
        click.echo(str(problem), err=True)


def _warnings_hint(ctx, warnings, most=10) -> str:
    """How many warnings the build kept, and the `wsiskg validate` command that shows those of entry
    files (the others come from the shipped texts' mandate vocabulary and reference tables)."""
    import shlex
    listed = [w for w in warnings if w.file and w.file.endswith((".ttl", ".nt")) and Path(w.file).is_file()]
    files = list(dict.fromkeys(w.file for w in listed))
    text = f"{len(warnings)} warning(s) (the build keeps them)"
    if not files:
        return text
    store = f" --store {shlex.quote(str(_store_root(ctx)))}" if ctx.obj.get("store") else ""
    shown = " ".join(shlex.quote(f) for f in files[:most])
    more = f" (and {len(files) - most} more file(s))" if len(files) > most else ""
    return f"{text}; the {len(listed)} warning(s) of entry files: see them with:\n  wsiskg{store} validate {shown}{more}"


def _run_build(ctx, quiet=False, progress=None):
    from .build import BuildFailed, build
    from .embed import ModelError
    from .store import StoreError
    root = _store_root(ctx)
    try:
        result = build(root, progress=_progress(sys.stderr.isatty() if progress is None else progress))
    except ModelError as exc:
        raise UserError(str(exc)) from None
    except BuildFailed as exc:
        _print_build_failure(exc)
        raise UserError(f"build failed: {exc}; the previous store (if any) is unchanged") from None
    except StoreError as exc:  # another writer holds the store
        raise UserError(f"build not started: {exc}") from None
    if not quiet:
        click.echo(f"Built store version {result.version} at {root}")
        width = max(len(g) for g in result.graph_sizes)
        for graph, size in result.graph_sizes.items():
            click.echo(f"  {graph:<{width}}  {size:>7} triples")
        click.echo(f"  {'total':<{width}}  {sum(result.graph_sizes.values()):>7} triples")
        if result.warnings:
            click.echo(_warnings_hint(ctx, result.warnings))
    return result


@cli.command()
@click.option("--progress/--no-progress", default=None, help="Show a progress bar (default: on a terminal).")
@click.pass_context
def build(ctx, progress):
    """(Re)build the store from the ontology, reference data and entries; validate; swap in atomically."""
    _run_build(ctx, progress=progress)


@cli.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
@click.option("--warnings/--no-warnings", default=True, help="Also list warnings.")
@click.pass_context
def validate(ctx, files, fmt, warnings):
    """Validate entry files against the shapes and the stored reference data (exit 1 on violations)."""
    from .validate import validate_files
    store = open_existing(ctx)
    with store:
        report, errors = validate_files(files, store)
    shown = report.problems if warnings else report.violations
    if fmt == "json":
        click.echo(json.dumps({"conforms": report.conforms and not errors,
                               "errors": [{"file": e.file, "line": e.line, "column": e.column, "message": str(e)} for e in errors],
                               "problems": [p.as_dict() for p in shown]}, indent=2))
    else:
        for error in errors:
            click.echo(f"error: {error}")
        for problem in shown:
            click.echo(str(problem))
        click.echo(f"{len(files)} file(s): {len(report.violations)} violation(s), {len(report.warnings)} warning(s), "
                   f"{len(errors)} unreadable")
    if errors or not report.conforms:
        sys.exit(1)


# every format graph/results.py writes; which fit depends on the query form (checked before running)
FORMATS = ["table", *ALL_FORMATS]


@cli.command()
@click.argument("name_or_file")
@click.option("--param", "-p", "params", multiple=True, metavar="K=V", help="A parameter of a named query.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table")
@click.option("--limit", type=int, default=None, help="Read at most this many rows.")
@click.pass_context
def query(ctx, name_or_file, params, fmt, limit):
    """Run a named query (see `wsiskg queries`) or a .rq file."""
    from .results import format_mismatch, serialize, table
    from .sparqltext import analyse
    from .store import QuerySyntaxError, StoreError
    values = {}
    for item in params:
        if "=" not in item:
            raise click.UsageError(f"--param takes K=V, got {item!r}")
        key, value = item.split("=", 1)
        values[key.strip()] = value
    path = Path(name_or_file)
    try:
        if path.suffix == ".rq":
            if not path.is_file():
                raise UserError(f"{path}: no such query file")
            named = library.load(path)
        else:
            named = library.get(name_or_file)
        bindings = named.bind(values)
    except (library.UnknownQuery, library.ParameterError, ValueError) as exc:
        raise UserError(exc.args[0] if exc.args else str(exc)) from None
    analysis = analyse(named.text)
    mismatch = fmt != "table" and analysis.form and format_mismatch(analysis.result_kind, fmt)
    if mismatch:
        raise click.UsageError(mismatch)
    store = open_existing(ctx)
    try:
        with store:
            result = store.query(named.text, bindings=bindings, limit=limit)
    except QuerySyntaxError as exc:
        raise UserError(f"{name_or_file}: syntax error: {exc}") from None
    except StoreError as exc:
        raise UserError(str(exc)) from None
    except OSError as exc:  # e.g. a SERVICE endpoint that cannot be reached
        raise UserError(f"{name_or_file}: the query failed: {exc}") from None
    mismatch = fmt != "table" and format_mismatch(result.kind, fmt)
    if mismatch:  # the lexer above missed the form: say so all the same, never a traceback
        raise click.UsageError(mismatch)
    if fmt == "table":
        click.echo(table(result))
    else:
        sys.stdout.buffer.write(serialize(result, fmt))
        sys.stdout.buffer.flush()


@cli.command()
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--slug", default=None, help="The document's name in IRIs (default: from the file name).")
@click.option("--progress/--no-progress", default=None, help="Show a progress bar (default: on a terminal).")
@click.option("--threshold", type=click.FloatRange(-1, 1), default=None,
              help="Lowest similarity score of a pair to store (default: the similarity method's own).")
@click.pass_context
def ingest(ctx, file, slug, progress, threshold):
    """Turn an outcome document into entries, link, validate and add them (re-ingest replaces)."""
    from .embed import ModelError
    from .ingest import IngestError, ingest as run_ingest
    from .store import StoreError
    root = _ensure_store(ctx)
    try:
        result = run_ingest(Path(file), root, slug=slug, threshold=threshold,
                            progress=_progress(sys.stderr.isatty() if progress is None else progress))
    except ModelError as exc:
        raise UserError(str(exc)) from None
    except IngestError as exc:
        for problem in exc.problems:
            click.echo(str(problem), err=True)
        raise UserError(str(exc)) from None
    except StoreError as exc:
        raise UserError(str(exc)) from None
    counts = ", ".join(f"{n} {kind}" for kind, n in sorted(result.counts.items()))
    click.echo(f"Ingested {file} as <{result.slug}>: {result.statements} statements ({counts}), "
               f"{result.links} links, {result.similar_pairs} similar pairs with other documents, "
               f"{result.taken_up} statements taken up by adopted texts")
    click.echo(f"Entry file: {result.entry_file}")
    for warning in result.warnings:
        click.echo(f"warning: {warning}", err=True)


@cli.command()
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
@click.pass_context
def documents(ctx, fmt):
    """List the source documents in the store: ingested ones (removable) and shipped ones."""
    from .documents import list_documents
    from .store import StoreError
    store = open_existing(ctx)
    try:
        with store:
            found = list_documents(store, _store_root(ctx))
    except StoreError as exc:
        raise UserError(str(exc)) from None
    if fmt == "json":
        click.echo(json.dumps([d.__dict__ for d in found], indent=2))
        return
    for d in found:
        click.echo(f"{d.slug:<48} {d.origin:<9} {d.statements:>5} statements  {d.file}")


@cli.command()
@click.argument("slug")
@click.pass_context
def remove(ctx, slug):
    """Take an ingested document out of the store (its statements, links and similarity pairs)."""
    from .documents import DocumentError, remove_document
    from .store import StoreError, database_path
    root = _store_root(ctx)
    if database_path(root) is None:
        raise UserError(f"no store at {root}: nothing to remove")
    try:
        version = remove_document(root, slug)
    except (DocumentError, StoreError) as exc:
        raise UserError(str(exc)) from None
    click.echo(f"Removed {slug}; store version {version}")


@cli.command()
@click.argument("version", type=click.IntRange(min=0), required=False)
@click.option("--list", "show", is_flag=True, help="List the journal of writes made through /update and /data.")
@click.option("--progress/--no-progress", default=None, help="Show a progress bar (default: on a terminal).")
@click.pass_context
def restore(ctx, version, show, progress):
    """Undo the writes made through /update and /data after VERSION (the journal's entries after it are
    set aside in journal/undone/, and the store is rebuilt without them)."""
    from . import journal
    from .build import BuildFailed, build as run_build
    from .store import StoreError
    root = _store_root(ctx)
    try:
        kept = journal.entries(root)
    except StoreError as exc:
        raise UserError(str(exc)) from None
    if show or version is None:
        if not kept:
            click.echo("No writes through /update or /data are in the journal.")
        for e in kept:
            click.echo(f"version {e.version:>6}  {e.time}  {e.route:<12} +{e.added} -{e.removed}  {', '.join(e.graphs)}")
        return
    undone = [e for e in kept if e.version > version]
    if not undone:
        click.echo(f"Nothing to undo: no write through the API after version {version}.")
        return
    try:
        result = run_build(root, progress=_progress(sys.stderr.isatty() if progress is None else progress),
                           restore_to=version)
    except BuildFailed as exc:
        _print_build_failure(exc)
        raise UserError(f"restore failed: {exc}; the store is unchanged") from None
    except StoreError as exc:
        raise UserError(str(exc)) from None
    click.echo(f"Undid {len(undone)} write(s) made after version {version} (kept in "
               f"{journal.journal_dir(root) / journal.UNDONE_DIR}); store version {result.version}")


@cli.command("queries")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
def list_queries(fmt):
    """List the named queries and their parameters."""
    queries = library.all_queries()
    if fmt == "json":
        click.echo(json.dumps([q.as_dict() for q in queries], indent=2))
        return
    for q in queries:
        params = ", ".join(f"{p.name}:{p.type}{'' if p.required and p.default is None else '?'}" for p in q.parameters)
        click.echo(f"{q.name:<28} {q.summary}" + (f"  ({params})" if params else ""))


EXPORT_FORMATS = {"nquads": "N_QUADS", "trig": "TRIG", "turtle": "TURTLE", "jsonld": "JSON_LD", "ntriples": "N_TRIPLES"}


@cli.command()
@click.option("--graph", "graph_iri", default=None, help="Only this named graph (IRI).")
@click.option("--format", "fmt", type=click.Choice(sorted(EXPORT_FORMATS)), required=True)
@click.pass_context
def export(ctx, graph_iri, fmt):
    """Write the graph (or one named graph) to standard output."""
    import pyoxigraph as ox
    from .store import StoreError
    rdf_format = getattr(ox.RdfFormat, EXPORT_FORMATS[fmt])
    if graph_iri is None and fmt in ("turtle", "ntriples"):
        raise click.UsageError(f"--format {fmt} holds one graph: name it with --graph, or use nquads/trig/jsonld")
    store = open_existing(ctx)
    try:
        with store:
            if graph_iri and graph_iri not in store.graph_sizes():
                raise UserError(f"no named graph <{graph_iri}> in the store")
            data = store.dump(rdf_format, graph_iri)
    except StoreError as exc:
        raise UserError(str(exc)) from None
    # The store keeps wsis:sourceLine's xsd:positiveInteger as xsd:integer: give the shapes' datatypes
    # back, so an export passes `wsiskg validate` and other tools read the ontology's ranges.
    from .validate import restore_line_datatypes, restore_quad_datatypes
    if fmt in ("nquads", "ntriples"):
        data = restore_line_datatypes(data)
    else:
        data = ox.serialize(restore_quad_datatypes(ox.parse(data, format=rdf_format)), format=rdf_format) or b""
    sys.stdout.buffer.write(data)


@cli.command()
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
    from .store import StoreError
    from wsiskg.server.app import serve as run_server
    root = _store_root(ctx)
    remote = remote or ctx.obj.get("endpoint")
    if not remote:
        _ensure_store(ctx, quiet=False)
    for name, value in (("--timeout", timeout), ("--max-rows", max_rows), ("--workers", workers),
                        ("--threads", 1 if threads is None else threads),
                        ("--max-query-bytes", max_query_bytes), ("--max-data-bytes", max_data_bytes)):
        if value <= 0:
            raise click.UsageError(f"{name} must be positive")
    if worker_memory != "auto":
        from wsiskg.server.executor import parse_size
        try:
            parse_size(worker_memory)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--worker-memory") from None
    try:
        run_server(store_root=root, endpoint=remote, update_endpoint=update_endpoint, host=host, port=port,
                   allow_service=list(allow_service), token_file=token_file, timeout=timeout, max_rows=max_rows,
                   workers=workers, threads=threads, queries_dir=queries_dir, max_query_bytes=max_query_bytes,
                   max_data_bytes=max_data_bytes, memory=memory, cache_mb=cache_mb, warm=warm,
                   allow_reference_writes=allow_reference_writes, max_removal_share=max_removal_share,
                   worker_memory=worker_memory, slow_after=slow_after, reserve_workers=reserve_workers,
                   client_slow_queries=client_slow_queries, connections_per_client=connections_per_client,
                   read_timeout=read_timeout)
    except (ValueError, OSError, StoreError) as exc:
        raise UserError(f"cannot serve: {exc}") from None


# -- external datasets: link, import, describe (docs/external.md) ---------------------------------

def _writable_store(ctx, command: str, read_only: bool = False):
    """The embedded store, opened for writing (built first when it is the default one); with
    `read_only` (a dry run), opened without the write lock, so it works beside a running server."""
    from .store import EmbeddedStore, StoreError
    if ctx.obj.get("endpoint"):
        raise UserError(f"`wsiskg {command}` writes to the embedded store (--store); it cannot work on a remote "
                        "endpoint given with the global --endpoint / WSISKG_ENDPOINT")
    root = _ensure_store(ctx)
    try:
        return root, EmbeddedStore.open(root, read_only=read_only)
    except StoreError as exc:
        raise UserError(str(exc)) from None


def _short(iri: str) -> str:
    from . import namespaces as ns
    return "id:" + iri[len(ns.ID):] if iri.startswith(ns.ID) else iri


@cli.command()
@click.option("--endpoint", "remote", required=True, metavar="URL", help="The external SPARQL endpoint to align with.")
@click.option("--mapping", "mapping_file", required=True, type=click.Path(dir_okay=False),
              help="YAML mapping: our class and labels, theirs, thresholds (see docs/external.md).")
@click.option("--graph-name", default=None, help="Write to id:graph/links/external-NAME (default: the mapping's name).")
@click.option("--dry-run", is_flag=True, help="Show the proposed links; write nothing.")
@click.option("--allow-private", is_flag=True,
              help="Allow an endpoint on a loopback, link-local or private address (refused by default).")
@click.pass_context
def link(ctx, remote, mapping_file, graph_name, dry_run, allow_private):
    """Propose skos:exactMatch / closeMatch links to an external SPARQL endpoint, by label similarity."""
    from .align import AlignError, load_link_mapping, run
    from .mapping import MappingError
    from .netguard import ALLOW_ALL_PRIVATE, OutboundRefused
    from .store import StoreError
    try:
        mapping = load_link_mapping(mapping_file)
    except MappingError as exc:
        raise UserError(str(exc)) from None
    root, store = _writable_store(ctx, "link", read_only=dry_run)
    try:
        with store:
            result = run(store, root, remote, mapping, allow=[ALLOW_ALL_PRIVATE] if allow_private else [],
                         graph_name=graph_name, dry_run=dry_run)
    except (MappingError, AlignError, OutboundRefused, StoreError) as exc:
        raise UserError(str(exc)) from None
    for p in result.proposals:
        note = f"  ({p.note})" if p.note else ""
        click.echo(f"{_short(p.entity)}  skos:{p.relation}  <{p.resource}>  {p.score:.3f}  "
                   f"{p.our_label!r} ~ {p.their_label!r}{note}")
    if result.skipped:
        listed = ", ".join(f"{_short(e)} ({r[len(mapping.namespace):]})" for e, r in result.skipped)
        click.echo(f"Skipped {len(result.skipped)} entities that already have a curated skos:exactMatch into "
                   f"<{mapping.namespace}>: {listed}")
    if result.truncated:
        click.echo(f"warning: the endpoint returned {mapping.limit} rows, the mapping's limit; some of its "
                   "resources may be missing (raise limits.limit or narrow theirs.class)", err=True)
    exact = sum(p.relation == "exactMatch" for p in result.proposals)
    where = f"written to <{result.graph}>" if result.written else "dry run: nothing written"
    click.echo(f"{exact} exactMatch, {len(result.proposals) - exact} closeMatch for {result.entities} entities "
               f"against {result.resources} resources of {remote}; {where}")


@cli.command("import")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--mapping", "mapping_file", required=True, type=click.Path(dir_okay=False),
              help="YAML mapping: row IRI template, class, column -> property (see graph/mappings/stocktaking.yaml).")
@click.option("--skip-bad-rows", is_flag=True, help="Import the good rows and list the bad ones (default: fail whole).")
@click.option("--graph-name", default=None, help="Load into id:graph/import/NAME (default: the mapping's name).")
@click.pass_context
def import_table(ctx, file, mapping_file, skip_bad_rows, graph_name):
    """Import a CSV export of an outside dataset as its own named graph, validated by the shapes."""
    from .mapping import MappingError
    from .store import StoreError
    from .tabular import ImportFailed, load_table_mapping, run_import
    try:
        mapping = load_table_mapping(mapping_file)
    except MappingError as exc:
        raise UserError(str(exc)) from None
    if not Path(file).is_file():
        raise UserError(f"{file}: no such file")
    root, store = _writable_store(ctx, "import")
    try:
        with store:
            result = run_import(Path(file), mapping, store, root, graph_name=graph_name, skip_bad_rows=skip_bad_rows)
    except ImportFailed as exc:
        for problem in exc.problems:
            click.echo(str(problem), err=True)
        raise UserError(str(exc)) from None
    except (MappingError, StoreError) as exc:
        raise UserError(str(exc)) from None
    for problem in result.problems:
        click.echo(f"skipped: {problem}", err=True)
    skipped = f"; skipped {len(result.bad_rows)} bad row(s): {', '.join(map(str, result.bad_rows))}" if result.bad_rows else ""
    click.echo(f"Imported {result.loaded} of {result.rows} row(s) from {file} into <{result.graph}> "
               f"({result.triples} triples){skipped}")


@cli.command()
@click.option("--format", "fmt", type=click.Choice(["turtle", "ntriples", "jsonld", "xml"]), default="turtle")
@click.option("--base-url", default=None, metavar="URL",
              help="Where the server is published (names its SPARQL endpoint in the description).")
@click.pass_context
def describe(ctx, fmt, base_url):
    """Print the dataset's DCAT/VoID description: licence, sources and citations, version, triples per graph."""
    from .describe import description_bytes
    from .store import StoreError
    store = open_existing(ctx)
    try:
        with store:
            data = description_bytes(store, fmt, base_url)
    except StoreError as exc:
        raise UserError(str(exc)) from None
    sys.stdout.buffer.write(data)
    sys.stdout.buffer.flush()


@cli.group()
def report():
    """Reports built from the named queries: self-contained HTML plus CSV."""


@report.command("duplication")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default="wsiskg-report", show_default=True,
              help="Folder for duplication.html and one CSV per table.")
@click.option("--base", default="https://w3id.org/wsis-kg/id/", show_default=True,
              help="Where entity links point (e.g. http://127.0.0.1:8000/id/ for a local server).")
@click.option("--threshold", type=click.FloatRange(-1, 1), default=None,
              help="Lowest score of a similarity link that joins near-duplicates into a cluster "
                   "(default: the similarity method's own; every stored link for TF-IDF).")
@click.pass_context
def report_duplication(ctx, out_dir, base, threshold):
    """The duplication map: body x Action Line and Action Line x GDC heatmaps, near-duplicate clusters,
    ranked overlaps of UN bodies (one HTML file that opens with no internet)."""
    from .embed import ModelError
    from .report import QUERIES, write_report
    from .store import QuerySyntaxError, StoreError
    store = open_existing(ctx)
    try:
        threshold = "default" if threshold is None else threshold
        with store:
            path = write_report(store, Path(out_dir), base=base, threshold=threshold)
    except (StoreError, QuerySyntaxError, library.UnknownQuery, library.ParameterError, ModelError) as exc:
        raise UserError(str(exc)) from None
    except OSError as exc:
        raise UserError(f"cannot write the report into {out_dir}: {exc.strerror or exc}") from None
    click.echo(f"wrote {path} and {len(QUERIES)} CSV files beside it")


def main(argv=None):
    try:
        cli.main(args=argv, prog_name="wsiskg", standalone_mode=True)
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
