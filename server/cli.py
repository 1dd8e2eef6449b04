"""`wsiskg serve`: the server's command. It joins the `wsiskg` group through the `wsiskg.commands`
entry point (pyproject.toml), so graph/ never imports the server. Its options are built from
ServerConfig's fields (server/config.py), where each setting, its default and its help are declared."""
from __future__ import annotations

import dataclasses

import click

from wsiskg.graph.cli import ensure_built, store_root, user_errors

from .config import ServerConfig
from .executor import parse_size


def config_options(command):
    """Add an option for every ServerConfig field that declares one, in the fields' order."""
    for f in reversed(dataclasses.fields(ServerConfig)):
        if "option" not in f.metadata:
            continue
        option = dict(f.metadata["option"])
        declaration = option.pop("flag", "--" + f.name.replace("_", "-"))
        default = option.pop("unset", () if option.get("multiple") else f.default)
        command = click.option(declaration, f.name, default=default, **option)(command)
    return command


@click.command()
@config_options
@click.pass_context
def serve(ctx, **settings):
    """Serve the SPARQL endpoint, named queries, pages and reports over HTTP."""
    settings["endpoint"] = settings["endpoint"] or ctx.obj.get("endpoint")
    root = store_root(ctx)
    if not settings["endpoint"]:
        ensure_built(ctx, quiet=False)
    for name in ("timeout", "max_rows", "workers", "threads", "max_query_bytes", "max_data_bytes"):
        if (1 if name == "threads" and settings[name] is None else settings[name]) <= 0:
            raise click.UsageError(f"--{name.replace('_', '-')} must be positive")
    if settings["worker_memory"] != "auto":
        try:
            parse_size(settings["worker_memory"])
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--worker-memory") from None
    settings["allow_service"] = list(settings["allow_service"])
    from .app import serve as run_server
    with user_errors(ValueError, OSError, prefix="cannot serve: "):
        run_server(ServerConfig(store_root=root, **{k: v for k, v in settings.items() if v is not None}))
