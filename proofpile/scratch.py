"""Scratch files beside the file they become, named after the process writing them, and removed by the next writer
when that process is gone.

A file is written to ``.<name>.<kind>-<pid>`` in its own folder and renamed over ``<name>`` when complete; a killed
writer leaves its scratch behind. Whoever writes into that folder next calls ``remove_stale(folder)``: scratch of a
process that no longer exists is deleted, a live writer's is left alone. Scratch lives beside its target (not in
the system temp folder) so that it is found again, and so that the final rename never crosses file systems.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
from pathlib import Path

_SCRATCH = re.compile(r"\..+\.(?:tmp|work)-(\d+)")


def scratch_path(target: Path, kind: str = "tmp") -> Path:
    """This process's scratch name for ``target`` (``kind``: ``tmp`` for the file itself, ``work`` for a folder of
    intermediate files)."""
    return target.with_name(f".{target.name}.{kind}-{os.getpid()}")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


def remove_stale(folder: Path) -> list[Path]:
    """Delete the scratch files and folders in ``folder`` left by processes that have ended; returns them."""
    removed = []
    try:
        entries = list(Path(folder).iterdir())
    except (FileNotFoundError, NotADirectoryError):
        return removed
    for entry in entries:
        m = _SCRATCH.fullmatch(entry.name)
        if m and int(m.group(1)) != os.getpid() and not _alive(int(m.group(1))):
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                entry.unlink(missing_ok=True)
            removed.append(entry)
    return removed


@contextlib.contextmanager
def scratch_folder(target: Path):
    """A folder for the intermediate files of making ``target``, beside it; stale scratch of ended processes there
    is removed first, this one when the block ends."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    remove_stale(target.parent)
    folder = scratch_path(target, "work")
    folder.mkdir(exist_ok=True)
    try:
        yield str(folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
