"""Environments, credentials and quota-checked session admission, in-process; an environment
that fails to build, through the real hub (its builds install packages)."""

from __future__ import annotations

import base64
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from sqlalchemy import text

from .helpers.api import assert_json_error
from .helpers.hub import Hub
from .helpers.service import InProcessService


# --- environments -----------------------------------------------------------------------
def test_team_members_manage_their_teams_environments(service: InProcessService) -> None:
    body = {
        "name": "pandas-lab",
        "team": "data-science",
        "packages": ["pandas>=2"],
        "resources": {"cpu": 1, "memory": "2G"},
        "description": "Tabular work",
    }
    r = service.api("POST", "environments", user="alice", json=body)
    assert r.status_code == 201, r.text
    env = r.json()
    assert env["ref"] == "data-science/pandas-lab"
    assert env["owner"] == "alice"
    assert env["resources"] == {"cpu": 1.0, "memory": 2_000_000_000, "gpus": 0}
    assert env["build"]["state"] == "ready"  # in-process builds are off, as in standalone mode
    assert_json_error(service.api("POST", "environments", user="bob", json=body), 409, "exists")

    r = service.api(
        "PATCH",
        "environments/data-science/pandas-lab",
        user="bob",
        json={"description": "Tabular work, shared"},
    )
    assert r.json()["description"] == "Tabular work, shared"
    assert "data-science/pandas-lab" in [
        e["ref"] for e in service.api("GET", "environments", user="alice").json()["items"]
    ]


def test_a_user_of_another_team_cannot_see_or_change_its_environments(
    service: InProcessService,
) -> None:
    service.api(
        "POST", "environments", user="alice", json={"name": "secret-sauce", "team": "data-science"}
    )
    assert "data-science/secret-sauce" not in [
        e["ref"] for e in service.api("GET", "environments", user="carol").json()["items"]
    ]
    path = "environments/data-science/secret-sauce"
    assert_json_error(service.api("GET", path, user="carol"), 403, "you are not in it")
    assert_json_error(service.api("PATCH", path, user="carol", json={"image": "x"}), 403)
    assert_json_error(service.api("DELETE", path, user="carol"), 403)
    assert_json_error(service.api("POST", f"{path}/build", user="carol"), 403)
    assert_json_error(
        service.api(
            "POST", "environments", user="carol", json={"name": "x", "team": "data-science"}
        ),
        403,
        "not a member of team 'data-science'",
    )
    assert_json_error(service.api("GET", "environments?team=data-science", user="carol"), 403)
    assert service.api("DELETE", path, user="alice").status_code == 204
    assert_json_error(service.api("GET", path, user="alice"), 404)


def test_only_admins_manage_global_environments(service: InProcessService) -> None:
    assert_json_error(
        service.api("POST", "environments", user="alice", json={"name": "base"}),
        403,
        "Only hub admins manage global environments",
    )
    r = service.api(
        "POST",
        "environments",
        user="admin",
        json={"name": "base-py", "description": "Plain Python", "image": "python:3.12"},
    )
    assert r.status_code == 201, r.text
    assert r.json()["team"] is None
    # everyone sees and uses global environments
    assert service.api("GET", "environments/_global/base-py", user="carol").status_code == 200
    assert_json_error(
        service.api("PATCH", "environments/_global/base-py", user="carol", json={"image": "x"}),
        403,
    )


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"name": "Bad Name"}, "'name' must be"),
        ({"name": "x", "packages": ["-e ."]}, "is a pip option; only requirement lines"),
        ({"name": "x", "packages": ["--index-url http://evil"]}, "is a pip option"),
        ({"name": "x", "packages": ["https://example.com/x.whl"]}, "is a URL or a path"),
        ({"name": "x", "packages": ["not a requirement!!"]}, "not a valid requirement"),
        ({"name": "x", "packages": "numpy"}, "must be a list"),
        ({"name": "x", "conda": "dependencies: numpy"}, "non-empty 'dependencies' list"),
        ({"name": "x", "conda": "a: [b"}, "not valid YAML"),
        ({"name": "x", "resources": {"cpu": -1}}, "positive number of cores"),
        ({"name": "x", "resources": {"memory": "lots"}}, "size like 512M"),
        ({"name": "x", "resources": {"gpus": 1.5}}, "whole number of GPUs"),
        ({"name": "x", "resources": {"disk": 1}}, "Unknown resource"),
        ({"name": "x", "colour": "red"}, "Unknown or read-only"),
        ({"name": "x", "team": "no-such-team"}, "No team named"),
    ],
)
def test_bad_environments_are_refused(service: InProcessService, body: dict, message: str) -> None:
    body.setdefault("team", "data-science")
    r = service.api("POST", "environments", user="alice", json=body)
    assert r.status_code in (400, 404), r.text
    assert message in r.json()["message"]


