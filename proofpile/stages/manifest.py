"""Tokenized shards + a mixture definition -> a resolved manifest trainers consume.

For each mixture file named in the config (``manifest: {mixtures: [manifests/demo.yaml]}``),
writes ``<root>/manifests/<name>.json``: every shard with its path, sha256 and counts, the tokenizer, and the
per-component weights and epochs (see ``proofpile.manifest``). The shards are those of the tokenizer the tokenize
stage last ran with (its marker names it), or of ``tokenizer_id`` when set: several tokenizers' shards coexist. Refuses -- a clear error, a non-zero exit, no file --
when a shard is missing, empty, truncated or disagrees with the tokenize stats.
"""

from pathlib import Path

from datatrove.utils.logging import logger
from pydantic import Field

import proofpile.manifest as mixtures
from proofpile.atomic import atomic_write
from proofpile.config import ConfigError, ConfigPath, Section, StageConfig
from proofpile.stage import upstream_record

UPSTREAM = ("tokenize",)
OUTPUTS = ("manifests",)
LIBRARIES = ("pyarrow",)


class Config(Section):
    mixtures: list[ConfigPath] = Field(min_length=1)  # each mixture file becomes <data_root>/manifests/<name>.json
    # the shards to resolve: a folder under tokenized/; null: the tokenizer the tokenize stage last ran with
    tokenizer_id: str | None = None


def tokenizer_id(cfg: StageConfig) -> str:
    found = cfg.params.tokenizer_id or upstream_record(cfg, "tokenize").get("tokenizer")
    if not found:
        raise ConfigError("stage manifest: the tokenize stage's marker names no tokenizer (rerun tokenize)")
    return found


def run(cfg: StageConfig) -> None:
    tokenizer = tokenizer_id(cfg)
    resolved = []
    for path in cfg.params.mixtures:  # resolve them all before writing any: all or nothing
        mixture = mixtures.load_mixture(path)
        rel = str(Path(path).relative_to(cfg.base_dir)) if Path(path).is_relative_to(cfg.base_dir) else path
        resolved.append(mixtures.resolve(mixture, cfg.data_root, tokenizer, cfg.base_dir, rel))
    names = [m["name"] for m in resolved]
    if len(set(names)) != len(names):
        raise ConfigError(f"stage manifest: two mixtures share a name: {names}")
    for manifest in resolved:
        for warning in manifest["warnings"]:
            logger.warning(f"[manifest] {manifest['name']}: {warning}")
        atomic_write(Path(cfg.out("manifests", f"{manifest['name']}.json")), mixtures.manifest_bytes(manifest))
