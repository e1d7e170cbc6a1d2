"""The trainer's side: stream fixed-length token sequences from a resolved manifest.

    from proofpile.loader import MixtureLoader
    loader = MixtureLoader("out/demo/manifests/llemma.json", rank=rank, world_size=world_size)
    for step, input_ids in enumerate(loader):        # numpy arrays of seq_len tokens (uint16/uint32)
        ...
        if step % 1000 == 0:
            save(loader.state_dict())                 # a small dict of ints; JSON-able
    loader.load_state_dict(saved)                     # continues with exactly the next sequence

How sequences are made. Each component's documents (every shard of the manifest's ``split``, in manifest order) are
one stream of tokens cut into ``seq_len`` sequences (a tail shorter than ``seq_len`` is not used; pass
``seq_len=4097`` for 4096 inputs plus their shifted targets). Every epoch of a
component visits its sequences once, in an order shuffled by ``(seed, component, epoch)``.

Which component comes next. A *global* schedule picks a component for every step t = 0, 1, 2, ... by smooth
weighted round-robin over integer weights (the manifest's weights as exact fractions): each step every
component's credit grows by its weight, the component with most credit is picked and pays the total. Over any
T = sum(weights) consecutive steps component c is picked exactly w_c times, and in any window at most about one
pick away from its share: the mixture holds in every window, not just on average, and no seed is involved.

Data parallelism. The global steps are dealt out in rounds of ``world_size``: every round gives each rank one step,
by a permutation seeded by ``(seed, round)`` (plain ``t % world_size`` would hand a rank the same slot of the
schedule's period every time -- with 2:4:1 and 7 ranks, rank 0 would only ever read one component). Every rank runs
the same (cheap) schedule and reads only its own steps' tokens: ranks 0..k-1 together read each sequence of an epoch
exactly once, and advance in lockstep, one sequence per round each.

Resuming. The state after a step is (the next global step, every component's credit and position): a few integers.
``load_state_dict`` restores it and the stream continues exactly as an uninterrupted run would. A state is tied to
its manifest, seed, seq_len, rank and world size (checked).

The stream ends after the manifest's budget (``budget_tokens // seq_len`` global steps), or ``max_steps``; with
neither it is endless. ``proofpile`` does not import torch; ``TorchMixtureDataset`` (an
``torch.utils.data.IterableDataset`` that also splits across DataLoader workers) exists when torch is installed.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import zlib
from collections import OrderedDict
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Iterator

import numpy as np

from proofpile.manifest import MANIFEST_FORMAT
from proofpile.tokens.shards import open_shard, token_chunks
from proofpile.tokens.tokenizer import sha256_file

STATE_VERSION = 1
OPEN_SHARDS = 8  # memory-mapped shards kept open per component


def integer_weights(weights: list[float], resolution: int = 10**6) -> list[int]:
    """Weights -> the smallest integers in the same proportions (as exact as ``resolution`` allows)."""
    total = sum(weights)
    fracs = [Fraction(w / total).limit_denominator(resolution) for w in weights]
    denom = math.lcm(*(f.denominator for f in fracs))
    ints = [int(f * denom) for f in fracs]
    g = math.gcd(*ints)
    return [i // g for i in ints]


def swrr_step(credit: list[int], weights: list[int], total: int) -> int:
    """One step of smooth weighted round-robin: returns the picked index, updates ``credit`` in place."""
    best = 0
    for i, w in enumerate(weights):
        credit[i] += w
        if credit[i] > credit[best]:
            best = i
    credit[best] -= total
    return best


@dataclass
class Sample:
    step: int  # the global step
    component: str
    epoch: int  # of this component
    index: int  # the sequence within the component (0 .. sequences-1)
    input_ids: np.ndarray


class _Component:
    """One component's token stream: its shards back to back, cut into seq_len sequences."""

    def __init__(self, name: str, shards: list[dict], data_root: Path, seq_len: int, seed: int, verify: bool):
        self.name = name
        self.verify = verify
        self.shards = shards
        self.paths = [Path(s["path"]) if os.path.isabs(s["path"]) else data_root / s["path"] for s in shards]
        self.starts = np.cumsum([0] + [s["tokens"] for s in shards])
        self.seq_len = seq_len
        self.sequences = int(self.starts[-1]) // seq_len
        self.seed = seed
        self._open: OrderedDict[int, tuple[np.ndarray, list[np.ndarray]]] = OrderedDict()
        self._perm: tuple[int, np.ndarray] | None = None

    def order(self, epoch: int) -> np.ndarray:
        if self._perm is None or self._perm[0] != epoch:
            rng = np.random.default_rng([self.seed, zlib.crc32(self.name.encode()), epoch])
            # uint32: at Llemma scale (~7M arXiv sequences of 4096) the order is 28 MB, not 56
            index = np.arange(self.sequences, dtype=np.uint32 if self.sequences < 1 << 32 else np.int64)
            self._perm = (epoch, rng.permutation(index))
        return self._perm[1]

    def _chunks(self, k: int) -> tuple[np.ndarray, list[np.ndarray]]:
        if k in self._open:
            self._open.move_to_end(k)
            return self._open[k]
        path, entry = self.paths[k], self.shards[k]
        size = path.stat().st_size if path.is_file() else -1
        if size != entry["bytes"]:
            raise RuntimeError(f"{path}: {size} bytes, the manifest says {entry['bytes']} (missing or changed)")
        if self.verify and sha256_file(path) != entry["sha256"]:
            raise RuntimeError(f"{path}: sha256 differs from the manifest's (corrupt or changed)")
        chunks = token_chunks(open_shard(path))
        starts = np.cumsum([0] + [len(c) for c in chunks])
        if starts[-1] != entry["tokens"]:
            raise RuntimeError(f"{path}: {starts[-1]} tokens, the manifest says {entry['tokens']}")
        self._open[k] = (starts, chunks)
        if len(self._open) > OPEN_SHARDS:
            self._open.popitem(last=False)
        return self._open[k]

    def tokens(self, a: int, b: int) -> np.ndarray:
        """Tokens [a, b) of the component's stream, copied out of the memory maps."""
        pieces = []
        k = int(np.searchsorted(self.starts, a, side="right")) - 1
        while a < b:
            starts, chunks = self._chunks(k)
            lo, hi = a - int(self.starts[k]), min(b, int(self.starts[k + 1])) - int(self.starts[k])
            c = int(np.searchsorted(starts, lo, side="right")) - 1
            while lo < hi:
                end = min(hi, int(starts[c + 1]))
                pieces.append(chunks[c][lo - int(starts[c]):end - int(starts[c])])
                lo, c = end, c + 1
            a = int(self.starts[k + 1])
            k += 1
        return np.concatenate(pieces) if len(pieces) > 1 else pieces[0].copy()

    def sequence(self, position: int) -> tuple[int, int, np.ndarray]:
        """The ``position``-th sequence this component serves: (epoch, index, tokens)."""
        epoch, i = divmod(position, self.sequences)
        index = int(self.order(epoch)[i])
        return epoch, index, self.tokens(index * self.seq_len, (index + 1) * self.seq_len)


