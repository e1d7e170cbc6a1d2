"""Small helpers shared by the stage tests: writing and reading contract shards, and a stage's summed stats."""

from pathlib import Path

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

