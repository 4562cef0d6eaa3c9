"""The server extension's lab-facing handlers and the versioned contents manager, in-process
(``jp_fetch``), against the platform's API served by the in-process service (see
``conftest.py``): a success, a bad input and another team's object for each handler
method; the last test checks each handler of the extension answered all three."""

from __future__ import annotations

import io
import json
import tarfile
from typing import Any

import pytest
from tornado.httpclient import HTTPResponse

from ..helpers.notebooks import code_cell, notebook
from ..helpers.service import CASE_HEADER, SERVER_SUMMARY, case_fits
from .conftest import Session

#: (handler class, METHOD) -> cases it answered with a fitting status, over this module
SEEN: dict[tuple[str, str], set[str]] = {}
#: Cases a handler method does not have, and why.
EXEMPT = {
    ("SessionInfoHandler", "GET", "bad"): "takes no input",
    ("SessionInfoHandler", "GET", "other"): "about this session only",
    ("ModifyCheckpointsHandler", "DELETE", "ok"): "versions are kept for good: always a 403",
    ("CheckpointsHandler", "GET", "bad"): "lists a path's versions: a path without any has none",
    ("ContentsHandler", "PATCH", "other"): "a rename in or out of a team folder is a 400 for all",
}


@pytest.fixture(autouse=True)
def record(jp_serverapp: Any) -> None:
    """Record which handler answered each request, with its case (``X-Test-Case``)."""
    settings = jp_serverapp.web_app.settings
    original = settings.get("log_function")

    def log_function(handler: Any) -> None:
        case = handler.request.headers.get(CASE_HEADER, "")
        if case_fits(case, handler.get_status()):
            key = (type(handler).__name__, handler.request.method or "")
            SEEN.setdefault(key, set()).add(case)
        if original is not None:
            original(handler)

    settings["log_function"] = log_function


@pytest.fixture
def fetch(jp_fetch: Any) -> Any:
    """``jp_fetch`` that returns errors too, and labels the request with its case."""

    async def call(
        case: str, *parts: str, method: str = "GET", body: Any = None, **kw: Any
    ) -> HTTPResponse:
        headers = {CASE_HEADER: case, **kw.pop("headers", {})}
        if isinstance(body, (dict, list)):
            body = json.dumps(body)
            headers.setdefault("Content-Type", "application/json")
        if body is None and method in ("POST", "PUT", "PATCH"):
            body = b""
        return await jp_fetch(
            *parts, method=method, body=body, headers=headers, raise_error=False, **kw
        )

    return call


def data(r: HTTPResponse) -> Any:
    return json.loads(r.body) if r.body else None


def api(*path: str) -> tuple[str, ...]:
    return ("submarine", "api", "v1", *path)


# --- the relay to the platform ---------------------------------------------------------


async def test_the_relay_calls_the_platform_as_the_sessions_user(
    fetch: Any, session: Session
) -> None:
    T, OT = session.team, session.other_team
    r = await fetch("ok", *api("me"))
    assert r.code == 200 and data(r)["name"] == session.user
    r = await fetch("bad", *api("experiments", "%2e%2e", "me"))
    assert r.code == 400 and "Not a path of the platform's API" in data(r)["message"]
    r = await fetch("other", *api("teams", OT))
    assert r.code == 403 and "not a member" in data(r)["message"]

    r = await fetch(
        "ok",
        *api("datasets"),
        method="POST",
        body={"name": "lab-data", "team": T, "uri": "s3://b/d"},
    )
    assert r.code == 201, r.body
    r = await fetch(
        "bad",
        *api("datasets"),
        method="POST",
        body={"name": "Bad Name", "team": T, "uri": "s3://b/x"},
    )
    assert r.code == 400
    r = await fetch(
        "other", *api("datasets"), method="POST", body={"name": "x", "team": OT, "uri": "s3://b/x"}
    )
    assert r.code == 403

    r = await fetch(
        "ok", *api("datasets", T, "lab-data"), method="PATCH", body={"description": "from the lab"}
    )
    assert r.code == 200 and data(r)["description"] == "from the lab"
    r = await fetch("bad", *api("datasets", T, "lab-data"), method="PATCH", body={"colour": "red"})
    assert r.code == 400
    r = await fetch(
        "other", *api("datasets", OT, "lab-data"), method="PATCH", body={"description": "x"}
    )
    assert r.code in (403, 404)

    r = await fetch("ok", *api("models"), method="POST", body={"name": "lab-model", "team": T})
    assert r.code == 201
    r = await fetch("ok", *api("models", T, "lab-model", "versions"), method="POST", body={})
    assert r.code == 201
    r = await fetch(
        "ok",
        *api("models", T, "lab-model", "versions", "1", "files"),
        method="PUT",
        body=b"weights",
        params={"path": "m.bin"},
        headers={"Content-Type": "application/octet-stream"},
    )
    assert r.code == 201, r.body
    r = await fetch(
        "bad",
        *api("models", T, "lab-model", "versions", "1", "files"),
        method="PUT",
        body=b"x",
        params={"path": "../m.bin"},
    )
    assert r.code == 400
    r = await fetch(
        "other",
        *api("models", OT, "lab-model", "versions", "1", "files"),
        method="PUT",
        body=b"x",
        params={"path": "m.bin"},
    )
    assert r.code in (403, 404)

    r = await fetch("ok", *api("datasets", T, "lab-data"), method="DELETE")
    assert r.code == 204
    r = await fetch("bad", *api("datasets", T, "%2e%2e"), method="DELETE")
    assert r.code == 400
    r = await fetch("other", *api("datasets", OT, "lab-data"), method="DELETE")
    assert r.code in (403, 404)


