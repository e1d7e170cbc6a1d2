"""Small helpers shared by the stage tests: writing and reading contract shards, and a stage's summed stats."""

import struct
from pathlib import Path

import numpy as np
import orjson
import zstandard

from proofpile.contract import ContractReader
from proofpile.stats import totals


def write_shard(path: Path, records) -> None:
    """Raw records (dicts, valid or not) as one zstd jsonl shard."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(zstandard.ZstdCompressor().compress(b"".join(orjson.dumps(r) + b"\n" for r in records)))


def read_tree(folder: Path) -> dict[str, list[dict]]:
    """Every shard under a folder, by relative path, as the raw records it holds."""
    out = {}
    for f in sorted(folder.rglob("*.jsonl.zst")):
        data = zstandard.ZstdDecompressor().decompressobj().decompress(f.read_bytes())
        out[str(f.relative_to(folder))] = [orjson.loads(line) for line in data.splitlines()]
    return out


def read_docs(folder: Path):
    """The documents of a folder's top-level shards, in file order, through the contract reader."""
    reader = ContractReader(str(folder))
    return [d for f in sorted(reader.data_folder.list_files(glob_pattern="*.jsonl.zst")) for d in reader.read_file(f)]


def shards(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.glob("*.jsonl.zst"))}


def stage_stats(root: Path, stage: str) -> dict:
    """Every stat of a stage's merged stats.json, summed over its steps."""
    return totals(root / "logs" / stage / "stats.json")


# NeoX's megatron/data/indexed_dataset.py: the dtype codes of MMapIndexedDataset
NEOX_DTYPES = {1: np.uint8, 2: np.int8, 3: np.int16, 4: np.int32, 5: np.int64, 6: np.float32, 7: np.float64,
               8: np.uint16}


def read_mmap_indexed(prefix: str) -> tuple[np.dtype, list[np.ndarray], np.ndarray]:
    """(dtype, items, document index) of ``<prefix>.idx`` + ``<prefix>.bin``, from the layout alone: magic
    ``MMIDIDX\\0\\0``, <Q version 1, <B dtype code, <Q items N, <Q document index length D, int32[N] sizes,
    int64[N] byte pointers, int64[D] document index."""
    idx = Path(f"{prefix}.idx").read_bytes()
    assert idx[:9] == b"MMIDIDX\x00\x00"
    (version,) = struct.unpack_from("<Q", idx, 9)
    assert version == 1
    (code,) = struct.unpack_from("<B", idx, 17)
    n, d = struct.unpack_from("<QQ", idx, 18)
    offset = 34
    sizes = np.frombuffer(idx, dtype="<i4", count=n, offset=offset)
    pointers = np.frombuffer(idx, dtype="<i8", count=n, offset=offset + 4 * n)
    doc_idx = np.frombuffer(idx, dtype="<i8", count=d, offset=offset + 12 * n)
    assert len(idx) == offset + 12 * n + 8 * d  # nothing after the document index
    dtype = np.dtype(NEOX_DTYPES[code])
    data = Path(f"{prefix}.bin").read_bytes()
    items = [np.frombuffer(data, dtype=dtype, count=int(s), offset=int(p)) for s, p in zip(sizes, pointers)]
    assert sum(int(s) for s in sizes) * dtype.itemsize == len(data)  # no gap, no tail
    return dtype, items, doc_idx
