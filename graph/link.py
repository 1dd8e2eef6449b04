"""Machine links: registered with the build so every rebuild recomputes them."""
from __future__ import annotations
