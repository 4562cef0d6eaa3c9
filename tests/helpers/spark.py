"""Spark test helpers: a stand-in for a driver's UI, and the local cluster's processes."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class _UI(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = f"<html>Spark Jobs {self.path}</html>".encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html;charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        return None


@contextmanager
def spark_ui_stub() -> Iterator[str]:
    """A web server on 127.0.0.1 answering every page as a driver UI would (its path in
    the body); its URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _UI)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
