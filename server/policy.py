"""What each route allows, declared on the blueprint that serves it (issue 18.2).

A blueprint carries one `RoutePolicy`: whether any web page may read its answers (CORS), whether
its GET answers are kept per version of the data (server/cache.py, which runs before Flask routes
and so asks `policy_for_path`), whether POSTed SPARQL queries are kept too, and which size cap its
request bodies meet. Routes outside a blueprint (/health) get the default: none of these.
"""
from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, Flask, request
from werkzeug.exceptions import HTTPException


@dataclass(frozen=True)
class RoutePolicy:
    cors: bool = False  # answers readable from any origin (Access-Control-Allow-Origin: *)
    cached: bool = False  # GET/HEAD answers kept per version of the data
    cached_post: bool = False  # POSTed queries (application/sparql-query or a form) kept too
    body: str = "query"  # the size cap of request bodies: "query" (max_query_bytes) or "data" (max_data_bytes)


DEFAULT = RoutePolicy()


def declare(blueprint: Blueprint, **policy) -> Blueprint:
    blueprint.policy = RoutePolicy(**policy)
    return blueprint


def _of(app: Flask, blueprint: str | None) -> RoutePolicy:
    return getattr(app.blueprints.get(blueprint or ""), "policy", DEFAULT)


def current_policy(app: Flask) -> RoutePolicy:
    """The policy of the route serving this request."""
    return _of(app, request.blueprint)


def policy_for_path(app: Flask, path: str, method: str = "GET") -> RoutePolicy:
    """The policy of the route a path reaches, outside a request (the response cache's question)."""
    try:
        endpoint, _ = app.url_map.bind("localhost").match(path, method=method)
    except HTTPException:  # no such route (404, 405): nothing to keep or allow
        return DEFAULT
    return _of(app, endpoint.rpartition(".")[0] or None)
