"""One run of a stage per data root at a time.

``stage_lock(data_root, stage)`` holds an exclusive fcntl lock (``lockf``) on ``<data_root>/locks/<stage>.lock`` for
the duration of a run. The kernel drops the lock when the holding process ends, however it ends (an exception, a
kill, a crash), so a stale lock cannot outlive its run and there is nothing to clean up. A POSIX lock rather than
``flock``: it belongs to the process, so children forked during the run (datatrove's multiprocess manager, sandboxes)
do not inherit it and cannot keep it after the run has died. The file's content says which run
holds it (pid, host, start time): a second run stops at once with that in its message instead of racing the first
one over the same outputs.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import socket
import time
from pathlib import Path


class StageLocked(RuntimeError):
    """Another run of the same stage holds the data root."""


# POSIX locks are per process: a second lock of the same file in this process would succeed, and closing its file
# would release the first one. Locks this process holds, so that a nested run is refused too.
_HELD: set[Path] = set()


def lock_path(data_root: Path, stage: str) -> Path:
    return Path(data_root) / "locks" / f"{stage}.lock"


def _holder(fd: int) -> str:
    try:
        info = json.loads(os.pread(fd, 4096, 0) or b"{}")
    except ValueError:
        info = {}
    if not info:  # it has the lock but has not written its name yet
        return "another run (starting)"
    started = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(info.get("started", 0)))
    return f"pid {info.get('pid')} on host {info.get('host')}, started {started}"


@contextlib.contextmanager
def stage_lock(data_root: Path, stage: str):
    """Hold the lock of ``stage`` on ``data_root`` (raises ``StageLocked`` naming the holder if it is taken)."""
    path = lock_path(data_root, stage)
    path.parent.mkdir(parents=True, exist_ok=True)
    key = path.resolve()
    if key in _HELD:
        raise StageLocked(f"stage {stage!r} is already running on data root {data_root} (in this process)")
    # not O_TRUNC: the holder's name must survive a second run opening the file
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        try:
            fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as e:
            if e.errno not in (errno.EACCES, errno.EAGAIN):
                raise
            raise StageLocked(f"stage {stage!r} is already running on data root {data_root} "
                              f"({_holder(fd)}; lock file {path}); wait for it to finish or stop it") from None
        info = {"pid": os.getpid(), "host": socket.gethostname(), "started": round(time.time(), 3)}
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(info).encode(), 0)
        _HELD.add(key)
        try:
            yield path
        finally:
            _HELD.discard(key)
    finally:
        os.close(fd)  # releases the lock (if held)
