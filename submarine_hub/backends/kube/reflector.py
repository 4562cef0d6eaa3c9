"""One watch cache: a local copy of the objects of one kind, kept current by a watch.

Modelled on KubeSpawner's ``ResourceReflector``, on the platform's :class:`KubeApi`:
list, then watch from the list's ``resourceVersion``; when the server ends the watch,
watch again from the last version seen; on ``410 Gone`` (that version is too old), list
again. After any other error the cache is not :attr:`Reflector.synced` (readers go to
the API server) until a list succeeds, retried with a growing pause.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
from typing import Any

from .api import ApiException, KubeApi
from .state import labels_of, meta

log = logging.getLogger(__name__)

Key = tuple[str, str]  # namespace, name


class Reflector:
    """The objects of ``kind`` that ``label_selector`` picks in ``namespace`` (``None``:
    every namespace), indexed by the value of the label ``index``."""

    def __init__(
        self,
        api: KubeApi,
        kind: str,
        *,
        namespace: str | None,
        label_selector: str,
        index: str,
        logger: logging.Logger | logging.LoggerAdapter[Any] | None = None,
        max_delay: float = 60.0,
    ) -> None:
        self.api = api
        self.kind = kind
        self.namespace = namespace
        self.label_selector = label_selector
        self.index = index
        self.log = logger or log
        self.max_delay = max_delay
        self.objects: dict[Key, dict[str, Any]] = {}
        self._by_index: dict[str, set[Key]] = collections.defaultdict(set)
        self.synced = False
        self._task: asyncio.Task[None] | None = None

    # -- reading --

    def indexed(self, value: str) -> list[dict[str, Any]]:
        """The objects whose ``index`` label is ``value``."""
        return [self.objects[k] for k in self._by_index.get(value, ())]

    # -- keeping it current --

    @staticmethod
    def _key(obj: dict[str, Any]) -> Key:
        m = meta(obj)
        return m.get("namespace") or "", m.get("name") or ""

    def _drop(self, key: Key) -> None:
        obj = self.objects.pop(key, None)
        if obj is None:
            return
        value = labels_of(obj).get(self.index)
        if value in self._by_index:
            self._by_index[value].discard(key)
            if not self._by_index[value]:
                del self._by_index[value]

    def apply(self, event: str, obj: dict[str, Any]) -> None:
        """What an event (``ADDED``, ``MODIFIED``, ``DELETED``) says of an object."""
        key = self._key(obj)
        self._drop(key)
        if event != "DELETED":
            self.objects[key] = obj
            value = labels_of(obj).get(self.index)
            if value:
                self._by_index[value].add(key)

    def reset(self, items: list[dict[str, Any]]) -> None:
        """Replace the cache with a list's items; the cache is synced."""
        for key in list(self.objects):
            self._drop(key)
        for item in items:
            self.apply("ADDED", item)
        self.synced = True

    async def run(self) -> None:
        """List and watch until cancelled."""
        delay = 1.0
        while True:
            try:
                items, version = await self.api.list(self.kind, self.namespace, self.label_selector)
                self.reset(items)
                delay = 1.0
                while True:
                    watch = self.api.watch(self.kind, self.namespace, self.label_selector, version)
                    async for event, obj in watch:
                        version = meta(obj).get("resourceVersion") or version
                        if event in ("ADDED", "MODIFIED", "DELETED"):
                            self.apply(event, obj)
            except asyncio.CancelledError:
                raise
            except ApiException as e:
                self.synced = False
                if e.status == 410:  # our resourceVersion is too old: list again
                    continue
                self.log.warning("Watching %s failed (%s); again in %.0fs", self.kind, e, delay)
            except Exception as e:
                self.synced = False
                self.log.warning("Watching %s failed (%s); again in %.0fs", self.kind, e, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, self.max_delay)

    def start(self) -> None:
        """Start listing and watching in the background (once)."""
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self.run())

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    async def stop(self) -> None:
        """Stop watching; the cache is not synced any more."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self.synced = False
