"""One trial of the shipped example study: gradient boosting on scikit-learn's bundled
breast-cancer data, grown in stages; after each stage the validation accuracy is reported
to the study (``submarine_hub.report``) and the trial stops early when its pruner says so.

    python -m submarine_hub.builtin.gb_trial --learning-rate 0.1 --max-depth 3
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from .. import tracking
from . import require_sklearn


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--learning-rate", type=float, default=0.1)
    p.add_argument("--max-depth", type=int, default=3)
    p.add_argument("--subsample", type=float, default=1.0)
    p.add_argument("--stages", type=int, default=8, help="Reports (each adds --trees trees).")
    p.add_argument("--trees", type=int, default=10)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    require_sklearn()
    import joblib
    from sklearn.datasets import load_breast_cancer
    from sklearn.ensemble import GradientBoostingClassifier
    from sklearn.model_selection import train_test_split

    x, y = load_breast_cancer(return_X_y=True)
    xt, xv, yt, yv = train_test_split(x, y, test_size=0.3, random_state=args.seed, stratify=y)
    model = GradientBoostingClassifier(
        learning_rate=args.learning_rate,
        max_depth=args.max_depth,
        subsample=args.subsample,
        n_estimators=0,
        warm_start=True,
        random_state=args.seed,
    )
    tracking.log_params(vars(args))
    accuracy = 0.0
    for stage in range(1, args.stages + 1):
        model.n_estimators = stage * args.trees
        model.fit(xt, yt)
        accuracy = float(model.score(xv, yv))
        print(f"stage {stage}: {model.n_estimators} trees, accuracy {accuracy:.4f}", flush=True)
        if tracking.report(accuracy, stage):
            print(f"pruned at stage {stage}", flush=True)
            tracking.flush()
            return 0
    tracking.log_metric("accuracy", accuracy, step=args.stages)
    out = Path(os.environ.get("SUBMARINE_ARTIFACTS_DIR", "."))
    joblib.dump(model, out / "model.joblib")
    tracking.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
