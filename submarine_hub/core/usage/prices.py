"""Prices per resource unit, set by an admin, and what a record of usage costs.

Units: a CPU-hour is one core held for an hour, a GB-hour 10^9 bytes of memory held for an
hour, a GPU-hour one GPU for an hour, a session-hour one session (whatever it holds) for
an hour, a GB-month of disk 10^9 bytes stored for a month (730 hours: a team's stored
bytes are metered as ``disk`` records). A price per GPU type replaces ``gpu_hour`` for
GPUs of that type; prices per environment image (or profile, ``team/name``) replace any of
the four hourly prices for what ran in it.

Prices are versioned (:class:`PriceBook`): an admin's change takes effect at a time of
their choosing (now by default, never in the past) and usage is priced at the prices in
effect when it happened.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import Any

from ..errors import InvalidInput

UNIT_PRICES = ("cpu_hour", "memory_gb_hour", "gpu_hour", "session_hour")
DISK_PRICE = "disk_gb_month"
DISK_KIND = "disk"
HOURS_PER_MONTH = 730.0
GB = 10**9
MAX_PRICE = 1e9


def format_amount(value: float) -> str:
    """``1,234.50``, ``0.00``, or three significant digits below 1 (``0.00135``)."""
    if value == 0 or abs(value) >= 1:
        return f"{value:,.2f}"
    return f"{value:.3g}"


def _price(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidInput(f"'{name}' must be a price, a number like 0.05.")
    if not math.isfinite(value) or not 0 <= value <= MAX_PRICE:
        raise InvalidInput(f"'{name}' must be a price from 0 to {MAX_PRICE:g}.")
    return float(value)


def _name(value: Any, what: str) -> str:
    if not isinstance(value, str) or not value or len(value) > 1024 or not value.isprintable():
        raise InvalidInput(f"{what} must be a non-empty printable name.")
    return value


@dataclass(frozen=True)
class Prices:
    currency: str = "USD"
    cpu_hour: float = 0.0
    memory_gb_hour: float = 0.0
    gpu_hour: float = 0.0
    session_hour: float = 0.0
    disk_gb_month: float = 0.0
    gpu_types: dict[str, float] = field(default_factory=dict)
    images: dict[str, dict[str, float]] = field(default_factory=dict)

    @classmethod
    def parse(cls, data: Any) -> Prices:
        """An admin's prices (400 naming what is wrong); missing prices are 0."""
        if not isinstance(data, dict):
            raise InvalidInput('Prices must be an object, like {"cpu_hour": 0.05}.')
        known = {"currency", *UNIT_PRICES, DISK_PRICE, "gpu_types", "images"}
        unknown = set(data) - known
        if unknown:
            raise InvalidInput(
                f"Unknown price(s): {', '.join(sorted(unknown))}; the prices are "
                f"{', '.join(sorted(known))}."
            )
        currency = data.get("currency", "USD")
        if not isinstance(currency, str) or not 1 <= len(currency) <= 16:
            raise InvalidInput("'currency' must be a short name like USD or EUR.")
        units = {
            k: _price(data[k], k) for k in (*UNIT_PRICES, DISK_PRICE) if data.get(k) is not None
        }
        gpu_types = data.get("gpu_types") or {}
        if not isinstance(gpu_types, dict):
            raise InvalidInput("'gpu_types' must map a GPU type to its price per GPU-hour.")
        images = data.get("images") or {}
        if not isinstance(images, dict):
            raise InvalidInput("'images' must map an image (or team/profile) to its prices.")
        parsed_images: dict[str, dict[str, float]] = {}
        for image, prices in images.items():
            _name(image, "An image in 'images'")
            if not isinstance(prices, dict) or set(prices) - set(UNIT_PRICES):
                raise InvalidInput(
                    f"images[{image!r}] must be an object of {', '.join(UNIT_PRICES)}."
                )
            parsed_images[image] = {
                k: _price(v, f"images[{image!r}].{k}") for k, v in prices.items()
            }
        return cls(
            currency=currency,
            **units,
            gpu_types={
                _name(k, "A GPU type"): _price(v, f"gpu_types[{k!r}]") for k, v in gpu_types.items()
            },
            images=parsed_images,
        )

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    def unit_prices(self, image: str = "", gpu_type: str = "") -> dict[str, float]:
        out = {k: getattr(self, k) for k in UNIT_PRICES}
        if gpu_type and gpu_type in self.gpu_types:
            out["gpu_hour"] = self.gpu_types[gpu_type]
        if image and image in self.images:
            out.update(self.images[image])
        return out


