"""Tracking helpers that find their run on their own: ``submarine_hub.log_metric(...)``.

Inside a run (``SUBMARINE_RUN_ID`` and ``SUBMARINE_TOKEN`` set by the platform) points
go to that run. In a notebook session (or anywhere the SDK finds the platform) the first
``log_*`` starts an *interactive* run named after the notebook (in the session's team),
ended at exit. Points are buffered and sent in batches by a background thread, flushed
at exit; a service that cannot be reached means a warning and buffered points, never a
stalled or crashed training loop. A run that cannot be started (the service refuses it)
is said loudly once, and the points stay buffered until one can be (``start_run(team=...)``);
:func:`flush` then raises :class:`TrackingError`. With no platform at all, the helpers
warn once and do nothing.

Points still unsent when the process exits (after trying for ``EXIT_FLUSH_S``: the
service is down or restarting) are not dropped: they are written to a spool file
(``client/spool.py``), in the run's folder inside a platform run (the service takes them
in when it sees the run end), else in ``~/.submarine/spool`` (the next tracked process
sends them, and the interactive run's end with them). A batch sent again after a failure
is marked ``replay``, so the service never stores a point twice.
"""

from __future__ import annotations

import atexit
import logging
import os
import shutil
import threading
import time
from pathlib import Path
from typing import Any

from .client import spool

log = logging.getLogger("submarine_hub.tracking")

BATCH = 1000  # points that wake the sender
SEND_MAX = 10_000  # points per request (the service's limit)
INTERVAL_S = 1.0
MAX_BUFFER = 1_000_000
# how long the exit tries to send before spooling ($SUBMARINE_EXIT_FLUSH_S)
EXIT_FLUSH_S = float(os.environ.get("SUBMARINE_EXIT_FLUSH_S") or 10.0)
RESTART_S = 15.0  # how often the background thread tries again to start a refused run


class TrackingError(RuntimeError):
    """Points could not be delivered: no run could be started for them."""


