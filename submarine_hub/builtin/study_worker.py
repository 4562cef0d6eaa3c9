"""A worker run of a function study (the fast path): it takes trials from the service
(``--batch`` per call) and calls the study's objective in this process, one after
another, until none is left.

    python -m submarine_hub.builtin.study_worker --study 7 --function pkg.mod:objective

Each trial is still its own run (the service makes it, with its parameters, and ends it
with the value returned, or failed with the exception); what a trial costs is one call
to the service, not a process. The objective gets a :class:`Trial`.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import traceback
import uuid
from typing import Any


class Trial:
    """What a function objective gets: ``params``, ``number``, ``run_id``, and ``report``."""

    def __init__(self, client: Any, study_id: int, assignment: dict[str, Any]) -> None:
        from ..client.client import SubmarineClient

        self.study_id = study_id
        self.number: int = assignment["number"]
        self.params: dict[str, Any] = assignment["params"]
        self.run_id: int = assignment["run_id"]
        self._token = assignment["token"]
        self._client_cls = SubmarineClient
        self._api_url = client.endpoint.api_url
        self._client: Any = None

    @property
    def client(self) -> Any:
        """A client that acts as this trial's run (its metrics go to the trial's run)."""
        if self._client is None:
            self._client = self._client_cls(self._api_url, self._token)
        return self._client

    def report(self, value: float, step: int) -> bool:
        """Intermediate objective at ``step``; True: the pruner says stop (return now)."""
        answer = self.client.request(
            "POST",
            f"study-trials/{self.run_id}/report",
            json={"value": float(value), "step": int(step)},
        )
        return bool(answer.get("prune"))

    def log_metric(self, key: str, value: float, step: int = 0) -> None:
        self.client.log_metrics(self.run_id, [{"key": key, "value": float(value), "step": step}])


def load(ref: str) -> Any:
    module, _, name = ref.partition(":")
    return getattr(importlib.import_module(module), name)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--study", type=int, required=True)
    p.add_argument("--function", required=True)
    p.add_argument("--batch", type=int, default=1, help="Trials taken per call (1 to 16).")
    args = p.parse_args(argv)
    from ..client.client import SubmarineClient

    objective = load(args.function)
    client = SubmarineClient()
    previous: list[dict[str, Any]] = []
    done = 0
    while True:
        body: dict[str, Any] = {"count": args.batch}
        if previous:
            body["previous"] = previous
        # the same key on a retry: the service gives the same trials again, never others
        headers = {"Idempotency-Key": uuid.uuid4().hex}
        got = client.request(
            "POST", f"studies/{args.study}/trials/next", json=body, headers=headers
        )
        if got.get("done"):
            print(f"worker: {done} trial(s) evaluated; the study has no more", flush=True)
            return 0
        previous = []
        for assignment in got["trials"]:
            trial = Trial(client, args.study, assignment)
            try:
                previous.append({"run_id": trial.run_id, "value": float(objective(trial))})
            except Exception as e:
                traceback.print_exc()
                previous.append({"run_id": trial.run_id, "error": f"{type(e).__name__}: {e}"})
            done += 1


if __name__ == "__main__":
    sys.exit(main())
