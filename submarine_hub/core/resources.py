"""Resource amounts: CPU cores, memory in bytes, GPUs."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from .errors import InvalidInput
from .validation import INT64_MAX

_MEMORY = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([KMGTP]i?)?B?\s*$", re.IGNORECASE)
#: more GPUs than any one session or team has (and than a 32-bit column holds)
MAX_GPUS = 2**31 - 1
_UNITS = {"": 1, "K": 1000, "M": 1000**2, "G": 1000**3, "T": 1000**4, "P": 1000**5}
_UNITS.update({f"{k}I": 1024 ** (i + 1) for i, k in enumerate("KMGTP")})


def parse_memory(value: Any, field: str = "memory") -> int:
    """``"2G"``, ``"512Mi"``, ``"1.5GB"`` or a number of bytes -> bytes (0 .. 2**63-1)."""
    if isinstance(value, bool):
        raise InvalidInput(f"'{field}' must be a size like 512M, 2G or 1Gi, not {value!r}.")
    if isinstance(value, int | float):
        if not math.isfinite(value):
            raise InvalidInput(f"'{field}' must be a finite size, like 512M, 2G or 1Gi.")
        if value < 0:
            raise InvalidInput(f"'{field}' must not be negative.")
        size = int(value)
    else:
        m = _MEMORY.fullmatch(str(value))
        if not m:
            raise InvalidInput(f"'{field}' must be a size like 512M, 2G or 1Gi, not {value!r}.")
        size = int(float(m.group(1)) * _UNITS[(m.group(2) or "").upper()])
    if size > INT64_MAX:
        raise InvalidInput(f"'{field}' is larger than any machine's memory.")
    return size


def parse_cpu(value: Any, field: str = "cpu") -> float:
    try:
        cpu = float(value)
    except (TypeError, ValueError):
        raise InvalidInput(f"'{field}' must be a number of cores, like 0.5 or 2.") from None
    if isinstance(value, bool) or not math.isfinite(cpu) or cpu <= 0:
        raise InvalidInput(f"'{field}' must be a positive number of cores, like 0.5 or 2.")
    return cpu


def parse_gpus(value: Any, field: str = "gpus") -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_GPUS:
        raise InvalidInput(f"'{field}' must be a whole number of GPUs, 0 to {MAX_GPUS}.")
    return value


def format_memory(value: int | None) -> str:
    """Bytes as the user most likely wrote them: ``4G``, ``512Mi``, else ``1.5Gi``."""
    if value is None:
        return "unlimited"
    for unit in ("T", "Ti", "G", "Gi", "M", "Mi", "K", "Ki"):
        size = _UNITS[unit.upper()]
        if value >= size and value % size == 0:
            return f"{value // size}{unit}"
    for unit in ("Ti", "Gi", "Mi", "Ki"):
        size = _UNITS[unit.upper()]
        if value >= size:
            return f"{value / size:.3g}{unit}"
    return f"{value}B"


@dataclass(frozen=True)
class Resources:
    cpu: float | None = None
    memory: int | None = None
    gpus: int = 0

    @classmethod
    def parse(cls, data: Any) -> Resources:
        if data is None:
            return cls()
        if not isinstance(data, dict):
            raise InvalidInput('\'resources\' must be an object like {"cpu": 2, "memory": "4G"}.')
        unknown = set(data) - {"cpu", "memory", "gpus"}
        if unknown:
            raise InvalidInput(
                f"Unknown resource(s): {', '.join(sorted(unknown))}; use cpu, memory and gpus."
            )
        return cls(
            cpu=parse_cpu(data["cpu"]) if data.get("cpu") is not None else None,
            memory=parse_memory(data["memory"]) if data.get("memory") is not None else None,
            gpus=parse_gpus(data.get("gpus", 0)),
        )

    def to_json(self) -> dict[str, Any]:
        return {"cpu": self.cpu, "memory": self.memory, "gpus": self.gpus}
