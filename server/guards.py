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


# -- connections: slow and greedy clients (issue 14.3) ----------------------------------------------
# waitress reads requests in one event loop and hands only complete ones to its threads, so a slow
# client costs a connection, not a thread; but it has no deadline for a request that trickles in
# and no limit per client, and its default of 100 connections in all is soon taken. These bound
# both and size the totals from the machine.

def machine_limits(workers: int) -> dict:
    """HTTP threads and the connection limit for this machine (raising the open-file limit to its hard
    cap: every connection is a file descriptor, and some are kept for the store and the workers)."""
    import os
    import resource
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = 65536 if hard == resource.RLIM_INFINITY else min(hard, 65536)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
            soft = wanted
        except (ValueError, OSError):
            pass
    files = 65536 if soft == resource.RLIM_INFINITY else soft
    cores = os.cpu_count() or 1
    # threads: quick answers take a thread for milliseconds; slow ones at most one per worker at a time
    return {"threads": max(16, 8 * cores, 4 * workers),
            "connection_limit": max(100, min(10_000, files - 512))}


def guard_connections(server, per_client: int, read_timeout: float) -> None:
    """Make a waitress server refuse a client's connections beyond `per_client` (closed at once), and
    close a connection whose request (headers and body) has not all arrived `read_timeout` s after its
    first byte. The idle limit (no request under way) is waitress's own `channel_timeout`."""
    import socket
    import time as _time
    from collections import Counter

    base = server.channel_class
    open_by_client: Counter = Counter()

    class GuardedChannel(base):
        reading_since = None

        def __init__(self, srv, sock, addr, adj, map=None):
            self.client = addr[0] if isinstance(addr, tuple) else str(addr)
            open_by_client[self.client] += 1
            super().__init__(srv, sock, addr, adj, map)

        def received(self, data):
            if self.request is None and data:
                self.reading_since = _time.monotonic()
            result = super().received(data)
            if self.request is None:
                self.reading_since = None
            return result

        def del_channel(self, map=None):
            if self._fileno is not None and self.client is not None:
                open_by_client[self.client] -= 1
                if open_by_client[self.client] <= 0:
                    del open_by_client[self.client]
                self.client = None
            super().del_channel(map)

    def handle_accept():
        try:
            pair = server.accept()
            if pair is None:
                return
            conn, addr = pair
        except OSError:
            return
        client = addr[0] if isinstance(addr, tuple) else str(addr)
        if open_by_client[client] >= per_client:
            server.refused_connections = getattr(server, "refused_connections", 0) + 1
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            conn.close()
            return
        try:
            server.set_socket_options(conn)
        except OSError:
            conn.close()
            return
        GuardedChannel(server, conn, server.fix_addr(addr), server.adj, map=server._map)

    original_maintenance = server.maintenance

    def maintenance(now):
        original_maintenance(now)
        cutoff = _time.monotonic() - read_timeout
        for channel in list(server.active_channels.values()):
            since = getattr(channel, "reading_since", None)
            if since is not None and since < cutoff and not channel.requests:
                channel.will_close = True  # the loop closes it

    server.channel_class = GuardedChannel
    server.handle_accept = handle_accept
    server.maintenance = maintenance
    server.open_by_client = open_by_client
