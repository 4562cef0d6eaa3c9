"""Tornado handlers of the service; ``API_ROUTES`` lists every ``api/v1`` handler."""

from .api import API_HANDLERS
from .catalog import CATALOG_HANDLERS, COMPARE_HANDLERS
from .endpoints import ENDPOINT_HANDLERS
from .experiments import EXPERIMENT_HANDLERS
from .files import FILE_HANDLERS
from .metrics import METRICS_HANDLERS
from .models import MODEL_HANDLERS
from .notebook_jobs import NOTEBOOK_JOB_HANDLERS
from .platform import PLATFORM_HANDLERS
from .rooms import ROOM_HANDLERS

API_ROUTES = [
    *API_HANDLERS,
    *ROOM_HANDLERS,
    *PLATFORM_HANDLERS,
    *FILE_HANDLERS,
    *COMPARE_HANDLERS,  # before /experiments/{run_id}
    *EXPERIMENT_HANDLERS,
    *NOTEBOOK_JOB_HANDLERS,
    *MODEL_HANDLERS,
    *ENDPOINT_HANDLERS,
    *CATALOG_HANDLERS,
    *METRICS_HANDLERS,
]
