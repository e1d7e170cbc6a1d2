"""Errors of the environment a run is given, said in one line: ``proofpile <stage>: error: <what>``.

A read-only or full disk, a data root that is a file, a config that is not YAML: none of these is a bug to debug
from a traceback, and each has one thing to do about it.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

from proofpile.config import ConfigError

# what a run may fail with that is not a bug in it (a config that is not YAML is a ConfigError)
ENVIRONMENT_ERRORS = (ConfigError, OSError, RuntimeError)

_NO_SPACE = (errno.ENOSPC, errno.EDQUOT)
_NOT_WRITABLE = (errno.EROFS, errno.EACCES, errno.EPERM)


def describe(e: BaseException) -> str:
    """What went wrong and where; for OS errors, what to do about it."""
    if isinstance(e, OSError) and e.errno is not None:
        where = f" ({e.filename})" if e.filename else ""
        if e.errno in _NO_SPACE:
            return f"no space left on the device{where}: free some space or use another --data-root, then rerun"
        if e.errno in _NOT_WRITABLE:
            return f"cannot write{where}: {e.strerror}; the data root must be a writable folder"
        return f"{e.strerror}{where}"
    return str(e) or type(e).__name__


def check_data_root(data_root: Path) -> None:
    """Make the data root if needed; a clear error if it is a file or cannot be written to."""
    if data_root.exists() and not data_root.is_dir():
        raise ConfigError(f"data root {data_root} is a file, not a folder")
    try:
        data_root.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise ConfigError(f"data root {data_root}: a parent folder is a file") from None
    if not os.access(data_root, os.W_OK | os.X_OK):
        raise ConfigError(f"data root {data_root} is not writable")