# --- credentials ------------------------------------------------------------------------
def test_credentials_are_stored_encrypted_and_never_returned(service: InProcessService) -> None:
    owner = service.new_user("cred")  # whose credentials are this test's only
    r = service.api(
        "POST",
        "credentials",
        user=owner,
        json={"name": "warehouse-password", "value": "alice-plaintext-secret-42"},
    )
    assert r.status_code == 201, r.text
    cred = r.json()
    assert cred["target"] == "WAREHOUSE_PASSWORD"
    assert "value" not in cred and "ciphertext" not in cred
    listed = service.api("GET", "credentials", user=owner).json()["items"]
    assert [c["name"] for c in listed if c["owner"] == owner] == ["warehouse-password"]
    assert "alice-plaintext-secret-42" not in str(listed)
    stored = service.call(_ciphertexts)
    assert stored and b"alice-plaintext-secret-42" not in stored


async def _ciphertexts(context: Any) -> bytes:
    async with context.db.session() as s:
        return b"".join((await s.execute(text("SELECT ciphertext FROM credentials"))).scalars())


def test_team_credentials_are_for_admins_to_set_and_members_to_see(
    service: InProcessService,
) -> None:
    assert_json_error(
        service.api(
            "POST",
            "credentials",
            user="bob",
            json={"owner_kind": "team", "owner": "ml-platform", "name": "k", "value": "v"},
        ),
        403,
        "Only hub admins manage team credentials",
    )
    r = service.api(
        "POST",
        "credentials",
        user="admin",
        json={
            "owner_kind": "team",
            "owner": "ml-platform",
            "name": "registry-token",
            "value": "ml-team-secret",
        },
    )
    assert r.status_code == 201, r.text
    assert "registry-token" in [
        c["name"] for c in service.api("GET", "credentials", user="carol").json()["items"]
    ]
    assert "registry-token" not in [
        c["name"] for c in service.api("GET", "credentials", user="alice").json()["items"]
    ]
    # another team's credential is invisible, and members cannot delete it
    assert_json_error(
        service.api("DELETE", "credentials/team/ml-platform/registry-token", user="alice"), 404
    )
    assert_json_error(
        service.api("DELETE", "credentials/team/ml-platform/registry-token", user="carol"),
        403,
        "Only hub admins",
    )
    assert_json_error(
        service.api(
            "POST", "credentials", user="alice", json={"owner": "carol", "name": "k", "value": "v"}
        ),
        403,
        "only manage your own",
    )


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"name": "k", "value": "v", "target": "JUPYTERHUB_API_TOKEN"}, "reserved"),
        ({"name": "k", "value": "v", "target": "1BAD"}, "not a valid environment variable"),
        ({"name": "k", "kind": "file", "value": "v", "target": "../../etc/passwd"}, "relative"),
        ({"name": "k", "kind": "file", "value": "v", "target": "/etc/passwd"}, "relative"),
        ({"name": "k", "value": "v", "value_base64": "dg=="}, "exactly one"),
        ({"name": "k"}, "exactly one"),
        ({"name": "k", "value_base64": "***"}, "not valid base64"),
        ({"name": "k", "kind": "ssh", "value": "v"}, "'kind' must be"),
        ({"name": "bad name!", "value": "v"}, "'name' must be"),
        ({"name": "k", "value": "x" * (1024 * 1024 + 1)}, "at most"),
        ({"name": "k", "owner_kind": "team", "owner": "nope", "value": "v"}, "No team named"),
    ],
)
def test_bad_credentials_are_refused(service: InProcessService, body: dict, message: str) -> None:
    r = service.api(
        "POST", "credentials", user="admin" if body.get("owner_kind") else "alice", json=body
    )
    assert r.status_code in (400, 404), r.text
    assert message in r.json()["message"]


# --- sessions and quotas ----------------------------------------------------------------
def admit(platform: Any, **body: object):  # type: ignore[no-untyped-def]
    """Admit a session as JupyterHub's spawner does (``platform``: the hub or the service)."""
    return platform.platform("POST", "sessions", platform.spawner_token, json=body)


