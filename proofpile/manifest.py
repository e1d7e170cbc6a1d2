"""Mixtures: a declared blend of tokenized subsets -> a resolved, verified manifest a trainer consumes.

A mixture file (``manifests/<name>.yaml``)::

    name: llemma                 # the manifest is <root>/manifests/<name>.json (default: the file's stem)
    split: train                 # the split the weights sample from (every split's shards are listed)
    seq_len: 4096                # the loader's sequence length
    seed: 0                      # the loader's default seed
    budget_tokens: 55_000_000_000   # or `epochs: 2` (passes over the mixture's tokens),
                                    # or `epochs: {arxiv: 2}` (the budget that gives arxiv 2 epochs); or neither
    components:                  # name -> weight (a share of the sampled tokens; normalized)
      arxiv: {weight: 2}
      open-web-math: {weight: 4}
      algebraic-stack: {weight: 1}
      general: {weight: 1, subset: general, root: /data/general, optional: true}

A component reads ``subset`` (default: its name) from ``<root>/tokenized/<tokenizer-id>/stats.json`` (``root``
default: this data root), so general-domain data tokenized in another data root with the same tokenizer can join.
An ``optional`` component whose data is absent is left out (the manifest says so) and the others renormalized.

The resolved manifest (``proofpile-manifest/1``) lists every shard of the components' subsets (all splits) with
``path`` (relative to the data root, absolute when outside it), ``sha256``, ``bytes``, ``rows``, ``documents``,
``tokens``, ``subset``, ``split``, ``component``, ``tokenizer``; and per component its normalized ``weight``, its
``tokens`` and ``documents`` in ``split``, and the ``epochs`` and ``sampled_tokens`` the budget implies. ``warnings``
names components too small for one ``seq_len`` sequence (a loader cannot sample them at that length).

Nothing is emitted unless every shard checks out: present, non-empty, its size as recorded, readable to the end with
pyarrow, its rows and tokens equal to the tokenize stats, its token ids inside the vocabulary -- and no shard on
disk that the stats do not list. Proof-Pile-2 shipped 13-byte shards; this refuses them, naming each problem.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pyarrow as pa
import yaml

from proofpile.config import ConfigError
from proofpile.tokens.shards import STATS_FILE, STATS_FORMAT, token_type
from proofpile.tokens.tokenizer import sha256_file

MANIFEST_FORMAT = "proofpile-manifest/1"
DEFAULT_SEQ_LEN = 4096


class ManifestError(RuntimeError):
    """A manifest that would list missing, empty, truncated or inconsistent shards."""


def load_mixture(path: str | os.PathLike) -> dict:
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"mixture file not found: {path}")
    mixture = yaml.safe_load(path.read_text()) or {}
    if not isinstance(mixture, dict) or not isinstance(mixture.get("components"), dict) or not mixture["components"]:
        raise ConfigError(f"{path}: a mixture needs a `components` mapping (name -> {{weight: ...}})")
    mixture.setdefault("name", path.name.split(".")[0])
    for name, comp in mixture["components"].items():
        comp = mixture["components"][name] = {"weight": comp} if isinstance(comp, (int, float)) else dict(comp or {})
        weight = comp.get("weight")
        if not isinstance(weight, (int, float)) or isinstance(weight, bool) or weight < 0:
            raise ConfigError(f"{path}: component {name!r} needs a weight >= 0, got {weight!r}")
        unknown = set(comp) - {"weight", "subset", "root", "optional"}
        if unknown:
            raise ConfigError(f"{path}: component {name!r} has unknown keys {sorted(unknown)}")
    if "budget_tokens" in mixture and "epochs" in mixture:
        raise ConfigError(f"{path}: give budget_tokens or epochs, not both")
    return mixture


def check_shard(path: Path, entry: dict, tokenizer: dict) -> list[str]:
    """Why a shard cannot be listed (empty list: it is sound)."""
    if not path.is_file():
        return [f"{path}: missing"]
    size = path.stat().st_size
    if size == 0:
        return [f"{path}: empty (0 bytes)"]
    problems = []
    if size != entry["bytes"]:
        problems.append(f"{path}: {size} bytes, the tokenize stats recorded {entry['bytes']} (truncated or replaced)")
    try:
        with pa.memory_map(str(path)) as source:
            table = pa.ipc.open_file(source).read_all()
    except (pa.ArrowInvalid, pa.ArrowIOError, OSError) as e:
        return problems + [f"{path}: unreadable Arrow IPC file ({size} bytes): {e}"]
    if "input_ids" not in table.schema.names:
        return problems + [f"{path}: no input_ids column"]
    expected = pa.list_(token_type(tokenizer["dtype"]))
    if table.schema.field("input_ids").type != expected:
        problems.append(f"{path}: input_ids is {table.schema.field('input_ids').type}, expected {expected}")
    tokens, top = 0, -1
    for chunk in table.column("input_ids").chunks:
        flat = chunk.flatten().to_numpy(zero_copy_only=False)
        tokens += len(flat)
        if len(flat):
            top = max(top, int(flat.max()))
    if table.num_rows != entry["rows"]:
        problems.append(f"{path}: {table.num_rows} rows, the tokenize stats recorded {entry['rows']}")
    if tokens != entry["tokens"]:
        problems.append(f"{path}: {tokens} tokens, the tokenize stats recorded {entry['tokens']}")
    if top >= tokenizer["vocab_size"]:
        problems.append(f"{path}: token id {top} outside the vocabulary ({tokenizer['vocab_size']})")
    return problems


def _tokenized(root: Path, tokenizer_id: str) -> tuple[Path, dict | None]:
    folder = root / "tokenized" / tokenizer_id
    stats_path = folder / STATS_FILE
    if not stats_path.is_file():
        return folder, None
    stats = json.loads(stats_path.read_text())
    if stats.get("format") != STATS_FORMAT:
        raise ManifestError(f"{stats_path}: format {stats.get('format')!r}, expected {STATS_FORMAT}")
    return folder, stats


def resolve(mixture: dict, data_root: str | os.PathLike, tokenizer_id: str, base_dir: str | os.PathLike = ".",
            mixture_path: str | None = None) -> dict:
    """A mixture -> the manifest dict. Raises ManifestError listing every problem found."""
    data_root = Path(data_root).resolve()
    split = mixture.get("split", "train")
    seq_len = int(mixture.get("seq_len", DEFAULT_SEQ_LEN))
    components, shards, problems, left_out, warnings = {}, [], [], [], []
    tokenizer = None
    for name, comp in mixture["components"].items():
        subset = comp.get("subset", name)
        root = Path(base_dir, comp["root"]).resolve() if comp.get("root") else data_root
        folder, stats = _tokenized(root, tokenizer_id)
        entries = [e for e in (stats or {}).get("shards", []) if e["subset"] == subset]
        if not entries:
            if comp.get("optional"):
                left_out.append({"component": name, "reason": f"no {subset!r} shards in {folder}"})
                continue
            problems.append(f"component {name!r}: no shards of subset {subset!r} in {folder}"
                            + ("" if stats else f" (no {STATS_FILE}: run the tokenize stage)"))
            continue
        tokenizer = tokenizer or stats["tokenizer"]
        if stats["tokenizer"]["id"] != tokenizer["id"]:
            problems.append(f"component {name!r}: tokenizer {stats['tokenizer']['id']} != {tokenizer['id']}")
        listed = {folder / e["path"] for e in stats["shards"]}
        for stray in sorted(folder.joinpath(subset).rglob("*.arrow")):
            if stray not in listed:
                problems.append(f"{stray}: on disk but not in {folder / STATS_FILE} (left from another run?)")
        tokens = documents = 0
        for e in sorted(entries, key=lambda e: e["path"]):
            path = folder / e["path"]
            found = check_shard(path, e, stats["tokenizer"])
            problems += found
            if found:
                continue
            rel = os.path.relpath(path, data_root) if path.is_relative_to(data_root) else str(path)
            shards.append({"path": rel, "sha256": sha256_file(path), "bytes": e["bytes"], "rows": e["rows"],
                           "documents": e["documents"], "tokens": e["tokens"], "subset": subset,
                           "split": e["split"], "component": name, "tokenizer": stats["tokenizer"]["id"]})
            if e["split"] == split:
                tokens += e["tokens"]
                documents += e["documents"]
        components[name] = {"subset": subset, "weight_declared": comp["weight"], "tokens": tokens,
                            "documents": documents, "sequences": tokens // seq_len}
        if comp["weight"] > 0 and tokens == 0:
            problems.append(f"component {name!r}: no {split} tokens to sample")
        elif comp["weight"] > 0 and tokens < seq_len:
            warnings.append(f"component {name!r}: {tokens} {split} tokens, fewer than one sequence of {seq_len}: "
                            f"a loader with this seq_len cannot sample it")
    if problems:
        raise ManifestError("refusing to write the manifest:\n  " + "\n  ".join(problems))
    total_weight = sum(c["weight_declared"] for c in components.values())
    if total_weight <= 0:
        raise ManifestError("refusing to write the manifest: the components' weights sum to 0")
    for c in components.values():
        c["weight"] = c["weight_declared"] / total_weight
    budget = _budget(mixture, components)
    for c in components.values():
        c["sampled_tokens"] = None if budget is None else int(round(budget * c["weight"]))
        c["epochs"] = None if budget is None else (budget * c["weight"] / c["tokens"] if c["tokens"] else 0.0)
    return {
        "format": MANIFEST_FORMAT,
        "name": mixture["name"],
        "mixture": mixture_path,
        "tokenizer": tokenizer,
        "split": split,
        "seq_len": seq_len,
        "seed": int(mixture.get("seed", 0)),
        "budget_tokens": budget,
        "components": components,
        "left_out": left_out,
        "warnings": warnings,
        "shards": sorted(shards, key=lambda s: (s["component"], s["split"], s["path"])),
    }


def _budget(mixture: dict, components: dict) -> int | None:
    if mixture.get("budget_tokens") is not None:
        return int(mixture["budget_tokens"])
    epochs = mixture.get("epochs")
    if epochs is None:
        return None
    if isinstance(epochs, dict):
        if len(epochs) != 1 or next(iter(epochs)) not in components:
            raise ConfigError(f"epochs: {{component: n}} names one component of {sorted(components)}, got {epochs}")
        (name, n), = epochs.items()
        c = components[name]
        if c["weight"] == 0:
            raise ConfigError(f"epochs: component {name!r} has weight 0")
        return int(round(float(n) * c["tokens"] / c["weight"]))
    return int(round(float(epochs) * sum(c["tokens"] for c in components.values())))


def manifest_bytes(manifest: dict) -> bytes:
    return (json.dumps(manifest, indent=1, sort_keys=True) + "\n").encode()
