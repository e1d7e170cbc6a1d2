"""Errors of the environment end in one line, ``proofpile <stage>: error: ...``, and a non-zero exit: a read-only
data root, a data root that is a file, a full disk (a real tiny tmpfs, and ENOSPC at the runner's write layer), a
config that is not YAML."""

import errno
import shutil
import subprocess
import sys

import pytest
from conftest import PROJECT

import proofpile.stage as stage_module
from proofpile import cli

CONFIG = str(PROJECT / "pipelines" / "proofsteps.yaml")


def run_cli(*args, prefix=()):
    return subprocess.run([*prefix, sys.executable, "-m", "proofpile.cli", *args], capture_output=True, text=True,
                          cwd=PROJECT, timeout=600)


def last_error_line(result, stage="proofsteps") -> str:
    assert result.returncode == 1, result.stdout + result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith(f"proofpile {stage}: error: "), result.stderr[-3000:]
    return last


def private_tmpfs(mountpoint, options):
    """A command prefix running the rest in a private mount namespace with a tmpfs on ``mountpoint`` (gone with
    the process); skips where user namespaces are not available."""
    if not shutil.which("unshare") or subprocess.run(["unshare", "-rm", "true"], capture_output=True).returncode:
        pytest.skip("needs `unshare -rm` (user and mount namespaces) to mount a tmpfs")
    mountpoint.mkdir(parents=True, exist_ok=True)
    return ("unshare", "-rm", "sh", "-c", f'mount -t tmpfs -o {options} tmpfs "{mountpoint}" && exec "$@"', "sh")


def test_data_root_that_is_a_file(tmp_path):
    root = tmp_path / "root"
    root.write_text("not a folder")
    last = last_error_line(run_cli("proofsteps", "--config", CONFIG, "--data-root", str(root)))
    assert last.endswith(f"data root {root} is a file, not a folder")
    below = last_error_line(run_cli("proofsteps", "--config", CONFIG, "--data-root", str(root / "sub")))
    assert "a parent folder is a file" in below


def test_yaml_syntax_error(tmp_path):
    config = tmp_path / "proofsteps.yaml"
    config.write_text(f"include: {PROJECT}/pipelines/common.yaml\nproofsteps: {{lean_infotree: [a.json, b.json\n")
    result = run_cli("proofsteps", "--config", str(config), "--data-root", str(tmp_path / "root"))
    assert "Traceback" not in result.stderr
    assert result.returncode == 1
    assert "proofpile proofsteps: error: " in result.stderr and "proofsteps.yaml is not valid YAML" in result.stderr
    assert "line 3, column 1" in result.stderr


def test_read_only_data_root(tmp_path):
    mount = tmp_path / "ro"
    result = run_cli("proofsteps", "--config", CONFIG, "--data-root", str(mount / "root"),
                       prefix=private_tmpfs(mount, "ro,size=1m"))
    assert "Traceback" not in result.stderr
    assert last_error_line(result).endswith(f"cannot write ({mount / 'root'}): Read-only file system; "
                                            "the data root must be a writable folder")


def test_read_only_existing_data_root(tmp_path):
    mount = tmp_path / "ro"
    result = run_cli("proofsteps", "--config", CONFIG, "--data-root", str(mount),
                       prefix=private_tmpfs(mount, "ro,size=1m"))
    assert "Traceback" not in result.stderr
    assert last_error_line(result).endswith(f"data root {mount} is not writable")


def test_disk_full(tmp_path):
    mount = tmp_path / "small"
    result = run_cli("proofsteps", "--config", CONFIG, "--data-root", str(mount / "root"),
                       prefix=private_tmpfs(mount, "size=20k"))
    assert "no space left on the device" in last_error_line(result)


def test_disk_full_at_the_runners_write_layer(tmp_path, monkeypatch, capsys):
    """Where no tmpfs can be mounted: the real error path, from the runner's own write (its marker) up."""
    real = stage_module.atomic_write

    def full_disk(path, data):
        if path.name == "proofsteps.json":
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        real(path, data)

    monkeypatch.setattr(stage_module, "atomic_write", full_disk)
    root = tmp_path / "root"
    assert cli.main(["proofsteps", "--config", CONFIG, "--data-root", str(root), "--workers", "1"]) == 1
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert last == (f"proofpile proofsteps: error: no space left on the device ({root}/markers/proofsteps.json): "
                    "free some space or use another --data-root, then rerun")
