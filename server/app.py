"""The app factory and `serve`: Flask blueprints behind waitress (a production WSGI server).

One log line per request: client, method, path, status, duration. Each request's client address is
known to the query pool (per-client limits on slow work), and `serve` bounds connections per client
and request read time (guards.py) with limits sized from the machine.
"""
from __future__ import annotations

import logging
import signal
import sys
import time

from flask import Flask, Response, request

from .backend import Backend
from .cache import QueryFolderState, ResponseCache, Warmer
from .config import ServerConfig, read_token
from .context import Services
from .errors import ApiError, error_response, register as register_errors
from .executor import MemoryLimit, client_address
from .guards import ServiceGuard, guard_connections, machine_limits
from .policy import current_policy, policy_for_path
from wsiskg.graph.sparqltext import TooDeep

log = logging.getLogger("wsiskg.server")



class RequestLog:
    """WSGI middleware: one line per request, timed until the last byte is sent."""

    def __init__(self, app, logger: logging.Logger):
        self.app = app
        self.logger = logger

    def __call__(self, environ, start_response):
        started = time.perf_counter()
        status_holder = {}

        def recording_start_response(status, headers, exc_info=None):
            status_holder["status"] = status.split(" ", 1)[0]
            return start_response(status, headers, exc_info)

        body = self.app(environ, recording_start_response)
        try:
            yield from body
        finally:
            if hasattr(body, "close"):
                body.close()
            path = environ.get("PATH_INFO", "")
            self.logger.info("%s %s %s %s %.1f ms", environ.get("REMOTE_ADDR", "-"), environ.get("REQUEST_METHOD", "-"),
                             path, status_holder.get("status", "-"), (time.perf_counter() - started) * 1000)


class ClientAddress:
    """WSGI middleware: the request's client address, for the query pool's per-client limits."""

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        token = client_address.set(environ.get("REMOTE_ADDR") or None)
        try:
            return self.app(environ, start_response)
        finally:
            client_address.reset(token)


def create_app(config: ServerConfig, backend: Backend | None = None) -> Flask:
    app = Flask(__name__, static_folder="static", template_folder="templates")
    app.config["JSON_SORT_KEYS"] = False
    app.json.sort_keys = False
    app.extensions["wsiskg"] = Services(config, backend or Backend(config), ServiceGuard(config.allow_service))

    from . import pages, queries, reports, sparql, validation, void, writes
    for module in (sparql, queries, pages, validation, void, writes, reports):
        app.register_blueprint(module.bp)
    register_errors(app)

    @app.errorhandler(TooDeep)
    def _too_deep(exc: TooDeep):
        return error_response(400, str(exc), line=exc.line, column=exc.column, depth=exc.depth, limit=exc.limit)

    @app.errorhandler(MemoryLimit)
    def _memory(exc: MemoryLimit):
        return error_response(503, f"{exc}; narrow it (a more selective first pattern, fewer patterns joined, "
                                   "no ORDER BY over everything)", memory_mb=exc.megabytes)

    @app.before_request
    def _limits():
        cap = config.max_data_bytes if current_policy(app).body == "data" else config.max_query_bytes
        request.max_content_length = cap
        length = request.content_length
        if length is not None and length > cap:
            raise ApiError(413, f"the request body is {length} bytes; this route takes at most {cap} bytes")
        if len(request.query_string) > cap:
            raise ApiError(413, f"the query string is longer than {cap} bytes")
        if request.method == "OPTIONS":
            return _preflight()

    def _preflight() -> Response:
        response = Response(status=204)
        if current_policy(app).cors:
            response.headers["Access-Control-Allow-Origin"] = "*"
            response.headers["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
            response.headers["Access-Control-Allow-Headers"] = "Accept, Content-Type, Accept-Language"
            response.headers["Access-Control-Max-Age"] = "86400"
        response.headers["Allow"] = "GET, POST, OPTIONS"
        return response

    @app.after_request
    def _headers(response: Response):
        if current_policy(app).cors:
            response.headers["Access-Control-Allow-Origin"] = "*"
            response.headers["Access-Control-Expose-Headers"] = "X-WSISKG-Truncated, X-WSISKG-Row-Limit, Retry-After"
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        if response.mimetype == "text/html":
            response.headers.setdefault("Content-Security-Policy",
                                        "default-src 'self'; img-src 'self' data:; style-src 'self'; "
                                        "script-src 'self'; frame-ancestors 'none'; base-uri 'none'")
        return response

    backend = app.extensions["wsiskg"].backend
    queries = QueryFolderState(config.queries_dir)
    responses = ResponseCache(app.wsgi_app, lambda: (backend.key(), queries.state()),
                              lambda path, method: policy_for_path(app, path, method),
                              max_bytes=config.cache_mb * 2 ** 20 // 2, max_request_bytes=config.max_query_bytes)
    app.wsgi_app = ClientAddress(responses)

    @app.route("/health")
    def health():
        warmer = backend.warmer
        return {"status": "ok", "version": backend.version,
                "cache": {"results": backend.results.entries.stats(), "responses": responses.entries.stats()},
                "pool": backend.executor.stats(),
                "warm": None if warmer is None else {"current": warmer.warmed_identity == backend.key(), **warmer.last}}

    return app


def _logging() -> logging.Logger:
    logger = logging.getLogger("wsiskg.server")
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False
    logging.getLogger("waitress").setLevel(logging.WARNING)
    return logger


def serve(config: ServerConfig, connection_limit: int | None = None) -> None:
    """Run the server until interrupted (the `wsiskg serve` command, server/cli.py)."""
    import waitress

    logger = _logging()
    config.token = read_token(config.token_file)
    from .executor import parse_size
    if config.worker_memory != "auto":
        parse_size(config.worker_memory)  # a ValueError names the bad value before any worker starts
    sized = machine_limits(config.workers)
    threads = config.threads or sized["threads"]
    connection_limit = connection_limit or sized["connection_limit"]
    backend = Backend(config)
    app = create_app(config, backend)
    if config.warm:
        backend.warmer = Warmer(backend, config.queries_dir).start()

    def _stop(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _stop)
    where = f"remote endpoint {config.endpoint}" if config.endpoint else f"store {config.store_root}"
    logger.info("serving %s on http://%s:%s/ (timeout %g s, %d rows, %d workers, writes %s; %d threads, "
                "%d connections, %d per client, %g s to send a request)", where, config.host, config.port,
                config.timeout, config.max_rows, config.workers, "on" if config.token else "off", threads,
                connection_limit, config.connections_per_client, config.read_timeout)
    try:
        # poll, not select: select cannot watch more than 1,024 connections
        server = waitress.create_server(
            RequestLog(app, logger), host=config.host, port=config.port, threads=threads, ident="wsiskg",
            max_request_body_size=max(config.max_query_bytes, config.max_data_bytes) + 1024,
            channel_timeout=max(30, int(config.read_timeout)), cleanup_interval=1, asyncore_use_poll=True,
            connection_limit=connection_limit, backlog=2048, clear_untrusted_proxy_headers=True)
        guard_connections(server, config.connections_per_client, config.read_timeout)
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        backend.close()
