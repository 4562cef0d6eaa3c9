"""What ``deploy/`` holds, as the tests of it (and of the guide naming it) find it."""

from __future__ import annotations

from pathlib import Path

from .repo import REPO

DEPLOY = REPO / "deploy"
K8S = DEPLOY / "kubernetes"
NOT_MANIFESTS = {"config.yaml", "kustomization.yaml"}  # Helm values, kustomize's own file
DOCKERFILES = sorted((DEPLOY / "docker").glob("*.Dockerfile"))
UNIT = DEPLOY / "systemd" / "submarine-hub.service"


def manifest_files() -> list[Path]:
    """The Kubernetes manifests of ``deploy/kubernetes`` (not the Helm values)."""
    return sorted(p for p in K8S.glob("*.yaml") if p.name not in NOT_MANIFESTS)
