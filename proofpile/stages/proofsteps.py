"""Lean and Isabelle proof states and tactics -> proof-step documents (algebraic-stack).

Lean: `lake exe training_data --proofstep` text and Lean 4 InfoTree JSON -> one document per source file of
[GOAL]/[PROOFSTEP] blocks (Proof-Pile-2's lean_proofsteps). Isabelle: PISA *.thy_output.json -> one document per
theorem of [STATEMENT]/[PROOF STATE]/[PROOF STEP] blocks. Theorems of held-out benchmarks (filters/proofsteps/)
are dropped. Writes <data_root>/proofsteps/*.jsonl.zst with meta.subset = "algebraic-stack".
"""

from __future__ import annotations

import os

from proofpile.config import ConfigError, StageConfig
from proofpile.contract import ContractWriter
from proofpile.decontam.formal import FORMAL_DIR, FormalBenchmarkHygiene
from proofpile.proofsteps.assemble import LeanFileAssembler
from proofpile.proofsteps.hygiene import BenchmarkHygieneFilter
from proofpile.proofsteps.readers import IsabellePisaReader, LeanInfoTreeReader, LeanProofstepTextReader
from proofpile.stage import run_pipeline

UPSTREAM = ()
OUTPUTS = ("proofsteps",)
# config key -> (reader, glob used when the input is a folder)
READERS = {
    "lean_proofstep_text": (LeanProofstepTextReader, "**/*.txt"),
    "lean_infotree": (LeanInfoTreeReader, "**/*.json"),
    "isabelle_pisa": (IsabellePisaReader, "**/*.json"),
}


def inputs(cfg: StageConfig) -> list[str]:
    files = [p for key in READERS for p in cfg.paths(key)] + [str(FORMAL_DIR)]
    if cfg.get("benchmark_lists"):
        files.append(cfg.param_path("benchmark_lists"))
    return files


def run(cfg: StageConfig) -> None:
    unknown = set(cfg.params) - set(READERS) - {"benchmark_lists", "executor"}
    if unknown:
        raise ConfigError(f"proofsteps: unknown keys {sorted(unknown)}")
    readers = []
    for key, (reader, folder_glob) in READERS.items():
        for path in cfg.paths(key):
            if not os.path.exists(path):
                raise ConfigError(f"proofsteps: {key} input not found: {path}")
            if os.path.isfile(path):
                readers.append(reader(os.path.dirname(path), glob_pattern=os.path.basename(path)))
            else:
                readers.append(reader(path, glob_pattern=folder_glob))
    if not readers:
        raise ConfigError(f"proofsteps: configure at least one of {', '.join(READERS)}")
    steps = []
    if cfg.get("benchmark_lists"):
        lists = cfg.param_path("benchmark_lists")
        if not os.path.isdir(lists):
            raise ConfigError(f"proofsteps: benchmark_lists folder not found: {lists}")
        steps.append(BenchmarkHygieneFilter(lists))
    steps.append(FormalBenchmarkHygiene())  # miniF2F/ProofNet statements and goals, by statement, not name
    run_pipeline(cfg, readers + steps + [LeanFileAssembler(), ContractWriter(cfg.stage_dir())])
