"""The `wsiskg` command line. Exit codes: 0 success, 1 failed validation or query, 2 usage error."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from . import library
from .paths import default_store_path


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


def open_existing(ctx, read_only=True):
    """The store for reading commands: built on first use when it is the default one."""
    from .store import StoreError, database_path, open_store
    root = _store_root(ctx)
    if ctx.obj.get("endpoint"):
        return open_store(endpoint=ctx.obj["endpoint"])
    if database_path(root) is None:
        click.echo(f"No store at {root} yet: building it first.", err=True)
        _run_build(ctx, quiet=True)
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


def _run_build(ctx, quiet=False, progress=None):
    from .build import BuildFailed, build
    root = _store_root(ctx)
    try:
        result = build(root, progress=_progress(sys.stderr.isatty() if progress is None else progress))
    except BuildFailed as exc:
        _print_build_failure(exc)
        raise UserError(f"build failed: {exc}; the previous store (if any) is unchanged") from None
    if not quiet:
        click.echo(f"Built store version {result.version} at {root}")
        width = max(len(g) for g in result.graph_sizes)
        for graph, size in result.graph_sizes.items():
            click.echo(f"  {graph:<{width}}  {size:>7} triples")
        click.echo(f"  {'total':<{width}}  {sum(result.graph_sizes.values()):>7} triples")
        if result.warnings:
            click.echo(f"{len(result.warnings)} warning(s) (the build keeps them; `wsiskg validate` shows details)")
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


FORMATS = ["table", "json", "csv", "tsv", "xml", "turtle", "ntriples", "jsonld"]


@cli.command()
@click.argument("name_or_file")
@click.option("--param", "-p", "params", multiple=True, metavar="K=V", help="A parameter of a named query.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table")
@click.option("--limit", type=int, default=None, help="Read at most this many rows.")
@click.pass_context
def query(ctx, name_or_file, params, fmt, limit):
    """Run a named query (see `wsiskg queries`) or a .rq file."""
    from .results import serialize, table
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
    store = open_existing(ctx)
    try:
        with store:
            result = store.query(named.text, bindings=bindings, limit=limit)
    except QuerySyntaxError as exc:
        raise UserError(f"{name_or_file}: syntax error: {exc}") from None
    except StoreError as exc:
        raise UserError(str(exc)) from None
    if fmt == "table":
        click.echo(table(result))
    else:
        sys.stdout.buffer.write(serialize(result, fmt))
        sys.stdout.buffer.flush()


@cli.command()
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--slug", default=None, help="The document's name in IRIs (default: from the file name).")
@click.option("--progress/--no-progress", default=None, help="Show a progress bar (default: on a terminal).")
@click.pass_context
def ingest(ctx, file, slug, progress):
    """Turn an outcome document into entries, link, validate and add them (re-ingest replaces)."""
    from .ingest import IngestError, ingest as run_ingest
    from .store import StoreError, database_path
    root = _store_root(ctx)
    if database_path(root) is None:
        click.echo(f"No store at {root} yet: building it first.", err=True)
        _run_build(ctx, quiet=True)
    try:
        result = run_ingest(Path(file), root, slug=slug,
                            progress=_progress(sys.stderr.isatty() if progress is None else progress))
    except IngestError as exc:
        for problem in exc.problems:
            click.echo(str(problem), err=True)
        raise UserError(str(exc)) from None
    except StoreError as exc:
        raise UserError(str(exc)) from None
    counts = ", ".join(f"{n} {kind}" for kind, n in sorted(result.counts.items()))
    click.echo(f"Ingested {file} as <{result.slug}>: {result.statements} statements ({counts}), "
               f"{result.links} links, {result.similar_pairs} similar pairs in the corpus")
    click.echo(f"Entry file: {result.entry_file}")
    for warning in result.warnings:
        click.echo(f"warning: {warning}", err=True)


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
    sys.stdout.buffer.write(data)


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--endpoint", "remote", default=None, help="Serve a remote SPARQL 1.1 endpoint instead of the embedded store.")
@click.option("--update-endpoint", default=None, help="The remote endpoint's update URL (for writes).")
@click.option("--allow-service", multiple=True, metavar="URL", help="An endpoint SERVICE clauses may call (repeatable).")
@click.option("--token-file", type=click.Path(dir_okay=False, exists=True), default=None,
              help="File holding the bearer token that enables /update and /data.")
@click.option("--timeout", default=30.0, show_default=True, type=float, help="Per-query time limit, seconds.")
@click.option("--max-rows", default=10000, show_default=True, type=int, help="Rows returned before truncating.")
@click.option("--workers", default=2, show_default=True, type=int, help="Query worker processes.")
@click.option("--threads", default=8, show_default=True, type=int, help="HTTP threads.")
@click.pass_context
def serve(ctx, host, port, remote, update_endpoint, allow_service, token_file, timeout, max_rows, workers, threads):
    """Serve the SPARQL endpoint, named queries, pages and reports over HTTP."""
    from .store import database_path
    from wsiskg.server.app import serve as run_server
    root = _store_root(ctx)
    remote = remote or ctx.obj.get("endpoint")
    if not remote and database_path(root) is None:
        click.echo(f"No store at {root} yet: building it first.", err=True)
        _run_build(ctx)
    run_server(store_root=root, endpoint=remote, update_endpoint=update_endpoint, host=host, port=port,
               allow_service=list(allow_service), token_file=token_file, timeout=timeout, max_rows=max_rows,
               workers=workers, threads=threads)


def main(argv=None):
    try:
        cli.main(args=argv, prog_name="wsiskg", standalone_mode=True)
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
