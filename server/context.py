"""The per-app objects blueprints share (settings, the data door, the guards)."""
from __future__ import annotations

from dataclasses import dataclass

from flask import current_app

from .backend import Backend
from .config import ServerConfig
from .guards import ServiceGuard


@dataclass
class Services:
    config: ServerConfig
    backend: Backend
    service_guard: ServiceGuard


def services() -> Services:
    return current_app.extensions["wsiskg"]
