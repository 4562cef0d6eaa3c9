"""SQLAlchemy models of the metastore.

Every change here needs an Alembic revision in ``store/migrations/versions``;
``tests/test_store.py`` checks that the models and the migrations agree.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    func,
    literal_column,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class UTCDateTime(TypeDecorator[datetime]):
    """A point in time, always read back aware and in UTC, whatever the database.

    PostgreSQL keeps the zone (``timestamptz``); SQLite keeps none, so times are written
    there as naive UTC and read back with UTC attached. A naive time given to it is UTC.
    Every time the API returns therefore carries its zone."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        value = value.astimezone(timezone.utc) if value.tzinfo else value
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value.replace(tzinfo=timezone.utc)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime()}


class Team(Base):
    """Platform settings of a team. The team itself, and its members, is a JupyterHub group."""

    __tablename__ = "teams"

    name: Mapped[str] = mapped_column(String(255), primary_key=True)
    description: Mapped[str] = mapped_column(Text, default="")
    # Quota overrides set by admins; None falls back to the configured default.
    quota: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


GLOBAL_SCOPE = "_global"


class EnvironmentProfile(Base):
    """A shared environment: packages or a conda spec, an image for Kubernetes, resources."""

    __tablename__ = "environments"
    __table_args__ = (UniqueConstraint("scope", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    scope: Mapped[str] = mapped_column(String(255), index=True)  # a team, or GLOBAL_SCOPE
    name: Mapped[str] = mapped_column(String(255))
    owner: Mapped[str] = mapped_column(String(255))
    description: Mapped[str] = mapped_column(Text, default="")
    image: Mapped[str] = mapped_column(String(1024), default="")
    packages: Mapped[list[str]] = mapped_column(JSON, default=list)
    conda: Mapped[str] = mapped_column(Text, default="")
    resources: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Credential(Base):
    """A secret of a user or a team, encrypted at rest; injected, never read back."""

    __tablename__ = "credentials"
    __table_args__ = (UniqueConstraint("owner_kind", "owner", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    owner_kind: Mapped[str] = mapped_column(String(8))  # "user" or "team"
    owner: Mapped[str] = mapped_column(String(255))
    name: Mapped[str] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(8))  # "env" or "file"
    target: Mapped[str] = mapped_column(String(255))  # variable name or file path
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    size: Mapped[int] = mapped_column(Integer)
    created_by: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Session(Base):
    """A notebook session admitted against its team's quota."""

    __tablename__ = "sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user: Mapped[str] = mapped_column(String(255), index=True)
    server_name: Mapped[str] = mapped_column(String(255), default="")
    team: Mapped[str] = mapped_column(String(255), index=True)
    environment_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    cpu: Mapped[float | None] = mapped_column(Float, nullable=True)
    memory: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    gpus: Mapped[int] = mapped_column(Integer, default=0)
    state: Mapped[str] = mapped_column(String(16), index=True)  # active | stopped
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    stopped_at: Mapped[datetime | None] = mapped_column(nullable=True)


class Blob(Base):
    """A content-addressed part of a file version (a cell, an output, a whole file)."""

    __tablename__ = "blobs"

    hash: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256 of the data
    size: Mapped[int] = mapped_column(BigInteger)  # uncompressed
    data: Mapped[bytes] = mapped_column(LargeBinary)  # zlib-compressed
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class BlobSpace(Base):
    """A part a space may name without sending it: one whose bytes a save into that
    space sent. Deduplication looks only here, so a save never learns what another
    space stored."""

    __tablename__ = "blob_spaces"

    space: Mapped[str] = mapped_column(String(300), primary_key=True)
    hash: Mapped[str] = mapped_column(String(64), primary_key=True)


class VersionedFile(Base):
    """A file with history: in a user's space (``user:NAME``) or a team's (``team:NAME``)."""

    __tablename__ = "files"
    __table_args__ = (UniqueConstraint("space", "path"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    space: Mapped[str] = mapped_column(String(300), index=True)
    path: Mapped[str] = mapped_column(String(1024))
    format: Mapped[str] = mapped_column(String(16))  # notebook | text | base64
    latest: Mapped[int] = mapped_column(Integer, default=0)  # newest version number
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class FileVersion(Base):
    """One immutable version; ``manifest`` names its parts (see ``core.contentaddr``)."""

    __tablename__ = "file_versions"
    __table_args__ = (
        UniqueConstraint("file_id", "number"),
        # a writer's id for the save (a journal record's): a repeated save is answered
        # with the version it made, so a replay or retry never records it twice
        Index("ix_file_versions_idempotency_key", "file_id", "idempotency_key", unique=True),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    file_id: Mapped[int] = mapped_column(ForeignKey("files.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    parent: Mapped[int | None] = mapped_column(Integer, nullable=True)
    action: Mapped[str] = mapped_column(String(16))  # save | restore | delete
    author: Mapped[str] = mapped_column(String(255))
    message: Mapped[str] = mapped_column(Text, default="")
    size: Mapped[int] = mapped_column(BigInteger)
    manifest: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)  # None: deleted
    idempotency_key: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # everyone whose edits the version holds, when more than its author (a team room's
    # coalesced save); None: the author alone
    authors: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class TeamRoom(Base):
    """A team's collaboration room: a hub server owned by the team's collaboration
    account (made by the service, never a person), shared with the team's group."""

    __tablename__ = "team_rooms"

    team: Mapped[str] = mapped_column(String(255), primary_key=True)
    account: Mapped[str] = mapped_column(String(255), unique=True)
    created_by: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Share(Base):
    """A file shared with a user or a team, read-only (``r``) or read-write (``rw``)."""

    __tablename__ = "shares"
    __table_args__ = (UniqueConstraint("space", "path", "grantee_kind", "grantee"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    space: Mapped[str] = mapped_column(String(300), index=True)
    path: Mapped[str] = mapped_column(String(1024))
    grantee_kind: Mapped[str] = mapped_column(String(8))  # user | team
    grantee: Mapped[str] = mapped_column(String(255), index=True)
    mode: Mapped[str] = mapped_column(String(2))  # r | rw
    created_by: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Pipeline(Base):
    """A DAG of experiments: its steps are runs with ``pipeline_id`` set."""

    __tablename__ = "pipelines"
    __table_args__ = (Index("ix_pipelines_team_id", "team", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(255))
    team: Mapped[str] = mapped_column(String(255))
    owner: Mapped[str] = mapped_column(String(255), index=True)
    status: Mapped[str] = mapped_column(String(16))  # running | succeeded | failed | killed
    reason: Mapped[str] = mapped_column(Text, default="")
    spec: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(nullable=True)


class Experiment(Base):
    """One run: a spec, its state, and where it ran."""

    __tablename__ = "experiments"
    __table_args__ = (
        Index("ix_experiments_team_id", "team", "id"),
        Index("ix_experiments_team_status_id", "team", "status", "id"),
        Index("ix_experiments_owner_id", "owner", "id"),
        Index("ix_experiments_status_id", "status", "id"),
        Index("ix_experiments_team_started_at", "team", "started_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(255))
    team: Mapped[str] = mapped_column(String(255))
    owner: Mapped[str] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(16))  # command | script | notebook | sweep
    status: Mapped[str] = mapped_column(String(16))  # see core.experiments.backend.STATES
    reason: Mapped[str] = mapped_column(Text, default="")
    spec: Mapped[dict[str, Any]] = mapped_column(JSON)
    template: Mapped[str | None] = mapped_column(String(511), nullable=True)
    parameters: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("experiments.id"), nullable=True, index=True
    )
    rerun_of: Mapped[int | None] = mapped_column(Integer, nullable=True)
    pipeline_id: Mapped[int | None] = mapped_column(
        ForeignKey("pipelines.id"), nullable=True, index=True
    )
    pipeline_step: Mapped[str | None] = mapped_column(String(255), nullable=True)
    backend: Mapped[str] = mapped_column(String(16), default="")
    placement: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    exit_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    kill_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    token_hash: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    launched_at: Mapped[datetime | None] = mapped_column(nullable=True)
    started_at: Mapped[datetime | None] = mapped_column(nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(nullable=True)


class ExperimentTag(Base):
    __tablename__ = "experiment_tags"
    __table_args__ = (Index("ix_experiment_tags_tag_id", "tag", "experiment_id"),)

    experiment_id: Mapped[int] = mapped_column(
        ForeignKey("experiments.id", ondelete="CASCADE"), primary_key=True
    )
    tag: Mapped[str] = mapped_column(String(64), primary_key=True)


class Metric(Base):
    """A metric point of a run: ``key`` = ``value`` at ``step``."""

    __tablename__ = "metrics"
    __table_args__ = (Index("ix_metrics_run_key_step", "experiment_id", "key", "step"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    experiment_id: Mapped[int] = mapped_column(ForeignKey("experiments.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(255))
    value: Mapped[float] = mapped_column(Float)
    step: Mapped[int] = mapped_column(BigInteger, default=0)
    timestamp: Mapped[float] = mapped_column(Float)  # epoch seconds, as the run logged it


class LatestMetric(Base):
    """The latest point of each metric of a run (highest step, then the last logged): what
    run search filters and sorts on (``core/run_search.py``), kept by ``log_batch``."""

    __tablename__ = "latest_metrics"
    __table_args__ = (Index("ix_latest_metrics_key_value", "key", "value", "experiment_id"),)

    experiment_id: Mapped[int] = mapped_column(
        ForeignKey("experiments.id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    value: Mapped[float] = mapped_column(Float)
    step: Mapped[int] = mapped_column(BigInteger, default=0)
    timestamp: Mapped[float] = mapped_column(Float)


#: run search sorts and matches params by their first characters through an index
#: (``ix_params_key_value``); a btree entry of PostgreSQL holds at most ~2,700 bytes,
#: and a param's value has no length limit
PARAM_INDEX_CHARS = 200


class Param(Base):
    """A run's param. Run search filters and sorts on ``substr(value, 1, 200)`` (indexed
    with the key, :data:`PARAM_INDEX_CHARS`), then on the whole value."""

    __tablename__ = "params"

    experiment_id: Mapped[int] = mapped_column(
        ForeignKey("experiments.id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


Index(
    "ix_params_key_value",
    Param.key,
    func.substr(Param.value, literal_column("1"), literal_column(str(PARAM_INDEX_CHARS))),
    Param.experiment_id,
)


class ExperimentTemplate(Base):
    """A spec with typed parameters, shared platform-wide (``_global``) or in a team."""

    __tablename__ = "experiment_templates"
    __table_args__ = (UniqueConstraint("scope", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    scope: Mapped[str] = mapped_column(String(255), index=True)
    name: Mapped[str] = mapped_column(String(255))
    owner: Mapped[str] = mapped_column(String(255))
    description: Mapped[str] = mapped_column(Text, default="")
    parameters: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    spec: Mapped[dict[str, Any]] = mapped_column(JSON)
    builtin: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Dataset(Base):
    """A named dataset in the catalog: where it is, its format, schema and size."""

    __tablename__ = "datasets"
    __table_args__ = (UniqueConstraint("team", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    team: Mapped[str] = mapped_column(String(255), index=True)
    name: Mapped[str] = mapped_column(String(255))
    owner: Mapped[str] = mapped_column(String(255))
    uri: Mapped[str] = mapped_column(String(2048))
    format: Mapped[str] = mapped_column(String(64), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    schema: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    size: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    shared: Mapped[bool] = mapped_column(Boolean, default=False)  # readable by every team
    # lineage: the run whose result this is (a SQL run's ``dataset``), if a run made it
    source_run_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class RunDataset(Base):
    """Lineage: a run read a dataset."""

    __tablename__ = "run_datasets"

    experiment_id: Mapped[int] = mapped_column(
        ForeignKey("experiments.id", ondelete="CASCADE"), primary_key=True
    )
    dataset_id: Mapped[int] = mapped_column(
        ForeignKey("datasets.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class RegisteredModel(Base):
    """A model of a team; its versions are :class:`ModelVersion` rows."""

    __tablename__ = "registered_models"
    __table_args__ = (UniqueConstraint("team", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    team: Mapped[str] = mapped_column(String(255), index=True)
    name: Mapped[str] = mapped_column(String(255))
    owner: Mapped[str] = mapped_column(String(255))
    description: Mapped[str] = mapped_column(Text, default="")
    tags: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    archived: Mapped[bool] = mapped_column(Boolean, default=False)
    latest: Mapped[int] = mapped_column(Integer, default=0)  # newest version number
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class ModelVersion(Base):
    """One immutable version of a model: files in the artifact store and where they came from."""

    __tablename__ = "model_versions"
    __table_args__ = (UniqueConstraint("model_id", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    model_id: Mapped[int] = mapped_column(
        ForeignKey("registered_models.id", ondelete="CASCADE"), index=True
    )
    version: Mapped[int] = mapped_column(Integer)
    owner: Mapped[str] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(16))  # uploading | ready | archived
    description: Mapped[str] = mapped_column(Text, default="")
    framework: Mapped[str] = mapped_column(String(64), default="")
    signature: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    metrics: Mapped[dict[str, float]] = mapped_column(JSON, default=dict)
    tags: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    source_run_id: Mapped[int | None] = mapped_column(
        ForeignKey("experiments.id", ondelete="SET NULL"), nullable=True, index=True
    )
    source_notebook: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    storage_uri: Mapped[str] = mapped_column(String(2048))  # fsspec URL of its folder
    files: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)  # path, size, sha256
    size: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class ModelAlias(Base):
    """``production``, ``staging`` or any name, pointing at one version of a model."""

    __tablename__ = "model_aliases"

    model_id: Mapped[int] = mapped_column(
        ForeignKey("registered_models.id", ondelete="CASCADE"), primary_key=True
    )
    alias: Mapped[str] = mapped_column(String(64), primary_key=True)
    version: Mapped[int] = mapped_column(Integer)


class Endpoint(Base):
    """A serving endpoint: routes (model version or alias, weight), a loader, where it runs."""

    __tablename__ = "endpoints"
    __table_args__ = (UniqueConstraint("team", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    team: Mapped[str] = mapped_column(String(255), index=True)
    name: Mapped[str] = mapped_column(String(255))
    owner: Mapped[str] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(16))  # starting | ready | failed | stopped
    reason: Mapped[str] = mapped_column(Text, default="")
    config: Mapped[dict[str, Any]] = mapped_column(JSON)  # routes, loader, resources
    resolved: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)  # version ids
    backend: Mapped[str] = mapped_column(String(16), default="")
    url: Mapped[str] = mapped_column(String(1024), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class NotebookSchedule(Base):
    """A notebook job on a cron schedule: what to run (``job``), when, and what to do if missed."""

    __tablename__ = "notebook_schedules"
    __table_args__ = (
        Index("ix_notebook_schedules_team_id", "team", "id"),
        Index("ix_notebook_schedules_due", "paused", "next_run_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(255))
    team: Mapped[str] = mapped_column(String(255))
    owner: Mapped[str] = mapped_column(String(255))
    notebook: Mapped[str] = mapped_column(String(1024))  # path in the owner's or team's space
    job: Mapped[dict[str, Any]] = mapped_column(JSON)  # the notebook job request
    cron: Mapped[str] = mapped_column(String(255))  # 5 fields, or 6 with seconds
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    catchup: Mapped[str] = mapped_column(String(16), default="skip")  # skip | run_once
    paused: Mapped[bool] = mapped_column(Boolean, default=False)
    next_run_at: Mapped[datetime | None] = mapped_column(nullable=True)
    last_run_at: Mapped[datetime | None] = mapped_column(nullable=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class NotebookScheduleRun(Base):
    """One firing of a schedule: the run it started, or why it could not start one."""

    __tablename__ = "notebook_schedule_runs"
    __table_args__ = (UniqueConstraint("schedule_id", "scheduled_for"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    schedule_id: Mapped[int] = mapped_column(
        ForeignKey("notebook_schedules.id", ondelete="CASCADE")
    )
    scheduled_for: Mapped[datetime] = mapped_column()
    experiment_id: Mapped[int | None] = mapped_column(
        ForeignKey("experiments.id", ondelete="SET NULL"), nullable=True, index=True
    )
    error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Study(Base):
    """A hyper-parameter tuning study: a search space, an objective, an Optuna sampler
    and pruner; its trials are runs (``StudyTrial``). See ``core/studies``."""

    __tablename__ = "studies"
    __table_args__ = (Index("ix_studies_team_id", "team", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(255))
    team: Mapped[str] = mapped_column(String(255))
    owner: Mapped[str] = mapped_column(String(255))
    spec: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16))  # running | stopped | finished | failed
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # when it (last) started running: the time budget counts from here
    started_at: Mapped[datetime | None] = mapped_column(nullable=True)
    elapsed: Mapped[float] = mapped_column(Float, default=0.0)  # seconds run before a stop
    finished_at: Mapped[datetime | None] = mapped_column(nullable=True)


class StudyTrial(Base):
    """One trial of a study: the point Optuna asked for, the run that evaluates it, and
    how it ended (``complete`` with its value, ``pruned`` or ``failed`` with a reason)."""

    __tablename__ = "study_trials"
    __table_args__ = (UniqueConstraint("study_id", "number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("studies.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    run_id: Mapped[int | None] = mapped_column(
        ForeignKey("experiments.id"), nullable=True, index=True
    )
    params: Mapped[dict[str, Any]] = mapped_column(JSON)
    state: Mapped[str] = mapped_column(String(16))  # running | complete | pruned | failed
    value: Mapped[float | None] = mapped_column(Float, nullable=True)
    reason: Mapped[str] = mapped_column(Text, default="")
    # {step: value} the trial reported (what the pruner judged)
    intermediate: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(nullable=True)


class UsageRecord(Base):
    """What one session, run replica, notebook job, endpoint or environment build held,
    from when to when (``ended_at`` None: still holding it). One row per object and
    interval (``key``, unique), so metering it again never counts it twice."""

    __tablename__ = "usage_records"
    __table_args__ = (
        Index("ix_usage_records_team_started", "team", "started_at"),
        Index("ix_usage_records_open", "ended_at"),
        Index("ix_usage_records_object", "kind", "object_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(255), unique=True)  # e.g. run:12:worker-0
    kind: Mapped[str] = mapped_column(String(16))  # session | run | notebook_job | ...
    object_id: Mapped[int] = mapped_column(Integer)
    replica: Mapped[str] = mapped_column(String(255), default="")
    team: Mapped[str] = mapped_column(String(255))
    user: Mapped[str] = mapped_column(String(255), index=True)
    cpu: Mapped[float] = mapped_column(Float, default=0.0)
    memory: Mapped[int] = mapped_column(BigInteger, default=0)  # bytes
    gpus: Mapped[int] = mapped_column(Integer, default=0)
    gpu_type: Mapped[str] = mapped_column(String(64), default="")
    image: Mapped[str] = mapped_column(String(1024), default="")
    started_at: Mapped[datetime] = mapped_column()
    ended_at: Mapped[datetime | None] = mapped_column(nullable=True)
    # what was really used, where the backend measures it (local: rusage, cgroup)
    cpu_time: Mapped[float | None] = mapped_column(Float, nullable=True)
    peak_memory: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class UsageSetting(Base):
    """A platform-wide usage setting an admin made (the prices were one, ``name`` =
    ``prices``, until they were versioned in :class:`UsagePrice`)."""

    __tablename__ = "usage_settings"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    updated_by: Mapped[str] = mapped_column(String(255), default="")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class UsagePrice(Base):
    """A version of the admin's prices: in effect from ``effective_at`` until the next
    version's. Past usage keeps the prices of its time; a change applies from its
    effective time on."""

    __tablename__ = "usage_prices"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    effective_at: Mapped[datetime] = mapped_column(unique=True)
    value: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_by: Mapped[str] = mapped_column(String(255), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class TeamBudget(Base):
    """A team's budget per period: in money (at the current prices) or resource-hours."""

    __tablename__ = "team_budgets"

    team: Mapped[str] = mapped_column(String(255), primary_key=True)
    name: Mapped[str] = mapped_column(String(255), default="")
    amount: Mapped[float] = mapped_column(Float)
    unit: Mapped[str] = mapped_column(String(32))  # money | cpu_hours | gpu_hours | ...
    period: Mapped[str] = mapped_column(String(16))  # month | custom
    starts_at: Mapped[datetime | None] = mapped_column(nullable=True)  # custom period
    ends_at: Mapped[datetime | None] = mapped_column(nullable=True)
    warn_at: Mapped[float] = mapped_column(Float, default=0.8)  # fraction of the amount
    policy: Mapped[str] = mapped_column(String(16))  # refuse | queue | allow
    updated_by: Mapped[str] = mapped_column(String(255), default="")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


# the MLflow-compatible API's tables, in the same metadata (and migrations)
from . import mlflow_tables  # noqa: E402, F401
