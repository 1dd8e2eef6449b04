"""Request guards: which remote endpoints a query may call, and how big a request may be.

`SERVICE` (and `LOAD` in updates) would let any client make this server send requests anywhere,
including to addresses only the server can reach (loopback, the cloud metadata address, the
private network). Only endpoints on the operator's allow-list are called; a listed endpoint named
by host name must also resolve to public addresses only, so a DNS answer that changes to a private
address is refused. To allow an endpoint on the local or private network, list it by IP address
(or as `localhost`). The address check itself is graph/netguard.py's `check_outbound`, the one
outbound guard of the project (`wsiskg link` uses it too).
"""
from __future__ import annotations

import ipaddress
import urllib.parse
from concurrent.futures import ThreadPoolExecutor, TimeoutError as FutureTimeout

from wsiskg.graph.netguard import OutboundRefused, check_outbound

_RESOLVER = ThreadPoolExecutor(max_workers=2, thread_name_prefix="resolve")
RESOLVE_TIMEOUT = 3.0


class Refused(ValueError):
    """A request the guards refuse; the message says why and what to do."""


def normalise_endpoint(url: str) -> str:
    """A canonical form of an endpoint URL; raises ValueError for one that cannot be read."""
    parts = urllib.parse.urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    port = parts.port  # ValueError for a port out of range
    default = {"http": 80, "https": 443}.get(scheme)
    netloc = host if ":" not in host else f"[{host}]"
    if port and port != default:
        netloc += f":{port}"
    path = parts.path or "/"
    return urllib.parse.urlunsplit((scheme, netloc, path, parts.query, ""))


def _is_literal_or_localhost(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        return False


def checked_outbound(url: str, allow: list[str], timeout: float = RESOLVE_TIMEOUT) -> None:
    """`check_outbound`, with its name resolution bounded in time; raises `Refused`."""
    future = _RESOLVER.submit(check_outbound, url, allow)
    try:
        future.result(timeout=timeout)
    except FutureTimeout:
        host = urllib.parse.urlsplit(url).hostname
        raise Refused(f"SERVICE endpoint host {host} did not resolve within {timeout:g} s") from None
    except OutboundRefused as exc:
        raise Refused(f"SERVICE endpoint refused: {exc}") from None


class ServiceGuard:
    def __init__(self, allowed: list[str] | None = None):
        self.allowed = {normalise_endpoint(u) for u in (allowed or []) if u.strip()}

    def check(self, targets: list[str | None]) -> None:
        """Raise `Refused` unless every target is an allowed endpoint."""
        for target in targets:
            if target is None:
                raise Refused("SERVICE with a variable endpoint is not allowed here: name the endpoint by its IRI")
            if target.startswith("unresolved:"):
                raise Refused(f"SERVICE endpoint {target[len('unresolved:'):]} uses an undeclared prefix")
            try:
                parts = urllib.parse.urlsplit(target)
                normal = normalise_endpoint(target)
            except ValueError:
                raise Refused(f"SERVICE endpoint <{target[:200]}> is not a valid URL") from None
            if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
                raise Refused(f"SERVICE endpoint <{target[:200]}> is not an http(s) URL")
            if normal not in self.allowed:
                listed = ", ".join(sorted(self.allowed)) or "none"
                raise Refused(f"SERVICE to <{target[:200]}> is not allowed: this server calls only the endpoints on "
                              f"its allow-list (wsiskg serve --allow-service URL); allowed: {listed}")
            host = parts.hostname.lower()
            # listed by address (or as localhost): the operator chose this exact endpoint, private or not;
            # listed by name: every address the name resolves to must be public
            checked_outbound(target, [host] if _is_literal_or_localhost(host) else [])