class MixtureLoader:
    """Fixed-length token sequences following a manifest's mixture: deterministic, resumable, rank-sharded.

    ``manifest``: a path to a resolved manifest JSON (``data_root`` defaults to the folder above its
    ``manifests/``) or the manifest dict (then pass ``data_root``). ``split`` other than the manifest's samples that
    split's shards with the same weights (e.g. validation). Every shard's size and token count are checked against
    the manifest when it is first opened; ``verify=True`` also checks its sha256 (after copying data to a cluster)."""

    def __init__(self, manifest: str | os.PathLike | dict, *, data_root: str | os.PathLike | None = None,
                 rank: int = 0, world_size: int = 1, seed: int | None = None, seq_len: int | None = None,
                 split: str | None = None, max_steps: int | None = None, verify: bool = False):
        if isinstance(manifest, dict):
            if data_root is None:
                raise ValueError("MixtureLoader: pass data_root with a manifest dict")
            self.manifest = manifest
        else:
            path = Path(manifest)
            self.manifest = json.loads(path.read_text())
            data_root = data_root if data_root is not None else path.resolve().parent.parent
        if self.manifest.get("format") != MANIFEST_FORMAT:
            raise ValueError(f"not a resolved manifest ({MANIFEST_FORMAT}): format {self.manifest.get('format')!r}")
        if not 0 <= rank < world_size:
            raise ValueError(f"rank {rank} is not in 0..{world_size - 1}")
        self.rank, self.world_size = rank, world_size
        self.seed = int(self.manifest.get("seed", 0) if seed is None else seed)
        self.seq_len = int(seq_len or self.manifest["seq_len"])
        self.split = split or self.manifest["split"]
        data_root = Path(data_root)
        comps = {name: c for name, c in sorted(self.manifest["components"].items()) if c["weight"] > 0}
        self.components = []
        for name in comps:
            shards = [s for s in self.manifest["shards"] if s["component"] == name and s["split"] == self.split]
            comp = _Component(name, shards, data_root, self.seq_len, self.seed, verify)
            if comp.sequences == 0:
                raise ValueError(f"component {name!r} has no {self.split} sequence of {self.seq_len} tokens")
            self.components.append(comp)
        self.weights = integer_weights([comps[c.name]["weight"] for c in self.components])
        self.total_weight = sum(self.weights)
        budget = self.manifest.get("budget_tokens")
        self.max_steps = max_steps if max_steps is not None else (budget // self.seq_len if budget else None)
        self._fingerprint = hashlib.sha256(json.dumps(
            [self.manifest.get("name"), [(s["path"], s["sha256"]) for s in self.manifest["shards"]],
             self.weights], sort_keys=True).encode()).hexdigest()[:16]
        self._round: tuple[int, np.ndarray] | None = None
        self._step = 0
        self._credit = [0] * len(self.components)
        self._positions = [0] * len(self.components)

    # -- the schedule --------------------------------------------------------------------------------------------
    def _advance(self) -> tuple[int, int]:
        """Schedule the current global step: (component index, its position); moves the state past it."""
        picked = swrr_step(self._credit, self.weights, self.total_weight)
        position = self._positions[picked]
        self._positions[picked] += 1
        self._step += 1
        return picked, position

    def samples(self) -> Iterator[Sample]:
        """Like iterating the loader, with where each sequence comes from."""
        while self.max_steps is None or self._step < self.max_steps:
            step = self._step
            picked, position = self._advance()
            if self.owner(step) != self.rank:
                continue  # another rank's step: scheduled, not read
            comp = self.components[picked]
            epoch, index, tokens = comp.sequence(position)
            yield Sample(step, comp.name, epoch, index, tokens)

    def __iter__(self) -> Iterator[np.ndarray]:
        for sample in self.samples():
            yield sample.input_ids

    def owner(self, step: int) -> int:
        """The rank that reads global step ``step``."""
        if self.world_size == 1:
            return 0
        round_, slot = divmod(step, self.world_size)
        if self._round is None or self._round[0] != round_:
            rng = np.random.default_rng([self.seed, 0x72616E6B, round_])  # "rank"
            self._round = (round_, rng.permutation(self.world_size))
        return int(self._round[1][slot])

    def __len__(self) -> int:
        """Sequences this rank has left (raises TypeError for an endless stream)."""
        if self.max_steps is None:
            raise TypeError("an endless MixtureLoader has no length (no budget_tokens, no max_steps)")
        k, start, end = self.world_size, self._step, self.max_steps
        if end <= start:
            return 0
        # rounds strictly between the first and the last are whole (one step each); the two ends, step by step
        whole = max(0, end // k - start // k - 1)
        ends = set(range(start, min(end, (start // k + 1) * k))) | set(range(max(start, end // k * k), end))
        return whole + sum(self.owner(t) == self.rank for t in ends)

    # -- resuming ------------------------------------------------------------------------------------------------
    def state_dict(self) -> dict:
        return {"version": STATE_VERSION, "manifest": self._fingerprint, "seed": self.seed, "seq_len": self.seq_len,
                "split": self.split, "rank": self.rank, "world_size": self.world_size, "step": self._step,
                "credit": list(self._credit),
                "positions": {c.name: p for c, p in zip(self.components, self._positions)}}

    def load_state_dict(self, state: dict) -> None:
        mine = self.state_dict()
        for key in ("version", "manifest", "seed", "seq_len", "split", "rank", "world_size"):
            if state.get(key) != mine[key]:
                raise ValueError(f"loader state is for {key}={state.get(key)!r}, this loader has {mine[key]!r}")
        if sorted(state["positions"]) != sorted(mine["positions"]) or len(state["credit"]) != len(self._credit):
            raise ValueError("loader state is for other components")
        self._step = int(state["step"])
        self._credit = [int(c) for c in state["credit"]]
        self._positions = [int(state["positions"][c.name]) for c in self.components]


def __getattr__(name: str):
    """``TorchMixtureDataset`` is built on first use, so that importing proofpile never imports torch."""
    if name != "TorchMixtureDataset":
        raise AttributeError(name)
    import torch
    from torch.utils.data import IterableDataset, get_worker_info

    class TorchMixtureDataset(IterableDataset):
        """``MixtureLoader`` as a torch ``IterableDataset`` of int64 tensors. With DataLoader workers, worker w of
        n on rank r reads the steps of rank ``r * n + w`` of ``world_size * n``; ``state_dict`` is for
        ``num_workers=0``."""

        def __init__(self, manifest, **kwargs):
            super().__init__()
            self.manifest, self.kwargs = manifest, kwargs
            self.loader = MixtureLoader(manifest, **kwargs)

        def __iter__(self):
            loader = self.loader
            info = get_worker_info()
            if info is not None and info.num_workers > 1:
                kw = dict(self.kwargs)
                rank, world = kw.pop("rank", 0), kw.pop("world_size", 1)
                loader = MixtureLoader(self.manifest, rank=rank * info.num_workers + info.id,
                                       world_size=world * info.num_workers, **kw)
            for ids in loader:
                yield torch.from_numpy(ids.astype(np.int64))

        def state_dict(self) -> dict:
            return self.loader.state_dict()

        def load_state_dict(self, state: dict) -> None:
            self.loader.load_state_dict(state)

    # importable (and picklable, for spawned DataLoader workers) as proofpile.loader.TorchMixtureDataset
    TorchMixtureDataset.__module__, TorchMixtureDataset.__qualname__ = __name__, "TorchMixtureDataset"
    globals()["TorchMixtureDataset"] = TorchMixtureDataset
    return TorchMixtureDataset
