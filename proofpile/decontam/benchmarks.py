"""Benchmark test sets to decontaminate against: a list of ``{name, path, fields}``.

``path`` is a local file (JSON lines, optionally ``.gz``/``.zst``; a ``.json`` list; or ``.parquet``) or
``hf://datasets/<owner>/<name>/<file>[@revision]``, fetched with huggingface_hub into its cache (so a machine
without network works once the cache holds it; with ``HF_HUB_OFFLINE=1`` nothing is downloaded). ``fields`` names
the text fields of one item (MATH: problem, solution; GSM8K: question, answer); an item missing one is counted.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import re
from dataclasses import dataclass

import orjson
import yaml
import zstandard

from proofpile.config import ConfigError


@dataclass(frozen=True)
class Benchmark:
    name: str
    path: str
    fields: tuple[str, ...]


_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


def parse_benchmarks(value, resolve=lambda p: p) -> list[Benchmark]:
    """A config value -> benchmarks. ``value`` is a list of mappings or the path of a YAML file holding one."""
    if isinstance(value, str):
        path = resolve(value)
        try:
            with open(path) as f:
                value = yaml.safe_load(f)
        except OSError as e:
            raise ConfigError(f"benchmark list {path}: {e}") from e
    if not isinstance(value, list) or not value:
        raise ConfigError("decontam: benchmarks must be a non-empty list of {name, path, fields}")
    out, names = [], set()
    for entry in value:
        if not isinstance(entry, dict) or set(entry) != {"name", "path", "fields"}:
            raise ConfigError(f"decontam: a benchmark needs exactly name, path and fields, got {entry!r}")
        name, fields = entry["name"], entry["fields"]
        if not isinstance(name, str) or not _NAME.match(name) or name in names:
            raise ConfigError(f"decontam: bad or repeated benchmark name {name!r}")
        if not isinstance(fields, list) or not fields or not all(isinstance(f, str) for f in fields):
            raise ConfigError(f"decontam: {name}: fields must be a non-empty list of field names")
        names.add(name)
        out.append(Benchmark(name, resolve(str(entry["path"])), tuple(fields)))
    return out


def local_path(path: str) -> str:
    """A local file for ``path``: itself, or an ``hf://`` file fetched into (or found in) the Hub cache."""
    if not path.startswith("hf://"):
        return path
    rest = path.removeprefix("hf://")
    if not rest.startswith("datasets/"):
        raise ConfigError(f"{path}: only hf://datasets/<owner>/<name>/<file> is supported")
    rest, _, revision = rest.removeprefix("datasets/").partition("@")
    parts = rest.split("/")
    if len(parts) < 3:
        raise ConfigError(f"{path}: expected hf://datasets/<owner>/<name>/<file>")
    from huggingface_hub import hf_hub_download

    try:
        return hf_hub_download("/".join(parts[:2]), "/".join(parts[2:]), repo_type="dataset",
                               revision=revision or None)
    except Exception as e:  # offline and not cached, no such repo or file, no network...
        raise FileNotFoundError(f"{path}: could not fetch it from the Hub or find it in the cache ({e})") from e


def _records(path: str):
    if path.endswith(".parquet"):
        import pyarrow.parquet as pq

        yield from pq.read_table(path).to_pylist()
        return
    with open(path, "rb") as f:
        raw = f.read()
    if path.endswith(".gz"):
        raw = gzip.decompress(raw)
    elif path.endswith(".zst"):
        raw = zstandard.ZstdDecompressor().decompressobj().decompress(raw)
    name = path.removesuffix(".gz").removesuffix(".zst")
    if name.endswith(".json"):
        data = json.loads(raw)
        yield from (data if isinstance(data, list) else [data])
        return
    for line in io.BytesIO(raw):
        if line.strip():
            yield orjson.loads(line)


def load_items(bench: Benchmark) -> tuple[list[dict], int]:
    """The benchmark's items as ``[{"index": i, field: text, ...}]`` and how many lacked a field."""
    path = local_path(bench.path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"benchmark {bench.name}: no file {path}")
    items, incomplete = [], 0
    for i, record in enumerate(_records(path)):
        texts = {f: record.get(f) for f in bench.fields} if isinstance(record, dict) else {}
        if not all(isinstance(t, str) and t.strip() for t in texts.values()) or not texts:
            incomplete += 1
        items.append({"index": i, **{f: t for f, t in texts.items() if isinstance(t, str)}})
    return items, incomplete
