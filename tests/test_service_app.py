"""The service as an application: configuration by file and flags, structured logs."""

from __future__ import annotations

import io
import json
import logging
import subprocess
import sys
from pathlib import Path

import pytest

from submarine_hub.service.app import SubmarineService
from submarine_hub.service.logs import configure_logging


def test_config_file_and_flags(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    (tmp_path / "submarine_config.py").write_text(
        "c.SubmarineService.max_body_size = 1234\nc.SubmarineService.hub_cache_seconds = 2.5\n"
    )
    app = SubmarineService()
    app.initialize(["--db-url=sqlite:///x.sqlite", "--log-style=text"])
    assert app.max_body_size == 1234
    assert app.hub_cache_seconds == 2.5
    assert app.db_url == "sqlite:///x.sqlite"
    assert app.log_style == "text"
    SubmarineService.clear_instance()


@pytest.mark.local
def test_help_lists_the_options() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "submarine_hub.service", "--help-all"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    for option in ("--SubmarineService.db_url", "--SubmarineService.max_body_size"):
        assert option in out


def test_json_logs_are_one_object_per_line() -> None:
    logger = logging.getLogger("submarine_hub.test-json")
    configure_logging(logger, fmt="json", level=logging.INFO)
    stream = io.StringIO()
    logger.handlers[0].setStream(stream)  # type: ignore[attr-defined]
    logger.info("request done", extra={"status": 201, "path": "/x"})
    line = json.loads(stream.getvalue())
    assert line["message"] == "request done"
    assert line["level"] == "INFO"
    assert line["status"] == 201
    assert "time" in line
