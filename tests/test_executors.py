"""Executors: every kind builds from config; local merges the stats of every completed rank; ray is optional;
slurm passes its options through and waits for the array job (run against stand-in sbatch/squeue/scontrol).

Also holds the small multi-rank ``toy`` stage that test_spark.py and test_resume.py run."""

import hashlib
import json
import os
import stat
import sys
import time
import types
from pathlib import Path

import pytest
import zstandard
from datatrove.data import Document
from datatrove.pipeline.base import PipelineStep
from datatrove.pipeline.filters import RegexFilter

import proofpile.stage as stage_mod
from proofpile.config import ConfigError, ConfigPath, Section, StageConfig
from proofpile.contract import ContractReader, ContractWriter, dumps
from proofpile.executors import LocalExecutor, WaitingSlurmExecutor, build_executor
from proofpile.stage import run_pipeline, run_stage

TESTS = Path(__file__).resolve().parent


# -- the toy stage: contract shards in, a slow step, a filter with a reason, shards out by subset ---------------
class Slow(PipelineStep):
    """Sleeps per document: gives a kill something to interrupt."""

    name = "🐢 Slow"

    def __init__(self, seconds: float):
        super().__init__()
        self.seconds = seconds

    def run(self, data, rank=0, world_size=1):
        for doc in data:
            if self.seconds:
                time.sleep(self.seconds)
            self.stat_update("seen")
            yield doc


class FailWhileFlagged(PipelineStep):
    """Rank ``rank`` raises while the file ``flag`` exists (a transient failure of one rank)."""

    name = "💥 Fail while flagged"

    def __init__(self, flag: str, rank: int):
        super().__init__()
        self.flag, self.fail_rank = flag, rank

    def run(self, data, rank=0, world_size=1):
        for doc in data:
            if rank == self.fail_rank and os.path.exists(self.flag):
                raise RuntimeError(f"rank {rank} fails on purpose")
            yield doc


class Measure(PipelineStep):
    name = "📏 Measure"

    def run(self, data, rank=0, world_size=1):
        for doc in data:
            doc.metadata["n_words"] = len(doc.text.split())
            yield doc


def make_inputs(folder: Path, files: int = 8, docs: int = 30) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    subsets = ("arxiv", "open-web-math", "algebraic-stack")
    for f in range(files):
        lines = []
        for d in range(docs):
            text = f"document {f}-{d} " + " ".join(f"w{(f * 7 + d * 3 + k) % 50}" for k in range(d % 13 + 1))
            if d % 5 == 0:
                text += " DROPME"
            meta = {"subset": subsets[(f + d) % 3], "source": "toy", "url": f"https://ex{d % 4}.org/{f}/{d}"}
            lines.append(dumps(Document(text=text, id=f"toy-{f}-{d}", metadata=meta)))
        (folder / f"in-{f:03d}.jsonl.zst").write_bytes(zstandard.ZstdCompressor().compress(b"".join(lines)))
    return folder


class ToyConfig(Section):
    input: ConfigPath
    sleep: float = 0
    fail_flag: str | None = None
    fail_rank: int = 0


def toy_pipeline(cfg):
    p = cfg.params
    fail = [FailWhileFlagged(p.fail_flag, p.fail_rank)] if p.fail_flag else []
    return [ContractReader(p.input), Slow(p.sleep), *fail, RegexFilter(r"DROPME"),
            Measure(), ContractWriter(cfg.stage_dir(), output_filename="${subset}/${rank}.jsonl.zst")]


def toy_module():
    m = types.ModuleType("toy")
    m.UPSTREAM = ()
    m.OUTPUTS = ("toy",)
    m.Config = ToyConfig
    m.run = lambda cfg: run_pipeline(cfg, toy_pipeline(cfg))
    return m


def install_toy_stage(patch=setattr):
    """Make ``stage_module('toy')`` the toy stage (with pytest's monkeypatch.setattr, or for good in a subprocess)."""
    module, real = toy_module(), stage_mod.stage_module
    patch(stage_mod, "stage_module", lambda name: module if name == "toy" else real(name))
    patch(stage_mod, "code_paths", lambda name: [])


