"""Scratch a killed writer leaves is removed by the next writer: MathScore training killed midway (its model's
``.tmp-<pid>`` and its intermediate files), the runner's atomic writes."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from conftest import PROJECT

from proofpile.atomic import atomic_write
from proofpile.processes import descendants
from proofpile.scratch import remove_stale

TRAIN = str(PROJECT / "filters" / "web" / "mathscore-train.jsonl")


def wait_for(condition, what, guard=300):
    """Poll until ``condition()`` is true; the guard only turns a hang into a failure."""
    deadline = time.monotonic() + guard
    while not condition():
        assert time.monotonic() < deadline, f"never happened: {what}"
        time.sleep(0.01)


def fitting_child(pid):
    """The fastText fit subprocess of a training process, if it is running."""
    for child in descendants(pid):
        try:
            if b"train_supervised" in Path(f"/proc/{child}/cmdline").read_bytes():
                return child
        except FileNotFoundError:
            pass
    return None


def test_mathscore_training_killed_midway_leaves_nothing_after_a_rerun(tmp_path):
    models, tmp = tmp_path / "models", tmp_path / "tmp"
    tmp.mkdir()
    output = models / "mathscore-v2.bin"
    env = {**os.environ, "TMPDIR": str(tmp)}
    cmd = [sys.executable, "-m", "proofpile.cli", "train-mathscore", "--input", TRAIN, "--output", str(output)]
    first = subprocess.Popen(cmd, env=env, cwd=PROJECT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for(lambda: fitting_child(first.pid) or first.poll() is not None, "the fit subprocess started")
    fit = fitting_child(first.pid)
    assert fit, "training ended before it could be killed"
    os.kill(first.pid, signal.SIGKILL)  # the fit goes on alone and saves its model under the dead run's name
    first.wait()
    wait_for(lambda: not os.path.exists(f"/proc/{fit}") or
             Path(f"/proc/{fit}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z", "the orphaned fit ended")
    left = sorted(p.name for p in models.iterdir()) + sorted(p.name for p in tmp.iterdir())
    assert f".mathscore-v2.bin.tmp-{first.pid}" in left  # what the kill leaves

    rerun = subprocess.run(cmd, env=env, cwd=PROJECT, capture_output=True, text=True, timeout=600)
    assert rerun.returncode == 0, rerun.stderr
    assert sorted(p.name for p in models.iterdir()) == ["mathscore-v2.bin"]
    assert list(tmp.iterdir()) == []


def test_atomic_write_removes_what_a_killed_writer_of_the_same_file_left(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True).stdout.strip()
    stale = tmp_path / f".marker.json.tmp-{dead}"
    stale.write_text("half")
    stale_folder = tmp_path / f".marker.json.work-{dead}"
    stale_folder.mkdir()
    (stale_folder / "part").write_text("x")
    # another file's scratch, and a live writer's (our parent process)
    others = [tmp_path / f".other.json.tmp-{dead}", tmp_path / f".marker.json.tmp-{os.getppid()}"]
    for path in others:
        path.write_text("someone else's")
    atomic_write(tmp_path / "marker.json", b"{}")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["marker.json"] + [p.name for p in others])
    assert remove_stale(tmp_path / "marker.json") == []


KILLED_TOKENIZE_RANK = """
import os, signal, sys
import numpy as np
from proofpile.tokens.shards import ShardStream

stream = ShardStream(sys.argv[1], "arxiv", "train", rank=0, dtype=np.uint16, shard_tokens=100)
for i in range(5):
    stream.add(np.arange(9, dtype=np.uint16), f"d{i}", None)
stream._write_pending()  # a record batch is out: the shard's scratch file exists
os.kill(os.getpid(), signal.SIGKILL)
"""


def test_a_rerun_tokenize_rank_removes_its_killed_predecessors_scratch(tmp_path):
    import numpy as np

    from proofpile.tokens.shards import ShardStream

    killed = subprocess.run([sys.executable, "-c", KILLED_TOKENIZE_RANK, str(tmp_path)], cwd=PROJECT)
    assert killed.returncode == -signal.SIGKILL
    folder = tmp_path / "arxiv" / "train"
    left = [p.name for p in folder.iterdir()]
    assert len(left) == 1 and left[0].startswith(".part-00000-00000.arrow.tmp-")  # what the kill leaves
    stream = ShardStream(tmp_path, "arxiv", "train", rank=0, dtype=np.uint16, shard_tokens=100)
    for i in range(5):
        stream.add(np.arange(9, dtype=np.uint16), f"d{i}", None)
    stream.close()
    assert sorted(p.name for p in folder.iterdir()) == ["part-00000-00000.arrow"]