class Tracker:
    """Buffers points for a run and sends them; ``run_id`` None: the run is still to be
    started by ``starter`` (tried on every flush, and by the background thread)."""

    def __init__(
        self,
        run_id: int | None,
        client: Any,
        starter: Any = None,
        spool_dir: Path | None = None,
    ) -> None:
        self.run_id = run_id
        self.client = client
        # where unsent points go at exit: the run's folder, or the user's spool
        run_dir = os.environ.get("SUBMARINE_RUN_DIR")
        self.spool_dir = spool_dir or (
            spool.folder_for_run(run_dir) if run_dir else spool.user_folder()
        )
        self._replay = False  # a send failed: the next ones may repeat points it stored
        self.starter = starter
        self.start_error: Exception | None = None
        self._next_start = 0.0
        self.heartbeat_interval: float | None = None  # an interactive run's, once started
        self._last_beat = time.monotonic()
        self._points: list[dict[str, Any]] = []
        self._params: dict[str, str] = {}
        self._lock = threading.Lock()
        self._send_lock = threading.Lock()
        self._wake = threading.Event()
        self._stopped = False
        self._warned = False
        self._thread = threading.Thread(target=self._loop, name="submarine-tracking", daemon=True)
        self._thread.start()
        atexit.register(self.close)

    def metric(self, key: str, value: float, step: int | None, timestamp: float) -> None:
        with self._lock:
            if len(self._points) >= MAX_BUFFER:
                self._points.pop(0)  # bounded memory: the oldest point goes
            self._points.append(
                {"key": key, "value": float(value), "step": int(step or 0), "timestamp": timestamp}
            )
            if len(self._points) >= BATCH:
                self._wake.set()

    def param(self, key: str, value: Any) -> None:
        with self._lock:
            self._params[key] = str(value)

    def _take(self) -> tuple[list[dict[str, Any]], dict[str, str]]:
        with self._lock:
            points, self._points = self._points[:SEND_MAX], self._points[SEND_MAX:]
            params, self._params = self._params, {}
        return points, params

    def _give_back(self, points: list[dict[str, Any]], params: dict[str, str]) -> None:
        with self._lock:
            self._points[:0] = points
            self._params = {**params, **self._params}

    def pending(self) -> int:
        with self._lock:
            return len(self._points) + len(self._params)

    def flush(self, *, now: bool = True) -> bool:
        """Send everything buffered; False if the service could not be reached or the
        run could not be started (``start_error`` says why). ``now``: try starting the
        run at once (else not before the back-off after a refusal)."""
        with self._send_lock:  # one sender at a time: batches arrive in order
            if self.run_id is None and not self._start(now):
                return False
            return self._flush()

    def _start(self, now: bool) -> bool:
        if not now and time.monotonic() < self._next_start:
            return False
        try:
            run = self.starter()
        except Exception as e:
            self._next_start = time.monotonic() + RESTART_S
            if self.start_error is None:
                log.warning(
                    "submarine: NOT TRACKED YET: no run could be started for this "
                    "notebook's metrics: %s\nThey are kept in memory and sent once a run "
                    "starts: call submarine_hub.start_run(team='...') (or run "
                    "'submarine config set team ...'). submarine_hub.flush() raises until then.",
                    getattr(e, "message", None) or e,
                )
            self.start_error = e
            return False
        self.run_id = int(run["id"])
        self.heartbeat_interval = run.get("heartbeat_interval")
        self._last_beat = time.monotonic()
        if self.start_error is not None:
            log.warning("submarine: now tracking in run %s; kept points sent.", self.run_id)
        self.start_error = None
        return True

    def _beat(self) -> None:
        """Say the interactive run's process is alive (the service ends runs that stop)."""
        if not self.heartbeat_interval or self.run_id is None:
            return
        if time.monotonic() - self._last_beat < self.heartbeat_interval:
            return
        self._last_beat = time.monotonic()
        try:
            self.client.request("POST", f"tracking/runs/{self.run_id}/heartbeat")
        except Exception as e:  # unreachable: the next beat tries again
            log.debug("submarine: heartbeat of run %s not sent: %s", self.run_id, e)

    def _flush(self) -> bool:
        while True:
            points, params = self._take()
            if not points and not params:
                return True
            try:
                self.client.log_metrics(self.run_id, points, params, replay=self._replay)
            except Exception as e:
                self._give_back(points, params)
                self._replay = True
                if not self._warned:
                    log.warning("submarine: metrics kept in memory, service unreachable: %s", e)
                    self._warned = True
                return False
            self._warned = False
            self._replay = False

    def _loop(self) -> None:
        while not self._stopped:
            self._wake.wait(INTERVAL_S)
            self._wake.clear()
            self._beat()
            if not self.flush(now=False):
                time.sleep(INTERVAL_S)

    def close(self, end: str | None = None) -> None:
        """Send what is buffered (trying for ``EXIT_FLUSH_S``), then end the run if ``end``
        is a status; what could not be sent is spooled, never dropped (points of a run
        that was never started are said lost, loudly)."""
        self._stopped = True
        deadline = time.monotonic() + EXIT_FLUSH_S
        sent = self.flush()
        while not sent and time.monotonic() < deadline:
            if self.run_id is None:  # refused: waiting will not change the answer
                break
            time.sleep(0.5)
            sent = self.flush()
        if self.run_id is None:
            if self.pending():
                log.warning(
                    "submarine: %d tracked points and params were never sent: %s",
                    self.pending(),
                    getattr(self.start_error, "message", None) or self.start_error,
                )
            return
        if sent and end:
            try:
                self.client.request(
                    "POST", f"tracking/runs/{self.run_id}/end", json={"status": end}
                )
                end = None
            except Exception as e:
                log.warning("submarine: could not end run %s: %s", self.run_id, e)
        if sent and not end:
            return
        with self._send_lock, self._lock:
            points, self._points = self._points, []
            params, self._params = self._params, {}
        try:
            where = spool.write(self.spool_dir, self.run_id, points, params, end)
        except OSError as e:
            log.error(
                "submarine: %d metric point(s) of run %s lost: %s", len(points), self.run_id, e
            )
            return
        log.warning(
            "submarine: the service could not be reached; %d metric point(s) of run %s "
            "kept in %s, to be delivered later",
            len(points),
            self.run_id,
            where,
        )

    def deliver_spooled(self) -> None:
        """Send what earlier processes of this user spooled (interactive runs), in the
        background; a file is removed once the service has it."""
        threading.Thread(target=self._deliver, name="submarine-spool", daemon=True).start()

    def _deliver(self) -> None:
        for path, body in spool.pending(spool.user_folder()):
            run_id, points = body["run_id"], body.get("points") or []
            try:
                for i in range(0, max(len(points), 1), SEND_MAX):
                    self.client.log_metrics(
                        run_id,
                        points[i : i + SEND_MAX],
                        body.get("params") or {} if i == 0 else {},
                        replay=True,
                    )
                if body.get("end"):
                    self.client.request(
                        "POST", f"tracking/runs/{run_id}/end", json={"status": body["end"]}
                    )
            except Exception as e:
                log.info("submarine: spooled metrics of run %s not delivered yet: %s", run_id, e)
                continue
            spool.done(path)


