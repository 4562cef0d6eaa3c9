"""The one containment rule (core/paths.py): fuzzed, and against known attack strings."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from submarine_hub.core.errors import InvalidInput
from submarine_hub.core.paths import contained, join_key, safe_relpath

ATTACKS = [
    "a\n/../../x",
    "a%0A/../../x",
    "a\n/../../../../other/model/1/model.joblib",
    "a/../../b",
    "a/../b",
    "..",
    "../x",
    "x/..",
    "/etc/passwd",
    "//etc/passwd",
    "C:\\x",
    "C:x",
    "c:/x",
    "a\\..\\..\\x",
    "a/./../..",
    "./a",
    "a/.",
    "a//b",
    "a/",
    "",
    "%2e%2e/x",
    "%2E%2E/%2e%2e/x",
    "a/%2e%2e/%2e%2e/x",
    "%252e%252e/x",
    "a%2f..%2f..%2fx",
    "a%5c..%5cx",
    "\uff0e\uff0e/x",  # fullwidth dots
    "a\uff0f..\uff0fx",  # fullwidth solidus
    "a\0b",
    "a\rb",
    "a\tb",
    "a\x7fb",
    "a\x85b",
    "a\u2028b",
    "x" * 256,
    "a/" * 600 + "b",
    None,
    5,
    ["a"],
]


@pytest.mark.parametrize("attack", ATTACKS)
def test_known_attack_strings_are_refused(attack: object, tmp_path: Path) -> None:
    with pytest.raises(InvalidInput):
        safe_relpath(attack)
    with pytest.raises(InvalidInput):
        contained(tmp_path, attack)


@pytest.mark.parametrize(
    "ok",
    [
        "model.joblib",
        "data/model.joblib",
        "a b/c-d_e.f",
        "ünïcödé/文件.txt",
        ".hidden",
        "...",
        "..a",
        "a..",
        "100%.txt",
    ],
)
def test_plain_relative_paths_pass_unchanged(ok: str, tmp_path: Path) -> None:
    assert safe_relpath(ok) == ok
    assert contained(tmp_path, ok) == (tmp_path / ok).resolve()


def test_the_message_says_what_is_wrong_and_what_to_give() -> None:
    with pytest.raises(InvalidInput) as e:
        safe_relpath("a\n/../x", what="path")
    assert "U+000A" in e.value.message and "plain relative path" in e.value.message
    with pytest.raises(InvalidInput, match="absolute"):
        safe_relpath("/etc/passwd")
    with pytest.raises(InvalidInput, match=r"'\.\.' segment"):
        safe_relpath("a/../../b")


def test_a_symbolic_link_out_of_the_root_is_refused(tmp_path: Path) -> None:
    root, outside = tmp_path / "root", tmp_path / "outside"
    root.mkdir()
    outside.mkdir()
    os.symlink(outside, root / "link")
    with pytest.raises(InvalidInput, match="outside"):
        contained(root, "link/x")
    os.symlink(root / "inner", root / "ok")
    assert contained(root, "ok/x") == (root / "inner" / "x").resolve()


def test_object_keys_join_a_checked_path() -> None:
    assert join_key("models/t/m/1/", "a/b") == "models/t/m/1/a/b"
    with pytest.raises(InvalidInput):
        join_key("models/t/m/1", "a\n/../../../../u/m/1/x")


_SEGMENTS = st.one_of(
    st.sampled_from(["..", ".", "", "a", "b", "%2e%2e", "%2e", "\uff0e\uff0e", "C:", "\\", "~"]),
    st.text(max_size=6),
)


@pytest.mark.local  # a long property search: seconds, not milliseconds
@settings(max_examples=3000, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.one_of(st.text(max_size=40), st.lists(_SEGMENTS, max_size=8).map("/".join)))
def test_an_accepted_path_always_resolves_under_its_root(tmp_path: Path, user_path: str) -> None:
    root = tmp_path / "root"
    root.mkdir(exist_ok=True)
    try:
        target = contained(root, user_path)
    except InvalidInput:
        return
    resolved_root = root.resolve()
    assert target.is_relative_to(resolved_root) and target != resolved_root
    # and the text alone, joined lexically, never climbs out either
    assert os.path.normpath(os.path.join(resolved_root, user_path)).startswith(
        f"{resolved_root}{os.sep}"
    )
    assert safe_relpath(user_path) == user_path
    assert ".." not in user_path.split("/") and "\n" not in user_path
