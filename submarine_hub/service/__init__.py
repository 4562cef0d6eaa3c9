"""The ``submarine`` JupyterHub service: REST API over the domain core."""
