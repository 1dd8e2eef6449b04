"""Error responses for people: short, the right status, JSON when the client asked for JSON.

A user's mistake raises `ApiError` with a message that says what and where; anything else is a
bug: it is logged with its traceback and the client gets a generic 500 with no internals.
"""
from __future__ import annotations

import logging
import re

from flask import Flask, Response, json, render_template, request
from werkzeug.exceptions import HTTPException

from wsiskg.graph.store import QuerySyntaxError, StoreError

from .executor import Busy, QueryFailed, QueryTimeout, WorkerCrashed
from .guards import Refused
from .negotiation import NotAcceptable, UnknownFormat, prefers_html

log = logging.getLogger("wsiskg.server")

TITLES = {400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed",
          406: "Not Acceptable", 413: "Content Too Large", 415: "Unsupported Media Type", 422: "Unprocessable Content",
          500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout"}


class ApiError(Exception):
    def __init__(self, status: int, message: str, headers: dict | None = None, **extra):
        self.status = status
        self.message = message
        self.headers = headers or {}
        self.extra = extra
        super().__init__(message)


_POSITION = re.compile(r"error at (\d+):(\d+):\s*")


def syntax_error(exc: QuerySyntaxError, what: str = "query") -> ApiError:
    """A 400 naming line and column, from the engine's own message."""
    text = str(exc)
    match = _POSITION.search(text)
    if match:
        line, column = int(match.group(1)), int(match.group(2))
        detail = text[match.end():].strip()
        return ApiError(400, f"syntax error in the {what} at line {line}, column {column}: {detail}",
                        line=line, column=column)
    return ApiError(400, f"syntax error in the {what}: {scrub(text)}")


# A file-system path: two or more /segments not inside an IRI (an IRI's path follows its host, a
# word character, or "//"; before this look-behind, <https://w3id.org/wsis-kg/id/x> came out as
# <https:/<path>>).
_PATHS = re.compile(r"(?<![\w:/.\-~%@])(/[\w.\-]+){2,}/?")


def scrub(text: str, limit: int = 500) -> str:
    """No file-system paths in a message sent to a client; IRIs left whole."""
    text = _PATHS.sub("<path>", text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _remote_failure(message: str) -> bool:
    """Whether a failed query's error is a SERVICE endpoint's: the engine raised an OSError (a
    refused connection, an HTTP error status, a failed name look-up) while the request's query
    calls SERVICE. Such a failure is the remote's (502), not ours (500)."""
    import builtins

    from wsiskg.graph import library
    from wsiskg.graph.sparqltext import analyse
    name = message.split(":", 1)[0].strip()
    kind = getattr(builtins, name, None)
    if not (isinstance(kind, type) and issubclass(kind, OSError)):
        return False
    texts = [request.values.get("query") or ""]
    if request.mimetype == "application/sparql-query":
        texts.append(request.get_data(as_text=True))
    named = (request.view_args or {}).get("name") if request.blueprint == "queries" else None
    if named:
        from .context import services
        try:
            texts.append(library.get(named, services().config.queries_dir).text)
        except (library.UnknownQuery, ValueError):
            pass
    return any(analyse(text).services for text in texts if text)


def wants_json() -> bool:
    fmt = (request.args.get("format") or request.args.get("output") or "").lower()
    if "json" in fmt:
        return True
    explicit = [(mt, q) for mt, q in request.accept_mimetypes if mt != "*/*"]
    json_q = max((q for mt, q in explicit if "json" in mt), default=0)
    other_q = max((q for mt, q in explicit if "json" not in mt), default=0)
    return json_q > 0 and json_q >= other_q


def error_response(status: int, message: str, headers: dict | None = None, **extra) -> Response:
    title = TITLES.get(status, "Error")
    if wants_json():
        body = json.dumps({"error": title, "status": status, "message": message, **extra}, ensure_ascii=False)
        response = Response(body + "\n", status=status, mimetype="application/json")
    elif prefers_html():
        response = Response(render_template("error.html", status=status, title=title, message=message),
                            status=status, mimetype="text/html")
    else:
        response = Response(f"{status} {title}: {message}\n", status=status, mimetype="text/plain")
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def register(app: Flask) -> None:
    @app.errorhandler(ApiError)
    def _api_error(exc: ApiError):
        return error_response(exc.status, exc.message, exc.headers, **exc.extra)

    @app.errorhandler(QuerySyntaxError)
    def _syntax(exc):
        err = syntax_error(exc)
        return error_response(err.status, err.message, **err.extra)

    @app.errorhandler(QueryTimeout)
    def _timeout(exc: QueryTimeout):
        return error_response(503, f"{exc}; simplify the query or narrow it (a LIMIT does not always help)",
                              {"Retry-After": "5"}, timeout=exc.seconds)

    @app.errorhandler(Busy)
    def _busy(exc):
        return error_response(503, str(exc), {"Retry-After": "5"})

    @app.errorhandler(WorkerCrashed)
    def _crashed(exc):
        return error_response(500, "the query could not be completed (an internal error was logged)")

    @app.errorhandler(QueryFailed)
    def _failed(exc):
        if _remote_failure(str(exc)):
            log.warning("a SERVICE endpoint failed: %s", exc)
            detail = str(exc).split(":", 1)[1].strip()
            return error_response(502, f"an endpoint the query calls with SERVICE failed: {scrub(detail)}")
        log.error("query evaluation failed: %s", exc)
        return error_response(500, "the query failed inside the engine (an internal error was logged)")

    @app.errorhandler(StoreError)
    def _store(exc):
        log.error("store error: %s", exc)
        return error_response(503, f"the data is unavailable: {scrub(str(exc))}")

    @app.errorhandler(Refused)
    def _refused(exc):
        return error_response(400, str(exc))

    @app.errorhandler(NotAcceptable)
    def _not_acceptable(exc: NotAcceptable):
        return error_response(406, str(exc), available=[o.media_type for o in exc.offers])

    @app.errorhandler(UnknownFormat)
    def _unknown_format(exc):
        return error_response(400, str(exc))

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException):
        messages = {404: "no such page here; see / for the query page, /queries for the named queries",
                    405: f"{request.method} is not allowed on {request.path}",
                    413: "the request is too large"}
        message = messages.get(exc.code) or (exc.description or TITLES.get(exc.code, "error"))
        headers = {}
        if exc.code == 405 and exc.response is None:
            allowed = getattr(exc, "valid_methods", None)
            if allowed:
                headers["Allow"] = ", ".join(allowed)
        return error_response(exc.code or 500, message, headers)

    @app.errorhandler(Exception)
    def _bug(exc):
        log.exception("unhandled error on %s %s", request.method, request.path)
        return error_response(500, "internal error (logged on the server)")
