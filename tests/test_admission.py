"""Quota-checked admission in the core, on SQLite and PostgreSQL: concurrent requests never
overshoot, and every rule refuses with its reason."""

from __future__ import annotations

import asyncio
import base64

import pytest

from submarine_hub.core import credentials, environments, sessions
from submarine_hub.core.crypto import Crypt
from submarine_hub.core.errors import Forbidden, InvalidInput
from submarine_hub.core.identity import Identity
from submarine_hub.core.quotas import QuotaExceeded
from submarine_hub.store import Database, upgrade

SPAWNER = Identity(
    name="submarine-spawner", kind="service", scopes=frozenset({sessions.SESSIONS_SCOPE})
)
ADMIN = Identity(name="admin", admin=True)
GROUPS = {"red": ["ann", "ben"], "blue": ["ben", "cy"]}


def member(name: str) -> Identity:
    return Identity(name=name, teams=frozenset(t for t, m in GROUPS.items() if name in m))


@pytest.fixture
async def db(db_url: str):  # type: ignore[no-untyped-def]
    upgrade(db_url)
    database = Database(db_url)
    yield database
    await database.dispose()


async def test_twenty_concurrent_admissions_against_a_limit_of_three(db: Database) -> None:
    async def one(i: int) -> str:
        try:
            async with db.session() as s:
                await sessions.admit(
                    s,
                    SPAWNER,
                    {"team": "red", "server_name": f"s{i}"},
                    member("ann"),
                    {"max_sessions": 3},
                )
            return "admitted"
        except QuotaExceeded as e:
            assert "limit of 3 concurrent sessions" in e.message
            return "refused"

    outcomes = await asyncio.gather(*(one(i) for i in range(20)))
    assert outcomes.count("admitted") == 3
    assert outcomes.count("refused") == 17
    async with db.session() as s:
        assert (await sessions.usage_of(s, "red")).sessions == 3


async def test_total_resources_are_capped_too(db: Database) -> None:
    defaults = {"max_gpus_total": 2}
    async with db.session() as s:
        await sessions.admit(
            s, SPAWNER, {"team": "blue", "resources": {"gpus": 2}}, member("cy"), defaults
        )
    with pytest.raises(QuotaExceeded, match="would use 3 GPUs in total, over its limit of 2"):
        async with db.session() as s:
            await sessions.admit(
                s,
                SPAWNER,
                {"team": "blue", "server_name": "b", "resources": {"gpus": 1}},
                member("cy"),
                defaults,
            )


async def test_restarting_the_same_server_replaces_its_admission(db: Database) -> None:
    for _ in range(3):
        async with db.session() as s:
            await sessions.admit(s, SPAWNER, {"team": "red"}, member("ann"), {"max_sessions": 1})
    async with db.session() as s:
        assert (await sessions.usage_of(s, "red")).sessions == 1


async def test_only_the_spawner_admits(db: Database) -> None:
    with pytest.raises(Forbidden, match="custom:submarine:sessions"):
        async with db.session() as s:
            await sessions.admit(s, member("ann"), {"team": "red"}, member("ann"), {})


async def test_environments_of_another_team_are_refused(db: Database) -> None:
    async with db.session() as s:
        await environments.create(s, member("cy"), {"name": "gpu", "team": "blue"}, GROUPS)
    with pytest.raises(Forbidden, match="you are not in it"):
        async with db.session() as s:
            await sessions.admit(s, SPAWNER, {"environment": "blue/gpu"}, member("ann"), {})
    # ben is in both teams, but blue's environment is not for a red session
    with pytest.raises(Forbidden, match="not to red; choose an environment of team red"):
        async with db.session() as s:
            await sessions.admit(
                s, SPAWNER, {"team": "red", "environment": "blue/gpu"}, member("ben"), {}
            )


async def test_credentials_round_trip_encrypted_and_scoped(db: Database) -> None:
    crypt = Crypt(base64.urlsafe_b64encode(b"k" * 32).decode())
    async with db.session() as s:
        await credentials.create(
            s,
            crypt,
            ADMIN,
            {"owner_kind": "team", "owner": "blue", "name": "tok", "value": "blue-secret"},
            GROUPS,
        )
        await credentials.create(
            s, crypt, member("ben"), {"name": "tok", "value": "ben-own"}, GROUPS
        )
    async with db.session() as s:
        env, files = await credentials.for_session(s, crypt, "ben", "blue")
        assert env == {"TOK": "ben-own"}  # the user's own wins over the team's
        env, files = await credentials.for_session(s, crypt, "cy", "blue")
        assert env == {"TOK": "blue-secret"}
        env, files = await credentials.for_session(s, crypt, "ann", "red")
        assert env == {} and files == []
    with pytest.raises(InvalidInput):
        async with db.session() as s:
            await credentials.create(s, crypt, member("ann"), {"name": "x"}, GROUPS)


def test_keys_follow_the_jupyterhub_convention_and_rotate() -> None:
    old, new = "aa" * 32, base64.urlsafe_b64encode(b"n" * 32).decode()
    token = Crypt(old).encrypt(b"secret")
    assert Crypt(f"{new};{old}").decrypt(token) == b"secret"  # rotated: old still decrypts
    with pytest.raises(ValueError, match="32 bytes"):
        Crypt("too-short")
    with pytest.raises(Exception, match="cannot be decrypted"):
        Crypt(new).decrypt(token)
