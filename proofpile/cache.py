"""Where what is built from project data (MathScore's default model, decontamination indexes) is kept between runs:
keyed by content, shared by every data root. ``$PROOFPILE_CACHE``, else ``$XDG_CACHE_HOME/proofpile`` or
``~/.cache/proofpile``.

Every change of the inputs or of the code that builds an entry makes a new entry, so old ones pile up (~20 MB per
decontamination index). Each use stamps its entry (``mark_used``, its modification time); entries of the same kind
not used for ``UNUSED_DAYS`` are removed when another entry of that kind is used (``prune``). An entry removed and
needed again is built again, as on a fresh machine."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

UNUSED_DAYS = 30


def cache_dir() -> Path:
    if os.environ.get("PROOFPILE_CACHE"):
        return Path(os.environ["PROOFPILE_CACHE"])
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "proofpile"


def mark_used(*entries: Path) -> None:
    """Stamps entries as used now; a read-only cache is used without its stamp."""
    for entry in entries:
        try:
            os.utime(entry)
        except OSError:
            pass


def prune(kind: Path, unused_days: float = UNUSED_DAYS) -> list[str]:
    """Removes the entries under ``kind`` (e.g. ``cache_dir() / "decontam-index"``) not used for ``unused_days``;
    returns their names. Entries another process removes meanwhile, or that cannot be removed, are left alone."""
    cutoff = time.time() - unused_days * 86400
    removed = []
    try:
        entries = list(os.scandir(kind))
    except OSError:
        return removed
    for entry in entries:
        try:
            if entry.stat(follow_symlinks=False).st_mtime >= cutoff:
                continue
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(entry.path)
            else:
                os.unlink(entry.path)
        except OSError:
            continue
        removed.append(entry.name)
    return sorted(removed)
