"""Model serving: the endpoint server process, its model loaders, and the backends and
manager that run endpoints (one server process per endpoint on this machine, or a
Deployment and a Service per endpoint on Kubernetes).

- :mod:`.loaders`: built-in loaders (scikit-learn pickle/joblib, ONNX through
  onnxruntime) and users' serving scripts (``load(path)`` / ``predict(model, inputs)``).
- :mod:`.server`: the endpoint process (tornado): hub-token auth, weighted routing
  between loaded versions, live updates, health and statistics.
- :mod:`.local`: the local backend (detached processes that outlive the service).
- :mod:`.kube`: Kubernetes manifests and backend.
- :mod:`.manager`: reconciles the metastore's endpoints with the backend and registers
  each endpoint with JupyterHub as a service, so the hub's proxy routes to it.
"""
