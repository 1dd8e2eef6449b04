"""The `wsiskg` command line. Exit codes: 0 success, 1 failed validation or query, 2 usage error.

Commands of other packages (`serve`, in server/cli.py) join the group through the `wsiskg.commands`
entry points, so graph/ never imports the server."""
from __future__ import annotations

import json
import sys
from contextlib import contextmanager
from importlib.metadata import entry_points
from pathlib import Path

import click

from . import library
from .paths import default_store_path
from .results import ALL_FORMATS, RDF_FORMATS


class UserError(click.ClickException):
    """A user's mistake: one clear message, exit 1, no traceback."""

    exit_code = 1


@contextmanager
def user_errors(*also: type[BaseException], prefix: str = ""):
    """The one mapping of the library's errors to a user's error: a StoreError (and the `also` kinds)
    becomes one line on stderr and exit 1, never a traceback."""
    from .store import StoreError
    try:
        yield
    except (StoreError, *also) as exc:
        # a LookupError's str() quotes its message: show the message itself
        message = exc.args[0] if len(exc.args) == 1 and isinstance(exc.args[0], str) else str(exc)
        raise UserError(f"{prefix}{message}") from None


def store_root(ctx) -> Path:
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


def ensure_built(ctx, quiet=True) -> Path:
    """The store's folder, built on first use only when it is the default store: a path the user
    named that holds no store is refused, so a typo does not answer from a new, empty-handed store."""
    from .store import database_path
    root = store_root(ctx)
    if database_path(root) is None:
        if ctx.obj.get("store") and root.resolve() != default_store_path().resolve():
            raise NoStore(f"no store at {root} (given with --store or WSISKG_STORE): check the path, "
                          f"or make one there with `wsiskg --store {root} build`")
        click.echo(f"No store at {root} yet: building it first.", err=True)
        _run_build(ctx, quiet=quiet)
    return root


def open_existing(ctx, read_only=True):
    """The store for reading commands: built on first use when it is the default one."""
    from .store import open_store
    if ctx.obj.get("endpoint"):
        return open_store(endpoint=ctx.obj["endpoint"])
    root = ensure_built(ctx)
    with user_errors():
        return open_store(root, read_only=read_only)


class Commands(click.Group):
    """The group of commands: its own, and those other packages declare as `wsiskg.commands` entry points
    (loaded only when named or listed)."""

    def _plugins(self) -> dict:
        return {ep.name: ep for ep in entry_points(group="wsiskg.commands")}

    def list_commands(self, ctx):
        return sorted({*super().list_commands(ctx), *self._plugins()})

    def get_command(self, ctx, name):
        found = super().get_command(ctx, name)
        if found is None and name in self._plugins():
            found = self._plugins()[name].load()
        return found


@click.group(cls=Commands, context_settings={"help_option_names": ["-h", "--help"]})
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
    store = f" --store {shlex.quote(str(store_root(ctx)))}" if ctx.obj.get("store") else ""
    shown = " ".join(shlex.quote(f) for f in files[:most])
    more = f" (and {len(files) - most} more file(s))" if len(files) > most else ""
    return f"{text}; the {len(listed)} warning(s) of entry files: see them with:\n  wsiskg{store} validate {shown}{more}"


def _run_build(ctx, quiet=False, progress=None):
    from .build import BuildFailed, build
    from .embed import ModelError
    root = store_root(ctx)
    try:
        with user_errors(ModelError), user_errors(prefix="build not started: "):  # another writer holds the store
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
            click.echo(_warnings_hint(ctx, result.warnings))
        for note in result.notes:
            click.echo(f"note: {note}")
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
    from .store import QuerySyntaxError
    values = {}
    for item in params:
        if "=" not in item:
            raise click.UsageError(f"--param takes K=V, got {item!r}")
        key, value = item.split("=", 1)
        values[key.strip()] = value
    path = Path(name_or_file)
    with user_errors(library.UnknownQuery, library.ParameterError, ValueError):
        if path.suffix == ".rq":
            if not path.is_file():
                raise UserError(f"{path}: no such query file")
            named = library.load(path)
        else:
            named = library.get(name_or_file)
        bindings = named.bind(values)
    analysis = analyse(named.text)
    mismatch = fmt != "table" and analysis.form and format_mismatch(analysis.result_kind, fmt)
    if mismatch:
        raise click.UsageError(mismatch)
    store = open_existing(ctx)
    with user_errors():
        try:
            with store:
                result = store.query(named.text, bindings=bindings, limit=limit)
        except QuerySyntaxError as exc:  # a StoreError with its own prefix: caught before user_errors
            raise UserError(f"{name_or_file}: syntax error: {exc}") from None
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
    root = ensure_built(ctx)
    try:
        with user_errors(ModelError):
            result = run_ingest(Path(file), root, slug=slug, threshold=threshold,
                                progress=_progress(sys.stderr.isatty() if progress is None else progress))
    except IngestError as exc:
        for problem in exc.problems:
            click.echo(str(problem), err=True)
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
    store = open_existing(ctx)
    with user_errors(), store:
        found = list_documents(store, store_root(ctx))
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
    from .store import database_path
    root = store_root(ctx)
    if database_path(root) is None:
        raise UserError(f"no store at {root}: nothing to remove")
    with user_errors(DocumentError):
        version = remove_document(root, slug)
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
    root = store_root(ctx)
    with user_errors():
        kept = journal.entries(root)
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
        with user_errors():
            result = run_build(root, progress=_progress(sys.stderr.isatty() if progress is None else progress),
                               restore_to=version)
    except BuildFailed as exc:
        _print_build_failure(exc)
        raise UserError(f"restore failed: {exc}; the store is unchanged") from None
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


