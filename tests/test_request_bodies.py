"""Request bodies are checked against the OpenAPI document's schemas: what the document
states of a body (types, required fields, enums, closed objects, bounds) is refused with
a 400 that names each wrong field, before the domain core sees it; what a schema cannot
state stays with the core, as before."""

from __future__ import annotations

from typing import Any

import pytest

from submarine_hub.core.errors import InvalidInput
from submarine_hub.service.bodies import RequestBodies
from submarine_hub.service.openapi import openapi_document

from .helpers.service import InProcessService

BODIES = RequestBodies(openapi_document())


@pytest.mark.parametrize(
    ("path", "method", "body", "message"),
    [
        (
            "/files/versions",
            "POST",
            {"space": "user:a", "path": "x.txt", "base_version": "3"},
            "'base_version' must be a whole number or null.",
        ),
        (
            "/files/versions",
            "POST",
            {"space": "user:a", "path": "x.txt", "parts": {"abc": 1}},
            "'parts.abc' must be text.",
        ),
        ("/files/versions", "POST", {"path": "x.txt"}, "'space' is required."),
        (
            "/files/restore",
            "POST",
            {"space": "user:a", "path": "x", "version": True},
            "'version' must be a whole number.",
        ),
        ("/files/restore", "POST", {"space": "user:a", "path": "x", "version": 0}, "at least 1"),
        ("/files/shares", "POST", {"with": "bob", "mode": "w"}, "'mode' must be one of r, rw."),
        ("/files/shares", "POST", {"with": ""}, "'with' must not be empty."),
        ("/files/shares", "POST", {"kind": "user"}, "'with' is required."),
        (
            "/credentials",
            "POST",
            {"name": "x", "value": "v", "colour": "red"},
            "Unknown or read-only field(s) of the request body: colour; the fields are ",
        ),
        ("/credentials", "POST", {"name": "x", "value": 5}, "'value' must be text."),
        (
            "/credentials",
            "POST",
            {"name": "x", "value": "v", "owner_kind": "group"},
            "'owner_kind' must be one of user, team.",
        ),
        (
            "/models/{team}/{name}/versions",
            "POST",
            {"from_run": {"run_id": 3, "paths": []}},
            "'from_run.paths' must not be empty.",
        ),
        (
            "/models/{team}/{name}/versions",
            "POST",
            {"from_run": {"paths": ["m.joblib"]}},
            "'from_run.run_id' is required.",
        ),
        (
            "/templates/{scope}/{name}/runs",
            "POST",
            {"meta": None},
            "'meta' must be an object.",
        ),
    ],
)
def test_a_body_the_schema_refuses_is_refused_naming_its_field(
    path: str, method: str, body: dict[str, Any], message: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        BODIES.check(path, method, body)
    assert message in refused.value.message


def test_every_wrong_field_is_named_in_one_answer() -> None:
    with pytest.raises(InvalidInput) as refused:
        BODIES.check("/credentials", "POST", {"name": 1, "kind": "disk", "value": "v"})
    assert refused.value.message == ("'kind' must be one of env, file. 'name' must be text.")


def test_a_good_body_and_an_operation_without_one_pass_as_they_are() -> None:
    body = {"space": "user:a", "path": "x.txt", "content": "hi", "format": "text"}
    assert BODIES.check("/files/versions", "POST", body) is body
    assert BODIES.check("/experiments/{run_id}/kill", "POST", {"any": 1}) == {"any": 1}


def test_the_service_answers_a_refused_body_with_400_and_the_field(
    service: InProcessService,
) -> None:
    user = service.new_user("bodies", [service.new_team("bodies")])
    nobody = service.unique("nobody")  # no hub user of that name
    where = {"space": f"user:{user}", "path": "a.txt"}
    r = service.api(
        "POST", "files/versions", user, json={**where, "content": "x", "format": "text"}
    )
    assert r.status_code == 201, r.text
    r = service.api("POST", "files/restore", user, json=where)
    assert (r.status_code, r.json()) == (
        400,
        {"status": 400, "message": "'version' is required."},
    )
    r = service.api(
        "POST", "files/shares", user, params=where, json={"with": nobody, "mode": "write"}
    )
    assert r.status_code == 400 and r.json()["message"] == "'mode' must be one of r, rw."
    # what a schema cannot say is still the core's: a share with nobody known
    r = service.api("POST", "files/shares", user, params=where, json={"with": nobody})
    assert r.status_code == 404 and f"No hub user named '{nobody}'" in r.json()["message"]
    r = service.api(
        "POST",
        "files/versions",
        user,
        json={"space": f"user:{user}", "path": "b.txt", "parts": {"k": "not base64!"}},
    )
    assert r.status_code == 400 and "base64" in r.json()["message"]
