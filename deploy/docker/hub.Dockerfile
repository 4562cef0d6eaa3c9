# syntax=docker/dockerfile:1
# The hub image: Zero to JupyterHub's hub image plus Submarine Hub (the `submarine`
# service, the submarine-kube spawner, the hub page templates). From the repository's root:
#
#   docker build -f deploy/docker/hub.Dockerfile -t registry.example.com/submarine-hub/hub:0.1.0 .
#
# Use the k8s-hub tag of the chart version you install (docs/operations.md).
ARG HUB_IMAGE=quay.io/jupyterhub/k8s-hub:4.2.0

# --- the wheels: submarine-hub-client (the SDK and CLI) and submarine-hub, with the
# JupyterLab extension built in (Node.js for the build only) ---
FROM python:3.12-bookworm AS wheel
RUN apt-get update \
    && apt-get install -y --no-install-recommends nodejs \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY pyproject.toml README.md ./
COPY client/ client/
COPY jupyter-config/ jupyter-config/
COPY labextension/ labextension/
COPY spawner/ spawner/
COPY submarine_hub/ submarine_hub/
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /wheels ./client .

# --- the hub ---
FROM ${HUB_IMAGE}
USER root
# the service's metastore driver (postgres), KubeSpawner (kube), and s3fs for an
# S3-compatible artifact store; the image's own JupyterHub is kept when it satisfies
# Submarine Hub's requirement
RUN --mount=type=bind,from=wheel,source=/wheels,target=/wheels \
    pip install --no-cache-dir /wheels/submarine_hub_client-*.whl \
      "$(ls /wheels/submarine_hub-*.whl)[kube,postgres]" s3fs \
    && python3 -c "import submarine_hub.service, submarine_spawner.kube"
# the chart runs the hub as jovyan (uid 1000)
USER 1000
