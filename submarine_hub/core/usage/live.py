"""What Kubernetes runs really use, from the cluster's live metrics (``metrics.k8s.io``
PodMetrics, as metrics-server serves them), rather than what their manifests request.

Each sample gives a pod's CPU rate (cores, averaged over the sample's ``window``) and its
memory working set (bytes) at ``timestamp``. :class:`LiveUsage` integrates them per run
replica: CPU-seconds add up each new sample's rate times the time it covers (since the
replica's previous sample, at most ``max_gap``: a replica not sampled for longer — the
service was down — counts only the sample's own window), and the peak memory is the
largest working set seen. The results go where the local backend puts its measured
use (``Experiment.placement["usage"][replica]``: ``cpu_time``, ``peak_memory``), so the
run's usage records carry them when they close.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

_QUANTITY = re.compile(r"^([+-]?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)([a-zA-Z]*)$")
_SUFFIX = {
    "": 1.0, "n": 1e-9, "u": 1e-6, "m": 1e-3, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12,
    "P": 1e15, "E": 1e18, "Ki": 2.0**10, "Mi": 2.0**20, "Gi": 2.0**30, "Ti": 2.0**40,
    "Pi": 2.0**50, "Ei": 2.0**60,
}  # fmt: skip

#: where a pod's replica index is, on an Indexed Job's pods and the Training Operator's
INDEX_LABELS = ("batch.kubernetes.io/job-completion-index", "training.kubeflow.org/replica-index")


def quantity(value: Any) -> float:
    """A Kubernetes quantity (``250m``, ``1234567n``, ``512Mi``, ``1e3``) as a number;
    ValueError for anything else (negative, not finite, unknown suffix)."""
    m = _QUANTITY.fullmatch(str(value).strip())
    if not m or m.group(2) not in _SUFFIX:
        raise ValueError(f"not a quantity: {value!r}")
    number = float(m.group(1)) * _SUFFIX[m.group(2)]
    if not math.isfinite(number) or number < 0:
        raise ValueError(f"not a quantity: {value!r}")
    return number


def _time(value: Any) -> datetime:
    when = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)


def _window(value: Any) -> float:
    """``30s``, ``1m0s``, ``15.5s`` -> seconds (a Go duration)."""
    total, rest = 0.0, str(value)
    for number, unit in re.findall(r"(\d+(?:\.\d+)?)(ms|s|m|h)", rest):
        total += float(number) * {"ms": 0.001, "s": 1, "m": 60, "h": 3600}[unit]
    if total <= 0:
        raise ValueError(f"not a window: {value!r}")
    return total


@dataclass(frozen=True)
class Sample:
    """One pod's use at ``at``: ``cpu`` cores over the last ``window`` seconds, ``memory``
    bytes of working set (all its containers)."""

    run_id: int
    replica: str  # role-index, as the usage records name replicas
    pod: str
    at: datetime
    window: float
    cpu: float
    memory: int


def samples(
    items: list[dict[str, Any]], *, run_label: str, role_label: str
) -> tuple[list[Sample], list[str]]:
    """The samples of the platform's run pods (labelled with ``run_label`` and
    ``role_label``, see ``backends.kube.names``) among PodMetrics ``items`` (others are
    skipped), and what was wrong with the ones that could not be read."""
    out: list[Sample] = []
    problems: list[str] = []
    for item in items:
        meta = item.get("metadata") or {}
        labels = meta.get("labels") or {}
        name = str(meta.get("name") or "?")
        run, role = labels.get(run_label), labels.get(role_label)
        if run is None or role is None:
            continue  # not a run's pod
        index = next((labels[k] for k in INDEX_LABELS if k in labels), "0")
        try:
            run_id = int(run)
            replica = f"{role}-{int(index)}"
            cpu = sum(quantity((c.get("usage") or {}).get("cpu", "0")) for c in item["containers"])
            memory = sum(
                quantity((c.get("usage") or {}).get("memory", "0")) for c in item["containers"]
            )
            out.append(
                Sample(
                    run_id,
                    replica,
                    name,
                    _time(item["timestamp"]),
                    _window(item["window"]),
                    cpu,
                    int(memory),
                )
            )
        except (KeyError, TypeError, ValueError) as e:
            problems.append(f"{name}: {e}")
    return out, problems


class LiveUsage:
    """CPU-seconds and peak memory per (run, replica), integrated from samples."""

    def __init__(self, max_gap: float = 300.0) -> None:
        self.max_gap = max_gap
        self._last: dict[tuple[int, str, str], datetime] = {}  # (run, replica, pod) -> at
        self.usage: dict[int, dict[str, dict[str, float | int]]] = {}

    def seed(self, run_id: int, measured: dict[str, Any]) -> None:
        """Go on from what was recorded before (a restart of the service)."""
        mine = self.usage.setdefault(run_id, {})
        for replica, got in (measured or {}).items():
            if replica not in mine and isinstance(got, dict):
                mine[replica] = {
                    "cpu_time": float(got.get("cpu_time") or 0.0),
                    "peak_memory": int(got.get("peak_memory") or 0),
                }

    def add(self, sample: Sample) -> bool:
        """Count ``sample`` (once: the same pod's sample at the same time again is
        ignored); True if it changed the figures."""
        key = (sample.run_id, sample.replica, sample.pod)
        last = self._last.get(key)
        if last is not None and sample.at <= last:
            return False
        covered = sample.window
        if last is not None:
            covered = min((sample.at - last).total_seconds(), self.max_gap)
        self._last[key] = sample.at
        got = self.usage.setdefault(sample.run_id, {}).setdefault(
            sample.replica, {"cpu_time": 0.0, "peak_memory": 0}
        )
        got["cpu_time"] = float(got["cpu_time"]) + sample.cpu * covered
        got["peak_memory"] = max(int(got["peak_memory"]), sample.memory)
        return True

    def forget(self, run_ids: set[int]) -> None:
        """Drop runs no longer running (their figures are in their rows)."""
        for run_id in list(self.usage):
            if run_id not in run_ids:
                del self.usage[run_id]
        self._last = {k: v for k, v in self._last.items() if k[0] in run_ids}


def stale(at: datetime, now: datetime, limit: timedelta = timedelta(minutes=10)) -> bool:
    return now - at > limit
