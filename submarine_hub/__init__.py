"""Submarine Hub: Apache Submarine's ONE PLATFORM on JupyterHub."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._version import __version__

if TYPE_CHECKING:
    from .client.client import SubmarineClient

TRACKING = (
    "log_metric",
    "log_metrics",
    "log_param",
    "log_params",
    "log_artifact",
    "flush",
    "start_run",
    "end_run",
    "report",
)
__all__ = ["SubmarineClient", "__version__", *TRACKING]


def __getattr__(name: str) -> Any:
    # keep ``import submarine_hub`` light: jupyter-server imports it at start-up
    if name == "SubmarineClient":
        from .client.client import SubmarineClient

        return SubmarineClient
    if name in TRACKING:
        from . import tracking

        return getattr(tracking, name)
    raise AttributeError(name)


def load_ipython_extension(ipython: Any) -> None:
    """``%load_ext submarine_hub``: the ``%submarine`` and ``%%submarine_job`` magics."""
    from .client.magics import load_ipython_extension as load

    load(ipython)


def _jupyter_labextension_paths() -> list[dict[str, str]]:
    return [{"src": "labextension", "dest": "submarine-hub"}]
