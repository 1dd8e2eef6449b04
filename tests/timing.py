"""Time limits in tests, scaled to how fast this machine is running right now (issue 17.4).

A test that asserts "answered within 2 s" means "at once, not after a deadline": on a quiet machine
that is 50 ms, on two cores shared with a build it can be 1.5 s. `allowed(2)` keeps the meaning and
scales the figure by the machine's present slowness: the time a fixed piece of CPU work takes now,
over the best time it took in this test session (measured at import, then every time a limit is
asked for). The factor never goes below 1 (limits only widen) and is capped, so that a hang is
still told apart from a slow machine.
"""
from __future__ import annotations

import time

MAX_FACTOR = 8.0
_best: float | None = None


def _probe() -> float:
    """Seconds one fixed, allocation-light piece of CPU work takes now (about 20 ms when idle)."""
    started = time.perf_counter()
    total = 0
    for i in range(300_000):
        total += i * i % 7
    return time.perf_counter() - started


def slowness() -> float:
    """How many times slower than its best in this session the machine runs now (≥ 1)."""
    global _best
    now = min(_probe() for _ in range(2))
    _best = now if _best is None else min(_best, now)
    return min(MAX_FACTOR, max(1.0, now / _best))


def allowed(seconds: float) -> float:
    """A time limit of `seconds` on a quiet machine, for the machine as it runs now."""
    return seconds * slowness()


slowness()  # the session's first measure (most test sessions start before the heavy tests)
