"""REST and relay handlers of TensorBoard over runs (the processes: ``service/tensorboard.py``)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from tornado import httpclient, web

from ...core.errors import Conflict, InvalidInput, NotFound, Unavailable
from ...core.experiments import runs
from ...core.validation import INT64_MAX
from ..tensorboard import TensorBoards, has_tfevents, metric_points
from .base import BaseHandler

MAX_RUNS = 20
#: what the relay passes on from TensorBoard's answers
#: what the relay does not pass on to TensorBoard (tornado sets the length again)
DROPPED_HEADERS = ("host", "cookie", "authorization", "content-length", "transfer-encoding")
ANSWER_HEADERS = ("Content-Type", "Content-Encoding", "Location", "Cache-Control", "ETag")


def tensorboards(handler: BaseHandler) -> TensorBoards:
    found: TensorBoards | None = handler.settings.get("submarine_tensorboards")
    if found is None:
        raise Unavailable("TensorBoard is not enabled on this platform.")
    return found


class TensorBoardsHandler(BaseHandler):
    """``POST /tensorboards {"runs": [ids]}``: a TensorBoard over those runs' tfevents."""

    path = "/tensorboards"

    async def post(self) -> None:
        identity = await self.identity()
        body = self.get_json_body()
        ids = body.get("runs")
        if (
            not isinstance(ids, list)
            or not 1 <= len(ids) <= MAX_RUNS
            or not all(
                isinstance(i, int) and not isinstance(i, bool) and 1 <= i <= INT64_MAX for i in ids
            )
        ):
            raise InvalidInput(f"'runs' must be a list of 1 to {MAX_RUNS} run ids.")
        manager = self.core.experiments
        run_dirs: dict[int, Path] = {}
        async with self.core.db.session() as s:
            for rid in sorted(set(ids)):
                await runs.get(s, identity, rid)  # 404 for a run of another team
                root = manager.local_artifacts(rid)
                if root is None:
                    raise Conflict(
                        f"Run {rid} keeps its artifacts in its own storage: TensorBoard here "
                        "reads local artifacts only."
                    )
                run_dirs[rid] = root
        boards = tensorboards(self)
        without = []
        for rid, root in list(run_dirs.items()):
            if await asyncio.to_thread(has_tfevents, root):
                continue
            # no event files of its own: the metrics it logged through the platform,
            # exported as tfevents
            async with self.core.db.session() as s:
                points = await metric_points(s, rid)
            if not points:
                without.append(rid)
                continue
            run_dirs[rid] = await asyncio.to_thread(boards.export_metrics, rid, points)
        if without:
            raise NotFound(
                f"Run(s) {', '.join(map(str, without))} wrote no TensorBoard event files "
                "(tfevents) to their artifacts and logged no metrics."
            )
        prefix = self.settings["submarine_service_prefix"] + "tensorboard/"
        inst = await boards.open(run_dirs, prefix)
        self.write_json(
            {"key": inst.key, "runs": list(inst.run_ids), "url": f"{prefix}{inst.key}/"},
            status=201,
        )


class TensorBoardProxyHandler(BaseHandler):
    """``<prefix>tensorboard/<key>/...``: relays to that TensorBoard for a caller who may
    read every one of its runs (a browser with the hub's login cookie, or a token)."""

    public = True  # a browser without a login is sent to the hub's login

    def check_xsrf_cookie(self) -> None:
        """TensorBoard's own pages POST their data queries (reads): a same-origin request
        of the browser (``Sec-Fetch-Site``, which a page cannot forge) passes without the
        hub's xsrf token; anything else is checked as usual."""
        if self.request.headers.get("Sec-Fetch-Site") == "same-origin":
            return
        super().check_xsrf_cookie()

    @web.authenticated
    async def get(self, key: str, rest: str) -> None:
        await self._relay(key)

    @web.authenticated
    async def post(self, key: str, rest: str) -> None:
        await self._relay(key)

    async def _relay(self, key: str) -> None:
        identity = await self.identity()
        inst = tensorboards(self).get(key)
        if inst is None:
            raise NotFound("No TensorBoard here (it was stopped when idle): open it again.")
        async with self.core.db.session() as s:
            for rid in inst.run_ids:
                await runs.get(s, identity, rid)  # the team check, every request
        url = f"http://127.0.0.1:{inst.port}{self.request.uri}"
        headers = {k: v for k, v in self.request.headers.get_all()
                   if k.lower() not in DROPPED_HEADERS}  # fmt: skip
        body = self.body if self.request.method == "POST" else None  # streamed in: BaseHandler
        try:
            reply = await httpclient.AsyncHTTPClient().fetch(
                url, method=self.request.method or "GET", body=body, headers=headers,
                raise_error=False, follow_redirects=False, request_timeout=120,
                decompress_response=False,
            )  # fmt: skip
        except OSError as e:
            raise Unavailable(f"TensorBoard {key} did not answer: {e}") from None
        self.set_status(reply.code)
        for name in ANSWER_HEADERS:
            if name in reply.headers:
                self.set_header(name, reply.headers[name])
        self.finish(reply.body or b"")


TENSORBOARD_HANDLERS: list[type[BaseHandler]] = [TensorBoardsHandler]
