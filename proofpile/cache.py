"""Where what is built from project data (MathScore's default model, decontamination indexes) is kept between runs:
keyed by content, shared by every data root. ``$PROOFPILE_CACHE``, else ``$XDG_CACHE_HOME/proofpile`` or
``~/.cache/proofpile``."""

from __future__ import annotations

import os
from pathlib import Path


def cache_dir() -> Path:
    if os.environ.get("PROOFPILE_CACHE"):
        return Path(os.environ["PROOFPILE_CACHE"])
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "proofpile"
