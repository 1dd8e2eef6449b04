"""Request guards: which remote endpoints a query may call, and how big a request may be.

`SERVICE` (and `LOAD` in updates) would let any client make this server send requests anywhere,
including to addresses only the server can reach (loopback, the cloud metadata address, the
private network). Only endpoints on the operator's allow-list are called; a listed endpoint named
by host name must also resolve to public addresses only, so a DNS answer that changes to a private
address is refused. To allow an endpoint on the local or private network, list it by IP address
(or as `localhost`).
"""
from __future__ import annotations

import ipaddress
import socket
import urllib.parse
from concurrent.futures import ThreadPoolExecutor, TimeoutError as FutureTimeout

_RESOLVER = ThreadPoolExecutor(max_workers=2, thread_name_prefix="resolve")


class Refused(ValueError):
    """A request the guards refuse; the message says why and what to do."""


def normalise_endpoint(url: str) -> str:
    parts = urllib.parse.urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    port = parts.port
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


def _public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def resolve(host: str, port: int, timeout: float = 3.0) -> list[str]:
    future = _RESOLVER.submit(socket.getaddrinfo, host, port, 0, socket.SOCK_STREAM)
    try:
        infos = future.result(timeout=timeout)
    except FutureTimeout:
        raise Refused(f"SERVICE endpoint host {host} did not resolve within {timeout:g} s") from None
    except OSError:
        raise Refused(f"SERVICE endpoint host {host} does not resolve") from None
    return sorted({info[4][0] for info in infos})


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
            parts = urllib.parse.urlsplit(target)
            if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
                raise Refused(f"SERVICE endpoint <{target}> is not an http(s) URL")
            if normalise_endpoint(target) not in self.allowed:
                listed = ", ".join(sorted(self.allowed)) or "none"
                raise Refused(f"SERVICE to <{target}> is not allowed: this server calls only the endpoints on its "
                              f"allow-list (wsiskg serve --allow-service URL); allowed: {listed}")
            host = parts.hostname.lower()
            if _is_literal_or_localhost(host):
                continue  # listed by address: the operator chose this exact endpoint
            port = parts.port or (443 if parts.scheme.lower() == "https" else 80)
            private = [a for a in resolve(host, port) if not _public(a)]
            if private:
                raise Refused(f"SERVICE endpoint host {host} resolves to a non-public address ({private[0]}); "
                              "list internal endpoints by IP address")
