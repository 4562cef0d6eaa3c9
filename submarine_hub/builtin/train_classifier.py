"""Train a scikit-learn classifier on a bundled data set; log metrics, save the model.

python -m submarine_hub.builtin.train_classifier --dataset iris --model random_forest
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from .. import tracking
from . import require_sklearn

DATASETS = ("iris", "wine", "breast_cancer", "digits")
MODELS = ("random_forest", "logistic_regression", "gradient_boosting")


def make_model(name: str, args: argparse.Namespace):  # type: ignore[no-untyped-def]
    from sklearn.ensemble import GradientBoostingClassifier, RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    depth = args.max_depth or None
    if name == "random_forest":
        return RandomForestClassifier(
            n_estimators=args.n_estimators, max_depth=depth, random_state=args.seed, n_jobs=1
        )
    if name == "gradient_boosting":
        return GradientBoostingClassifier(
            n_estimators=args.n_estimators, max_depth=depth or 3, random_state=args.seed
        )
    return make_pipeline(StandardScaler(), LogisticRegression(C=args.c, max_iter=2000))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--dataset", choices=DATASETS, default="iris")
    p.add_argument("--model", choices=MODELS, default="random_forest")
    p.add_argument("--n-estimators", type=int, default=100)
    p.add_argument("--max-depth", type=int, default=0)
    p.add_argument("--c", type=float, default=1.0)
    p.add_argument("--test-size", type=float, default=0.25)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--output", default=os.environ.get("SUBMARINE_ARTIFACTS_DIR", "."))
    args = p.parse_args(argv)

    require_sklearn()
    import joblib
    from sklearn import datasets
    from sklearn.metrics import accuracy_score, f1_score
    from sklearn.model_selection import train_test_split

    x, y = getattr(datasets, f"load_{args.dataset}")(return_X_y=True)
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=args.test_size, random_state=args.seed, stratify=y
    )
    tracking.log_params({k: v for k, v in vars(args).items() if k != "output"})
    print(f"training {args.model} on {args.dataset}: {len(x_train)} rows, {x.shape[1]} features")
    start = time.perf_counter()
    model = make_model(args.model, args).fit(x_train, y_train)
    took = time.perf_counter() - start
    predicted = model.predict(x_test)
    metrics = {
        "accuracy": float(accuracy_score(y_test, predicted)),
        "f1_macro": float(f1_score(y_test, predicted, average="macro")),
        "train_seconds": took,
    }
    tracking.log_metrics(metrics)
    out = Path(args.output)
    out.mkdir(parents=True, exist_ok=True)
    joblib.dump(model, out / "model.joblib")
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2))
    print(json.dumps(metrics))
    tracking.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
