"""A per-document time and memory budget for pipeline steps.

One hostile input (a quadratic corner of a parser, an expansion that explodes) must not stall or sink a rank and
every other document in its shard. A step that processes documents one at a time runs each document's work under a
``Budget``: an interval timer ticks while the work runs, and the tick raises ``OverBudget`` in the work itself when
the wall-clock seconds or the growth of the process's resident memory since the document started are over the
budget. Python checks for signals between bytecodes and inside ``re`` matching, so even a runaway regex is stopped.
The step counts the document as ``dropped_over_time_budget`` / ``dropped_over_memory_budget`` and goes on with the
next one. Recursion that runs out of stack (``RecursionError``) is the same kind of failure and is counted as
``dropped_recursion_limit``.

The budget is a guard against stalls, not a tuning knob: its defaults are far above what any ordinary document
takes, so outputs stay byte-identical across reruns. It is enforced only in the main thread (Python delivers signals
there; datatrove's local workers and Spark's Python workers run steps in their main thread); elsewhere the work runs
unbounded, as before. A single C-level allocation cannot be interrupted, so parsers still bound their own growth
before they allocate (see ``proofpile.arxiv.latex.expand_macros``); the memory budget is the net behind them.

Steps use it through ``BudgetedStep`` (``self.within_budget(fn, ...)``) or, for ``BaseFilter`` subclasses,
``BudgetedFilter``, whose ``filter`` calls are budgeted one document at a time.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Callable, Iterator

from datatrove.data import Document

_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


class OverBudget(BaseException):
    """Raised inside budgeted work; ``reason`` is the drop reason (``over_time_budget``, ``over_memory_budget``).
    A ``BaseException``, like ``KeyboardInterrupt``: the ``except Exception`` of the code it interrupts must not
    swallow it."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def resident_bytes() -> int:
    """The process's resident set size now (Linux ``/proc/self/statm``; 0 where it cannot be read)."""
    try:
        with open("/proc/self/statm", "rb") as f:
            return int(f.read().split()[1]) * _PAGE
    except (OSError, ValueError, IndexError):
        return 0


@dataclass(frozen=True)
class Budget:
    """What one document may cost: ``seconds`` of wall-clock time and ``memory_mb`` MiB of resident-memory growth
    (None: unbounded). ``tick`` is how often (seconds) the limits are checked while the work runs."""

    seconds: float | None = None
    memory_mb: float | None = None
    tick: float = 0.05

    @property
    def unbounded(self) -> bool:
        return self.seconds is None and self.memory_mb is None

    @contextmanager
    def enforced(self) -> Iterator[None]:
        """Run the body under this budget: ``OverBudget`` is raised inside it when a limit is passed."""
        if self.unbounded or _state.active or threading.current_thread() is not threading.main_thread():
            yield  # nothing to enforce, or an enclosing budget already watches this work
            return
        start = time.monotonic()
        deadline = start + self.seconds if self.seconds is not None else None
        memory_limit = resident_bytes() + int(self.memory_mb * (1 << 20)) if self.memory_mb is not None else None

        def tick(signum, frame):
            if not _state.active:
                return
            if deadline is not None and time.monotonic() >= deadline:
                raise OverBudget("over_time_budget")
            if memory_limit is not None and resident_bytes() > memory_limit:
                raise OverBudget("over_memory_budget")

        interval = self.tick if self.seconds is None else min(self.tick, self.seconds)
        previous = signal.signal(signal.SIGALRM, tick)
        _state.active = True
        try:
            signal.setitimer(signal.ITIMER_REAL, interval, interval)
            yield
        finally:
            _state.active = False
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)


class _State:
    active = False


_state = _State()


class BudgetedStep:
    """Mixin for a datatrove ``PipelineStep`` that processes documents one at a time: ``within_budget(fn, ...)``
    runs ``fn`` under ``self.budget`` and returns ``(result, None)``, or ``(None, reason)`` after counting the drop
    as ``dropped_<reason>`` in the step's stats."""

    budget: Budget = Budget()

    def within_budget(self, fn: Callable[..., Any], *args, **kwargs) -> tuple[Any, str | None]:
        result, reason = self._attempt(fn, *args, **kwargs)
        if reason:
            self.stat_update(f"dropped_{reason}")
        return result, reason

    def _attempt(self, fn: Callable[..., Any], *args, **kwargs) -> tuple[Any, str | None]:
        """``(fn(...), None)``, or ``(None, reason)`` when it went over the budget (nothing counted)."""
        try:
            with self.budget.enforced():
                return fn(*args, **kwargs), None
        except OverBudget as e:
            return None, e.reason
        except RecursionError:
            return None, "recursion_limit"
        except MemoryError:
            return None, "over_memory_budget"


class BudgetedFilter(BudgetedStep):
    """Mixin for a datatrove ``BaseFilter``: each document's ``filter`` runs under ``self.budget``; a document over
    it is dropped with the budget's reason (counted by ``BaseFilter.run`` as ``dropped_<reason>``)."""

    def filter_batch(self, batch: list[Document]) -> list[bool | tuple[bool, str]]:
        return [self._budgeted_filter(doc) for doc in batch]

    def _budgeted_filter(self, doc: Document) -> bool | tuple[bool, str]:
        result, reason = self._attempt(self.filter, doc)
        return (False, reason) if reason else result
