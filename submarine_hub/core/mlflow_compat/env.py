"""The variables that point MLflow's client at the platform, with no setup: given to
runs and notebook jobs (the spawner gives sessions the same two, with their team)."""

from __future__ import annotations


def tracking_uri(api_url: str, team: str) -> str:
    """``<service>/mlflow/<team>`` from the platform API's URL (``<service>/api/v1``)."""
    base = api_url.rstrip("/")
    if base.endswith("/api/v1"):
        base = base[: -len("/api/v1")]
    return f"{base}/mlflow/{team}"


def run_env(api_url: str, team: str, token: str, run_id: int) -> dict[str, str]:
    """A run's: its team's tracking URI, its own token, and ``MLFLOW_RUN_ID`` so that
    ``mlflow.start_run()`` (and autologging) attaches to the run instead of starting one."""
    return {
        "MLFLOW_TRACKING_URI": tracking_uri(api_url, team),
        "MLFLOW_TRACKING_TOKEN": token,
        "MLFLOW_RUN_ID": str(run_id),
    }