# the graph formats of graph/results.py's table that `export` writes
EXPORT_FORMATS = {name: RDF_FORMATS[name] for name in ("nquads", "trig", "turtle", "jsonld", "ntriples")}


@cli.command()
@click.option("--graph", "graph_iri", default=None, help="Only this named graph (IRI).")
@click.option("--format", "fmt", type=click.Choice(sorted(EXPORT_FORMATS)), required=True)
@click.pass_context
def export(ctx, graph_iri, fmt):
    """Write the graph (or one named graph) to standard output."""
    import pyoxigraph as ox
    rdf_format = EXPORT_FORMATS[fmt]
    if graph_iri is None and fmt in ("turtle", "ntriples"):
        raise click.UsageError(f"--format {fmt} holds one graph: name it with --graph, or use nquads/trig/jsonld")
    store = open_existing(ctx)
    with user_errors(), store:
        if graph_iri and graph_iri not in store.graph_sizes():
            raise UserError(f"no named graph <{graph_iri}> in the store")
        data = store.dump(rdf_format, graph_iri)
    # The store keeps wsis:sourceLine's xsd:positiveInteger as xsd:integer: give the shapes' datatypes
    # back, so an export passes `wsiskg validate` and other tools read the ontology's ranges.
    from .validate import restore_line_datatypes, restore_quad_datatypes
    if fmt in ("nquads", "ntriples"):
        data = restore_line_datatypes(data)
    else:
        data = ox.serialize(restore_quad_datatypes(ox.parse(data, format=rdf_format)), format=rdf_format) or b""
    sys.stdout.buffer.write(data)


# -- external datasets: link, import, describe (docs/external.md) ---------------------------------

def _writable_store(ctx, command: str, read_only: bool = False):
    """The embedded store, opened for writing (built first when it is the default one); with
    `read_only` (a dry run), opened without the write lock, so it works beside a running server."""
    from .store import EmbeddedStore
    if ctx.obj.get("endpoint"):
        raise UserError(f"`wsiskg {command}` writes to the embedded store (--store); it cannot work on a remote "
                        "endpoint given with the global --endpoint / WSISKG_ENDPOINT")
    root = ensure_built(ctx)
    with user_errors():
        return root, EmbeddedStore.open(root, read_only=read_only)


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
    from .link import AlignError, load_link_mapping, run
    from .mapping import MappingError
    from .netguard import ALLOW_ALL_PRIVATE, OutboundRefused
    with user_errors(MappingError):
        mapping = load_link_mapping(mapping_file)
    root, store = _writable_store(ctx, "link", read_only=dry_run)
    with user_errors(MappingError, AlignError, OutboundRefused), store:
        result = run(store, root, remote, mapping, allow=[ALLOW_ALL_PRIVATE] if allow_private else [],
                     graph_name=graph_name, dry_run=dry_run)
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
    from .import_csv import ImportFailed, load_table_mapping, run_import
    with user_errors(MappingError):
        mapping = load_table_mapping(mapping_file)
    if not Path(file).is_file():
        raise UserError(f"{file}: no such file")
    root, store = _writable_store(ctx, "import")
    try:
        with user_errors(MappingError), store:
            result = run_import(Path(file), mapping, store, root, graph_name=graph_name, skip_bad_rows=skip_bad_rows)
    except ImportFailed as exc:
        for problem in exc.problems:
            click.echo(str(problem), err=True)
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
    from .dataset_description import description_bytes
    store = open_existing(ctx)
    with user_errors(), store:
        data = description_bytes(store, fmt, base_url)
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
    store = open_existing(ctx)
    try:
        with user_errors(library.UnknownQuery, library.ParameterError, ModelError), store:
            path = write_report(store, Path(out_dir), base=base,
                                threshold="default" if threshold is None else threshold)
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
