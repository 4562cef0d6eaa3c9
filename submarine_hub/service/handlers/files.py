"""REST handlers of versioned files: saves, history, content, diff, restore, export, shares."""

from __future__ import annotations

import asyncio
import base64
import binascii
from typing import Any

from ...core import rooms, shares, versions
from ...core.errors import InvalidInput
from .base import BaseHandler

#: what the notebook libraries raise on a notebook they cannot read
MALFORMED = (ValueError, TypeError, KeyError, AttributeError)


class FilesBase(BaseHandler):
    def space_path(self, *, path_required: bool = True) -> tuple[str, str]:
        space = self.get_query_argument("space", "")
        versions.parse_space(space)
        path = self.get_query_argument("path", "")
        if path_required:
            path = versions.normalize_path(path)
        return space, path


class FilesHandler(FilesBase):
    path = "/files"

    async def get(self) -> None:
        identity = await self.identity()
        space, _ = self.space_path(path_required=False)
        prefix = self.get_query_argument("prefix", "")
        async with self.core.db.session() as s:
            found = await versions.list_files(
                s, identity, space, prefix, deleted=self.flag_arg("deleted")
            )
        self.write_json({"items": [f.to_json() for f in found]})


class VersionsHandler(FilesBase):
    path = "/files/versions"

    async def get(self) -> None:
        identity = await self.identity()
        space, path = self.space_path()
        async with self.core.db.session() as s:
            found = await versions.history(
                s, identity, space, path, earlier_files=self.flag_arg("earlier_files")
            )
        self.write_json({"items": [v.to_json() for v in found]})

    async def post(self) -> None:
        identity = await self.identity()
        body = self.checked_body()  # the types of its fields: the Save schema
        try:
            parts = {
                k: base64.b64decode(v, validate=True) for k, v in (body.get("parts") or {}).items()
            }
        except (binascii.Error, ValueError):
            raise InvalidInput("'parts' must map part hashes to base64 data.") from None
        space: Any = body.get("space")  # versions.save checks both
        path: Any = body.get("path")
        async with self.core.db.session() as s:
            authors = await rooms.vouched_authors(s, identity, space, body.get("authors"))
            info = await versions.save(
                s,
                identity,
                space,
                path,
                content=body.get("content"),
                format=body.get("format"),
                manifest=body.get("manifest"),
                parts=parts,
                size=body.get("size"),
                message=body.get("message", ""),
                base_version=body.get("base_version"),
                moved_from=body.get("moved_from"),
                restored_from=body.get("restored_from"),
                idempotency_key=self.request.headers.get("Idempotency-Key"),
                authors=authors,
            )
        self.write_json(info.to_json(), status=201)


class ContentHandler(FilesBase):
    path = "/files/content"

    async def get(self) -> None:
        identity = await self.identity()
        space, path = self.space_path()
        async with self.core.db.session() as s:
            info, content = await versions.get(s, identity, space, path, self.int_arg("version"))
        self.write_json({**info.to_json(), "content": content})

    async def delete(self) -> None:
        identity = await self.identity()
        space, path = self.space_path()
        async with self.core.db.session() as s:
            info = await versions.delete(s, identity, space, path)
        self.write_json(info.to_json())


class RestoreHandler(FilesBase):
    path = "/files/restore"

    async def post(self) -> None:
        identity = await self.identity()
        body = self.checked_body()
        async with self.core.db.session() as s:
            info = await versions.restore(
                s, identity, body["space"], body["path"], body["version"], body.get("message") or ""
            )
        self.write_json(info.to_json(), status=201)


class DiffHandler(FilesBase):
    path = "/files/diff"

    async def get(self) -> None:
        from ...core import notebook_forms

        identity = await self.identity()
        space, path = self.space_path()
        a, b = self.int_arg("a"), self.int_arg("b")
        if a is None or b is None:
            raise InvalidInput("Give the two versions to compare as 'a' and 'b'.")
        async with self.core.db.session() as s:
            va, ca = await versions.get(s, identity, space, path, a)
            vb, cb = await versions.get(s, identity, space, path, b)
        # nbdime and difflib take their time on big notebooks: off the event loop
        try:
            if va.format == "notebook" and vb.format == "notebook":
                out = await asyncio.to_thread(
                    notebook_forms.diff_notebooks,
                    ca,
                    cb,
                    ignore_outputs=self.flag_arg("ignore_outputs"),
                    ignore_metadata=self.flag_arg("ignore_metadata"),
                )
            elif va.format == "text" and vb.format == "text":
                out = await asyncio.to_thread(notebook_forms.diff_text, ca, cb)
            else:
                raise InvalidInput(
                    f"Version {a} is {va.format} and version {b} {vb.format}: only two "
                    "notebooks or two text files can be compared."
                )
        except MALFORMED as e:  # a notebook's version nbdime cannot read
            raise InvalidInput(f"Versions {a} and {b} cannot be compared: {e}") from None
        self.write_json({"a": va.to_json(), "b": vb.to_json(), **out})


class ExportHandler(FilesBase):
    path = "/files/export"

    async def get(self) -> None:
        from ...core import notebook_forms

        identity = await self.identity()
        space, path = self.space_path()
        fmt = self.get_query_argument("format", "py:percent")
        if fmt not in notebook_forms.EXPORT_FORMATS:
            formats = ", ".join(notebook_forms.EXPORT_FORMATS)
            raise InvalidInput(f"Unknown export format {fmt!r}; use one of {formats}.")
        async with self.core.db.session() as s:
            info, content = await versions.get(s, identity, space, path, self.int_arg("version"))
        if info.format != "notebook":
            raise InvalidInput(f"{path} is not a notebook; only notebooks are exported.")
        try:
            text, extension = await asyncio.to_thread(notebook_forms.export_notebook, content, fmt)
        except MALFORMED as e:
            raise InvalidInput(f"Version {info.number} of {path} cannot be exported: {e}") from None
        self.write_json(
            {**info.to_json(), "export_format": fmt, "extension": extension, "text": text}
        )


class SharesHandler(FilesBase):
    path = "/files/shares"

    async def get(self) -> None:
        identity = await self.identity()
        space, path = self.space_path()
        async with self.core.db.session() as s:
            rows = await shares.shares_of(s, identity, space, path)
            items = [shares.share_json(r) for r in rows]
        self.write_json({"items": items})

    async def post(self) -> None:
        identity = await self.identity()
        space, path = self.space_path()
        body = self.checked_body()
        groups = await self.core.hub_groups()
        users = set(await self.core.hub_user_names())
        async with self.core.db.session() as s:
            row = await shares.share(s, identity, space, path, body, groups, users)
            out = shares.share_json(row)
        self.write_json(out, status=201)

    async def delete(self) -> None:
        identity = await self.identity()
        space, path = self.space_path()
        kind = self.enum_arg("kind", ("user", "team"), "user")
        grantee = self.get_query_argument("with", "")
        async with self.core.db.session() as s:
            await shares.unshare(s, identity, space, path, kind, grantee)
        self.set_status(204)
        self.finish()


class SharedWithMeHandler(FilesBase):
    path = "/files/shared-with-me"

    async def get(self) -> None:
        identity = await self.identity()
        async with self.core.db.session() as s:
            items = [shares.share_json(r) for r in await shares.shared_with(s, identity)]
        self.write_json({"items": items})


FILE_HANDLERS: list[type[BaseHandler]] = [
    FilesHandler,
    VersionsHandler,
    ContentHandler,
    RestoreHandler,
    DiffHandler,
    ExportHandler,
    SharesHandler,
    SharedWithMeHandler,
]
