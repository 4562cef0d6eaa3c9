"""``python -m submarine_hub.service``: what the supervisor restarts after a crash, so its
start time is the platform's downtime.

jsonschema imports ``rfc3987_syntax`` when installed (jupyter_events pulls it in), which
builds a grammar at import: 0.9 of the service's 1.7 s of imports here. It only checks
the ``iri``/``iri-reference`` formats, which no schema of the platform uses; the service
goes without it (a process of its own, so nothing else is affected).
"""

import sys

sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]

from .app import main  # noqa: E402

main()