_tracker: Tracker | None = None
_tracker_lock = threading.Lock()
_warned_outside = False
_interactive: int | None = None  # the run this process started for itself


def start_run(
    name: str | None = None, team: str | None = None, tags: list[str] | None = None
) -> int:
    """Track this notebook (or script) as a run of its own; returns the run id.

    Called on the first ``log_*`` outside a run, with the notebook's name, in the
    session's team; call it yourself to choose the name or team. Points logged while no
    run could be started are sent to this one. The run ends (succeeded) when the process
    exits, or with :func:`end_run`. Raises when the service refuses the run."""
    global _tracker
    from .client.client import SubmarineClient

    with _tracker_lock:
        if _tracker is not None and _tracker.run_id is not None:
            return _tracker.run_id
        tracker = _tracker
        if tracker is None:
            # it retries, then spools, itself
            tracker = Tracker(None, SubmarineClient(retry_for=0), spool_dir=spool.user_folder())
            _tracker = tracker
            tracker.deliver_spooled()
            atexit.register(end_run)
        tracker.starter = _starter(tracker.client, name, team, tags)
    if not tracker.flush():
        if tracker.start_error is not None:
            raise tracker.start_error
    assert tracker.run_id is not None
    return tracker.run_id


def _starter(client: Any, name: str | None, team: str | None, tags: list[str] | None) -> Any:
    """What starts the interactive run (``POST /tracking/runs``; its JSON), called by the
    tracker."""

    def start() -> dict[str, Any]:
        global _interactive
        notebook = os.environ.get("JPY_SESSION_NAME", "")
        body: dict[str, Any] = {"name": name or _run_name(notebook), "tags": tags or []}
        if team:
            body["team"] = team
        if notebook:
            body["source"] = {"path": notebook}
        run = client.request("POST", "tracking/runs", json=body)
        _interactive = run["id"]
        return run

    return start


def end_run(status: str = "succeeded") -> None:
    """Flush and end the run :func:`start_run` began (no-op inside a platform run)."""
    global _tracker, _interactive
    if _tracker is None or _interactive is None:
        return
    tracker = _tracker
    _tracker, _interactive = None, None
    tracker.close(end=status)  # spooled with its points if the service is away


def _run_name(notebook: str) -> str:
    import re

    stem = Path(notebook).stem if notebook else "notebook"
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", stem).strip("-.")[:100] or "notebook"


