"""Hyperscan databases compiled once per machine: compiling the web stage's boilerplate and marker patterns took
~0.5 s in every task's process, more than the rest of a small run's extraction; loading a compiled copy from the
cache (``proofpile.cache``) takes ~0.1 ms. A copy that does not load (another Hyperscan, or a machine whose CPU lacks
what it was compiled for, on a shared cache) is compiled again and replaced."""

from __future__ import annotations

import hashlib
import platform

import orjson

from proofpile.atomic import atomic_write
from proofpile.cache import cache_dir, mark_used, prune


def compile_database(expressions: list[bytes], flags: int | list[int], mode: int | None = None):
    """A block-mode (by default) Hyperscan database of ``expressions`` (ids 0..n-1) and its scratch."""
    import hyperscan

    mode = hyperscan.HS_MODE_BLOCK if mode is None else mode
    flags = [flags] * len(expressions) if isinstance(flags, int) else list(flags)
    key = hashlib.sha256(orjson.dumps([hyperscan.__version__, platform.machine(), mode, flags,
                                       [e.hex() for e in expressions]])).hexdigest()
    path = cache_dir() / "hyperscan" / f"{key}.db"
    db = None
    try:
        db = hyperscan.loadb(path.read_bytes(), mode)
        scratch = hyperscan.Scratch(db)
        mark_used(path)
    except (OSError, hyperscan.error):
        db = hyperscan.Database(mode=mode)
        db.compile(expressions=expressions, ids=list(range(len(expressions))), elements=len(expressions),
                   flags=flags)
        scratch = hyperscan.Scratch(db)
        try:
            atomic_write(path, hyperscan.dumpb(db))
            prune(path.parent)
        except OSError:  # no writable cache: compiled in every process
            pass
    return db, scratch


def literal(text: str) -> bytes:
    """A Hyperscan expression matching ``text``'s UTF-8 bytes literally."""
    return b"".join(b"\\x%02x" % byte for byte in text.encode("utf-8", "surrogatepass"))


class Database:
    """A step's Hyperscan database: compiled (or loaded from the cache) on its first scan in the process that scans;
    pickled to a worker, it carries its expressions only (a compiled database does not pickle)."""

    def __init__(self, expressions: list[bytes], flags: int | list[int]):
        self.expressions, self.flags = list(expressions), flags
        self._compiled = None

    def __getstate__(self):
        return {**self.__dict__, "_compiled": None}

    def compiled(self):
        """(database, scratch), compiled now if not yet."""
        if self._compiled is None:
            self._compiled = compile_database(self.expressions, self.flags)
        return self._compiled

    def scan(self, data: bytes, on_match, context) -> None:
        """Hyperscan's scan of ``data``: ``on_match(pattern_id, start, end, flags, context)`` per match."""
        db, scratch = self._compiled or self.compiled()
        db.scan(data, on_match, 0, context, scratch)  # (data, match_event_handler, flags, context, scratch): passed
        # by keyword, they took the binding longer to parse than a scan of 512 bytes

    def ids(self, data: bytes) -> list[int]:
        """The ids of the expressions found in ``data``, in the order found (each once under
        ``HS_FLAG_SINGLEMATCH``)."""
        found: list[int] = []
        self.scan(data, _append_id, found)
        return found


def _append_id(pattern_id, start, end, flags, found):
    found.append(pattern_id)
