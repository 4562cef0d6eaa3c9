# syntax=docker/dockerfile:1
# The session image: a Jupyter Docker Stacks image plus Submarine Hub (the JupyterLab
# panels, the server extension, the `submarine` CLI and SDK). From the repository's root:
#
#   docker build -f deploy/docker/singleuser.Dockerfile \
#     -t registry.example.com/submarine-hub/singleuser:0.1.0 .
#
# Environment profiles with their own image need Submarine Hub in it too: build them
# FROM this one, or repeat the pip install below.
ARG BASE_IMAGE=quay.io/jupyter/scipy-notebook:2025-03-17

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

# --- the session ---
FROM ${BASE_IMAGE}
# the stacks' conda environment belongs to the notebook user: install as that user, so
# the server extension is enabled in its etc/jupyter
RUN --mount=type=bind,from=wheel,source=/wheels,target=/wheels \
    pip install --no-cache-dir /wheels/submarine_hub_client-*.whl \
      "$(ls /wheels/submarine_hub-*.whl)[sklearn]" \
    && jupyter server extension list 2>&1 | grep -q "submarine_hub.*enabled" \
    && jupyter labextension list 2>&1 | grep -q "submarine-hub.*enabled"
USER ${NB_UID}
