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
from .run_explorer import RUN_EXPLORER_HANDLERS
from .spark import SPARK_HANDLERS
from .studies import STUDY_HANDLERS
from .tensorboard import TENSORBOARD_HANDLERS
from .usage import USAGE_HANDLERS

API_ROUTES = [
    *API_HANDLERS,
    *ROOM_HANDLERS,
    *PLATFORM_HANDLERS,
    *FILE_HANDLERS,
    *COMPARE_HANDLERS,  # before /experiments/{run_id}
    *RUN_EXPLORER_HANDLERS,  # likewise
    *EXPERIMENT_HANDLERS,
    *SPARK_HANDLERS,
    *NOTEBOOK_JOB_HANDLERS,
    *MODEL_HANDLERS,
    *ENDPOINT_HANDLERS,
    *CATALOG_HANDLERS,
    *METRICS_HANDLERS,
    *TENSORBOARD_HANDLERS,
    *STUDY_HANDLERS,
    *USAGE_HANDLERS,
]
