"""A failed run ends all its processes.

When one rank of datatrove's local executor fails, its process pool terminates the other workers, but not what those
workers started: datatrove's ``ExtractorSandbox`` forks a child per worker that waits for documents forever. Orphaned,
it keeps the pool's forkserver and resource tracker alive (it holds their pipes) and the run's stdout open, so
``proofpile web ... | tail -1`` hangs long after the error.

``ends_its_processes_on_failure()`` makes this process a child subreaper (Linux ``PR_SET_CHILD_SUBREAPER``): orphans
of its descendants are re-parented to it instead of to init, so that when the block fails every process below it is
still found, and killed. multiprocess's forkserver and resource tracker are left alone: they exit by themselves once
nothing holds their pipes, and the next pipeline in this process may still use them. A run stopped with SIGTERM
ends the same way; one killed with SIGKILL cannot clean up after itself.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import sys
import threading
from pathlib import Path

PR_SET_CHILD_SUBREAPER = 36


def become_subreaper(on: bool = True) -> bool:
    """Orphans of this process's descendants become its children (or, ``on=False``, go to init again as usual;
    Linux only; False where unavailable)."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(PR_SET_CHILD_SUBREAPER, int(on), 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def descendants(pid: int) -> list[int]:
    """Every live process below ``pid``, parents before their children (from /proc; empty where there is none)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # it ended while we looked
        if fields[0] != "Z":
            children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    out, todo = [], [pid]
    while todo:
        for child in sorted(children.get(todo.pop(0), [])):
            out.append(child)
            todo.append(child)
    return out


def _pool_helpers() -> set[int]:
    """multiprocess's forkserver and resource tracker of this process (shared by every pipeline it runs)."""
    pids = set()
    for module, attr, pid_attr in (("multiprocess.forkserver", "_forkserver", "_forkserver_pid"),
                                   ("multiprocess.resource_tracker", "_resource_tracker", "_pid")):
        helper = getattr(sys.modules.get(module), attr, None)
        if getattr(helper, pid_attr, None):
            pids.add(getattr(helper, pid_attr))
    return pids


def kill_descendants(spare: set[int] = frozenset()) -> list[int]:
    """SIGKILL every process below this one except ``spare``; reap the ones that were our children (re-parented
    orphans), so no zombies are left either. Returns the pids killed."""
    victims = [p for p in descendants(os.getpid()) if p not in spare]
    for pid in victims:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    for pid in victims:
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, 0)
    return victims


def _terminated(signum, frame):
    raise SystemExit(128 + signum)


@contextlib.contextmanager
def ends_its_processes_on_failure():
    """Run a block that starts processes; if it raises, kill every process it started and left behind (the ones
    that were there before it, like a Spark JVM of an earlier stage, stay), then re-raise. A SIGTERM meanwhile is
    a failure too (in the main thread, where Python runs signal handlers): the run ends, and all of it."""
    become_subreaper()
    before = set(descendants(os.getpid()))
    in_main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _terminated) if in_main_thread else None
    try:
        yield
    except BaseException:
        kill_descendants(spare=before | _pool_helpers())
        raise
    finally:
        become_subreaper(False)
        if in_main_thread:
            signal.signal(signal.SIGTERM, signal.SIG_DFL if previous is None else previous)