def test_only_the_spawner_admits_sessions(service: InProcessService) -> None:
    assert_json_error(
        service.api("POST", "sessions", user="alice", json={"user": "alice"}),
        403,
        "custom:submarine:sessions",
    )
    assert_json_error(service.api("GET", "spawn-options/alice", user="alice"), 403)


def test_spawn_options_list_the_users_teams_and_usable_environments(
    service: InProcessService,
) -> None:
    options = service.platform("GET", "spawn-options/carol", service.spawner_token).json()
    assert options["teams"] == ["ml-platform"]
    assert all(e["team"] in (None, "ml-platform") for e in options["environments"])


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({"user": "bob"}, 400, "several teams"),
        ({"user": "admin"}, 403, "in no team"),
        ({"user": "alice", "team": "ml-platform"}, 403, "not a member of team 'ml-platform'"),
        ({"user": "nobody-here", "team": "x"}, 404, "No hub user"),
        ({"user": "carol", "environment": "data-science/{own}"}, 403, "not in it"),
        ({"user": "carol", "environment": "ml-platform/none"}, 404, "No environment"),
        ({"user": "carol", "resources": {"cpu": "many"}}, 400, "number of cores"),
    ],
)
def test_bad_admissions_are_refused(
    service: InProcessService, body: dict, status: int, message: str
) -> None:
    if "{own}" in body.get("environment", ""):  # an environment of its own, not a leftover
        own = service.unique("admit-env")
        r = service.api(
            "POST", "environments", user="alice", json={"name": own, "team": "data-science"}
        )
        assert r.status_code == 201, r.text
        body = {**body, "environment": body["environment"].format(own=own)}
    assert_json_error(admit(service, **body), status, message)


def test_twenty_concurrent_admissions_against_a_limit_of_three_admit_three(
    service: InProcessService,
) -> None:
    # sessions of other tests may be running in the team: leave room for exactly 3 more
    running = service.api("GET", "teams/ml-platform", user="carol").json()["usage"]["sessions"]
    limit = running + 3
    service.api(
        "PATCH", "teams/ml-platform", user="admin", json={"quota": {"max_sessions": limit}}
    ).raise_for_status()
    try:
        with ThreadPoolExecutor(20) as pool:
            answers = list(
                pool.map(
                    lambda i: admit(service, user="carol", team="ml-platform", server_name=f"q{i}"),
                    range(20),
                )
            )
        admitted = [r for r in answers if r.status_code == 201]
        refused = [r for r in answers if r.status_code == 403]
        assert len(admitted) == 3, [(r.status_code, r.text[:200]) for r in answers]
        assert len(refused) == 17
        assert f"limit of {limit} concurrent sessions" in refused[0].json()["message"]
        team = service.api("GET", "teams/ml-platform", user="carol").json()
        assert team["usage"]["sessions"] == limit
        assert team["quota"]["max_sessions"] == limit
    finally:
        for r in answers:
            if r.status_code == 201:
                service.platform("DELETE", f"sessions/{r.json()['id']}", service.spawner_token)
        service.api(
            "PATCH", "teams/ml-platform", user="admin", json={"quota": {"max_sessions": None}}
        ).raise_for_status()
    assert (
        service.api("GET", "teams/ml-platform", user="carol").json()["usage"]["sessions"] == running
    )


def test_per_session_limits_refuse_a_too_big_environment(service: InProcessService) -> None:
    service.api(
        "POST",
        "environments",
        user="carol",
        json={"name": "big", "team": "ml-platform", "resources": {"memory": "8G", "gpus": 2}},
    )
    service.api(
        "PATCH", "teams/ml-platform", user="admin", json={"quota": {"max_memory_per_session": "4G"}}
    ).raise_for_status()
    try:
        assert_json_error(
            admit(service, user="carol", environment="ml-platform/big"),
            403,
            "at most 4G memory; this one asks for 8G",
        )
    finally:
        service.api(
            "PATCH",
            "teams/ml-platform",
            user="admin",
            json={"quota": {"max_memory_per_session": None}},
        ).raise_for_status()


