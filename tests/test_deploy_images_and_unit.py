"""What ``deploy/`` ships beyond Kubernetes: the images and the systemd unit.

No Docker engine here: the Dockerfiles are parsed with BuildKit's own parser and checked
against the build context (``.dockerignore`` included); the systemd unit goes through
``systemd-analyze verify`` where it is installed.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import dockerfile
import pytest

from .helpers.deploy import DEPLOY, DOCKERFILES, UNIT
from .helpers.repo import REPO

# --- the images ---------------------------------------------------------------------------

INSTRUCTIONS = {
    "FROM", "RUN", "CMD", "LABEL", "EXPOSE", "ENV", "ADD", "COPY", "ENTRYPOINT", "VOLUME",
    "USER", "WORKDIR", "ARG", "ONBUILD", "STOPSIGNAL", "HEALTHCHECK", "SHELL",
}  # fmt: skip


def _docker_pattern(pattern: str) -> re.Pattern[str]:
    """A .dockerignore pattern as a regex: ``**`` spans folders, ``*`` and ``?`` do not."""
    regex, i = "", 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            regex, i = regex + "(?:.*/)?", i + 3
        elif pattern.startswith("**", i):
            regex, i = regex + ".*", i + 2
        elif pattern[i] in "*?":
            regex, i = regex + ("[^/]*" if pattern[i] == "*" else "[^/]"), i + 1
        else:
            regex, i = regex + re.escape(pattern[i]), i + 1
    return re.compile(regex)


def dockerignored(path: str) -> bool:
    """Whether Docker leaves ``path`` (relative to the repository) out of the build context:
    the last pattern matching it or one of its folders decides."""
    parts = path.strip("/").split("/")
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    ignored = False
    for line in (REPO / ".dockerignore").read_text().splitlines():
        pattern = line.strip()
        if not pattern or pattern.startswith("#"):
            continue
        negate = pattern.startswith("!")
        regex = _docker_pattern(pattern.lstrip("!").strip("/"))
        if any(regex.fullmatch(prefix) for prefix in prefixes):
            ignored = not negate
    return ignored


def test_dockerignore_matching() -> None:
    assert dockerignored(".venv/bin/python")
    assert dockerignored("labextension/node_modules/react/index.js")
    assert dockerignored("submarine_hub/labextension/package.json")
    assert not dockerignored("submarine_hub/service/app.py")
    assert not dockerignored("labextension/src/index.ts")


def stages(path: Path) -> list[list[dockerfile.Command]]:
    """The Dockerfile's stages (the ARGs before the first FROM are stage 0's preamble)."""
    commands = dockerfile.parse_file(str(path))
    out: list[list[dockerfile.Command]] = [[]]
    for command in commands:
        if command.cmd == "FROM" and out[-1] and any(c.cmd == "FROM" for c in out[-1]):
            out.append([])
        out[-1].append(command)
    return out


@pytest.mark.parametrize("path", DOCKERFILES, ids=lambda p: p.name)
def test_dockerfile_structure(path: Path) -> None:
    commands = dockerfile.parse_file(str(path))
    assert path.read_text().startswith("# syntax=docker/dockerfile:1\n")  # RUN --mount
    assert {c.cmd for c in commands} <= INSTRUCTIONS
    assert next(c.cmd for c in commands if c.cmd != "ARG") == "FROM"
    names: list[str] = []
    args: dict[str, str] = {}
    for c in commands:
        if c.cmd == "FROM":
            break
        name, _, value = c.value[0].partition("=")
        args[name] = value
    for stage in stages(path):
        [base] = [c for c in stage if c.cmd == "FROM"]
        image = base.value[0]
        if image.startswith("${"):
            image = args[image.strip("${}")]
        assert ":" in image and not image.endswith(":latest"), f"unpinned base {image}"
        for c in stage:
            if c.cmd in ("COPY", "ADD"):
                source = next((f for f in c.flags if f.startswith("--from=")), None)
                if source:
                    assert source.removeprefix("--from=") in names
                    continue
                for src in c.value[:-1]:
                    assert (REPO / src).exists(), f"{path.name}: COPY {src}: no such path"
                    assert not dockerignored(src), f"{path.name}: COPY {src} is .dockerignored"
            if c.cmd == "RUN":
                for flag in c.flags:
                    found = re.search(r"from=([\w-]+)", flag)
                    if found:
                        assert found.group(1) in names
        if len(base.value) == 3:
            names.append(base.value[2])
    final = stages(path)[-1]
    installs = [c for c in final if c.cmd == "RUN" and "pip install" in c.value[0]]
    assert installs and all("submarine_hub-*.whl" in c.value[0] for c in installs)
    assert all("submarine_hub_client-*.whl" in c.value[0] for c in installs)
    users = [c.value[0] for c in final if c.cmd == "USER"]
    assert users and users[-1] not in ("root", "0"), "the image must not run as root"


@pytest.mark.parametrize("path", DOCKERFILES, ids=lambda p: p.name)
def test_the_wheel_stage_copies_what_the_build_needs(path: Path) -> None:
    tomllib = pytest.importorskip("tomllib")
    project = tomllib.loads((REPO / "pyproject.toml").read_text())
    [wheel_stage] = [s for s in stages(path) if any(c.value[-1:] == ("wheel",) for c in s)]
    copied = [
        src.rstrip("/")
        for c in wheel_stage
        if c.cmd == "COPY" and not c.flags
        for src in c.value[:-1]
    ]
    hatch = project["tool"]["hatch"]["build"]
    needed = [
        "pyproject.toml",
        project["project"]["readme"],
        hatch["hooks"]["jupyter-builder"]["build-kwargs"]["path"],
        *hatch["targets"]["wheel"]["packages"],
        *(p for p in hatch["targets"]["wheel"]["shared-data"] if not p.endswith("labextension")),
        "labextension/package.json",
        "labextension/yarn.lock",
        "client/pyproject.toml",  # submarine-hub-client, which submarine-hub requires
        "client/hatch_build.py",
        "client/README.md",
    ]
    for need in needed:
        assert any(need == c or need.startswith(c + "/") for c in copied), need
        assert not dockerignored(need), need


# --- one machine: the systemd unit ----------------------------------------------------------


def unit_sections(text: str) -> dict[str, list[tuple[str, str]]]:
    sections: dict[str, list[tuple[str, str]]] = {}
    current = None
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            current = line.strip("[]")
            sections[current] = []
            continue
        key, sep, value = line.partition("=")
        assert sep and current, f"not a unit file line: {raw!r}"
        sections[current].append((key.strip(), value.strip()))
    return sections


def test_systemd_unit_structure() -> None:
    sections = unit_sections(UNIT.read_text())
    assert set(sections) == {"Unit", "Service", "Install"}
    service = dict(sections["Service"])  # the last of repeated keys
    assert service["User"] not in ("root", "0")
    exec_start = service["ExecStart"].split()
    assert exec_start[0].startswith("/") and exec_start[0].endswith("/bin/jupyterhub")
    assert exec_start[1] == "-f" and exec_start[2].endswith("jupyterhub_config.py")
    env = dict(v.split("=", 1) for k, v in sections["Service"] if k == "Environment")
    data_dir = f"/var/lib/{service['StateDirectory']}"
    assert env["SUBMARINE_DATA_DIR"] == data_dir == service["WorkingDirectory"]
    assert data_dir in service["ReadWritePaths"].split()
    assert env["PATH"].split(":")[0] == str(Path(exec_start[0]).parent)
    assert service["EnvironmentFile"].startswith("-/etc/")  # optional, outside the repo
    assert dict(sections["Install"])["WantedBy"] == "multi-user.target"


def test_systemd_unit_verifies(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if not analyze:
        pytest.skip("systemd-analyze is not installed: test_systemd_unit_structure checks it")
    # verify checks that ExecStart's program exists: point it at this environment's
    text = UNIT.read_text()
    program = unit_sections(text)["Service"]
    exec_start = dict(program)["ExecStart"].split()[0]
    jupyterhub = Path(sys.executable).parent / "jupyterhub"
    unit = tmp_path / UNIT.name
    unit.write_text(text.replace(exec_start, str(jupyterhub)))
    done = subprocess.run(
        [analyze, "verify", "--man=no", str(unit)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    output = "\n".join(
        line
        for line in (done.stdout + done.stderr).splitlines()
        # this machine's own units, not ours
        if UNIT.name in line or "Unknown key" in line or "Unknown section" in line
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert not output, output


def test_systemd_environment_file_names_known_settings() -> None:
    readme = (REPO / "README.md").read_text()
    known = set(re.findall(r"`(SUBMARINE_[A-Z_]+)`", readme)) | {"PGPASSWORD"}
    names = [
        line.split("=", 1)[0]
        for line in (DEPLOY / "systemd" / "submarine-hub.env").read_text().splitlines()
        if line and not line.startswith("#")
    ]
    assert names and set(names) <= known, set(names) - known
