"""A failed run ends all its processes: its stdout closes (``proofpile web ... | tail -1`` returns) once it has failed.

The hang guard below is generous and never the assertion: a run that leaves a process holding its stdout never
reaches EOF at all.
"""

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest
from conftest import PROJECT

HANG_GUARD = 300  # seconds; only so that a regression fails instead of hanging the suite

# Rank 1 does what datatrove's ExtractorSandbox does (a forked child waiting for work, holding every inherited fd,
# stdout included) and then works on; once that child exists, rank 0 fails (mode "fail": the pool terminates rank
# 1's worker, its child is orphaned) or works on too (mode "work", to be stopped from outside).
TWO_RANKS = textwrap.dedent("""
    import multiprocessing, sys, time
    from pathlib import Path
    from proofpile.executors import LocalExecutor

    work, mode = Path(sys.argv[1]), sys.argv[2]

    def step(data, rank, world_size):
        started = work / "child.pid"
        if rank == 1:
            child = multiprocessing.get_context("fork").Process(target=time.sleep, args=(3600,), daemon=True)
            child.start()
            started.write_text(str(child.pid))
            time.sleep(3600)
        while not started.exists():
            time.sleep(0.05)
        if mode == "fail":
            raise ValueError("rank 0 fails")
        time.sleep(3600)
        yield

    if __name__ == "__main__":
        LocalExecutor([step], tasks=2, workers=2, logging_dir=str(work / "logs")).run()
""")


def run_to_eof(cmd, **kwargs):
    """Run with stdout and stderr piped until both reach EOF; (returncode, stdout, stderr)."""
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
                            cwd=PROJECT, **kwargs)
    try:
        out, err = proc.communicate(timeout=HANG_GUARD)
    except subprocess.TimeoutExpired:
        left = subprocess.run(["ps", "-s", str(proc.pid), "-o", "pid,ppid,args"], capture_output=True, text=True)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        pytest.fail(f"the run's pipes were still open after {HANG_GUARD}s; processes left:\n{left.stdout}")
    return proc.returncode, out, err


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_a_failed_rank_ends_the_processes_other_ranks_started(tmp_path):
    script = tmp_path / "two_ranks.py"
    script.write_text(TWO_RANKS)
    code, _, err = run_to_eof([sys.executable, str(script), str(tmp_path), "fail"])
    assert code != 0 and "rank 0 fails" in err
    child = int((tmp_path / "child.pid").read_text())
    assert not alive(child)
    # nothing of the run is left in its session
    left = subprocess.run(["ps", "-s", str(os.getpid()), "-o", "pid="], capture_output=True, text=True)
    assert str(child) not in left.stdout.split()


def test_a_run_stopped_with_sigterm_ends_all_its_processes(tmp_path):
    script = tmp_path / "two_ranks.py"
    script.write_text(TWO_RANKS)
    proc = subprocess.Popen([sys.executable, str(script), str(tmp_path), "work"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True, cwd=PROJECT)
    try:
        deadline = time.monotonic() + HANG_GUARD
        while not (tmp_path / "child.pid").exists():
            assert proc.poll() is None and time.monotonic() < deadline, "the run never started its ranks"
            time.sleep(0.05)
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=HANG_GUARD)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        pytest.fail("the run's pipes were still open after SIGTERM")
    assert proc.returncode == 128 + signal.SIGTERM
    assert not alive(int((tmp_path / "child.pid").read_text()))


def test_web_with_a_broken_mathscore_model_fails_and_closes_its_output(tmp_path):
    """The report's repro: web.mathscore.model pointing at 100 KB of random bytes."""
    model = tmp_path / "broken.bin"
    model.write_bytes(os.urandom(100_000))
    config = tmp_path / "web.yaml"
    config.write_text(f"include: {PROJECT}/pipelines/web.yaml\nweb:\n  mathscore:\n    model: {model}\n")
    code, out, err = run_to_eof([sys.executable, "-m", "proofpile.cli", "web", "--config", str(config),
                                 "--data-root", str(tmp_path / "root")])
    assert code != 0, out + err
    assert "wrong file format" in err
    assert not (tmp_path / "root" / "markers" / "web.json").exists()
