"""Crash-resume: a stage killed with SIGKILL midway (its whole process group, as a lost machine would) resumes on
rerun and ends with byte-identical outputs to an uninterrupted run: nothing lost, nothing duplicated."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest
from test_executors import TESTS, file_hashes, install_toy_stage, make_inputs, read_ids, write_toy_config

from proofpile.config import StageConfig
from proofpile.stage import marker_path, run_stage

RUN_TOY = """
import sys
from test_executors import install_toy_stage
install_toy_stage()
from proofpile.config import StageConfig
from proofpile.stage import run_stage
run_stage(StageConfig.load("toy", sys.argv[1]))
"""
TASKS = 8


def kill_midway(config, data_root, min_done=2, timeout=120):
    """Run the toy stage in its own process group; SIGKILL the group once ``min_done`` ranks completed."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(TESTS), os.environ.get("PYTHONPATH")])))
    proc = subprocess.Popen([sys.executable, "-c", RUN_TOY, str(config)], env=env, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    completions = data_root / "logs" / "toy" / "completions"
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            if completions.is_dir() and len(os.listdir(completions)) >= min_done:
                break
            time.sleep(0.01)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    assert proc.returncode == -signal.SIGKILL, "the stage finished before it could be killed"
    return sorted(os.listdir(completions))


@pytest.mark.parametrize("executor", [
    {"kind": "local", "tasks": TASKS, "workers": 2},
    pytest.param({"kind": "spark", "tasks": TASKS, "workers": 2, "spark": {"master": "local[2]"}},
                 marks=pytest.mark.slow),
], ids=["local", "spark"])
def test_sigkill_midway_then_rerun_equals_uninterrupted_run(tmp_path, monkeypatch, executor):
    install_toy_stage(monkeypatch.setattr)
    inputs = make_inputs(tmp_path / "in", files=TASKS, docs=30)
    config = write_toy_config(tmp_path / "killed", inputs, executor, sleep=0.03)
    cfg = StageConfig.load("toy", config)
    done = kill_midway(config, cfg.data_root)
    assert 2 <= len(done) < TASKS, done
    assert not marker_path(cfg).exists()
    kept = {p: p.stat().st_mtime_ns for r in done for p in (cfg.data_root / "toy").glob(f"*/{r}.jsonl.zst")}

    # the rerun (here in-process, local executor: how it is resumed does not matter) finishes the rest
    monkeypatch.setenv("PYTHONPATH", str(TESTS))
    run_stage(StageConfig.load("toy", config, overrides={"executor": {"kind": "local"}}))
    assert marker_path(cfg).exists()
    assert {p: p.stat().st_mtime_ns for p in kept} == kept, "ranks finished before the kill are not redone"

    clean = StageConfig.load("toy", write_toy_config(tmp_path / "clean", inputs, executor, sleep=0.03))
    run_stage(StageConfig.load("toy", tmp_path / "clean" / "toy.yaml", overrides={"executor": {"kind": "local"}}))
    assert file_hashes(cfg.data_root / "toy") == file_hashes(clean.data_root / "toy")
    ids = read_ids(cfg.data_root / "toy")
    assert len(ids) == len(set(ids)) == TASKS * 30 - TASKS * 6  # every 5th document is filtered out


@pytest.mark.slow
def test_web_stage_killed_midway_resumes_to_identical_outputs(tmp_path):
    """The real `proofpile web` command, killed with SIGKILL after some ranks finished, then run again."""
    from proofpile.bench.spark import DEMO_WARC, make_warcs
    from proofpile.stages.web import mathscore_model

    if not DEMO_WARC.exists():
        pytest.skip("the web stage's demo WARC is not built")
    project = TESTS.parent
    warcs = make_warcs(tmp_path / "warcs", files=6, copies=15)
    model = mathscore_model(StageConfig.load("web", project / "pipelines" / "web.yaml", data_root=tmp_path / "m"))
    config = tmp_path / "web.yaml"
    config.write_text(f"include: {project / 'pipelines' / 'web.yaml'}\n"
                      "executor: {kind: local, tasks: 6, workers: 1}\n"
                      f"web: {{warcs: '{warcs}/*.warc.gz', mathscore: {{model: '{model}'}}}}\n")
    command = [sys.executable, "-m", "proofpile.cli", "web", "--config", str(config), "--data-root"]
    killed, clean = tmp_path / "killed", tmp_path / "clean"

    proc = subprocess.Popen(command + [str(killed)], start_new_session=True, cwd=project,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    completions = killed / "logs" / "web" / "completions"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if completions.is_dir() and len(os.listdir(completions)) >= 2:
            break
        time.sleep(0.01)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL, "the stage finished before it could be killed"
    done = sorted(os.listdir(completions))
    assert 2 <= len(done) < 6 and not (killed / "markers" / "web.json").exists()

    subprocess.run(command + [str(killed)], check=True, cwd=project, capture_output=True)
    subprocess.run(command + [str(clean)], check=True, cwd=project, capture_output=True)
    assert file_hashes(killed / "web") == file_hashes(clean / "web")
    ids = read_ids(killed / "web")
    assert ids and ids == read_ids(clean / "web")  # the same multiset (the repeated WARCs repeat ids)
    stats = {s["name"]: s["stats"] for s in json.loads((killed / "logs" / "web" / "stats.json").read_text())}
    clean_stats = {s["name"]: s["stats"] for s in json.loads((clean / "logs" / "web" / "stats.json").read_text())}
    writer = next(name for name in stats if "WRITER" in name)
    total = lambda v: v["total"] if isinstance(v, dict) else v  # noqa: E731
    assert total(stats[writer]["total"]) == total(clean_stats[writer]["total"]) == len(ids), "every rank counted once"
