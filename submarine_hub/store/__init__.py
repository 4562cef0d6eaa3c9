"""Persistence: the metastore (SQLAlchemy models and Alembic migrations)."""

from .db import Database, database_urls
from .migrate import upgrade

__all__ = ["Database", "database_urls", "upgrade"]
