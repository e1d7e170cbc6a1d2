"""GPT-NeoX / Megatron indexed datasets (``.bin`` + ``.idx``) of a resolved manifest's components.

Llemma was trained with GPT-NeoX, whose ``MMapIndexedDataset`` (``megatron/data/indexed_dataset.py``, data
impl ``mmap``) reads a *prefix*: ``<prefix>.bin`` holds the tokens of every item back to back, ``<prefix>.idx``
says where each item is::

    9 bytes   magic b"MMIDIDX\\x00\\x00"
    <Q        version, 1
    <B        dtype code (NeoX's table: 8 = uint16, 4 = int32)
    <Q        N, the number of items
    <Q        D, the length of the document index
    int32[N]  sizes: tokens per item
    int64[N]  pointers: byte offset of each item in the .bin
    int64[D]  document index: 0, then one past each document's last item

All little-endian, no padding. Here an item is a row of the Arrow shards -- a document (``[BOS] tokens EOS``), or
with packing a ``seq_len`` row -- and every item is its own document (D = N + 1). The dtype follows NeoX's own rule
for a vocabulary (``uint16`` below 65,500 entries, else ``int32``).

``export`` writes one file pair per component and split under ``<root>/manifests/neox/<manifest>/`` and returns
what the manifest records: each pair's prefix, counts and checksums, and NeoX's ``train_data_paths`` /
``train_data_weights`` (and ``valid_``/``test_``) for the mixture. Prefixes are relative to the data root (NeoX
resolves them against its working directory: run it there, or join them to the root).
"""

from __future__ import annotations

import os
import struct
from pathlib import Path

import numpy as np

from proofpile.tokens.shards import open_batches
from proofpile.tokens.tokenizer import sha256_file

MAGIC = b"MMIDIDX\x00\x00"
VERSION = 1
DTYPE_CODES = {np.dtype(np.uint16): 8, np.dtype(np.int32): 4}
NEOX_SPLITS = {"train": "train", "validation": "valid", "test": "test"}  # our split -> NeoX's config key prefix
FOLDER = "neox"  # under <root>/manifests/


def neox_dtype(vocab_size: int) -> np.dtype:
    """NeoX's ``best_fitting_dtype``: uint16 for vocabularies under 65,500 entries, else int32."""
    return np.dtype(np.uint16) if vocab_size < 65500 else np.dtype(np.int32)


class IndexedWriter:
    """Appends items to ``<prefix>.bin`` and writes ``<prefix>.idx`` on ``close``; both via hidden temp files,
    fsync and rename, so a killed export never leaves a pair that looks finished."""

    def __init__(self, prefix: Path, dtype: np.dtype):
        self.prefix, self.dtype = Path(prefix), np.dtype(dtype)
        if self.dtype not in DTYPE_CODES:
            raise ValueError(f"NeoX reads no {self.dtype} tokens; use one of {sorted(map(str, DTYPE_CODES))}")
        self.prefix.parent.mkdir(parents=True, exist_ok=True)
        self._tmp_bin = self._tmp(".bin")
        self._bin = open(self._tmp_bin, "wb")
        self._sizes: list[np.ndarray] = []
        self.tokens = 0

    def _tmp(self, suffix: str) -> Path:
        return self.prefix.with_name(f".{self.prefix.name}{suffix}.tmp-{os.getpid()}")

    def add(self, values: np.ndarray, sizes: np.ndarray) -> None:
        """Items given as their tokens back to back and their lengths."""
        self._bin.write(np.ascontiguousarray(values, dtype=self.dtype).tobytes())
        self._sizes.append(np.asarray(sizes, dtype=np.int32))
        self.tokens += len(values)

    def close(self) -> dict:
        self._bin.flush()
        os.fsync(self._bin.fileno())
        self._bin.close()
        sizes = np.concatenate(self._sizes) if self._sizes else np.zeros(0, np.int32)
        pointers = np.zeros(len(sizes), dtype=np.int64)
        np.cumsum(sizes[:-1], out=pointers[1:])
        pointers *= self.dtype.itemsize
        doc_idx = np.arange(len(sizes) + 1, dtype=np.int64)
        header = MAGIC + struct.pack("<QBQQ", VERSION, DTYPE_CODES[self.dtype], len(sizes), len(doc_idx))
        tmp_idx = self._tmp(".idx")
        with open(tmp_idx, "wb") as f:
            for part in (header, sizes.astype("<i4").tobytes(), pointers.astype("<i8").tobytes(),
                         doc_idx.astype("<i8").tobytes()):
                f.write(part)
            f.flush()
            os.fsync(f.fileno())
        bin_path, idx_path = Path(f"{self.prefix}.bin"), Path(f"{self.prefix}.idx")
        os.replace(self._tmp_bin, bin_path)
        os.replace(tmp_idx, idx_path)
        return {"documents": len(sizes), "tokens": self.tokens, "bin_bytes": bin_path.stat().st_size,
                "idx_bytes": idx_path.stat().st_size, "bin_sha256": sha256_file(bin_path),
                "idx_sha256": sha256_file(idx_path)}

    def abort(self) -> None:
        self._bin.close()
        self._tmp_bin.unlink(missing_ok=True)


def export(manifest: dict, data_root: str | os.PathLike) -> dict:
    """Write the NeoX file pairs of every component and split of ``manifest``; returns the manifest's ``neox``."""
    data_root = Path(data_root)
    dtype = neox_dtype(int(manifest["tokenizer"]["vocab_size"]))
    folder = data_root / "manifests" / FOLDER / manifest["name"]
    groups: dict[tuple[str, str], list[dict]] = {}
    for shard in manifest["shards"]:  # sorted by (component, split, path): the order the loader reads
        groups.setdefault((shard["component"], shard["split"]), []).append(shard)
    files = []
    for (component, split), shards in sorted(groups.items()):
        prefix = folder / f"{component}-{split}"
        writer = IndexedWriter(prefix, dtype)
        try:
            for shard in shards:
                path = Path(shard["path"]) if os.path.isabs(shard["path"]) else data_root / shard["path"]
                for batch in open_batches(path):
                    ids = batch.column("input_ids")
                    offsets = ids.offsets.to_numpy()
                    values = ids.values.to_numpy(zero_copy_only=False)[offsets[0]:offsets[-1]]
                    writer.add(values, np.diff(offsets))
        except BaseException:
            writer.abort()
            raise
        written = writer.close()
        expected = sum(s["tokens"] for s in shards)
        if written["tokens"] != expected:  # the manifest checked the shards; this guards the export itself
            raise RuntimeError(f"NeoX export of {component}/{split}: {written['tokens']} tokens, shards have "
                               f"{expected}")
        files.append({"component": component, "split": split,
                      "prefix": os.path.relpath(prefix, data_root), **written})
    neox: dict = {"format": "megatron-mmap-indexed/1", "dtype": dtype.name, "files": files}
    weights = {name: c["weight"] for name, c in manifest["components"].items() if c["weight"] > 0}
    for split, key in NEOX_SPLITS.items():
        chosen = [f for f in files if f["split"] == split and f["component"] in weights and f["documents"]]
        total = sum(weights[f["component"]] for f in chosen)
        neox[f"{key}_data_paths"] = [f["prefix"] for f in chosen]
        neox[f"{key}_data_weights"] = [weights[f["component"]] / total for f in chosen]
    return neox


def neox_config(manifest: dict) -> dict:
    """The keys of a NeoX training config that read this manifest's export."""
    n = manifest["neox"]
    return {"data_impl": "mmap", **{k: v for k, v in n.items() if k.endswith(("_data_paths", "_data_weights"))}}

