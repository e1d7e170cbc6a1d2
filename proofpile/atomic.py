"""The one way files that others wait for (markers, stats, manifests, reports) are written: whole or not at all.

A temporary file next to the target (``proofpile.scratch``), fsynced, then renamed over it, so a reader (or a
killed run) never sees half a file; the next write removes what a killed one left. No heavy imports: the loader uses it without loading datatrove.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from proofpile.scratch import remove_stale, scratch_path


def atomic_write(path: str | os.PathLike, data: bytes | str) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale(path)  # what a killed writer of it left
    tmp = scratch_path(path)
    with open(tmp, "wb") as f:
        f.write(data.encode() if isinstance(data, str) else data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def atomic_json(path: str | os.PathLike, obj, **dumps) -> None:
    """``obj`` as indented JSON with sorted keys (unless ``dumps`` says otherwise) and a final newline."""
    atomic_write(path, json.dumps(obj, **{"indent": 1, "sort_keys": True, **dumps}) + "\n")
