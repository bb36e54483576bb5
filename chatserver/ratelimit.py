"""In-memory sliding-window limits (per visitor, per address, per login)."""
from __future__ import annotations

from collections import deque


class SlidingWindowLimiter:
    """At most `limit` events per `window` seconds for each key."""

    def __init__(self, limit: int, window: float, max_keys: int = 100_000):
        self.limit = limit
        self.window = window
        self.max_keys = max_keys
        self._events: dict[str, deque] = {}

    def allow(self, key: str, now: float) -> bool:
        """Record an event for `key` and say whether it is within the limit (refused events are not counted)."""
        events = self._events.get(key)
        if events is None:
            if len(self._events) >= self.max_keys:
                self._prune(now)
            events = self._events[key] = deque()
        while events and now - events[0] >= self.window:
            events.popleft()
        if len(events) >= self.limit:
            return False
        events.append(now)
        return True

    def count(self, key: str, now: float) -> int:
        events = self._events.get(key)
        if not events:
            return 0
        while events and now - events[0] >= self.window:
            events.popleft()
        return len(events)

    def forget(self, key: str, at: float) -> None:
        """Take back one event recorded at `at` (a provisional count that turned out not to need counting)."""
        events = self._events.get(key)
        if events:
            try:
                events.remove(at)
            except ValueError:
                pass

    def retry_after(self, key: str, now: float) -> float:
        """Seconds until `key` is below its limit again (0 when it already is)."""
        if self.count(key, now) < self.limit:
            return 0.0
        events = self._events[key]
        return max(0.0, events[-self.limit] + self.window - now)

    def reset(self, key: str) -> None:
        self._events.pop(key, None)

    def _prune(self, now: float) -> None:
        for key in [k for k, ev in self._events.items() if not ev or now - ev[-1] >= self.window]:
            del self._events[key]
