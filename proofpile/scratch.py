"""Scratch files beside the file they become, named after the process writing them, and removed by the next writer
of the same file when that process is gone.

``<name>`` is written as ``.<name>.tmp-<pid>`` in its own folder (intermediate files in ``.<name>.work-<pid>/``)
and renamed over ``<name>`` when complete; a killed writer leaves its scratch behind. The next writer of ``<name>``
calls ``remove_stale(target)``: scratch of a process that no longer exists is deleted, a live writer's is left
alone, and other files' scratch is not touched (their writers may run elsewhere, under their own stage's lock).
Scratch lives beside its target, not in the system temp folder, so that it is found again and the final rename
never crosses file systems.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
from pathlib import Path

KINDS = ("tmp", "work")


def scratch_path(target: Path, kind: str = "tmp") -> Path:
    """This process's scratch for ``target``: ``tmp`` for the file itself, ``work`` for a folder of intermediate
    files."""
    return target.with_name(f".{target.name}.{kind}-{os.getpid()}")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


def remove_stale(target: Path) -> list[Path]:
    """Delete the scratch of ``target`` left by processes that have ended; returns what was deleted."""
    target = Path(target)
    pattern = re.compile(rf"\.{re.escape(target.name)}\.(?:{'|'.join(KINDS)})-(\d+)")
    removed = []
    try:
        entries = list(target.parent.iterdir())
    except (FileNotFoundError, NotADirectoryError):
        return removed
    for entry in entries:
        m = pattern.fullmatch(entry.name)
        if m and not _alive(int(m.group(1))):
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                entry.unlink(missing_ok=True)
            removed.append(entry)
    return removed


@contextlib.contextmanager
def scratch_folder(target: Path):
    """A folder for the intermediate files of making ``target``, beside it; stale scratch of ``target`` is removed
    first, this folder when the block ends."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    remove_stale(target)
    folder = scratch_path(target, "work")
    folder.mkdir(exist_ok=True)
    try:
        yield str(folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