async def test_the_relay_says_when_the_session_has_no_platform(
    fetch: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from submarine_hub.server.handlers import _Relay

    for var in (
        "SUBMARINE_API_URL",
        "SUBMARINE_TOKEN",
        "JUPYTERHUB_API_URL",
        "JUPYTERHUB_API_TOKEN",
    ):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setattr(_Relay, "_client", None)
    r = await fetch("", *api("me"))
    assert r.code == 503 and "not connected to a Submarine Hub" in data(r)["message"]


async def test_predictions_are_relayed_with_the_sessions_token(
    fetch: Any, session: Session
) -> None:
    T, OT = session.team, session.other_team
    for call in (
        ("POST", "models", {"name": "served", "team": T}),
        ("POST", f"models/{T}/served/versions", {"framework": "sklearn"}),
    ):
        r = await fetch("", *api(*call[1].split("/")), method=call[0], body=call[2])
        assert r.code == 201, r.body
    for path in (f"models/{T}/served/versions/1/files",):
        r = await fetch(
            "", *api(*path.split("/")), method="PUT", body=b"w", params={"path": "model.joblib"}
        )
        assert r.code == 201
    r = await fetch("", *api("models", T, "served", "versions", "1", "ready"), method="POST")
    assert r.code == 200, r.body
    r = await fetch(
        "",
        *api("endpoints"),
        method="POST",
        body={"name": "lab-ep", "team": T, "model": "served", "version": 1},
    )
    assert r.code == 201, r.body
    r = await fetch(
        "ok",
        "submarine",
        "predict",
        T,
        "lab-ep",
        method="POST",
        body={"instances": [[1, 2], [3, 4]]},
    )
    assert r.code == 200 and data(r)["predictions"] == [0, 0], r.body
    r = await fetch(
        "bad", "submarine", "predict", T, "%2e%2e", method="POST", body={"instances": []}
    )
    assert r.code == 400
    r = await fetch(
        "other", "submarine", "predict", OT, "lab-ep", method="POST", body={"instances": []}
    )
    assert r.code in (403, 404)


# --- what the session is, its code --------------------------------------------------------


async def test_the_session_says_its_team(fetch: Any, session: Session) -> None:
    r = await fetch("ok", "submarine", "session")
    assert data(r) == {"team": session.team, "environment": None}


async def test_a_folder_packs_as_a_code_archive(fetch: Any, session: Session) -> None:
    for folder in ("job", "job/__pycache__"):
        r = await fetch(
            "", "api", "contents", *folder.split("/"), method="PUT", body={"type": "directory"}
        )
        assert r.code == 201, r.body
    for path, content in (("job/train.py", "print(1)\n"), ("job/__pycache__/train.pyc", "x")):
        r = await fetch(
            "",
            "api",
            "contents",
            *path.split("/"),
            method="PUT",
            body={"type": "file", "format": "text", "content": content},
        )
        assert r.code in (200, 201), r.body
    r = await fetch("ok", "submarine", "code-archive", params={"path": "job"})
    assert r.code == 200 and r.headers["Content-Type"] == "application/gzip"
    with tarfile.open(fileobj=io.BytesIO(r.body)) as tar:
        assert tar.getnames() == ["train.py"]  # caches are left out, as the CLI leaves them
    r = await fetch("bad", "submarine", "code-archive", params={"path": "../etc"})
    assert r.code == 400
    r = await fetch(
        "other", "submarine", "code-archive", params={"path": f"teams/{session.other_team}"}
    )
    assert r.code in (403, 404), r.body


# --- versioned contents and checkpoints -----------------------------------------------------


def book(value: int) -> dict[str, Any]:
    return notebook(code_cell(f"value = {value}", id="c1"))


async def test_saves_are_versions_and_checkpoints_are_versions(
    fetch: Any, session: Session
) -> None:
    OT = session.other_team
    foreign = ("api", "contents", "teams", OT, "x.ipynb")
    for i in (1, 2):
        r = await fetch(
            "ok",
            "api",
            "contents",
            "nb.ipynb",
            method="PUT",
            body={"type": "notebook", "content": book(i)},
        )
        assert r.code in (200, 201), r.body
    r = await fetch("bad", "api", "contents", "nb.ipynb", method="PUT", body={"type": "notebook"})
    assert r.code == 400, r.body
    r = await fetch("other", *foreign, method="PUT", body={"type": "notebook", "content": book(0)})
    assert r.code in (403, 404), r.body
    # through the relay, which waits for the session's queued saves first
    r = await fetch(
        "", *api("files", "versions"), params={"space": f"user:{session.user}", "path": "nb.ipynb"}
    )
    assert [v["number"] for v in data(r)["items"]] == [2, 1]
    r = await fetch("ok", "api", "contents", "nb.ipynb", "checkpoints")
    checkpoints = data(r)
    assert len(checkpoints) == 2, checkpoints
    r = await fetch("", "api", "contents", "no-such.ipynb", "checkpoints")
    assert data(r) == []
    r = await fetch("other", *foreign, "checkpoints")
    assert r.code in (403, 404), r.body
    r = await fetch("ok", "api", "contents", "nb.ipynb", "checkpoints", method="POST")
    assert r.code == 201, r.body
    r = await fetch("bad", "api", "contents", "no-such.ipynb", "checkpoints", method="POST")
    assert 400 <= r.code < 500, r.body
    r = await fetch("other", *foreign, "checkpoints", method="POST")
    assert r.code in (403, 404), r.body
    oldest = min(checkpoints, key=lambda c: c["last_modified"])
    r = await fetch("ok", "api", "contents", "nb.ipynb", "checkpoints", oldest["id"], method="POST")
    assert r.code == 204, r.body
    r = await fetch("", "api", "contents", "nb.ipynb")
    assert data(r)["content"]["cells"][0]["source"] == "value = 1"
    r = await fetch("bad", "api", "contents", "nb.ipynb", "checkpoints", "999999", method="POST")
    assert 400 <= r.code < 500
    r = await fetch("other", *foreign, "checkpoints", "1", method="POST")
    assert r.code in (403, 404), r.body
    # versions are kept for good: deleting one is refused, whoever asks
    r = await fetch(
        "bad", "api", "contents", "nb.ipynb", "checkpoints", oldest["id"], method="DELETE"
    )
    assert r.code == 403 and b"kept for good" in r.body
    r = await fetch("other", *foreign, "checkpoints", "1", method="DELETE")
    assert r.code in (403, 404), r.body


async def test_team_folders_are_the_platforms(fetch: Any, session: Session) -> None:
    T, OT = session.team, session.other_team
    r = await fetch("ok", "api", "contents")
    assert {"teams", "shared"} <= {c["name"] for c in data(r)["content"]}
    r = await fetch("ok", "api", "contents", "teams")
    assert [c["name"] for c in data(r)["content"]] == [T]
    note = {"type": "file", "format": "text", "content": "team note\n"}
    r = await fetch("ok", "api", "contents", "teams", T, "notes.txt", method="PUT", body=note)
    assert r.code in (200, 201), r.body
    r = await fetch(
        "", *api("files", "content"), params={"space": f"team:{T}", "path": "notes.txt"}
    )
    assert data(r)["content"] == "team note\n"
    r = await fetch("ok", "api", "contents", "teams", T, "notes.txt")
    assert data(r)["content"] == "team note\n"
    r = await fetch(
        "bad",
        "api",
        "contents",
        "teams",
        T,
        "nb.ipynb",
        method="PUT",
        body={"type": "notebook", "content": {"cells": "none"}},
    )
    assert r.code == 400, r.body
    r = await fetch("other", "api", "contents", "teams", OT, "notes.txt", method="PUT", body=note)
    assert r.code in (403, 404)
    r = await fetch("other", "api", "contents", "teams", OT)
    assert r.code in (403, 404)
    r = await fetch("bad", "api", "contents", "teams", T, "never.txt")
    assert r.code == 404
    r = await fetch("", "api", "contents", "mine.txt", method="PUT", body=note)
    assert r.code == 201, r.body
    r = await fetch(
        "ok", "api", "contents", "mine.txt", method="PATCH", body={"path": "renamed.txt"}
    )
    assert r.code == 200, r.body
    r = await fetch(
        "bad", "api", "contents", "renamed.txt", method="PATCH", body={"path": f"teams/{T}/x.txt"}
    )
    assert r.code == 400 and b"not supported" in r.body
    r = await fetch("ok", "api", "contents", "teams", T, "notes.txt", method="DELETE")
    assert r.code == 204, r.body
    r = await fetch("bad", "api", "contents", "teams", T, "notes.txt", method="DELETE")
    assert r.code == 404
    r = await fetch("other", "api", "contents", "teams", OT, "a.txt", method="DELETE")
    assert r.code in (403, 404)
    r = await fetch(
        "ok", "api", "contents", "teams", T, method="POST", body={"type": "file", "ext": ".txt"}
    )
    assert r.code == 201, r.body
    r = await fetch(
        "bad", "api", "contents", "teams", T, "no-such-folder", method="POST", body={"type": "file"}
    )
    assert r.code == 404, r.body
    r = await fetch(
        "other", "api", "contents", "teams", OT, method="POST", body={"type": "file", "ext": ".txt"}
    )
    assert r.code in (403, 404), r.body


async def test_files_shared_with_the_user_show_under_shared(fetch: Any, session: Session) -> None:
    s = session.service
    owner = s.new_user("sharer", [session.other_team])
    space = f"team:{session.other_team}"
    r = s.api(
        "POST",
        "files/versions",
        user=owner,
        json={"space": space, "path": "s/a.txt", "content": "shared\n", "format": "text"},
    )
    assert r.status_code == 201, r.text
    r = s.api(
        "POST",
        f"files/shares?space={space}&path=s/a.txt",
        user=owner,
        json={"kind": "user", "with": session.user, "mode": "r"},
    )
    assert r.status_code == 201, r.text
    r = await fetch("ok", "api", "contents", "shared", "teams", session.other_team, "s", "a.txt")
    assert r.code == 200 and data(r)["content"] == "shared\n"
    r = await fetch(
        "other",
        "api",
        "contents",
        "shared",
        "teams",
        session.other_team,
        "s",
        "a.txt",
        method="PUT",
        body={"type": "file", "format": "text", "content": "mine now"},
    )
    assert r.code in (403, 404), r.body


# --- coverage: last -------------------------------------------------------------------------


def _extension_handlers(app: Any) -> set[type]:
    """The handler classes of ``app``'s routes from this project's server extension, and
    the contents handlers its manager serves."""
    found: set[type] = set()

    def walk(router: Any) -> None:
        for rule in getattr(router, "rules", []):
            target = rule.target
            if isinstance(target, type):
                module = target.__module__
                if (
                    module.startswith("submarine_hub.server")
                    or module == "jupyter_server.services.contents.handlers"
                ):
                    found.add(target)
            else:
                walk(target)

    walk(app.default_router)
    walk(app.wildcard_router)
    return found


def test_every_handler_of_the_extension_answered_each_case(
    jp_serverapp: Any, request: pytest.FixtureRequest
) -> None:
    from tornado.web import RequestHandler

    selected = {i.originalname for i in request.session.items if i.module is request.module}
    defined = {n for n in dir(request.module) if n.startswith("test_")}
    if not defined <= selected:
        pytest.skip("only part of this module ran")
    missing = []
    total = 0
    for cls in sorted(_extension_handlers(jp_serverapp.web_app), key=lambda c: c.__name__):
        if cls.__name__ in ("NotebooksRedirectHandler", "TrustNotebooksHandler"):
            continue  # jupyter-server's own, not the manager's
        methods = [
            m
            for m in ("GET", "POST", "PUT", "PATCH", "DELETE")
            if getattr(cls, m.lower()) is not getattr(RequestHandler, m.lower())
        ]
        total += len(methods)
        for method in methods:
            for case in ("ok", "bad", "other"):
                if (cls.__name__, method, case) in EXEMPT:
                    continue
                if case not in SEEN.get((cls.__name__, method), set()):
                    missing.append(f"{cls.__name__} {method}: no {case} case")
    handlers = len({m.split(":")[0] for m in missing})
    request.config.stash[SERVER_SUMMARY] = (
        f"server extension: {total - handlers} of {total} handler methods answered a success, "
        "a bad input and another team's object (or are listed as not having the case)"
    )
    assert not missing, "\n".join(missing)
