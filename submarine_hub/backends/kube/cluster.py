"""Reaching the cluster: one way for every Kubernetes backend (experiments, serving)."""

from __future__ import annotations

from typing import Any


async def api_client(kubeconfig: str = "") -> Any:
    """A kubernetes_asyncio ``ApiClient``: in-cluster credentials, else ``kubeconfig``
    (``$KUBECONFIG``, ``~/.kube/config``)."""
    from kubernetes_asyncio import client, config

    configuration = client.Configuration()
    if kubeconfig:
        await config.load_kube_config(config_file=kubeconfig, client_configuration=configuration)
    else:
        try:
            config.load_incluster_config(client_configuration=configuration)
        except config.ConfigException:
            await config.load_kube_config(client_configuration=configuration)
    return client.ApiClient(configuration)


async def read_body(request: Any) -> bytes:
    """The body of a ``_preload_content=False`` call (the API's own JSON, unparsed into
    models); ``ApiException`` with the server's answer on an error status."""
    from kubernetes_asyncio.client.exceptions import ApiException

    response = await request
    try:
        body: bytes = await response.read()
        if response.status >= 400:
            e = ApiException(status=response.status, reason=response.reason)
            e.body = body.decode("utf-8", errors="replace")
            raise e
        return body
    finally:
        response.release()