@pytest.mark.parametrize(
    ("quota", "message"),
    [
        ({"max_sessions": -1}, "whole number"),
        ({"max_sessions": "3"}, "whole number"),
        ({"max_cpu_total": 0}, "positive number"),
        ({"max_memory_total": "huge"}, "size like"),
        ({"max_parties": 1}, "Unknown quota limit"),
        ("3", "must be an object"),
    ],
)
def test_bad_quotas_are_refused(service: InProcessService, quota: object, message: str) -> None:
    assert_json_error(
        service.api("PATCH", "teams/ml-platform", user="admin", json={"quota": quota}), 400, message
    )


def test_only_admins_set_quotas(service: InProcessService) -> None:
    assert_json_error(
        service.api(
            "PATCH", "teams/ml-platform", user="carol", json={"quota": {"max_sessions": 99}}
        ),
        403,
        "Only hub admins",
    )


def test_grant_carries_the_teams_credentials_only(service: InProcessService) -> None:
    mine, theirs = service.unique("warehouse"), service.unique("registry")
    for user, body in (
        ("alice", {"name": mine, "target": "GRANT_WAREHOUSE", "value": "alice-grant-secret"}),
        ("admin", {"owner_kind": "team", "owner": "ml-platform", "name": theirs,
                   "target": "GRANT_REGISTRY", "value": "ml-secret"}),
    ):  # fmt: skip
        r = service.api("POST", "credentials", user=user, json=body)
        assert r.status_code == 201, r.text
    keytab_name = service.unique("ds-keytab")
    service.api(
        "POST",
        "credentials",
        user="admin",
        json={
            "owner_kind": "team",
            "owner": "data-science",
            "name": keytab_name,
            "kind": "file",
            "target": "krb/ds.keytab",
            "value_base64": base64.b64encode(b"\x05\x02keytab").decode(),
        },
    )
    r = admit(service, user="alice", server_name="grant-test")
    assert r.status_code == 201, r.text
    grant = r.json()
    try:
        assert grant["team"] == "data-science"
        assert grant["env"]["SUBMARINE_TEAM"] == "data-science"
        assert grant["env"]["GRANT_WAREHOUSE"] == "alice-grant-secret"
        assert "GRANT_REGISTRY" not in grant["env"]  # ml-platform's
        (keytab,) = [f for f in grant["files"] if f["path"] == "krb/ds.keytab"]
        assert base64.b64decode(keytab["content_base64"]) == b"\x05\x02keytab"
    finally:
        service.platform("DELETE", f"sessions/{grant['id']}", service.spawner_token)


def test_admins_store_credentials_for_a_user(service: InProcessService) -> None:
    r = service.api(
        "POST",
        "credentials",
        user="admin",
        json={"owner": "carol", "name": "carol-db", "value": "carol-secret"},
    )
    assert r.status_code == 201, r.text
    assert r.json()["owner"] == "carol" and r.json()["created_by"] == "admin"
    mine = service.api("GET", "credentials", user="carol").json()["items"]
    assert ("user", "carol", "carol-db") in [(c["owner_kind"], c["owner"], c["name"]) for c in mine]
    assert "carol-db" not in [
        c["name"] for c in service.api("GET", "credentials", user="bob").json()["items"]
    ]
    assert service.api("DELETE", "credentials/user/carol/carol-db", user="carol").status_code == 204


def test_a_failed_build_is_reported_with_its_log(hub: Hub) -> None:
    r = hub.api(
        "POST",
        "environments",
        user="alice",
        json={
            "name": "broken",
            "team": "data-science",
            "packages": ["submarine-no-such-package-xyz==0.0.1"],
        },
    )
    assert r.status_code == 201, r.text
    status = hub.api("POST", "environments/data-science/broken/build", user="alice").json()
    import time

    deadline = time.monotonic() + 120
    while status["state"] in ("pending", "building") and time.monotonic() < deadline:
        time.sleep(0.5)
        status = hub.api("GET", "environments/data-science/broken/build", user="alice").json()
    assert status["state"] == "failed"
    assert status["error"]
    log = hub.api("GET", "environments/data-science/broken/build?log=1", user="alice").json()["log"]
    assert "submarine-no-such-package-xyz" in log
    # a session with it is refused, saying where the log is
    r = admit(hub, user="alice", environment="data-science/broken", server_name="broken")
    assert r.status_code == 201  # admitted; the spawner then sees the failed build
    grant = r.json()
    assert grant["environment"]["build"]["state"] == "failed"
    hub.platform("DELETE", f"sessions/{grant['id']}", hub.spawner_token)
