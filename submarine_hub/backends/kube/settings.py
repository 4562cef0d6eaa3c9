"""The settings every Kubernetes user of the platform shares, as traitlets mixins.

- :class:`ClusterSettings` (sessions, runs and endpoints): ``instance``, the label that
  tells platforms sharing a cluster apart, and ``gpu_resource_name``.
- :class:`WorkloadSettings` (runs and endpoints, whose pods the platform renders
  itself): how to reach the cluster (``kubeconfig``), the ``namespace`` and the pods'
  placement and image pulls (``image_pull_policy``, ``image_pull_secrets``,
  ``service_account``, ``node_selector``, ``tolerations``). ``submarine-kube`` sessions
  have KubeSpawner's traits of the same names instead.

A class using them reads its settings under its own name (``c.KubeExperimentBackend.
namespace``), and also under the mixin's: ``c.ClusterSettings.instance = "prod"`` sets
it for sessions, runs and endpoints at once.
"""

from __future__ import annotations

import contextlib
import dataclasses
from typing import TYPE_CHECKING, Any, TypeVar

from traitlets import Dict, Enum, List, TraitError, Unicode
from traitlets.config import Configurable

from ...core.errors import InvalidInput
from .manifests import PodSettings
from .names import check_template

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

S = TypeVar("S", bound="DataclassInstance")

#: Where a pod finds the namespace it runs in.
SERVICE_ACCOUNT_NAMESPACE = "/var/run/secrets/kubernetes.io/serviceaccount/namespace"


def own_namespace() -> str:
    """The namespace this process runs in (in a pod), else ``default``."""
    with contextlib.suppress(OSError), open(SERVICE_ACCOUNT_NAMESPACE) as f:
        return f.read().strip() or "default"
    return "default"


def absolute_path(proposal: Any) -> str:
    """A traitlets validator: the value must be an absolute path."""
    if not str(proposal["value"]).startswith("/"):
        raise TraitError(f"{proposal['trait'].name} must be an absolute path.")
    return str(proposal["value"])


def team_template(proposal: Any) -> str:
    """A traitlets validator: a name template may use ``{team}`` only (or be empty)."""
    value = str(proposal["value"] or "")
    if value:
        try:
            check_template(value, trait=proposal["trait"].name)
        except InvalidInput as e:
            raise TraitError(str(e)) from e
    return value


def settings_of(cls: type[S], source: Any, **values: Any) -> S:
    """The settings dataclass ``cls`` a pure renderer takes, from ``source``'s attributes
    (traits) of the same names as its fields (lists as tuples), and ``values``."""
    for f in dataclasses.fields(cls):
        if f.name not in values and hasattr(source, f.name):
            value = getattr(source, f.name)
            values[f.name] = tuple(value) if isinstance(value, list) else value
    return cls(**values)


class ClusterSettings(Configurable):
    """What sessions, runs and endpoints on Kubernetes share."""

    instance = Unicode(
        "default",
        help="""The label ``submarine-hub.apache.org/instance`` of every object the
        platform makes: give each platform sharing a cluster its own value (and its own
        namespaces or name prefixes).""",
    ).tag(config=True)

    gpu_resource_name = Unicode(
        "nvidia.com/gpu",
        help="The extended resource GPUs are requested as (e.g. ``amd.com/gpu``).",
    ).tag(config=True)


class WorkloadSettings(ClusterSettings):
    """What runs and endpoints share: the cluster, the namespace, the pods' placement."""

    kubeconfig = Unicode(
        "",
        help="""A kubeconfig file to reach the cluster. Empty: the in-cluster service
        account when running in a pod, else $KUBECONFIG or ~/.kube/config.""",
    ).tag(config=True)

    namespace = Unicode(
        "", help="The namespace to work in. Empty: the one this service runs in, else 'default'."
    ).tag(config=True)

    image_pull_policy = Enum(
        ["Always", "IfNotPresent", "Never"],
        default_value=None,
        allow_none=True,
        help="imagePullPolicy of the pods' containers; None: Kubernetes' default.",
    ).tag(config=True)

    image_pull_secrets = List(
        Unicode(), help="Names of Secrets in the pods' namespace to pull images with."
    ).tag(config=True)

    service_account = Unicode("", help="The pods' service account; empty: the default.").tag(
        config=True
    )

    node_selector = Dict(
        value_trait=Unicode(), help="nodeSelector of every pod (e.g. a node pool)."
    ).tag(config=True)

    tolerations = List(
        Dict(), help="tolerations of every pod, as Kubernetes writes them (e.g. for GPU nodes)."
    ).tag(config=True)

    @property
    def effective_namespace(self) -> str:
        """``namespace``, else the one this process runs in, else ``default``."""
        return self.namespace or own_namespace()

    def pod_settings(self) -> PodSettings:
        """The pods' placement and image pulls from these traits."""
        return settings_of(PodSettings, self)
