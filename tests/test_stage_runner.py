"""The stage runner: finished stages skip, changed config or inputs redo, killed runs resume, markers come last."""

import json
import os
import types
from pathlib import Path

import pytest
from datatrove.data import Document
from datatrove.pipeline.base import PipelineStep

import proofpile.stage as stage_mod
from proofpile.config import ConfigPath, Section, StageConfig
from proofpile.contract import ContractReader, ContractWriter
from proofpile.stage import marker_path, run_pipeline, run_stage


class LinesReader(PipelineStep):
    """Each line of the rank's input files becomes a document (a stand-in for a real source reader)."""

    def __init__(self, folder):
        super().__init__()
        self.folder = folder

    def run(self, data=None, rank=0, world_size=1):
        import pathlib

        files = sorted(pathlib.Path(self.folder).glob("*.txt"))[rank::world_size]
        for f in files:
            for i, line in enumerate(f.read_text().splitlines()):
                yield Document(text=line, id=f"{f.name}:{i}", metadata={"subset": "arxiv", "source": "test"})


class Upper(PipelineStep):
    def __init__(self, suffix):
        super().__init__()
        self.suffix = suffix

    def run(self, data, rank=0, world_size=1):
        for doc in data:
            doc.text = doc.text.upper() + self.suffix
            yield doc


class ToyConfig(Section):
    input: ConfigPath
    suffix: str


def toy_module(runs):
    m = types.ModuleType("toy")
    m.UPSTREAM = ()
    m.OUTPUTS = ("toy",)
    m.Config = ToyConfig

    def run(cfg):
        runs.append(cfg.params.suffix)
        run_pipeline(cfg, [LinesReader(cfg.params.input), Upper(cfg.params.suffix),
                           ContractWriter(cfg.stage_dir())])

    m.run = run
    return m


@pytest.fixture
def toy(tmp_path, monkeypatch):
    runs = []
    module = toy_module(runs)
    real = stage_mod.stage_module
    monkeypatch.setattr(stage_mod, "stage_module", lambda name: module if name == "toy" else real(name))
    monkeypatch.setattr(stage_mod, "code_paths", lambda name: [])
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    for i in range(3):
        (inputs / f"{i}.txt").write_text(f"a{i}\nb{i}\n")
    (tmp_path / "common.yaml").write_text("data_root: root\nexecutor: {kind: local, tasks: 3, workers: 1}\n")
    (tmp_path / "toy.yaml").write_text("include: common.yaml\ntoy: {input: inputs, suffix: '!'}\n")

    def load(**over):
        return StageConfig.load("toy", tmp_path / "toy.yaml", overrides={"toy": over} if over else None)

    return types.SimpleNamespace(load=load, runs=runs, root=tmp_path / "root", inputs=inputs,
                                 config=tmp_path / "toy.yaml")


def texts(root):
    return sorted(d.text for d in ContractReader(str(root / "toy")).run())


def test_first_run_writes_outputs_then_marker_and_second_run_skips(toy):
    marker = run_stage(toy.load())
    assert marker == marker_path(toy.load())
    assert texts(toy.root) == sorted(f"{c}{i}!".upper() for c in "ab" for i in range(3))
    record = json.loads(marker.read_text())
    assert sorted(record["outputs"]) == [f"toy/0000{r}.jsonl.zst" for r in range(3)]
    before = {p: p.stat().st_mtime_ns for p in (toy.root / "toy").iterdir()}
    run_stage(toy.load())
    assert toy.runs == ["!"], "an unchanged, finished stage must not run again"
    assert {p: p.stat().st_mtime_ns for p in (toy.root / "toy").iterdir()} == before


def test_changed_config_clears_old_outputs_and_reruns(toy):
    run_stage(toy.load())
    stale = toy.root / "toy" / "stale.jsonl.zst"
    stale.write_bytes(b"")
    run_stage(toy.load(suffix="?"))
    assert toy.runs == ["!", "?"]
    assert not stale.exists(), "a rerun must not mix old and new shards"
    assert all(t.endswith("?") for t in texts(toy.root))


def touch_later(path):
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))


def test_touched_input_reruns_a_touched_config_does_not(toy):
    run_stage(toy.load())
    touch_later(toy.inputs / "1.txt")
    run_stage(toy.load())
    assert len(toy.runs) == 2
    # the fingerprint holds the resolved config: a config file saved unchanged (or changed in a key another stage
    # reads) reruns nothing
    touch_later(toy.config)
    toy.config.write_text(toy.config.read_text() + "# a comment\n")
    run_stage(toy.load())
    assert len(toy.runs) == 2


def test_killed_run_resumes_only_unfinished_ranks(toy):
    cfg = toy.load()
    run_stage(cfg)
    # simulate a kill after ranks 0 and 2 finished: rank 1's completion file and output are gone, no marker
    marker_path(cfg).unlink()
    (toy.root / "logs" / "toy" / "completions" / "00001").unlink()
    out1 = toy.root / "toy" / "00001.jsonl.zst"
    good = out1.read_bytes()
    out1.write_bytes(good[:5])  # a half-written shard
    untouched = (toy.root / "toy" / "00000.jsonl.zst").stat().st_mtime_ns
    run_stage(toy.load())
    assert out1.read_bytes() == good, "the rerun rank rewrites its shard byte for byte"
    assert (toy.root / "toy" / "00000.jsonl.zst").stat().st_mtime_ns == untouched, "finished ranks are skipped"
    assert marker_path(cfg).exists()


def test_missing_upstream_is_a_clear_error(toy, monkeypatch):
    module = stage_mod.stage_module("toy")
    monkeypatch.setattr(module, "UPSTREAM", ("web",))
    with pytest.raises(RuntimeError, match="needs stage 'web' first"):
        run_stage(toy.load())


def test_a_new_library_version_reruns_the_stage(toy, monkeypatch):
    from importlib import metadata

    run_stage(toy.load())
    real = metadata.version
    monkeypatch.setattr(metadata, "version", lambda d: "999.0" if d == "datatrove" else real(d))
    run_stage(toy.load())
    assert len(toy.runs) == 2
    run_stage(toy.load())
    assert len(toy.runs) == 2


def test_a_stage_watches_the_code_it_imports_and_not_the_runner():
    """Shared modules a stage reaches only through imports (lazy ones too) are its code: editing them reruns it."""
    from proofpile.stage import code_paths

    def names(stage):
        return {str(Path(p).relative_to(Path(stage_mod.__file__).parent)) for p in code_paths(stage)}

    assert {"neox.py", "manifest.py", "stages/manifest.py"} <= names("manifest")
    assert {"mathspans.py", "web/extract.py", "web/mathml.py", "contract.py"} <= names("web")
    assert {"tokens/__init__.py", "tokens/steps.py"} <= names("tokenize")
    assert not names("web") & {"stage.py", "cli.py", "executors.py", "config.py"}
    assert "neox.py" not in names("web")
