"""What each replica of a distributed run is told about the others.

The same variables on every backend: the local backend gives ``127.0.0.1`` and a
free port per replica, Kubernetes gives each replica's stable DNS name.

- PyTorch (``torchrun`` / ``torch.distributed``): ``MASTER_ADDR``, ``MASTER_PORT``,
  ``WORLD_SIZE``, ``RANK`` and the ``PET_*`` rendezvous variables ``torchrun`` reads
  (``PET_NNODES``, ``PET_NODE_RANK``, ``PET_MASTER_ADDR``, ``PET_MASTER_PORT``), as
  Kubeflow's PyTorchJob sets them. The master (or the first worker) is rank 0.
- TensorFlow: ``TF_CONFIG`` with the cluster (chief, ps, worker; an evaluator is not
  part of the cluster) and the replica's own task.
- Every run: ``SUBMARINE_ROLE``, ``SUBMARINE_REPLICA_INDEX``, ``SUBMARINE_RANK``,
  ``SUBMARINE_WORLD_SIZE``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

Address = Callable[[str, int], tuple[str, int]]


@dataclass(frozen=True)
class Slot:
    role: str
    index: int
    rank: int

    @property
    def name(self) -> str:
        return f"{self.role}-{self.index}"


def slots(roles: dict[str, int]) -> list[Slot]:
    """Every replica, in rank order (roles in the order given)."""
    out: list[Slot] = []
    for role, replicas in roles.items():
        for index in range(replicas):
            out.append(Slot(role, index, len(out)))
    return out


def replica_env(
    framework: str, roles: dict[str, int], slot: Slot, address: Address
) -> dict[str, str]:
    world = sum(roles.values())
    env = {
        "SUBMARINE_ROLE": slot.role,
        "SUBMARINE_REPLICA_INDEX": str(slot.index),
        "SUBMARINE_RANK": str(slot.rank),
        "SUBMARINE_WORLD_SIZE": str(world),
    }
    if framework == "pytorch":
        first = "master" if roles.get("master") else next(iter(roles))
        host, port = address(first, 0)
        env.update(
            MASTER_ADDR=host,
            MASTER_PORT=str(port),
            WORLD_SIZE=str(world),
            RANK=str(slot.rank),
            PET_MASTER_ADDR=host,
            PET_MASTER_PORT=str(port),
            PET_NNODES=str(world),
            PET_NODE_RANK=str(slot.rank),
        )
    elif framework == "tensorflow":
        cluster = {
            role: [":".join(map(str, address(role, i))) for i in range(n)]
            for role, n in roles.items()
            if role != "evaluator"
        }
        env["TF_CONFIG"] = json.dumps(
            {"cluster": cluster, "task": {"type": slot.role, "index": slot.index}},
            separators=(",", ":"),
        )
    return env
