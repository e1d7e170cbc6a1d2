"""One run of a stage per data root: a second run stops at once naming the run that holds it (real processes)."""

import os
import signal
import socket
import subprocess
import sys

import pytest
from conftest import PROJECT

from proofpile.lock import StageLocked, stage_lock

PROOFPILE = [sys.executable, "-m", "proofpile.cli"]
# a run holding the lock: takes it, says so, waits for its stdin to close
HOLDER = """
import sys
from pathlib import Path
from proofpile.lock import stage_lock
with stage_lock(Path(sys.argv[1]), sys.argv[2]):
    print("locked", flush=True)
    sys.stdin.read()
"""


def hold(root, stage):
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(root), stage], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True, cwd=PROJECT)
    assert proc.stdout.readline().strip() == "locked"
    return proc


def run_stage(stage, root):
    return subprocess.run(PROOFPILE + [stage, "--config", f"pipelines/{stage}.yaml", "--data-root", str(root)],
                          capture_output=True, text=True, cwd=PROJECT, timeout=600)


def test_second_run_stops_naming_the_run_holding_the_stage(tmp_path):
    root = tmp_path / "root"
    holder = hold(root, "proofsteps")
    try:
        second = run_stage("proofsteps", root)
    finally:
        holder.stdin.close()
        holder.wait(timeout=60)
    assert second.returncode == 1
    err = second.stderr.strip().splitlines()[-1]
    assert err.startswith("proofpile proofsteps: error: stage 'proofsteps' is already running on data root")
    assert f"pid {holder.pid} on host {socket.gethostname()}, started 20" in err
    assert "Traceback" not in second.stderr
    assert not (root / "proofsteps").exists() and not (root / "markers" / "proofsteps.json").exists()
    # the holder has ended: the stage runs
    third = run_stage("proofsteps", root)
    assert third.returncode == 0, third.stderr
    assert (root / "markers" / "proofsteps.json").exists()


def test_other_stages_and_other_roots_are_not_blocked(tmp_path):
    holder = hold(tmp_path / "a", "proofsteps")
    try:
        with stage_lock(tmp_path / "a", "arxiv"), stage_lock(tmp_path / "b", "proofsteps"):
            pass
    finally:
        holder.stdin.close()
        holder.wait(timeout=60)


def test_lock_is_released_when_its_holder_is_killed(tmp_path):
    holder = hold(tmp_path, "web")
    with pytest.raises(StageLocked, match=f"pid {holder.pid} "):
        with stage_lock(tmp_path, "web"):
            pass
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait(timeout=60)
    with stage_lock(tmp_path, "web"):  # no stale lock to remove by hand
        pass


def test_a_nested_run_in_the_same_process_is_refused(tmp_path):
    with stage_lock(tmp_path, "web"):
        with pytest.raises(StageLocked, match="in this process"):
            with stage_lock(tmp_path, "web"):
                pass
    with stage_lock(tmp_path, "web"):
        pass
