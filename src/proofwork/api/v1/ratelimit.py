"""A token bucket per client address, in process: `rate` requests a minute, bursts up to `rate`.

In process on purpose: the API runs as one process beside the embedded chain (`proofwork serve`),
and a library with a shared backend (slowapi with Redis) would add a service to run for nothing."""

from __future__ import annotations

import threading
import time

MAX_CLIENTS = 100_000  # buckets kept; the oldest are dropped past this


class TokenBuckets:
    def __init__(self, per_minute: int) -> None:
        self.capacity = float(per_minute)
        self.refill = per_minute / 60.0
        self._buckets: dict[str, tuple[float, float]] = {}  # client -> (tokens, last refill)
        self._lock = threading.Lock()

    def take(self, client: str, now: float | None = None) -> float | None:
        """None when the request may go ahead, else the seconds to wait."""
        now = time.monotonic() if now is None else now
        with self._lock:
            tokens, last = self._buckets.get(client, (self.capacity, now))
            tokens = min(self.capacity, tokens + (now - last) * self.refill)
            if tokens < 1:
                self._buckets[client] = (tokens, now)
                return (1 - tokens) / self.refill
            self._buckets[client] = (tokens - 1, now)
            if len(self._buckets) > MAX_CLIENTS:
                self._buckets.pop(next(iter(self._buckets)))
            return None
