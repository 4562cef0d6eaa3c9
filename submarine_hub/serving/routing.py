"""What one endpoint process keeps per model version: latency statistics, the batcher
that joins concurrent requests into one prediction, and the weighted router.

Pure and synchronous (the batcher schedules on the running event loop); used by
:mod:`submarine_hub.serving.server`.
"""

from __future__ import annotations

import asyncio
import bisect
import math
import random
import time
from dataclasses import dataclass, field
from typing import Any

from .loaders import Model

LOG_BASE = math.log(1.1)  # latency histogram: buckets 10% wide, from 1 µs
BUCKETS = 200
SERIES_STEP_S = 10  # an endpoint's traffic over time: 10-second steps
SERIES_KEEP_S = 3600  # for the last hour


# --- statistics -------------------------------------------------------------------------


@dataclass
class Stats:
    """Requests, errors and a latency histogram of one version (cheap to update)."""

    requests: int = 0
    errors: int = 0
    seconds: float = 0.0
    hist: list[int] = field(default_factory=lambda: [0] * BUCKETS)

    def observe(self, seconds: float, error: bool = False) -> None:
        self.requests += 1
        if error:
            self.errors += 1
        self.seconds += seconds
        us = seconds * 1e6
        i = int(math.log(us) / LOG_BASE) if us > 1 else 0
        self.hist[min(i, BUCKETS - 1)] += 1

    def quantile(self, q: float) -> float | None:
        """Latency (seconds) under which a share ``q`` of the requests answered."""
        if not self.requests:
            return None
        rank = q * self.requests
        seen = 0
        for i, n in enumerate(self.hist):
            seen += n
            if seen >= rank:
                return math.exp((i + 0.5) * LOG_BASE) / 1e6
        return None

    def to_json(self) -> dict[str, Any]:
        def ms(v: float | None) -> float | None:
            return None if v is None else round(v * 1000, 3)

        return {
            "requests": self.requests,
            "errors": self.errors,
            "mean_ms": ms(self.seconds / self.requests) if self.requests else None,
            "p50_ms": ms(self.quantile(0.5)),
            "p90_ms": ms(self.quantile(0.9)),
            "p99_ms": ms(self.quantile(0.99)),
        }

    def merge(self, other: Stats) -> None:
        self.requests += other.requests
        self.errors += other.errors
        self.seconds += other.seconds
        self.hist = [a + b for a, b in zip(self.hist, other.hist, strict=True)]


