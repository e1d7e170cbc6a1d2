"""Tokenized shards + a mixture definition -> a resolved manifest trainers consume.

For each mixture file named in the config (``manifest: {mixtures: [manifests/demo.yaml]}``),
writes ``<root>/manifests/<name>.json``: every shard with its path, sha256 and counts, the tokenizer, and the
per-component weights and epochs (see ``proofpile.manifest``). Refuses -- a clear error, a non-zero exit, no file --
when a shard is missing, empty, truncated or disagrees with the tokenize stats.
"""

from pathlib import Path

from datatrove.utils.logging import logger
from pydantic import Field

import proofpile.manifest as mixtures
from proofpile.config import ConfigError, ConfigPath, Section, StageConfig
from proofpile.stage import atomic_write
from proofpile.stages.tokenize import more_inputs, tokenizer_info  # noqa: F401 (more_inputs: the tokenizer file)

UPSTREAM = ("tokenize",)
OUTPUTS = ("manifests",)


class Config(Section):
    mixtures: list[ConfigPath] = Field(min_length=1)  # each mixture file becomes <data_root>/manifests/<name>.json
    tokenizer: str | None = None  # default: the top-level `tokenizer` of common.yaml


def run(cfg: StageConfig) -> None:
    tokenizer_id = tokenizer_info(cfg).id
    resolved = []
    for path in cfg.params.mixtures:  # resolve them all before writing any: all or nothing
        mixture = mixtures.load_mixture(path)
        rel = str(Path(path).relative_to(cfg.base_dir)) if Path(path).is_relative_to(cfg.base_dir) else path
        resolved.append(mixtures.resolve(mixture, cfg.data_root, tokenizer_id, cfg.base_dir, rel))
    names = [m["name"] for m in resolved]
    if len(set(names)) != len(names):
        raise ConfigError(f"stage manifest: two mixtures share a name: {names}")
    for manifest in resolved:
        for warning in manifest["warnings"]:
            logger.warning(f"[manifest] {manifest['name']}: {warning}")
        atomic_write(Path(cfg.out("manifests", f"{manifest['name']}.json")), mixtures.manifest_bytes(manifest))
