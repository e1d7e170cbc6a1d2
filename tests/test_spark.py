"""Spark executor: a stage's ranks run as PySpark tasks on ``local[2]`` and write exactly what the local executor
writes; finished ranks are skipped and a failed rank is the only one rerun.

One Spark session (≈5 s to start) is shared by the whole module."""

import json
import os
import shutil

import pytest
from test_executors import TESTS, file_hashes, install_toy_stage, make_inputs, read_ids, write_toy_config

from proofpile.config import StageConfig
from proofpile.stage import marker_path, run_stage

pyspark = pytest.importorskip("pyspark")
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def spark():
    from proofpile.spark import spark_session

    # the Python workers unpickle the toy stage's steps from this folder
    old = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(TESTS), old]))
    session = spark_session("local[2]", "proofpile-tests", {"spark.ui.enabled": "false",
                                                           "spark.ui.showConsoleProgress": "false"})
    yield session
    session.stop()
    if old is None:
        os.environ.pop("PYTHONPATH")
    else:
        os.environ["PYTHONPATH"] = old


SPARK = {"kind": "spark", "tasks": 6, "workers": 2, "spark": {"master": "local[2]"}}
LOCAL = {"kind": "local", "tasks": 6, "workers": 2}


def outputs(cfg):
    return file_hashes(cfg.data_root / "toy")


def test_toy_stage_on_spark_matches_local_byte_for_byte(spark, tmp_path, monkeypatch):
    install_toy_stage(monkeypatch.setattr)
    inputs = make_inputs(tmp_path / "in", files=6, docs=25)
    local = StageConfig.load("toy", write_toy_config(tmp_path / "local", inputs, LOCAL))
    on_spark = StageConfig.load("toy", write_toy_config(tmp_path / "spark", inputs, SPARK))
    run_stage(local)
    run_stage(on_spark)
    expected = outputs(local)
    assert len(expected) == 18  # 6 ranks x 3 subsets
    assert outputs(on_spark) == expected
    logs = on_spark.data_root / "logs" / "toy"
    assert sorted(os.listdir(logs / "completions")) == [f"{r:05d}" for r in range(6)]
    stats = {s["name"]: s["stats"] for s in json.loads((logs / "stats.json").read_text())}
    local_stats = {s["name"]: s["stats"] for s in
                   json.loads((local.data_root / "logs" / "toy" / "stats.json").read_text())}
    assert stats["🔻 - FILTER: 🕵 Regex"]["dropped"] == local_stats["🔻 - FILTER: 🕵 Regex"]["dropped"]
    assert stats["📖 - READER: 📜 Contract reader"]["documents"]["total"] == 150


def test_failed_rank_is_the_only_one_rerun(spark, tmp_path, monkeypatch):
    install_toy_stage(monkeypatch.setattr)
    inputs = make_inputs(tmp_path / "in", files=6, docs=10)
    flag = tmp_path / "rank-3-is-broken"
    flag.touch()
    config = write_toy_config(tmp_path / "run", inputs, SPARK, fail_flag=str(flag), fail_rank=3)
    cfg = StageConfig.load("toy", config)
    with pytest.raises(RuntimeError, match=r"1 of 6 ranks failed: \[3\]"):
        run_stage(cfg)
    logs = cfg.data_root / "logs" / "toy"
    assert sorted(os.listdir(logs / "completions")) == ["00000", "00001", "00002", "00004", "00005"]
    assert not marker_path(cfg).exists()
    finished = {p: p.stat().st_mtime_ns for p in (cfg.data_root / "toy").rglob("0000[!3].jsonl.zst")}
    assert finished
    flag.unlink()
    run_stage(StageConfig.load("toy", config))
    assert marker_path(cfg).exists()
    assert {p: p.stat().st_mtime_ns for p in finished} == finished, "finished ranks must not run again"
    # the same as one clean run
    clean = StageConfig.load("toy", write_toy_config(tmp_path / "clean", inputs, SPARK, fail_flag=str(flag),
                                                     fail_rank=3))
    run_stage(clean)
    assert outputs(cfg) == outputs(clean)
    assert read_ids(cfg.data_root / "toy") == read_ids(clean.data_root / "toy")
    shutil.rmtree(tmp_path / "clean")


# -- the web stage itself -----------------------------------------------------------------------------------------
DEMO_WARC = TESTS.parent / "proofpile" / "samples" / "web" / "demo.warc.gz"


def web_config(tmp_path, name, warcs, model, executor):
    return StageConfig.load("web", TESTS.parent / "pipelines" / "web.yaml", data_root=tmp_path / name,
                            overrides={"web": {"warcs": f"{warcs}/*.warc.gz", "mathscore": {"model": str(model)}},
                                       "executor": executor})


def test_web_stage_on_spark_local2_matches_local_executor(spark, tmp_path):
    if not DEMO_WARC.exists():
        pytest.skip("the web stage's demo WARC is not built")
    from proofpile.stages.web import mathscore_model

    warcs = tmp_path / "warcs"
    warcs.mkdir()
    for i in range(4):  # one WARC per rank (and two ranks per Spark core)
        (warcs / f"demo-{i}.warc.gz").symlink_to(DEMO_WARC)
    # one MathScore model for both runs (the default one, trained as the stage would)
    model = mathscore_model(StageConfig.load("web", TESTS.parent / "pipelines" / "web.yaml",
                                             data_root=tmp_path / "model"))
    local = web_config(tmp_path, "local", warcs, model, {"kind": "local", "tasks": 4, "workers": 2})
    on_spark = web_config(tmp_path, "spark", warcs, model,
                          {"kind": "spark", "tasks": 4, "workers": 2, "spark": {"master": "local[2]"}})
    run_stage(local)
    run_stage(on_spark)
    expected = file_hashes(local.data_root / "web")
    assert len(expected) == 4 and len(read_ids(local.data_root / "web")) > 0
    assert file_hashes(on_spark.data_root / "web") == expected
    stats = lambda cfg: {s["name"]: s["stats"] for s in  # noqa: E731
                         json.loads((cfg.data_root / "logs" / "web" / "stats.json").read_text())}
    drops = lambda st: {n: {k: v for k, v in s.items() if k.startswith("dropped")} for n, s in st.items()}  # noqa
    assert drops(stats(on_spark)) == drops(stats(local))


def test_spark_submit_runs_a_stage(tmp_path):
    """What the README tells a cluster user to run: spark-submit with proofpile_submit.py (a .py file outside the
    package, so nothing in proofpile/ hides a standard module) and the spark executor."""
    import subprocess
    import sys

    spark_submit = shutil.which("spark-submit", path=os.path.dirname(sys.executable))
    if spark_submit is None:
        pytest.skip("spark-submit is not installed next to this Python")
    env = {**os.environ, "PYSPARK_PYTHON": sys.executable, "PYSPARK_DRIVER_PYTHON": sys.executable}
    run = subprocess.run([spark_submit, "--master", "local[2]", "--conf", "spark.ui.enabled=false",
                          str(TESTS.parent / "proofpile_submit.py"), "proofsteps",
                          "--config", str(TESTS.parent / "pipelines" / "proofsteps.yaml"),
                          "--data-root", str(tmp_path / "root"), "--executor", "spark", "--tasks", "2"],
                         capture_output=True, text=True, env=env, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    marker = json.loads((tmp_path / "root" / "markers" / "proofsteps.json").read_text())
    assert any(name.startswith("proofsteps/") for name in marker["outputs"])