class Series:
    """Requests, errors and latency per time step: one :class:`Stats` per ``step``
    seconds of wall-clock time, the last ``keep`` seconds (what an endpoint's traffic
    charts show). Buckets exist only for steps that had requests."""

    def __init__(self, step: int = SERIES_STEP_S, keep: int = SERIES_KEEP_S) -> None:
        self.step = step
        self.keep = keep
        self.buckets: dict[int, Stats] = {}

    def observe(self, seconds: float, error: bool = False, now: float | None = None) -> None:
        now = time.time() if now is None else now
        start = int(now // self.step) * self.step
        bucket = self.buckets.get(start)
        if bucket is None:
            bucket = self.buckets[start] = Stats()
            for old in [t for t in self.buckets if t <= start - self.keep]:
                del self.buckets[old]
        bucket.observe(seconds, error)

    def to_json(
        self, window: int = SERIES_KEEP_S, step: int | None = None, now: float | None = None
    ) -> dict[str, Any]:
        """The last ``window`` seconds in points of ``step`` seconds (a multiple of the
        kept step), oldest first, every step present (no requests: zeros)."""
        now = time.time() if now is None else now
        step = self.step if step is None else step
        if step < self.step or step % self.step or not 0 < window <= self.keep:
            raise ValueError(
                f"step is a multiple of {self.step} s and window at most {self.keep} s"
            )
        last = int(now // step) * step
        first = last - (window // step - 1) * step if window >= step else last
        points = []
        for t in range(first, last + step, step):
            merged = Stats()
            for b in range(t, t + step, self.step):
                bucket = self.buckets.get(b)
                if bucket is not None:
                    merged.merge(bucket)
            point: dict[str, Any] = {"t": t, **merged.to_json()}
            point["rate"] = round(merged.requests / step, 4)
            points.append(point)
        return {"step_s": step, "window_s": window, "now": round(now, 3), "points": points}


# --- batching ---------------------------------------------------------------------------

MAX_BATCH_ROWS = 1024
SETTLE_TURNS = 2


class Batcher:
    """Joins the rows of requests to one row-wise model that wait at the same moment.

    The first request schedules a flush on the event loop. The flush waits while more
    requests keep joining (each turn of the loop lets requests read from other
    connections reach this point) and for ``SETTLE_TURNS`` quiet turns, then predicts
    once and hands each request its slice. Nothing waits on a timer: a lone request is
    answered a few loop turns later; under load, one call serves many requests, and the
    model's fixed cost per call (scikit-learn's input checks are most of a small model's
    time) is paid once. A batch that fails is predicted again request by request, so an
    error reaches only the request that caused it.
    """

    def __init__(self, model: Model) -> None:
        self.model = model
        self.pending: list[tuple[Any, asyncio.Future[Any]]] = []
        self.rows = 0
        self.batches = 0
        self.requests = 0
        self._scheduled = False
        self._seen = 0
        self._quiet = 0

    def submit(self, rows: Any) -> asyncio.Future[Any]:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        self.pending.append((rows, future))
        self.rows += len(rows)
        if not self._scheduled:
            self._scheduled = True
            self._seen = self._quiet = 0
            loop.call_soon(self._settle)
        return future

    def _settle(self) -> None:
        if self.rows < MAX_BATCH_ROWS:
            n = len(self.pending)
            if n != self._seen or self._quiet < SETTLE_TURNS:
                self._quiet = 0 if n != self._seen else self._quiet + 1
                self._seen = n
                asyncio.get_running_loop().call_soon(self._settle)
                return
        self._scheduled = False
        batch, self.pending, self.rows = self.pending, [], 0
        self.run(batch)

    def run(self, batch: list[tuple[Any, asyncio.Future[Any]]]) -> None:
        groups: dict[tuple[int, ...], list[tuple[Any, asyncio.Future[Any]]]] = {}
        for item in batch:  # rows of one width join; another width is another call
            groups.setdefault(item[0].shape[1:], []).append(item)
        for group in groups.values():
            self._run(group)

    def _run(self, batch: list[tuple[Any, asyncio.Future[Any]]]) -> None:
        self.batches += 1
        self.requests += len(batch)
        if len(batch) > 1:
            import numpy

            try:
                joined = numpy.concatenate([rows for rows, _ in batch])
                out = self.model.predict_rows(joined)
            except Exception:
                out = None
            if out is not None and len(out) == len(joined):
                start = 0
                for rows, future in batch:
                    if not future.done():
                        future.set_result(out[start : start + len(rows)])
                    start += len(rows)
                return
        for rows, future in batch:
            if future.done():
                continue
            try:
                future.set_result(self.model.predict_rows(rows))
            except Exception as e:
                future.set_exception(e)


# --- routing ----------------------------------------------------------------------------


@dataclass
class Route:
    key: str
    model_ref: str
    version: int
    weight: float
    model: Model
    stats: Stats
    batcher: Batcher | None = None


class Router:
    """Draws a route by weight; immutable once built (an update builds a new one)."""

    def __init__(self, routes: list[Route]) -> None:
        self.routes = routes
        live = [r for r in routes if r.weight > 0]
        self._live = live
        self._cum: list[float] = []
        total = 0.0
        for r in live:
            total += r.weight
            self._cum.append(total)
        self._total = total
        self._by_version = {str(r.version): r for r in routes}

    def pick(self, version: str | None = None) -> Route | None:
        if version is not None:
            return self._by_version.get(version)
        if len(self._live) == 1:
            return self._live[0]
        i = bisect.bisect_right(self._cum, random.random() * self._total)
        return self._live[min(i, len(self._live) - 1)]
