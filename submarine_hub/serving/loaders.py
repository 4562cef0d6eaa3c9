"""Loading a model version's files into something that predicts.

Built-in loaders, chosen by the version's ``framework`` and its files' extensions:

- **scikit-learn** (and anything with the scikit-learn API: XGBoost's and LightGBM's
  wrappers, pipelines): ``*.joblib``, ``*.pkl`` or ``*.pickle`` loaded with joblib (which
  reads plain pickles too); predictions are ``model.<method>(numpy.asarray(inputs))``.
- **ONNX**: ``*.onnx`` run with onnxruntime (when it is installed); inputs are cast to
  the model's first input type; a dict of inputs feeds inputs by name.

- **MLflow** (``framework`` ``mlflow``, or an ``MLmodel`` file among the files): loaded
  with ``mlflow.pyfunc.load_model`` (needs ``pip install 'submarine-hub[mlflow]'`` where
  the endpoint runs); a request is any of MLflow's own ``/invocations`` bodies
  (``dataframe_split``, ``dataframe_records``, ``instances``, ``inputs``, with
  ``params``), parsed by MLflow against the model's signature.

Or the user's *serving script*, a ``.py`` file among the version's files::

    def load(path):                  # the folder holding the version's files
        return ...                   # anything: the model object
    def predict(model, inputs):      # inputs: the request's JSON "inputs", as sent
        return ...                   # anything JSON can carry (numpy arrays are fine)

Loading a pickle runs code from it: serve only models your team registered.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..core.errors import InvalidInput
from ..core.paths import contained

PICKLE_SUFFIXES = (".joblib", ".pkl", ".pickle")
PREFERRED = ("model.joblib", "model.pkl", "model.pickle", "model.onnx")
SKLEARN_FRAMEWORKS = ("", "sklearn", "xgboost", "lightgbm")


class LoadError(Exception):
    """A version cannot be loaded; the message says why and what to do."""


class Model:
    """A loaded version: ``predict(inputs)`` answers JSON-ready outputs.

    A *row-wise* model (each output row depends on its input row only, as scikit-learn's
    ``predict`` and ``predict_proba``) is ``batchable``: the server may join the rows of
    requests waiting at the same moment into one ``predict_rows`` call, and split the
    result back. Scripts are never batched (their ``predict`` sees each request as sent).
    """

    kind = "model"
    batchable = False

    def predict(self, inputs: Any) -> Any:  # pragma: no cover - interface
        raise NotImplementedError

    def rows(self, inputs: Any) -> Any:
        """``inputs`` as a 2-D numeric array that can join a batch, or None."""
        return None

    def predict_rows(self, rows: Any) -> Any:  # pragma: no cover - interface
        raise NotImplementedError


def to_json_ready(value: Any) -> Any:
    """numpy arrays and scalars (and containers of them) as plain Python values."""
    tolist = getattr(value, "tolist", None)
    if tolist is not None:
        return tolist()
    if isinstance(value, dict):
        return {str(k): to_json_ready(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_json_ready(v) for v in value]
    return value


class MlflowPyfuncModel(Model):
    """An MLflow model (any flavor with pyfunc); it reads the whole request body."""

    kind = "mlflow"
    takes_request_body = True

    def __init__(self, folder: Path) -> None:
        try:
            import mlflow.pyfunc
            from mlflow.pyfunc import scoring_server
        except ImportError:
            raise LoadError(
                "this is an MLflow model, and mlflow is not installed where the endpoint runs: "
                "pip install 'submarine-hub[mlflow]'"
            ) from None
        self._parse = scoring_server.infer_and_parse_data
        try:
            self.model = mlflow.pyfunc.load_model(str(folder))
        except Exception as e:
            raise LoadError(f"mlflow cannot load this model: {type(e).__name__}: {e}") from e
        self._schema = self.model.metadata.get_input_schema()

    def predict(self, inputs: Any) -> Any:
        body = inputs if isinstance(inputs, dict) else {"inputs": inputs}
        params = body.get("params")
        data = {k: v for k, v in body.items() if k != "params"}
        try:
            frame = self._parse(data, self._schema)
        except Exception as e:  # MLflow's own message says which shape it wanted
            raise ValueError(str(getattr(e, "message", e))) from None
        out = self.model.predict(frame, params=params) if params else self.model.predict(frame)
        if hasattr(out, "to_dict") and hasattr(out, "columns"):  # a DataFrame
            return to_json_ready(out.to_dict(orient="records"))
        return to_json_ready(out)


class SklearnModel(Model):
    kind = "sklearn"

    def __init__(self, path: Path, method: str = "predict") -> None:
        try:
            import joblib
            import numpy
        except ImportError as e:
            raise LoadError(
                f"serving a scikit-learn model needs joblib and numpy where the endpoint runs "
                f"({e.name} is missing): pip install 'submarine-hub[sklearn]'"
            ) from None

        self._np = numpy
        try:
            self.model = joblib.load(path)
        except Exception as e:
            raise LoadError(f"cannot load {path.name} with joblib: {type(e).__name__}: {e}") from e
        fn = getattr(self.model, method, None)
        if not callable(fn):
            kind = type(self.model).__name__
            raise LoadError(f"{path.name} holds a {kind}, which has no {method}()")
        self._fn: Callable[[Any], Any] = fn

    batchable = True

    def predict(self, inputs: Any) -> Any:
        return to_json_ready(self._fn(self._np.asarray(inputs)))

    def rows(self, inputs: Any) -> Any:
        try:
            array = self._np.asarray(inputs)
        except (ValueError, TypeError):
            return None
        if array.ndim != 2 or array.dtype.kind not in "fiub" or not len(array):
            return None
        return array

    def predict_rows(self, rows: Any) -> Any:
        return self._fn(rows)


_ONNX_TYPES = {
    "tensor(float)": "float32",
    "tensor(double)": "float64",
    "tensor(int64)": "int64",
    "tensor(int32)": "int32",
    "tensor(string)": "object",
    "tensor(bool)": "bool",
}


class OnnxModel(Model):
    kind = "onnx"

    def __init__(self, path: Path) -> None:
        try:
            import onnxruntime
        except ImportError:
            raise LoadError(
                "this is an ONNX model, and onnxruntime is not installed where the endpoint "
                "runs: pip install 'submarine-hub[onnx]'"
            ) from None
        import numpy

        self._np = numpy
        try:
            self.session = onnxruntime.InferenceSession(
                str(path), providers=["CPUExecutionProvider"]
            )
        except Exception as e:
            raise LoadError(f"onnxruntime cannot load {path.name}: {e}") from e
        self.inputs = [
            (i.name, _ONNX_TYPES.get(i.type, "float32")) for i in self.session.get_inputs()
        ]
        self.outputs = [o.name for o in self.session.get_outputs()]

    def predict(self, inputs: Any) -> Any:
        np = self._np
        if isinstance(inputs, dict):
            feed = {
                name: np.asarray(inputs[name], dtype=dtype)
                for name, dtype in self.inputs
                if name in inputs
            }
            missing = [n for n, _ in self.inputs if n not in feed]
            if missing:
                raise ValueError(f"missing ONNX input(s): {', '.join(missing)}")
        else:
            name, dtype = self.inputs[0]
            feed = {name: np.asarray(inputs, dtype=dtype)}
        outputs = self.session.run(None, feed)
        if len(outputs) == 1:
            return to_json_ready(outputs[0])
        return {name: to_json_ready(out) for name, out in zip(self.outputs, outputs, strict=True)}


class ScriptModel(Model):
    kind = "script"

    def __init__(self, folder: Path, script: str, module_name: str) -> None:
        try:
            path = contained(folder, script, what="script")
        except InvalidInput as e:
            raise LoadError(e.message) from None
        if not path.is_file():
            raise LoadError(f"the serving script {script!r} is not among the version's files")
        spec = importlib.util.spec_from_file_location(module_name, path)
        if spec is None or spec.loader is None:
            raise LoadError(f"cannot import {script}")
        module = importlib.util.module_from_spec(spec)
        sys.path.insert(0, str(path.parent))  # the script may import its neighbours
        try:
            spec.loader.exec_module(module)
            load = getattr(module, "load", None)
            predict = getattr(module, "predict", None)
            if not callable(load) or not callable(predict):
                raise LoadError(f"{script} must define load(path) and predict(model, inputs)")
            self.model = load(str(folder))
        except LoadError:
            raise
        except Exception as e:
            raise LoadError(f"{script} failed: {type(e).__name__}: {e}") from e
        finally:
            try:
                sys.path.remove(str(path.parent))
            except ValueError:
                pass
        self._predict: Callable[[Any, Any], Any] = predict

    def predict(self, inputs: Any) -> Any:
        return to_json_ready(self._predict(self.model, inputs))


def _pick(files: list[Path], suffixes: tuple[str, ...], what: str) -> Path | None:
    found = sorted(f for f in files if f.suffix.lower() in suffixes)
    if not found:
        return None
    for name in PREFERRED:
        for f in found:
            if f.name == name:
                return f
    if len(found) > 1:
        names = ", ".join(f.name for f in found)
        raise LoadError(
            f"several {what} files ({names}); name the one to serve model{suffixes[0]} "
            "or give a serving script"
        )
    return found[0]


def load(folder: Path, route: dict[str, Any]) -> Model:
    """The model of one resolved route (its files are in ``folder``)."""
    loader = route.get("loader") or "auto"
    framework = route.get("framework") or ""
    if route.get("script"):
        key = "".join(c if c.isalnum() else "_" for c in str(route.get("key", "model")))
        return ScriptModel(folder, route["script"], f"submarine_serving_{key}")
    files = [p for p in folder.rglob("*") if p.is_file()]
    if loader in ("auto", "mlflow") and (
        framework == "mlflow" or loader == "mlflow" or (folder / "MLmodel").is_file()
    ):
        return MlflowPyfuncModel(folder)
    if loader in ("auto", "onnx") and (framework == "onnx" or loader == "onnx"):
        path = _pick(files, (".onnx",), "ONNX")
        if path is None:
            raise LoadError("no .onnx file among the version's files")
        return OnnxModel(path)
    if loader in ("auto", "sklearn") and (framework in SKLEARN_FRAMEWORKS or loader == "sklearn"):
        path = _pick(files, PICKLE_SUFFIXES, "pickle")
        if path is not None:
            return SklearnModel(path, route.get("method") or "predict")
        onnx = _pick(files, (".onnx",), "ONNX") if loader == "auto" else None
        if onnx is not None:
            return OnnxModel(onnx)
        raise LoadError(
            "no .joblib, .pkl or .pickle file among the version's files; "
            "give a serving script (load/predict) for other formats"
        )
    raise LoadError(
        f"no built-in loader for framework {framework!r}; give a serving script "
        "(a .py file of the version with load(path) and predict(model, inputs))"
    )
