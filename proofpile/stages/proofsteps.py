"""Lean and Isabelle proof states and tactics -> proof-step documents (algebraic-stack).

Lean: `lake exe training_data --proofstep` text and Lean 4 InfoTree JSON -> one document per source file of
[GOAL]/[PROOFSTEP] blocks (Proof-Pile-2's lean_proofsteps). Isabelle: PISA *.thy_output.json -> one document per
theorem of [STATEMENT]/[PROOF STATE]/[PROOF STEP] blocks. Theorems of held-out benchmarks (filters/proofsteps/)
are dropped. Writes <data_root>/proofsteps/*.jsonl.zst with meta.subset = "algebraic-stack".
"""

from __future__ import annotations

import os

from proofpile.config import ConfigError, ConfigPath, Section, StageConfig, folder_and_glob
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


class Config(Section):
    lean_proofstep_text: list[ConfigPath] = []  # `lake exe training_data --proofstep` outputs, files or folders
    lean_infotree: list[ConfigPath] = []  # Lean 4 InfoTree JSON exports, files or folders
    isabelle_pisa: list[ConfigPath] = []  # PISA *.thy_output.json extractions, files or folders
    # held-out benchmark theorem lists (<bench>.names.txt, <bench>.statements.txt); null keeps everything
    benchmark_lists: ConfigPath | None = "filters/proofsteps"


def more_inputs(cfg: StageConfig) -> list[str]:
    return [str(FORMAL_DIR)]  # the held-out statements of benchmark hygiene


def run(cfg: StageConfig) -> None:
    readers = []
    for key, (reader, folder_glob) in READERS.items():
        for path in getattr(cfg.params, key):
            try:
                folder, pattern = folder_and_glob(path, folder_glob)
            except ConfigError as e:
                raise ConfigError(f"proofsteps.{key}: {e}") from None
            readers.append(reader(folder, glob_pattern=pattern))
    if not readers:
        raise ConfigError(f"proofsteps: configure at least one of {', '.join(READERS)}")
    steps = []
    lists = cfg.params.benchmark_lists
    if lists:
        if not os.path.isdir(lists):
            raise ConfigError(f"proofsteps: benchmark_lists folder not found: {lists}")
        steps.append(BenchmarkHygieneFilter(lists))
    steps.append(FormalBenchmarkHygiene())  # miniF2F/ProofNet statements and goals, by statement, not name
    run_pipeline(cfg, readers + steps + [LeanFileAssembler(), ContractWriter(cfg.stage_dir())])
