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
from typing import Annotated

from pydantic import AfterValidator, PositiveInt

from proofpile.config import ConfigError, Section, StageConfig
from proofpile.contract import SUBSETS, ContractReader
from proofpile.stage import run_pipeline
from proofpile.tokens.shards import finalize
from proofpile.tokens.steps import ArrowShardWriter, TokenizeDocuments, default_threads
from proofpile.tokens.tokenizer import Encoder, TokenizerInfo, resolve_tokenizer

UPSTREAM = ("decontam",)
LIBRARIES = ("tokenizers", "sentencepiece", "pyarrow")


def _folder_name(name: str) -> str:
    if not re.fullmatch(r"[a-z0-9][a-z0-9_-]*", name):  # it becomes a folder name
        raise ValueError(f"{name!r} is not a plain lowercase name")
    return name


class Config(Section):
    shared_keys = ("tokenizer",)
    # package:<pkg>/<file>, a tokenizer.json / SentencePiece .model path, or a Hub repo id; default: the top-level
    # `tokenizer` of common.yaml
    tokenizer: str | None = None
    shard_tokens: PositiveInt = 100_000_000  # a shard closes once it holds this many tokens
    pack: bool = False  # true: pack documents into rows of exactly seq_len tokens (else a row per document)
    seq_len: PositiveInt = 4096  # the packed row length
    batch_size: PositiveInt = 1000  # documents per encode call
    threads: PositiveInt | None = None  # encoder threads per rank (default: cores / executor workers)
    input: str = "decontam"  # the folder under the data root holding <subset>/<split>/ shards
    # meta.subset values to keep besides the contract's (e.g. general-domain data)
    extra_subsets: list[Annotated[str, AfterValidator(_folder_name)]] = []


def tokenizer_info(cfg: StageConfig) -> TokenizerInfo:
    spec = cfg.params.tokenizer
    if spec is None:
        raise ConfigError(f"stage {cfg.stage}: no tokenizer (set `tokenizer:` in common.yaml or the stage section)")
    return resolve_tokenizer(spec, cfg.base_dir)


def more_inputs(cfg: StageConfig) -> list[str]:
    return [tokenizer_info(cfg).path]


def outputs(cfg: StageConfig) -> tuple[str, ...]:
    """Its tokenizer's folder only: shards of several tokenizers coexist under tokenized/<tokenizer-id>/."""
    return (f"tokenized/{tokenizer_info(cfg).id}",)


def record(cfg: StageConfig) -> dict:
    """The tokenizer the manifest stage resolves."""
    return {"tokenizer": tokenizer_info(cfg).id}


def run(cfg: StageConfig) -> None:
    p = cfg.params
    info = tokenizer_info(cfg)
    description = Encoder(info).description()
    folder = cfg.out("tokenized", info.id)
    seq_len = p.seq_len if p.pack else None
    subsets = SUBSETS + tuple(p.extra_subsets)
    threads = p.threads or default_threads(cfg.executor.ranks_at_once)
    pipeline = [
        ContractReader(cfg.stage_dir(p.input), glob_pattern="*/*/*.jsonl.zst"),
        TokenizeDocuments(info, threads=threads, batch_size=p.batch_size),
        ArrowShardWriter(folder, description, shard_tokens=p.shard_tokens, seq_len=seq_len, subsets=subsets),
    ]
    executor = run_pipeline(cfg, pipeline)
    finalize(folder, executor.world_size, description, seq_len, p.shard_tokens)
