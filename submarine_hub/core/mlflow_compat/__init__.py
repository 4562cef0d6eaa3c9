"""MLflow's tracking and model-registry semantics on the platform's own objects.

An MLflow run *is* a platform run, an MLflow registered model *is* a registry model of
a team, an alias the same alias. Every call works inside one team (the one named in the
tracking URI, see docs/mlflow.md); a team the caller is not in is "not found".
"""
