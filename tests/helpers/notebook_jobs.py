"""What the tests of notebook jobs share: users of two teams, a notebook with a
``parameters`` cell, and a metastore holding two versions of ``nbs/train.ipynb``."""

from __future__ import annotations

from submarine_hub.core import versions
from submarine_hub.core.identity import Identity
from submarine_hub.store import Database, upgrade

from .notebooks import code_cell
from .notebooks import notebook as make_notebook

ALICE = Identity(name="alice", teams=frozenset({"data-science"}))
CAROL = Identity(name="carol", teams=frozenset({"ml-platform"}))


def notebook(
    params: str | None = "alpha = 0.5\nname = 'x'", body: str = "print(alpha, name)"
) -> dict:
    """A notebook whose first cell (unless ``params`` is None) is tagged ``parameters``."""
    cells = [code_cell(params, tags=["parameters"])] if params is not None else []
    return make_notebook(*cells, code_cell(body, execution_count=1))


async def train_notebook_db(db_url: str) -> Database:
    """A migrated metastore at ``db_url`` where alice saved ``nbs/train.ipynb`` twice (the
    second version adds the parameter ``epochs``)."""
    upgrade(db_url)
    db = Database(db_url)
    async with db.session() as s:
        await versions.save(
            s, ALICE, "user:alice", "nbs/train.ipynb", content=notebook(), format="notebook"
        )
        await versions.save(
            s,
            ALICE,
            "user:alice",
            "nbs/train.ipynb",
            content=notebook("alpha = 0.5\nname = 'x'\nepochs = 1"),
            format="notebook",
        )
    return db
