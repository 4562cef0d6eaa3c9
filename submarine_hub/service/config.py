"""Settings that moved or were renamed, kept working.

``c.SubmarineService.runs_dir = "/srv/runs"`` still works: the old setting is forwarded to
its new home (``c.LocalExperimentBackend.runs_dir``) with a warning naming it, unless the
new one is set too (it wins). Likewise a setting renamed within its section
(``c.EndpointManager.backend_name`` is now ``backend_class``).
"""

from __future__ import annotations

from typing import Any

from traitlets.config import LoggingConfigurable

#: ``SubmarineService.<old>`` -> (section, name) where it is set now.
MOVED_SETTINGS: dict[str, tuple[str, str]] = {
    "runs_dir": ("LocalExperimentBackend", "runs_dir"),
    "max_parallel_runs": ("LocalExperimentBackend", "max_parallel_runs"),
    "notebook_pool_size": ("LocalExperimentBackend", "notebook_pool_size"),
    "notebook_pool_preload": ("LocalExperimentBackend", "notebook_pool_preload"),
    "gpu_ids": ("LocalExperimentBackend", "gpu_ids"),
    "environments_dir": ("LocalEnvironmentBackend", "environments_dir"),
}


def forward_setting(
    owner: LoggingConfigurable, old: str, section: str, new: str, value: Any
) -> None:
    """Set ``c.<section>.<new> = value`` in ``owner``'s config (which the backends it
    creates read), unless it is set already, and warn that ``old`` is deprecated."""
    target = owner.config[section]
    if new in target:
        owner.log.warning(
            "%s.%s is deprecated and ignored: %s.%s is set too",
            type(owner).__name__,
            old,
            section,
            new,
        )
        return
    target[new] = value
    owner.log.warning(
        "%s.%s is deprecated: set %s.%s instead", type(owner).__name__, old, section, new
    )


def moved_setting(owner: LoggingConfigurable, old: str, value: Any) -> None:
    """Forward ``SubmarineService.<old>`` to where :data:`MOVED_SETTINGS` says it went."""
    section, new = MOVED_SETTINGS[old]
    forward_setting(owner, old, section, new, value)


def renamed_setting(owner: LoggingConfigurable, old: str, new: str, value: Any) -> None:
    """Set ``owner.<new> = value`` (the setting of ``owner``'s own section that replaced
    ``old``), unless ``new`` is configured too (it wins), and warn that ``old`` is
    deprecated (both named by the class that declares ``new``, as it is configured)."""
    section = next(c.__name__ for c in type(owner).__mro__ if new in vars(c))
    if new in owner.config[section]:
        owner.log.warning(
            "%s.%s is deprecated and ignored: %s.%s is set too", section, old, section, new
        )
        return
    owner.log.warning(
        "%s.%s is deprecated: set %s.%s = %r instead", section, old, section, new, value
    )
    setattr(owner, new, value)
