"""Documents -> tokenized, sharded Arrow files per subset and split.

Reads ``<root>/decontam/<subset>/<split>/*.jsonl.zst`` and writes
``<root>/tokenized/<tokenizer-id>/<subset>/<split>/shard-NNNNN.arrow`` plus ``stats.json`` (shape in
``proofpile.tokens.shards``). Config (``pipelines/tokenize.yaml``, section ``tokenize``)::

    tokenizer: package:mistral_common/data/tokenizer.model.v1  # default: the top-level `tokenizer` of common.yaml
    shard_tokens: 100_000_000   # a shard closes once it holds this many tokens
    pack: false                 # true: pack documents into rows of exactly seq_len tokens (else a row per document)
    seq_len: 4096               # the packed row length
    batch_size: 1000            # documents per encode call
    threads: null               # encoder threads per rank (default: cores / executor workers)
    input: decontam             # the folder under the data root holding <subset>/<split>/ shards
    extra_subsets: []           # meta.subset values to keep besides the contract's (e.g. general-domain data)
"""

import re

from proofpile.config import ConfigError, StageConfig
from proofpile.contract import SUBSETS, ContractReader
from proofpile.stage import run_pipeline
from proofpile.tokens.shards import finalize
from proofpile.tokens.steps import ArrowShardWriter, TokenizeDocuments, default_threads
from proofpile.tokens.tokenizer import Encoder, TokenizerInfo, resolve_tokenizer

UPSTREAM = ("decontam",)
OUTPUTS = ("tokenized",)
PACKAGE = "tokens"  # its step package (a package named tokenize would shadow the standard library's)
DEFAULT_SHARD_TOKENS = 100_000_000
DEFAULT_SEQ_LEN = 4096


def tokenizer_info(cfg: StageConfig) -> TokenizerInfo:
    spec = cfg.get("tokenizer", cfg.raw.get("tokenizer"))
    if spec is None:
        raise ConfigError(f"stage {cfg.stage}: no tokenizer (set `tokenizer:` in common.yaml or the stage section)")
    return resolve_tokenizer(spec, cfg.base_dir)


def positive_int(cfg: StageConfig, key: str, default: int) -> int:
    value = cfg.get(key)
    value = default if value is None else value
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"tokenize.{key} must be a positive integer, got {value!r}")
    return value


def extra_subsets(cfg: StageConfig) -> list[str]:
    extra = list(cfg.get("extra_subsets") or [])
    for name in extra:  # it becomes a folder name
        if not isinstance(name, str) or not re.fullmatch(r"[a-z0-9][a-z0-9_-]*", name):
            raise ConfigError(f"tokenize.extra_subsets: {name!r} is not a plain lowercase name")
    return extra


def inputs(cfg: StageConfig) -> list[str]:
    return [tokenizer_info(cfg).path]


def run(cfg: StageConfig) -> None:
    info = tokenizer_info(cfg)
    description = Encoder(info).description()
    folder = cfg.out("tokenized", info.id)
    shard_tokens = positive_int(cfg, "shard_tokens", DEFAULT_SHARD_TOKENS)
    seq_len = positive_int(cfg, "seq_len", DEFAULT_SEQ_LEN) if cfg.get("pack") else None
    subsets = SUBSETS + tuple(extra_subsets(cfg))
    threads = int(cfg.get("threads") or default_threads(int(cfg.executor.get("workers", 1))))
    pipeline = [
        ContractReader(cfg.stage_dir(cfg.get("input", "decontam")), glob_pattern="*/*/*.jsonl.zst"),
        TokenizeDocuments(info, threads=threads, batch_size=int(cfg.get("batch_size", 1000))),
        ArrowShardWriter(folder, description, shard_tokens=shard_tokens, seq_len=seq_len, subsets=subsets),
    ]
    executor = run_pipeline(cfg, pipeline)
    finalize(folder, executor.world_size, description, seq_len, shard_tokens)