def _current() -> Tracker | None:
    """This process's tracker: its run's, or one for an interactive run (started now,
    or later if the service refuses it now: the points wait)."""
    global _tracker, _warned_outside
    if _tracker is not None:
        return _tracker
    from .client.client import SubmarineClient

    run_id = os.environ.get("SUBMARINE_RUN_ID")
    with _tracker_lock:
        if _tracker is not None:
            return _tracker
        try:
            client = SubmarineClient(retry_for=0)  # it retries, then spools, itself
        except Exception as e:  # no platform at all
            if not _warned_outside:
                log.warning("submarine: not tracking (no platform to send to): %s", e)
                _warned_outside = True
            return None
        if run_id:
            _tracker = Tracker(int(run_id), client)
            return _tracker
        _tracker = Tracker(
            None, client, _starter(client, None, None, None), spool_dir=spool.user_folder()
        )
        _tracker.deliver_spooled()
        atexit.register(end_run)
    _tracker.flush()  # start the run now: a refusal is said at once
    return _tracker


def log_metric(key: str, value: float, step: int | None = None) -> None:
    t = _current()
    if t is not None:
        t.metric(key, value, step, time.time())


def log_metrics(metrics: dict[str, float], step: int | None = None) -> None:
    now = time.time()
    t = _current()
    if t is not None:
        for key, value in metrics.items():
            t.metric(key, value, step, now)


def log_param(key: str, value: Any) -> None:
    t = _current()
    if t is not None:
        t.param(key, value)


def log_params(params: dict[str, Any]) -> None:
    for key, value in params.items():
        log_param(key, value)


def log_artifact(path: str | os.PathLike[str], name: str | None = None) -> Path | None:
    """Keep a file as an artifact of the run, as ``name`` (default: its file name).

    Inside a run it is copied into the run's artifacts folder (returned). In a notebook
    session it is uploaded to the notebook's interactive run (started if need be), where
    "Register as model…" and ``from_run`` find it; returns the name it has there."""
    target_dir = os.environ.get("SUBMARINE_ARTIFACTS_DIR")
    if not target_dir:
        t = _current()
        if t is None:
            log.warning("submarine: no run to keep %s in", path)
            return None
        rel = name or Path(path).name
        t.client.upload_run_artifact(t.run_id, path, rel)
        return Path(rel)
    target = Path(target_dir, name or Path(path).name)
    if Path(path).resolve() != target.resolve():
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
    return target


def flush() -> bool:
    """Send what is buffered now; False if the service cannot be reached. Raises
    :class:`TrackingError` if no run could be started for the points (they are kept)."""
    t = _current()
    if t is None:
        return True
    if t.flush():
        return True
    if t.run_id is None:
        reason = getattr(t.start_error, "message", None) or t.start_error
        raise TrackingError(
            f"{t.pending()} tracked points and params are waiting for a run, which could "
            f"not be started: {reason}. Start one with submarine_hub.start_run(team=...)."
        )
    return False


def report(value: float, step: int) -> bool:
    """A study trial's intermediate objective ``value`` at ``step`` (an epoch, a number of
    trees...): stored as the objective metric at that step and judged at once by the
    study's pruner. Returns True when the trial should stop (it was pruned: end the run,
    it is recorded as pruned with the reason). Outside a study's trial: False, nothing sent.
    The pruner also sees what ``log_metric(objective, value, step)`` sends; ``report``
    is the way to hear its answer."""
    t = _current()
    run_id = os.environ.get("SUBMARINE_RUN_ID")
    if t is None or not run_id or not os.environ.get("SUBMARINE_STUDY_ID"):
        return False
    try:
        answer = t.client.request(
            "POST",
            f"study-trials/{int(run_id)}/report",
            json={"value": float(value), "step": int(step)},
            headers={"Idempotency-Key": f"report-{run_id}-{int(step)}"},
        )
    except Exception as e:  # the trial goes on; the scheduler still judges what it logs
        log.warning("submarine: trial report at step %s not sent: %s", step, e)
        return False
    return bool(answer.get("prune"))
