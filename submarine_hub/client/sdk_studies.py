"""The SDK's calls on hyper-parameter tuning studies (``/studies``)."""

from __future__ import annotations

import time
from typing import Any

from .sdk_models import ModelsAPI

STUDY_FINAL = ("stopped", "finished", "failed")


class StudiesAPI(ModelsAPI):
    """Studies: an Optuna search whose trials are platform runs."""

    def create_study(self, spec: dict[str, Any]) -> dict[str, Any]:
        """Start a study from its spec (see the docs' tuning page for the fields)."""
        return self.request("POST", "studies", json=spec)

    def studies(self, team: str | None = None, status: str | None = None) -> list[dict[str, Any]]:
        params = {k: v for k, v in (("team", team), ("status", status)) if v}
        return self.request("GET", "studies", params=params)["items"]

    def study(self, study_id: int) -> dict[str, Any]:
        """A study with its trials (``items``) and its best trial (``best``)."""
        return self.request("GET", f"studies/{study_id}")

    def stop_study(self, study_id: int) -> dict[str, Any]:
        return self.request("POST", f"studies/{study_id}/stop")

    def resume_study(self, study_id: int, trials: int = 0) -> dict[str, Any]:
        """Run a stopped or finished study again, with ``trials`` more trials."""
        return self.request("POST", f"studies/{study_id}/resume", json={"trials": trials})

    def study_importances(self, study_id: int) -> dict[str, float]:
        return self.request("GET", f"studies/{study_id}/importances")["importances"]

    def register_best(
        self, study_id: int, ref: str, paths: list[str] | None = None, **fields: Any
    ) -> dict[str, Any]:
        """Register the best trial's model: a new version of ``team/name`` from the files
        ``paths`` (default ``model.joblib``) of the best trial's run."""
        best = self.study(study_id)["best"]
        if best is None:
            raise ValueError(f"Study {study_id} has no completed trial yet.")
        return self.register_model(
            ref, from_run=best["run_id"], run_paths=paths or ["model.joblib"], **fields
        )

    def wait_study(self, study_id: int, timeout: float = 3600, poll: float = 1.0) -> dict[str, Any]:
        """The study once it is no longer running (TimeoutError after ``timeout`` s)."""
        deadline = time.monotonic() + timeout
        while True:
            study = self.study(study_id)
            if study["status"] in STUDY_FINAL:
                return study
            if time.monotonic() > deadline:
                raise TimeoutError(f"study {study_id} still {study['status']} after {timeout}s")
            time.sleep(poll)
