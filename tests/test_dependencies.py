"""Each distribution declares what its files import, and extras stay optional.

``submarine-hub-client`` ships the files ``client/hatch_build.py`` lists; ``submarine-hub``
ships every other file of ``submarine_hub/`` and ``spawner/submarine_spawner/``. Every
third-party module a file imports must come from a distribution its own distribution
declares (a dependency, or a dependency of one of its extras). A module that only an
extra brings is imported where it is used (inside a function), so the rest works
without that extra, except in the modules that are that extra's (:data:`EXTRA_MODULES`).
"""

from __future__ import annotations

import ast
import functools
import sys
from dataclasses import dataclass
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

pytest.importorskip("tomllib")  # Python >= 3.11, as CI's
from .helpers.packaging import CLIENT_PROJECT, PROJECT, REPO, client_shipped

OWN = {"submarine_hub", "submarine_spawner"}
#: Import names of packages that need not be installed here (no metadata to map them).
NOT_INSTALLED = {"onnxruntime": "onnxruntime"}
#: Modules that belong to an extra: they may import its packages at the top.
EXTRA_MODULES = {
    "submarine_hub.backends.kube.api": "kube",
    "submarine_hub.backends.kube.experiments": "kube",
    "submarine_spawner.kube": "kube",
    "submarine_hub.core.studies.engine": "tuning",
    # the processes of SQL and Spark SQL runs (run with the spark extra installed)
    "submarine_hub.backends.sql_run": "spark",
    "submarine_hub.backends.spark_sql_app": "spark",
}
#: Declared, never imported by name: what each is for.
USED_WITHOUT_IMPORT = {
    "submarine-hub": {
        "aiosqlite": "SQLAlchemy's driver for sqlite+aiosqlite:// URLs",
        "ipykernel": "the kernels of sessions and notebook runs",
        "jupyterlab": "the sessions' UI, which the lab extension extends",
        "jupyter-collaboration": "real-time collaboration in team rooms (its lab plugins)",
        "psycopg": "SQLAlchemy's driver for postgresql+psycopg:// URLs (postgres extra)",
        "s3fs": "fsspec's s3:// protocol (s3 extra)",
        "mlflow": "bench/ comparisons only (bench extra)",
        "tensorboard": "run as a process by service/tensorboard.py (tensorboard extra)",
        "cmaes": "Optuna's CmaEsSampler imports it (tuning extra: the cmaes sampler)",
        "torch": "Optuna's GPSampler imports it (gp extra: the gp sampler)",
    },
    "submarine-hub-client": {
        "ipython": "imported as IPython, by the magics (magics extra)",
    },
}


@dataclass(frozen=True)
class Imported:
    module: str  # the importing module, e.g. submarine_hub.serving.loaders
    name: str  # the top-level name imported, e.g. joblib
    lazy: bool  # inside a function, or only for type checkers


