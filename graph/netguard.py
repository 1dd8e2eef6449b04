"""The one check every outbound request passes: `wsiskg link`, and the server's SERVICE guard.

Our code fetches URLs that users type (link endpoints, SERVICE clauses). Left unchecked, that makes
the process a confused deputy: a query could read a cloud metadata service (169.254.169.254), an
admin page on localhost, or a database on the private network. So, before any request:

* only `http` and `https`;
* the host must resolve, and every address it resolves to must be a public (global) address:
  loopback, link-local, private (RFC 1918, fc00::/7), carrier-grade NAT, multicast, reserved and
  unspecified addresses are refused, IPv4-mapped IPv6 addresses included;
* unless the host is explicitly allowed: `allow` lists hosts (or URLs whose host is taken) that may be
  private, e.g. an endpoint an operator put on the allow-list; `"*"` allows every private address
  (`wsiskg link --allow-private`).

Limits, stated plainly: the check resolves the name once; a DNS answer that changes between the check
and the connection (rebinding) is not caught here, and callers must re-check redirect targets
(`guarded_opener` below does so for urllib).
"""
from __future__ import annotations

import ipaddress
import socket
import urllib.parse
import urllib.request
from typing import Iterable

ALLOW_ALL_PRIVATE = "*"


class OutboundRefused(ValueError):
    """A URL our code must not fetch; the message says why and how to allow it."""


def _host_of(entry: str) -> str:
    """'https://Example.org:8080/sparql' or 'example.org:8080' or 'example.org' -> 'example.org'."""
    entry = entry.strip()
    if "://" in entry:
        return (urllib.parse.urlsplit(entry).hostname or "").lower()
    if entry.startswith("[") and "]" in entry:  # [::1]:7878
        return entry[1:entry.index("]")].lower()
    if entry.count(":") == 1:  # host:port (a bare IPv6 address has several colons)
        return entry.split(":", 1)[0].lower()
    return entry.lower()


def _addresses(host: str, port: int) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError) as exc:
        raise OutboundRefused(f"cannot resolve the host {host!r}: {exc.args[-1] if exc.args else exc}") from None
    return [ipaddress.ip_address(info[4][0].split("%", 1)[0]) for info in infos]


def is_public_address(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """True only for globally routable unicast addresses."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast and not address.is_unspecified


def check_outbound(url: str, allow: Iterable[str] = ()) -> None:
    """Raise `OutboundRefused` unless `url` is an http(s) URL whose host is public or allowed.

    `allow`: hosts, `host:port`s or URLs whose host may resolve to a private address (the operator
    named them); `"*"` allows any private address. The scheme rule always applies.
    """
    if not isinstance(url, str) or not url.strip():
        raise OutboundRefused("no URL given")
    try:
        parts = urllib.parse.urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise OutboundRefused(f"{url!r} is not a valid URL: {exc}") from None
    if parts.scheme.lower() not in ("http", "https"):
        raise OutboundRefused(f"{url!r}: only http:// and https:// URLs may be fetched, not {parts.scheme or 'a relative URL'}")
    host = (parts.hostname or "").lower()
    if not host:
        raise OutboundRefused(f"{url!r} names no host")
    allow = [entry for entry in allow if entry]
    if ALLOW_ALL_PRIVATE in allow or host in {_host_of(entry) for entry in allow}:
        return
    port = port or (443 if parts.scheme.lower() == "https" else 80)
    for address in _addresses(host, port):
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        if not is_public_address(address):
            kind = ("loopback" if address.is_loopback else "link-local" if address.is_link_local
                    else "private" if address.is_private else "non-public")
            raise OutboundRefused(
                f"{url!r}: {host} is a {kind} address ({address}); requests to loopback, link-local and "
                "private addresses are refused. If you mean it, allow it explicitly "
                "(`wsiskg link --allow-private`, or list the endpoint with `wsiskg serve --allow-service URL`).")


class _GuardedRedirects(urllib.request.HTTPRedirectHandler):
    def __init__(self, allow: Iterable[str]):
        self.allow = list(allow)

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        check_outbound(newurl, self.allow)
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def guarded_opener(allow: Iterable[str] = ()) -> urllib.request.OpenerDirector:
    """A urllib opener that applies `check_outbound` to every redirect target as well."""
    return urllib.request.build_opener(_GuardedRedirects(allow))


def read_capped(response, max_bytes: int, what: str = "the response") -> bytes:
    """Read at most `max_bytes`; a longer body is an error, not a silent truncation."""
    data = response.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise OutboundRefused(f"{what} is larger than {max_bytes} bytes; narrow the request or raise the limit")
    return data
