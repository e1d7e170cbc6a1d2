"""The trainer's side: stream fixed-length token sequences from a resolved manifest.

    from proofpile.loader import MixtureLoader
    loader = MixtureLoader("out/demo/manifests/llemma.json", rank=rank, world_size=world_size)
    for step, input_ids in enumerate(loader):        # numpy arrays of seq_len tokens (uint16/uint32)
        ...
        if step % 1000 == 0:
            save(loader.state_dict())                 # a small dict of ints; JSON-able
    loader.load_state_dict(saved)                     # continues with exactly the next sequence

How sequences are made. A component's documents are the rows of its shards in the manifest's ``split``. Every
epoch of a component packs them, in an order shuffled by ``(seed, component, epoch)``, into one token stream cut into
``seq_len`` sequences (a tail shorter than ``seq_len`` is not used; pass ``seq_len=4097`` for 4096 inputs plus their
shifted targets), and visits those sequences once, in an order shuffled too: documents, then sequences, as
Megatron's GPT dataset does.

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

Resuming. The schedule repeats every sum(weights) steps, so any step's component and position is computed, not
replayed: the state is the number of sequences the rank has served. ``load_state_dict`` restores it and the stream
continues exactly as an uninterrupted run would. A state is tied to its manifest, seed, seq_len, rank and world size
(checked).

The stream ends after the manifest's budget (``budget_tokens // seq_len`` global steps), or ``max_steps``; with
neither it is endless. ``proofpile`` does not import torch; ``TorchMixtureDataset`` (a torch ``IterableDataset`` of
global-batch slices that resumes under ``torchdata``'s ``StatefulDataLoader``, or from a batch count with any number
of workers) exists when torch is installed.
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
from proofpile.tokens.shards import open_batches, open_shard, token_chunks
from proofpile.tokens.tokenizer import sha256_file

STATE_VERSION = 2
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
    index: int  # the sequence within the component's epoch (0 .. sequences-1)
    input_ids: np.ndarray


class _Component:
    """One component's documents (its shards' rows, in manifest order); epoch e packs them, in an order shuffled by
    (seed, component, e), into one token stream cut into seq_len sequences, which are then visited in an order
    shuffled too (Megatron's scheme: documents, then samples)."""

    def __init__(self, name: str, shards: list[dict], data_root: Path, seq_len: int, seed: int, verify: bool):
        self.name = name
        self.verify = verify
        self.shards = shards
        self.paths = [Path(s["path"]) if os.path.isabs(s["path"]) else data_root / s["path"] for s in shards]
        self.starts = np.cumsum([0] + [s["tokens"] for s in shards])
        self.seq_len = seq_len
        self.sequences = int(self.starts[-1]) // seq_len
        self.seed = [seed, zlib.crc32(name.encode())]
        self._open: OrderedDict[int, tuple[np.ndarray, list[np.ndarray]]] = OrderedDict()
        self._docs: tuple[np.ndarray, np.ndarray] | None = None  # every document's start and length, manifest order
        self._epoch: tuple[int, np.ndarray, np.ndarray, np.ndarray] | None = None

    def _documents(self) -> tuple[np.ndarray, np.ndarray]:
        if self._docs is None:
            lengths = []
            for k in range(len(self.shards)):
                self._chunks(k)  # checks the shard against the manifest first
                for batch in open_batches(self.paths[k]):
                    lengths.append(np.diff(batch.column("input_ids").offsets.to_numpy()))
            lengths = np.concatenate(lengths).astype(np.int64)
            starts = np.zeros(len(lengths), dtype=np.int64)
            np.cumsum(lengths[:-1], out=starts[1:])
            self._docs = (starts, lengths)
        return self._docs

    def epoch(self, epoch: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(document order, where each ordered document ends in the epoch's stream, sequence order) of an epoch."""
        if self._epoch is None or self._epoch[0] != epoch:
            _, lengths = self._documents()
            rng = np.random.default_rng([*self.seed, epoch])
            # uint32: at Llemma scale (~7M arXiv sequences of 4096) an order is 28 MB, not 56
            docs = rng.permutation(np.arange(len(lengths), dtype=np.uint32 if len(lengths) < 1 << 32 else np.int64))
            ends = np.cumsum(lengths[docs])
            index = np.arange(self.sequences, dtype=np.uint32 if self.sequences < 1 << 32 else np.int64)
            self._epoch = (epoch, docs, ends, rng.permutation(index))
        return self._epoch[1:]

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

    def tokens(self, a: int, b: int) -> list[np.ndarray]:
        """Tokens [a, b) of the component's documents in manifest order, as views of the memory maps."""
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
        return pieces

    def sequence(self, position: int) -> tuple[int, int, np.ndarray]:
        """The ``position``-th sequence this component serves: (epoch, index, tokens)."""
        epoch, i = divmod(position, self.sequences)
        docs, ends, order = self.epoch(epoch)
        starts, lengths = self._documents()
        index = int(order[i])
        a, b = index * self.seq_len, (index + 1) * self.seq_len
        j = int(np.searchsorted(ends, a, side="right"))  # the epoch's document holding token a
        pieces = []
        while a < b:
            doc = int(docs[j])
            begin = int(ends[j]) - int(lengths[doc])  # where the document starts in the epoch's stream
            lo, hi = a - begin, min(b, int(ends[j])) - begin
            pieces += self.tokens(int(starts[doc]) + lo, int(starts[doc]) + hi)
            a, j = begin + hi, j + 1
        return epoch, index, np.concatenate(pieces)


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
        # one period of the schedule (it repeats every sum(weights) steps) and the picks of each component before
        # each of its steps: any step's component and position without replaying the steps before it
        credit, picks = [0] * len(self.weights), []
        for _ in range(self.total_weight):
            picks.append(swrr_step(credit, self.weights, self.total_weight))
        self._period = np.array(picks, dtype=np.int32)
        before = np.zeros((self.total_weight + 1, len(self.weights)), dtype=np.int64)
        before[np.arange(1, self.total_weight + 1), self._period] = 1
        self._before = np.cumsum(before, axis=0)
        budget = self.manifest.get("budget_tokens")
        self.max_steps = max_steps if max_steps is not None else (budget // self.seq_len if budget else None)
        self._fingerprint = hashlib.sha256(json.dumps(
            [self.manifest.get("name"), [(s["path"], s["sha256"]) for s in self.manifest["shards"]],
             self.weights], sort_keys=True).encode()).hexdigest()[:16]
        self._round: tuple[int, np.ndarray] | None = None
        self._served = 0  # sequences this rank has served: its next one is its ``_served``-th step

    # -- the schedule --------------------------------------------------------------------------------------------
    def pick(self, step: int) -> tuple[int, int]:
        """Global step -> (component index, its position: how many times it was picked before)."""
        periods, r = divmod(step, self.total_weight)
        c = int(self._period[r])
        return c, periods * self.weights[c] + int(self._before[r, c])

    def owner(self, step: int) -> int:
        """The rank that reads global step ``step``."""
        if self.world_size == 1:
            return 0
        round_, slot = divmod(step, self.world_size)
        return int(self._permutation(round_)[slot])

    def _permutation(self, round_: int) -> np.ndarray:
        if self._round is None or self._round[0] != round_:
            rng = np.random.default_rng([self.seed, 0x72616E6B, round_])  # "rank"
            self._round = (round_, rng.permutation(self.world_size))
        return self._round[1]

    def step_of(self, n: int) -> int:
        """The global step of this rank's ``n``-th sequence: every round of ``world_size`` steps gives each rank one."""
        if self.world_size == 1:
            return n
        return n * self.world_size + int(np.flatnonzero(self._permutation(n) == self.rank)[0])

    def sample(self, n: int) -> Sample | None:
        """This rank's ``n``-th sequence (None past the end of the stream)."""
        step = self.step_of(n)
        if self.max_steps is not None and step >= self.max_steps:
            return None
        picked, position = self.pick(step)
        comp = self.components[picked]
        epoch, index, tokens = comp.sequence(position)
        return Sample(step, comp.name, epoch, index, tokens)

    def samples(self) -> Iterator[Sample]:
        """Like iterating the loader, with where each sequence comes from."""
        while (sample := self.sample(self._served)) is not None:
            self._served += 1
            yield sample

    def __iter__(self) -> Iterator[np.ndarray]:
        for sample in self.samples():
            yield sample.input_ids

    def __len__(self) -> int:
        """Sequences this rank has left (raises TypeError for an endless stream)."""
        if self.max_steps is None:
            raise TypeError("an endless MixtureLoader has no length (no budget_tokens, no max_steps)")
        rounds, rest = divmod(self.max_steps, self.world_size)
        total = rounds + (1 if rest and self.step_of(rounds) < self.max_steps else 0)
        return max(0, total - self._served)

    # -- resuming ------------------------------------------------------------------------------------------------
    def state_dict(self) -> dict:
        return {"version": STATE_VERSION, "manifest": self._fingerprint, "seed": self.seed, "seq_len": self.seq_len,
                "split": self.split, "rank": self.rank, "world_size": self.world_size, "served": self._served}

    def load_state_dict(self, state: dict) -> None:
        mine = self.state_dict()
        for key in ("version", "manifest", "seed", "seq_len", "split", "rank", "world_size"):
            if state.get(key) != mine[key]:
                raise ValueError(f"loader state is for {key}={state.get(key)!r}, this loader has {mine[key]!r}")
        self._served = int(state["served"])


def __getattr__(name: str):
    """``TorchMixtureDataset`` is built on first use, so that importing proofpile never imports torch."""
    if name != "TorchMixtureDataset":
        raise AttributeError(name)
    import torch
    from torch.utils.data import IterableDataset, get_worker_info

    class TorchMixtureDataset(IterableDataset):
        """``MixtureLoader`` as a torch ``IterableDataset`` of whole *global-batch* slices: each item is a
        ``(batch_size, seq_len)`` tensor of this rank's next ``batch_size`` sequences, as ``torch.uint16`` (or
        ``uint32``) -- a quarter (a half) of int64's bytes between processes; cast on the device.

            ds = TorchMixtureDataset("out/demo/manifests/demo.json", batch_size=8, rank=rank, world_size=world)
            loader = torchdata.stateful_dataloader.StatefulDataLoader(ds, batch_size=None, num_workers=2)
            for batch in loader:                  # batch k is the rank's sequences k*8 .. k*8+7, in order
                ...
                saved = loader.state_dict()       # every worker's state: the next batch it makes
            loader.load_state_dict(saved)         # in a new loader: continues with exactly the next batch

        With ``n`` workers, worker ``w`` makes batches ``w, w + n, w + 2n, ...`` and the DataLoader hands them out in
        that round-robin order: the batches, their contents and their order are the same for any number of workers
        (0 included), so every batch is the schedule's own window and holds the mixture exactly as a single process
        would. ``state_dict``/``load_state_dict`` follow torchdata's ``Stateful`` protocol (one state per worker:
        ``StatefulDataLoader`` restores each worker's own); ``start_batch`` resumes from a batch count alone, with any
        number of workers (the trainer's step is enough)."""

        def __init__(self, manifest, *, batch_size: int, start_batch: int = 0, **kwargs):
            super().__init__()
            if batch_size < 1:
                raise ValueError(f"batch_size must be >= 1, got {batch_size}")
            self.batch_size, self.start_batch = int(batch_size), int(start_batch)
            self.loader = MixtureLoader(manifest, **kwargs)
            self._next: int | None = None  # the next batch this worker makes (None: not started)

        def _worker(self) -> tuple[int, int]:
            info = get_worker_info()
            return (info.id, info.num_workers) if info is not None else (0, 1)

        def _first(self) -> int:
            return self.start_batch + self._worker()[0]  # the DataLoader asks worker 0 first

        def __iter__(self):
            _, workers = self._worker()
            k = self._first() if self._next is None else self._next
            while True:
                samples = [self.loader.sample(n) for n in range(k * self.batch_size, (k + 1) * self.batch_size)]
                samples = [s for s in samples if s is not None]
                if not samples:
                    return
                self._next = k = k + workers
                yield torch.from_numpy(np.stack([s.input_ids for s in samples]))

        def state_dict(self) -> dict:
            _, workers = self._worker()
            return {"loader": self.loader.state_dict(), "batch_size": self.batch_size, "workers": workers,
                    "next_batch": self._first() if self._next is None else self._next}

        def load_state_dict(self, state: dict) -> None:
            self.loader.load_state_dict(state["loader"])
            _, workers = self._worker()
            for key, mine in (("batch_size", self.batch_size), ("workers", workers)):
                if state[key] != mine:
                    raise ValueError(f"loader state is for {key}={state[key]!r}, this loader has {mine!r} "
                                     f"(resume with start_batch= to change it)")
            self._next = int(state["next_batch"])

    # importable (and picklable, for spawned DataLoader workers) as proofpile.loader.TorchMixtureDataset
    TorchMixtureDataset.__module__, TorchMixtureDataset.__qualname__ = __name__, "TorchMixtureDataset"
    globals()["TorchMixtureDataset"] = TorchMixtureDataset
    return TorchMixtureDataset
