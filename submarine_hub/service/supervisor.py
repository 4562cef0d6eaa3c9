"""Keeps the platform service running: ``python -m submarine_hub.service.supervisor ARGS``.

JupyterHub restarts a managed service that died only when it next polls it (every 30 s,
not configurable for services), so a crashed or killed service stayed down up to 35 s.
The hub therefore starts this small process instead, which runs
``python -m submarine_hub.service ARGS`` and starts it again as soon as it exits:

- at once the first time, then after 0.5, 1, 2... up to 10 s while it keeps dying
  within 30 s of its start;
- never when it exits with status 78 (EX_CONFIG: it cannot start, e.g. a bad database
  URL; restarting would not help): the supervisor exits with that status, and the hub
  reports it;
- SIGTERM and SIGINT (the hub stopping it) are passed on, and the supervisor exits with
  the service's status; the service gets SIGTERM if the supervisor itself is killed.
"""

from __future__ import annotations

import ctypes
import logging
import signal
import subprocess
import sys
import time
from types import FrameType

from .logs import configure_logging

EX_CONFIG = 78  # the service's EXIT_CANNOT_RUN
STABLE_S = 30.0  # a run this long resets the backoff
BACKOFF_MAX_S = 10.0

log = logging.getLogger("submarine_hub.supervisor")


def _die_with_parent() -> None:  # pragma: no cover - runs in the child
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass  # not Linux: the service outlives a killed supervisor


class Supervisor:
    def __init__(self, argv: list[str]) -> None:
        self.cmd = [sys.executable, "-m", "submarine_hub.service", *argv]
        self.child: subprocess.Popen[bytes] | None = None
        self.stopping = False

    def _forward(self, signum: int, _frame: FrameType | None) -> None:
        self.stopping = True
        if self.child is not None and self.child.poll() is None:
            self.child.send_signal(signum)

    def run(self) -> int:
        signal.signal(signal.SIGTERM, self._forward)
        signal.signal(signal.SIGINT, self._forward)
        delay = 0.0
        while True:
            started = time.monotonic()
            self.child = subprocess.Popen(
                self.cmd, preexec_fn=_die_with_parent if sys.platform == "linux" else None
            )
            code = self.child.wait()
            if self.stopping:
                return code
            if code == EX_CONFIG:
                log.critical("the service cannot start (status %d); not restarting it", code)
                return code
            if time.monotonic() - started >= STABLE_S:
                delay = 0.0
            log.error("the service exited with status %d; starting it again in %.1f s", code, delay)
            time.sleep(delay)
            if self.stopping:
                return 0
            delay = min(max(0.5, delay * 2), BACKOFF_MAX_S)


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    style = "text" if "--SubmarineService.log_style=text" in argv else "json"
    configure_logging(log, fmt=style, level=logging.INFO)
    sys.exit(Supervisor(argv).run())


if __name__ == "__main__":
    main()
