"""Tables of the MLflow-compatible API (``core/mlflow_compat``): what MLflow has and the
platform's own tables do not (MLflow experiments, a run's key-value tags and lifecycle,
MLflow 3's logged models). Runs, metrics, params, registered models, versions and
aliases are the platform's own tables; these rows only add to them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .models import Base, utcnow


class MlflowExperiment(Base):
    """An MLflow experiment of a team: a named group of runs (``Default``: experiment 0)."""

    __tablename__ = "mlflow_experiments"
    __table_args__ = (UniqueConstraint("team", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    team: Mapped[str] = mapped_column(String(255), index=True)
    name: Mapped[str] = mapped_column(String(500))
    owner: Mapped[str] = mapped_column(String(255))
    lifecycle_stage: Mapped[str] = mapped_column(String(16), default="active")
    tags: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class MlflowRun(Base):
    """What MLflow knows of a platform run: its experiment and lifecycle. A run without
    one (submitted through the platform) is in its team's ``Default`` experiment."""

    __tablename__ = "mlflow_runs"
    __table_args__ = (Index("ix_mlflow_runs_experiment_run", "mlflow_experiment_id", "run_id"),)

    run_id: Mapped[int] = mapped_column(
        ForeignKey("experiments.id", ondelete="CASCADE"), primary_key=True
    )
    mlflow_experiment_id: Mapped[int] = mapped_column(
        ForeignKey("mlflow_experiments.id", ondelete="CASCADE")
    )
    lifecycle_stage: Mapped[str] = mapped_column(String(16), default="active")


class MlflowRunTag(Base):
    """A key-value tag of a run (``mlflow.user``, ``estimator_name``...)."""

    __tablename__ = "mlflow_run_tags"
    __table_args__ = (Index("ix_mlflow_run_tags_key_value", "key", "run_id"),)

    run_id: Mapped[int] = mapped_column(
        ForeignKey("experiments.id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(String(250), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class MlflowLoggedModel(Base):
    """An MLflow 3 logged model (``m-...``): files a run logged with ``log_model``, kept in
    the artifact store until a registered version copies them."""

    __tablename__ = "mlflow_logged_models"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    team: Mapped[str] = mapped_column(String(255), index=True)
    owner: Mapped[str] = mapped_column(String(255))
    mlflow_experiment_id: Mapped[int] = mapped_column(
        ForeignKey("mlflow_experiments.id", ondelete="CASCADE")
    )
    name: Mapped[str] = mapped_column(String(500))
    source_run_id: Mapped[int | None] = mapped_column(
        ForeignKey("experiments.id", ondelete="SET NULL"), nullable=True, index=True
    )
    model_type: Mapped[str] = mapped_column(String(255), default="")
    status: Mapped[str] = mapped_column(String(32), default="LOGGED_MODEL_PENDING")
    tags: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
