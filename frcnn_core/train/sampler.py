"""An endless, seeded, resumable stream of dataset indices, sharded across processes."""

from __future__ import annotations

import torch


class IndexStream:
    """Yields dataset indices epoch after epoch: each epoch is a permutation drawn from
    ``seed + epoch``, and process ``rank`` of ``world_size`` takes every ``world_size``-th
    index (padding by wrapping so every rank gets the same count, like ``DistributedSampler``).

    Its whole state is ``(epoch, position)``, so a resumed run draws exactly the same indices.
    """

    def __init__(self, length: int, seed: int = 0, rank: int = 0, world_size: int = 1) -> None:
        if length < 1:
            raise ValueError("cannot train on an empty dataset")
        self.length, self.seed, self.rank, self.world_size = length, seed, rank, world_size
        self.epoch = 0
        self.position = 0
        self._order = self._epoch_order()

    def _epoch_order(self) -> list[int]:
        order = torch.randperm(self.length, generator=torch.Generator().manual_seed(self.seed + self.epoch)).tolist()
        per_rank = -(-self.length // self.world_size)
        order = (order * (1 + per_rank * self.world_size // self.length))[: per_rank * self.world_size]
        return order[self.rank :: self.world_size]

    def take(self, count: int) -> list[int]:
        out = []
        while len(out) < count:
            if self.position >= len(self._order):
                self.epoch += 1
                self.position = 0
                self._order = self._epoch_order()
            out.append(self._order[self.position])
            self.position += 1
        return out

    def state_dict(self) -> dict:
        return {"epoch": self.epoch, "position": self.position}

    def load_state_dict(self, state: dict) -> None:
        self.epoch, self.position = int(state["epoch"]), int(state["position"])
        self._order = self._epoch_order()