@dataclass(frozen=True)
class Amounts:
    """Resource-hours of one record (or a sum of them) and their cost."""

    seconds: float = 0.0
    cpu_hours: float = 0.0
    memory_gb_hours: float = 0.0
    gpu_hours: float = 0.0
    session_hours: float = 0.0
    cost: float = 0.0
    disk_gb_hours: float = 0.0

    def __add__(self, other: Amounts) -> Amounts:
        return Amounts(*(a + b for a, b in zip(self.astuple(), other.astuple(), strict=True)))

    def astuple(self) -> tuple[float, ...]:
        return (
            self.seconds,
            self.cpu_hours,
            self.memory_gb_hours,
            self.gpu_hours,
            self.session_hours,
            self.cost,
            self.disk_gb_hours,
        )

    def to_json(self) -> dict[str, float]:
        return {k: round(v, 6) for k, v in asdict(self).items()}

    def in_unit(self, unit: str) -> float:
        return self.cost if unit == "money" else float(getattr(self, unit))


def amounts(
    seconds: float,
    *,
    kind: str,
    cpu: float,
    memory: int,
    gpus: int,
    prices: Prices,
    image: str = "",
    gpu_type: str = "",
) -> Amounts:
    hours = max(seconds, 0.0) / 3600
    if kind == DISK_KIND:  # ``memory``: the bytes the team stored
        disk_h = memory / GB * hours
        cost = disk_h * prices.disk_gb_month / HOURS_PER_MONTH
        return Amounts(max(seconds, 0.0), cost=cost, disk_gb_hours=disk_h)
    unit = prices.unit_prices(image, gpu_type)
    cpu_h, mem_h, gpu_h = cpu * hours, memory / GB * hours, gpus * hours
    session_h = hours if kind == "session" else 0.0
    cost = (
        cpu_h * unit["cpu_hour"]
        + mem_h * unit["memory_gb_hour"]
        + gpu_h * unit["gpu_hour"]
        + session_h * unit["session_hour"]
    )
    return Amounts(max(seconds, 0.0), cpu_h, mem_h, gpu_h, session_h, cost)


EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


@dataclass(frozen=True)
class PriceBook:
    """The versions of the prices, each in effect from its time until the next one's: a
    record is priced, second by second, at the prices in effect at that time (so a price
    change applies from its effective time on and past usage keeps the prices of its
    time). The first version is in effect since ever."""

    versions: tuple[tuple[datetime, Prices], ...]

    @classmethod
    def single(cls, prices: Prices) -> PriceBook:
        return cls(((EPOCH, prices),))

    def at(self, when: datetime) -> Prices:
        """The prices in effect at ``when``."""
        times = [t for t, _ in self.versions]
        return self.versions[max(bisect_right(times, when) - 1, 0)][1]

    def current(self, now: datetime | None = None) -> Prices:
        return self.at(now or datetime.now(timezone.utc))

    @property
    def currency(self) -> str:
        return self.current().currency

    def spans(self, start: datetime, end: datetime) -> Iterator[tuple[datetime, datetime, Prices]]:
        """``[start, end)`` cut where the prices change, with the prices of each part."""
        times = [t for t, _ in self.versions]
        i = max(bisect_right(times, start) - 1, 0)
        cursor = start
        while True:
            nxt = times[i + 1] if i + 1 < len(times) else None
            if nxt is None or nxt >= end:
                yield cursor, end, self.versions[i][1]
                return
            yield cursor, nxt, self.versions[i][1]
            cursor, i = nxt, i + 1
