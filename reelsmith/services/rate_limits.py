"""Rate limits per team (code 1005): creates, polls, redeliveries, uploads and quotes.

Each kind has a rate (``REELSMITH_RATE_LIMIT_<KIND>_PER_MINUTE``, 0 = unlimited) and lets a
team use a whole minute's worth at once, then one more each ``60 / rate`` seconds: the generic
cell rate algorithm (GCRA), which keeps one number per team and kind, the "theoretical arrival
time" of its next request. It is kept in this process (the embedded default: one API process)
or in Redis, shared by every API host (scale-out), where a Lua script reads and writes it in one
step with Redis's own clock.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from reelsmith.errors import ApiError, Code
from reelsmith.settings import Settings


class Limited(StrEnum):
    """What is counted, as the refusal names it."""

    CREATE = "creates"
    POLL = "polls"
    REDELIVER = "redeliveries"
    UPLOAD = "uploads"
    QUOTE = "quotes"


@dataclass(frozen=True)
class Rate:
    per_minute: int

    @property
    def interval_ms(self) -> float:
        return 60_000 / self.per_minute

    @property
    def burst_ms(self) -> float:
        """How far ahead of now the next request's time may run: a minute's worth, less one."""
        return 60_000 - self.interval_ms


class Counter(Protocol):
    def take(self, key: str, rate: Rate) -> float:
        """Count one request; 0 if it is allowed, else the milliseconds until one would be."""
        ...


class LocalCounter:
    """GCRA in this process's memory."""

    def __init__(self) -> None:
        self._next: dict[str, float] = {}
        self._lock = threading.Lock()

    def take(self, key: str, rate: Rate) -> float:
        now = time.monotonic() * 1000
        with self._lock:
            arrival = max(self._next.get(key, now), now)
            wait = arrival - now - rate.burst_ms
            if wait > 0:
                return wait
            self._next[key] = arrival + rate.interval_ms
            if len(self._next) > 100_000:  # forget teams whose allowance is whole again
                self._next = {k: v for k, v in self._next.items() if v > now}
            return 0.0


# KEYS[1]: the key; ARGV: interval and burst in ms. Returns the wait in ms (0 = allowed).
_GCRA_SCRIPT = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + tonumber(clock[2]) / 1000
local interval, burst = tonumber(ARGV[1]), tonumber(ARGV[2])
local arrival = math.max(tonumber(redis.call('GET', KEYS[1]) or '0'), now)
local wait = arrival - now - burst
if wait > 0 then return tostring(wait) end
redis.call('SET', KEYS[1], tostring(arrival + interval), 'PX', math.ceil(arrival + interval - now) + 1)
return '0'
"""


class RedisCounter:
    """GCRA in Redis, shared by every API host."""

    def __init__(self, url: str, namespace: str) -> None:
        import redis

        self._client = redis.Redis.from_url(url)
        self._script = self._client.register_script(_GCRA_SCRIPT)
        self._prefix = f"{namespace}:rate:"

    def take(self, key: str, rate: Rate) -> float:
        return float(self._script(keys=[self._prefix + key], args=[rate.interval_ms, rate.burst_ms]))


class RateLimiter:
    """Refuses a team's request with 1005 when it is over its rate for that kind."""

    def __init__(self, settings: Settings, counter: Counter | None = None) -> None:
        self._rates = {
            Limited.CREATE: settings.rate_limit_creates_per_minute,
            Limited.POLL: settings.rate_limit_polls_per_minute,
            Limited.REDELIVER: settings.rate_limit_redeliveries_per_minute,
            Limited.UPLOAD: settings.rate_limit_uploads_per_minute,
            Limited.QUOTE: settings.rate_limit_quotes_per_minute,
        }
        redis_url = settings.shared_redis_url
        self._counter = counter or (RedisCounter(redis_url, settings.broker_namespace) if redis_url else LocalCounter())

    def check(self, team_id: str, kind: Limited) -> None:
        """Count one request of ``kind`` for ``team_id``; raises 1005 over the limit."""
        per_minute = self._rates[kind]
        if per_minute <= 0:
            return
        wait_ms = self._counter.take(f"{team_id}:{kind.name.lower()}", Rate(per_minute))
        if wait_ms > 0:
            raise ApiError(
                Code.TOO_FREQUENT,
                f"too many {kind.value}: at most {per_minute} a minute for a team; "
                f"try again in {max(1, math.ceil(wait_ms / 1000))} s",
            )
