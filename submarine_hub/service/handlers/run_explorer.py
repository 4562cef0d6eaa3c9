"""REST handlers of the run explorer: the runs table searched with MLflow's filter syntax
(``core/run_search.py``, ``core/run_table.py``)."""

from __future__ import annotations

from ...core import run_table
from .base import BaseHandler


class RunSearchHandler(BaseHandler):
    """``GET /experiments/search?filter=...&order_by=...``: a page of the runs table."""

    path = "/experiments/search"

    async def get(self) -> None:
        identity = await self.identity()
        order_by = [
            part.strip()
            for arg in self.get_query_arguments("order_by")
            for part in arg.split(",")
            if part.strip()
        ]
        page_token = self.get_query_argument("page_token", None) or None
        filter_text = self.get_query_argument("filter", None)  # control characters: removed
        async with self.core.db.session() as s:
            page = await run_table.table_page(
                s,
                identity,
                filter=filter_text,
                order_by=order_by,
                team=self.get_query_argument("team", None) or None,
                max_results=self.int_arg("max_results", 50, minimum=1, maximum=1000),
                page_token=page_token,
                columns=self.get_query_argument("columns", None),
            )
        self.write_json(page)


RUN_EXPLORER_HANDLERS: list[type[BaseHandler]] = [RunSearchHandler]