def write_toy_config(folder: Path, inputs: Path, executor: dict, **params) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "common.yaml").write_text(f"base_dir: .\ndata_root: root\nexecutor: {json.dumps(executor)}\n")
    (folder / "toy.yaml").write_text(f"include: common.yaml\ntoy: {json.dumps({'input': str(inputs), **params})}\n")
    return folder / "toy.yaml"


def file_hashes(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def read_ids(folder: Path) -> list[str]:
    return sorted(doc.id for doc in ContractReader(str(folder)).run())


# -- tests -------------------------------------------------------------------------------------------------------
@pytest.fixture(autouse=True)
def toy_stage(monkeypatch):
    install_toy_stage(monkeypatch.setattr)


def load(tmp_path, common_executor, **stage):
    stage.setdefault("input", "in")
    (tmp_path / "common.yaml").write_text(f"data_root: root\nexecutor: {json.dumps(common_executor)}\n")
    (tmp_path / "toy.yaml").write_text(f"include: common.yaml\ntoy: {json.dumps(stage)}\n")
    return StageConfig.load("toy", tmp_path / "toy.yaml")


def test_stage_executor_overrides_common(tmp_path, monkeypatch):
    install_toy_stage(monkeypatch.setattr)
    cfg = load(tmp_path, {"kind": "local", "tasks": 4, "workers": 2}, executor={"kind": "spark", "workers": 1})
    assert (cfg.executor.kind, cfg.executor.tasks, cfg.executor.workers) == ("spark", 4, 1)


def test_local_runs_every_rank_and_stats_count_resumed_ranks(tmp_path, monkeypatch):
    install_toy_stage(monkeypatch.setattr)
    inputs = make_inputs(tmp_path / "in", files=4, docs=10)
    cfg = StageConfig.load("toy", write_toy_config(tmp_path, inputs, {"kind": "local", "tasks": 4, "workers": 2}))
    run_stage(cfg)
    logs = cfg.data_root / "logs" / "toy"
    assert sorted(os.listdir(logs / "completions")) == [f"{r:05d}" for r in range(4)]
    full = json.loads((logs / "stats.json").read_text())
    # a killed run: rank 2 never completed; the rerun runs only rank 2 and stats.json still counts all 4 ranks
    (cfg.data_root / "markers" / "toy.json").unlink()
    (logs / "completions" / "00002").unlink()
    run_stage(StageConfig.load("toy", tmp_path / "toy.yaml"))
    again = json.loads((logs / "stats.json").read_text())
    by_name = lambda stats: {s["name"]: s["stats"] for s in stats}  # noqa: E731
    assert by_name(again)["📖 - READER: 📜 Contract reader"]["documents"]["total"] == 40
    assert by_name(again) == by_name(full)
    dropped = by_name(full)["🔻 - FILTER: 🕵 Regex"]["dropped"]  # merged counters are {"total": ...} dicts
    assert dropped["total"] == 8


def test_progress_knob_turns_on_reader_progress(tmp_path):
    cfg = load(tmp_path, {"kind": "local", "tasks": 1, "progress": True}, input="x")
    pipeline = [ContractReader(str(tmp_path))]
    build_executor(cfg, pipeline, str(tmp_path / "logs"))
    assert pipeline[0].doc_progress and pipeline[0].file_progress


def test_unknown_kind_and_missing_ray_are_clear_errors(tmp_path):
    with pytest.raises(ConfigError, match="executor.kind: input should be 'local', 'spark', 'ray' or 'slurm'"):
        load(tmp_path, {"kind": "dask"})
    try:
        import ray  # noqa: F401

        pytest.skip("ray is installed here")
    except ImportError:
        pass
    with pytest.raises(ConfigError, match="pip install"):
        build_executor(load(tmp_path, {"kind": "ray", "tasks": 2}), [], str(tmp_path / "logs"))


def test_kinds_build_their_executors(tmp_path):
    from proofpile.spark import SparkPipelineExecutor

    ex = build_executor(load(tmp_path, {"kind": "local", "tasks": 3, "workers": 5}), [], str(tmp_path / "l"))
    assert isinstance(ex, LocalExecutor) and (ex.tasks, ex.workers) == (3, 3)
    ex = build_executor(load(tmp_path, {"kind": "spark", "tasks": 6, "workers": 2,
                                        "spark": {"conf": {"spark.ui.enabled": "false"}}}), [], str(tmp_path / "s"))
    assert isinstance(ex, SparkPipelineExecutor)
    assert (ex.world_size, ex.master, ex.conf, ex.app_name) == (6, "local[2]", {"spark.ui.enabled": "false"},
                                                               "proofpile-toy")
    with pytest.raises(ConfigError, match="partition and time"):
        build_executor(load(tmp_path, {"kind": "slurm"}), [], str(tmp_path / "x"))
    ex = build_executor(load(tmp_path, {"kind": "slurm", "tasks": 5, "workers": 2,
                                        "slurm": {"partition": "cpu", "time": "1:00:00", "qos": "low",
                                                  "cpus_per_task": 3}}), [], str(tmp_path / "y"))
    assert isinstance(ex, WaitingSlurmExecutor)
    assert (ex.tasks, ex.workers, ex.partition, ex.qos, ex.cpus_per_task, ex.job_name) == (
        5, 2, "cpu", "low", 3, "proofpile-toy")


FAKE_SBATCH = r"""#!/bin/bash
# stand-in sbatch: runs the array job's tasks right here, one after another, then prints the job id
script="${@: -1}"
array=$(sed -n 's/^#SBATCH --array=\([0-9]*\)-\([0-9]*\).*/\1 \2/p' "$script")
echo "$@" >> "$FAKE_SLURM_LOG"
if [ -n "$array" ]; then
  set -- $array
  for i in $(seq "$1" "$2"); do
    SLURM_ARRAY_TASK_ID=$i SLURM_JOB_ID=4242 SLURM_NODELIST=localhost bash "$script" >> "$FAKE_SLURM_LOG" 2>&1 || true
  done
else
  bash "$script" >> "$FAKE_SLURM_LOG" 2>&1 || true
fi
echo "Submitted batch job 4242"
"""


def test_slurm_runs_only_incomplete_ranks_and_waits(tmp_path, monkeypatch):
    """The real datatrove Slurm executor end to end: sbatch script, pickled executor, array tasks, completions."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fakes = {"sbatch": FAKE_SBATCH, "squeue": "#!/bin/sh\nexit 0\n",  # the job has left the queue
             "scontrol": '#!/bin/sh\n[ "$1 $2" = "show hostnames" ] && echo "$3"\n'}
    for name, text in fakes.items():
        (bin_dir / name).write_text(text)
        (bin_dir / name).chmod(stat.S_IRWXU)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_SLURM_LOG", str(tmp_path / "slurm.log"))
    monkeypatch.setenv("PYTHONPATH", str(TESTS))  # the array tasks unpickle the toy steps
    install_toy_stage(monkeypatch.setattr)
    inputs = make_inputs(tmp_path / "in", files=3, docs=6)
    executor = {"kind": "slurm", "tasks": 3, "workers": 2,
                "slurm": {"partition": "cpu", "time": "0:10:00", "with_srun": False, "poll_seconds": 0.1,
                          "requeue_signals": None}}
    cfg = StageConfig.load("toy", write_toy_config(tmp_path, inputs, executor))
    run_stage(cfg)
    logs = cfg.data_root / "logs" / "toy"
    assert sorted(os.listdir(logs / "completions")) == ["00000", "00001", "00002"], (tmp_path / "slurm.log").read_text()
    script = (logs / "launch_script.slurm").read_text()
    assert "#SBATCH --partition=cpu" in script and "#SBATCH --array=0-2%2" in script
    assert len(read_ids(cfg.data_root / "toy")) == 3 * 6 - 6 // 5 * 3 - 3
    # only the incomplete rank is resubmitted
    (cfg.data_root / "markers" / "toy.json").unlink()
    (logs / "completions" / "00001").unlink()
    run_stage(StageConfig.load("toy", tmp_path / "toy.yaml"))
    assert json.loads((logs / "ranks_to_run.json").read_text()) == [1]
    assert "#SBATCH --array=0-0%2" in (logs / "launch_script.slurm").read_text()
