"""The one parser of request bodies, ids and numbers (core/validation.py), and the
checks of stored manifests (core/contentaddr.py), without a hub."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from submarine_hub.core import contentaddr
from submarine_hub.core.errors import InvalidInput, NotFound
from submarine_hub.core.resources import Resources, parse_cpu, parse_memory
from submarine_hub.core.validation import (
    INT64_MAX,
    MAX_DEPTH,
    dump_json,
    parse_id,
    parse_int,
    parse_json,
    parse_yaml,
)


@pytest.mark.parametrize("value", ["1", "42", str(INT64_MAX), 7])
def test_an_id_is_a_positive_64_bit_integer(value: object) -> None:
    assert parse_id(value) == int(value)  # type: ignore[call-overload]


@pytest.mark.parametrize(
    "value", ["0", "-1", str(INT64_MAX + 1), "9" * 30, "²", "١٢", "1.0", "", " 1", "0x10", True]
)
def test_anything_else_names_no_object(value: object) -> None:
    with pytest.raises(NotFound, match="ids are positive numbers"):
        parse_id(value)


def test_a_whole_number_is_bounded_and_named_in_the_error() -> None:
    assert parse_int("0", "offset", minimum=0) == 0
    with pytest.raises(InvalidInput, match="'limit' must be between 1 and 500"):
        parse_int("501", "limit", minimum=1, maximum=500)
    with pytest.raises(InvalidInput, match="'offset' must be a whole number"):
        parse_int("²", "offset")


@pytest.mark.parametrize(
    "raw", ["NaN", '{"a": Infinity}', '{"a": [-Infinity]}', '{"a": 1e999}', "[-1e400]"]
)
def test_a_body_with_a_number_that_is_not_finite_is_refused(raw: str) -> None:
    with pytest.raises(InvalidInput, match="finite"):
        parse_json(raw)


def test_a_body_nests_at_most_64_levels_and_is_checked_without_recursion() -> None:
    ok = "[" * MAX_DEPTH + "]" * MAX_DEPTH
    assert parse_json(ok)
    for deep in ("[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1), "[" * 100_000 + "]" * 100_000):
        with pytest.raises(InvalidInput, match="nests deeper"):
            parse_json(deep)
    with pytest.raises(InvalidInput, match="nests deeper"):
        parse_yaml("a: " + "[" * 10_000 + "]" * 10_000)
    with pytest.raises(InvalidInput, match="finite"):
        parse_yaml("cpu: .nan")


def test_integers_beyond_64_bits_are_refused() -> None:
    assert parse_json(f'{{"a": {INT64_MAX}}}') == {"a": INT64_MAX}
    with pytest.raises(InvalidInput, match="64 bits"):
        parse_json(f'{{"a": {INT64_MAX + 1}}}')


def test_answers_are_strict_json_and_times_carry_a_zone() -> None:
    naive = datetime(2026, 12, 3, 10, 0)
    berlin = datetime(2026, 12, 3, 11, 0, tzinfo=timezone(timedelta(hours=1)))
    assert json.loads(dump_json({"a": naive, "b": berlin})) == {
        "a": "2026-12-03T10:00:00+00:00",
        "b": "2026-12-03T11:00:00+01:00",
    }
    with pytest.raises(ValueError):
        dump_json({"cpu": float("nan")})


@pytest.mark.parametrize("cpu", ["nan", "inf", "-inf", float("nan"), float("inf"), 0, -1, True])
def test_cpu_must_be_a_finite_positive_number(cpu: object) -> None:
    with pytest.raises(InvalidInput, match="cores"):
        parse_cpu(cpu)


@pytest.mark.parametrize("memory", [float("nan"), float("inf"), "9" * 40 + "P", -1])
def test_memory_must_be_a_finite_size_that_fits_64_bits(memory: object) -> None:
    with pytest.raises(InvalidInput, match="'memory'"):
        parse_memory(memory)


def test_gpus_beyond_a_32_bit_column_are_refused() -> None:
    with pytest.raises(InvalidInput, match="GPUs"):
        Resources.parse({"gpus": 2**40})


@pytest.mark.parametrize(
    "manifest",
    [
        None,
        "text",
        {"format": "text", "content": 5},
        {"format": "text", "content": "ab", "extra": 1},
        {"format": "notebook", "cells": "x"},
        {
            "format": "notebook",
            "nbformat": 4,
            "nbformat_minor": 5,
            "metadata": "0" * 64,
            "cells": ["zz"],
        },
        {
            "format": "notebook",
            "nbformat": True,
            "nbformat_minor": 5,
            "metadata": "0" * 64,
            "cells": [],
        },
    ],
)
def test_a_malformed_manifest_is_refused(manifest: object) -> None:
    with pytest.raises(InvalidInput, match="manifest"):
        contentaddr.check_manifest(manifest)


def test_a_notebook_whose_cell_part_is_not_a_cell_is_refused_not_a_crash() -> None:
    manifest, parts = contentaddr.split(
        {"cells": [{"cell_type": "code", "source": "1", "outputs": [{"a": 1}]}], "metadata": {}},
        "notebook",
    )
    contentaddr.check_parts(manifest, parts)
    assert contentaddr.join(manifest, parts)["cells"][0]["outputs"] == [{"a": 1}]
    cell = manifest["cells"][0]
    for broken in (b"[1]", b"{", b'{"outputs": "x"}', b"\xff"):
        with pytest.raises(InvalidInput, match="cell part"):
            contentaddr.check_parts(manifest, {**parts, cell: broken})
        with pytest.raises(InvalidInput, match="cell part"):
            contentaddr.join(manifest, {**parts, cell: broken})


async def test_a_stored_inconsistent_manifest_breaks_only_its_own_version(db_url: str) -> None:
    """A version stored before manifests were checked (its cell part is not a cell) is
    refused with a message; the file's history, other versions and later saves work."""
    from submarine_hub.core import versions
    from submarine_hub.core.identity import Identity
    from submarine_hub.store import Database, upgrade
    from submarine_hub.store.models import FileVersion

    ann = Identity(name="ann", teams=frozenset({"red"}))
    upgrade(db_url)
    db = Database(db_url)
    try:
        async with db.session() as s:
            await versions.save(s, ann, "user:ann", "a.ipynb", content="v1", format="text")
        async with db.session() as s:
            await versions.store_parts(
                s,
                "user:ann",
                {contentaddr.digest(b"[1]"): b"[1]", contentaddr.digest(b"{}"): b"{}"},
            )
            f = await versions.file_row(s, "user:ann", "a.ipynb")
            assert f is not None
            s.add(
                FileVersion(
                    file_id=f.id,
                    number=2,
                    parent=1,
                    action="save",
                    author="ann",
                    message="",
                    size=3,
                    manifest={
                        "format": "notebook",
                        "nbformat": 4,
                        "nbformat_minor": 5,
                        "metadata": contentaddr.digest(b"{}"),
                        "cells": [contentaddr.digest(b"[1]")],
                    },
                )
            )
            f.latest, f.format = 2, "notebook"
        async with db.session() as s:
            for number in (2, None):
                with pytest.raises(InvalidInput, match=r"Version 2 of a\.ipynb cannot be read"):
                    await versions.get(s, ann, "user:ann", "a.ipynb", number)
            info, content = await versions.get(s, ann, "user:ann", "a.ipynb", 1)
            assert (info.format, content) == ("text", "v1")
            history = await versions.history(s, ann, "user:ann", "a.ipynb")
            assert [(v.number, v.format) for v in history] == [(2, "notebook"), (1, "text")]
        async with db.session() as s:
            await versions.restore(s, ann, "user:ann", "a.ipynb", 1)
        async with db.session() as s:
            info, content = await versions.get(s, ann, "user:ann", "a.ipynb")
            assert (info.number, info.format, content) == (3, "text", "v1")
    finally:
        await db.dispose()