def _imports(path: Path, module: str) -> list[Imported]:
    found: list[Imported] = []

    def visit(nodes: list[ast.stmt], lazy: bool) -> None:
        for node in nodes:
            if isinstance(node, ast.Import):
                found.extend(Imported(module, a.name.split(".")[0], lazy) for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.append(Imported(module, node.module.split(".")[0], lazy))
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                visit(node.body, True)
            elif isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                visit(node.body, True)
                visit(node.orelse, lazy)
            else:
                for field in ("body", "orelse", "finalbody", "handlers"):
                    children = getattr(node, field, None)
                    if isinstance(children, list):
                        visit([c for c in children if isinstance(c, ast.stmt)], lazy)
                        for handler in children:
                            if isinstance(handler, ast.ExceptHandler):
                                visit(handler.body, lazy)

    visit(ast.parse(path.read_text()).body, False)
    return [
        i
        for i in found
        if i.name not in sys.stdlib_module_names
        and i.name not in OWN
        and i.name not in ("__future__", "_typeshed")  # _typeshed: type checkers' own
    ]


def _module(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def files_of(distribution: str) -> dict[str, Path]:
    """Module name → file, for each Python file the distribution ships."""
    package = REPO / "submarine_hub"
    shipped = client_shipped()
    client_files = {
        f
        for name in shipped
        for f in ([package / name] if (package / name).is_file() else (package / name).rglob("*"))
        if f.suffix == ".py"
    }
    if distribution == "submarine-hub-client":
        return {_module(f, REPO): f for f in sorted(client_files)}
    files = {_module(f, REPO): f for f in sorted(package.rglob("*.py")) if f not in client_files}
    spawner = REPO / "spawner"
    files.update(
        {_module(f, spawner): f for f in sorted((spawner / "submarine_spawner").rglob("*.py"))}
    )
    return {m: f for m, f in files.items() if "labextension" not in f.parts}


def declared(project: dict) -> dict[str, set[str]]:
    """Declared distribution → the extras that bring it ("" for a plain dependency)."""
    out: dict[str, set[str]] = {}
    for line in project["project"].get("dependencies", []):
        out.setdefault(canonicalize_name(Requirement(line).name), set()).add("")
    for extra, lines in project["project"].get("optional-dependencies", {}).items():
        for line in lines:
            out.setdefault(canonicalize_name(Requirement(line).name), set()).add(extra)
    return out


@functools.cache
def _import_names() -> dict[str, list[str]]:
    return packages_distributions()


def providers(name: str) -> set[str]:
    """The distributions that provide the top-level import ``name``."""
    found = _import_names().get(name) or [NOT_INSTALLED.get(name, name)]
    return {canonicalize_name(d) for d in found}


DISTRIBUTIONS = {"submarine-hub": PROJECT, "submarine-hub-client": CLIENT_PROJECT}


@pytest.mark.local
@pytest.mark.parametrize("distribution", DISTRIBUTIONS)
def test_every_imported_package_is_declared_by_the_distribution_that_ships_the_import(
    distribution: str,
) -> None:
    deps = declared(DISTRIBUTIONS[distribution])
    test_only = {"test", "bench"}
    problems = []
    for module, path in files_of(distribution).items():
        for imp in _imports(path, module):
            extras = set().union(*(deps.get(d, set()) for d in providers(imp.name)))
            extras -= test_only
            if not extras:
                problems.append(
                    f"{module} imports {imp.name}, which {distribution} does not declare"
                )
            elif "" not in extras and not imp.lazy and EXTRA_MODULES.get(module) not in extras:
                problems.append(
                    f"{module} imports {imp.name} (only the {'/'.join(sorted(extras))} extra "
                    "brings it) at the top: import it where it is used"
                )
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("distribution", DISTRIBUTIONS)
def test_every_declared_package_is_imported_or_says_why_not(distribution: str) -> None:
    deps = {d for d, extras in declared(DISTRIBUTIONS[distribution]).items() if extras - {"test"}}
    imported = {
        p
        for module, path in files_of(distribution).items()
        for imp in _imports(path, module)
        for p in providers(imp.name)
    }
    own = {"submarine-hub-client"}
    unexplained = deps - imported - own - set(USED_WITHOUT_IMPORT[distribution])
    assert not unexplained, f"declared by {distribution}, never imported: {sorted(unexplained)}"


def test_scikit_learn_and_joblib_are_the_sklearn_extra_only() -> None:
    deps = declared(PROJECT)
    for name in ("scikit-learn", "joblib"):
        assert deps[name] <= {"sklearn", "test"} and "sklearn" in deps[name], name


def test_a_builtin_template_without_scikit_learn_names_the_extra_to_install(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import importlib.util

    from submarine_hub.builtin import require_sklearn

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "sklearn" else real(name, *a)
    )
    with pytest.raises(SystemExit) as exited:
        require_sklearn()
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert "needs scikit-learn" in err and "pip install 'submarine-hub[sklearn]'" in err


def test_serving_a_scikit_learn_model_without_joblib_names_the_extra_to_install(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from submarine_hub.serving.loaders import LoadError, SklearnModel

    monkeypatch.setitem(sys.modules, "joblib", None)  # import joblib -> ImportError
    with pytest.raises(
        LoadError, match=r"joblib is missing\): pip install 'submarine-hub\[sklearn\]'"
    ):
        SklearnModel(tmp_path / "model.joblib")
