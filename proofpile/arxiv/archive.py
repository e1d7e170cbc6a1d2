"""Reading arXiv source archives as untrusted input, in memory.

arXiv distributes sources as bulk tars (``arXiv_src_YYMM_NNN.tar``) holding one file per paper: ``<id>.gz``, which
is either a gzipped tar of the paper's files or a single gzipped ``.tex`` (only the content tells which), or
``<id>.pdf`` for papers submitted without sources. Every archive here may be hostile, so:

- nothing is ever extracted to disk: members are read into memory through ``tarfile``, front to back (a paper's
  decompressed bytes through ``BoundedGunzip``, which only seeks forward: what is skipped is never held);
- only regular files are read: absolute names, ``..`` components, symlinks and devices are refused (skipped and
  counted), so no member can point at, or land on, anything outside the paper; a hard link is read only as a copy
  of an earlier regular member of the same paper (which is what a hard link in a tar is), never resolved otherwise;
- decompression is bounded: the total uncompressed bytes of a paper, the bytes of one kept file and the number of
  members are capped, so a gzip or tar bomb costs at most the cap, then the paper is dropped with a reason;
- nothing in a paper is executed (it is only read as text).

Failures are ``ArchiveError(reason)``; the reader turns them into ``dropped_<reason>`` stats.
"""

from __future__ import annotations

import io
import re
import tarfile
import zlib
from collections import Counter
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import IO, Iterator

from isal import isal_zlib  # ISA-L's inflate: zlib's interface, about twice zlib's speed

# files of a paper worth keeping in memory: LaTeX sources and local style files (for their macro definitions)
TEXT_SUFFIXES = (".tex", ".ltx", ".latex", ".sty", ".def", ".cls", ".bbl")
# arXiv's processing hints: which file is the top-level one (00README.XXX of old, 00README.json since 2023)
README_NAMES = ("00readme.xxx", "00readme.json", "00readme")
_CHUNK = 1 << 16  # compressed bytes per decompression call
_MAX_PIECE = 1 << 20  # decompressed bytes held at once, at most


class ArchiveError(Exception):
    """A paper (or archive) that cannot be read safely; ``reason`` names the stat."""

    def __init__(self, reason: str, detail: str = ""):
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason


@dataclass(frozen=True)
class Limits:
    """Caps on what one archive may cost. Defaults fit real arXiv papers (the largest sources are a few hundred MB
    of figures; we keep only text files and stream past the rest)."""

    max_paper_bytes: int = 512 << 20  # uncompressed bytes of one paper, all members together
    max_file_bytes: int = 16 << 20  # one kept text file
    max_members: int = 5000  # members of one paper's tar
    max_gz_bytes: int = 256 << 20  # one compressed paper inside a bulk tar
    max_papers: int = 100_000  # members of one bulk tar

    @classmethod
    def from_config(cls, values: dict | None) -> "Limits":
        values = values or {}
        unknown = set(values) - set(cls.__dataclass_fields__)
        if unknown:
            raise ValueError(f"unknown archive limits: {sorted(unknown)}")
        return cls(**{k: int(v) for k, v in values.items()})


def unsafe_member_reason(member: tarfile.TarInfo) -> str | None:
    """Why a tar member must not be read, or None for a regular file with a safe relative name."""
    if member.issym():
        return "symlink"
    if member.islnk():
        return "hardlink"  # unless it names an earlier member of the same paper: see ``open_paper``
    if member.isdev():  # character, block devices and fifos
        return "device"
    if not member.isreg():
        return "not_a_file"  # directories and the like: nothing to read
    return _name_reason(member.name)


def _name_reason(name: str) -> str | None:
    """Why a member name (or a link's target) would leave the paper's folder, or None."""
    if name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":"):
        return "absolute_path"
    if ".." in name.replace("\\", "/").split("/"):  # a component, as PurePosixPath(...).parts would have it
        return "parent_path"
    return None


def _safe_name(name: str) -> bool:
    return bool(name) and _name_reason(name) is None


NEW_ID = re.compile(r"^(?P<id>(?P<yymm>\d{4})\.\d{4,5})(?P<version>v\d+)?$")
OLD_ID = re.compile(r"^(?P<archive>[a-z][a-z\-]*(?:\.[A-Z]{2})?)(?P<number>(?P<yymm>\d{4})\d{3})(?P<version>v\d+)?$")


def paper_stem(name: str) -> str:
    """``2301/2301.00001.tar.gz`` -> ``2301.00001``."""
    stem = PurePosixPath(name).name
    for suffix in (".tgz", ".gz", ".pdf", ".tar", ".tex"):
        stem = stem.removesuffix(suffix)
    return stem


def is_paper_name(name: str) -> bool:
    """Whether a member name is one of a bulk tar's papers (``2301/2301.00001.gz``, ``math0601001.pdf``)."""
    lower = name.lower()
    return lower.endswith((".gz", ".pdf")) and bool(NEW_ID.match(paper_stem(name)) or OLD_ID.match(paper_stem(name)))


def normalized_name(name: str) -> str:
    """``./src/a.tex`` -> ``src/a.tex``: the key under which a member is looked up by ``\\input``."""
    # PurePosixPath(...).parts without "." (not its cost: this runs for every member of every paper)
    return "/".join(p for p in name.replace("\\", "/").split("/") if p not in (".", ""))


class BoundedGunzip(io.RawIOBase):
    """A read-only, forward-only stream of the decompressed bytes of an in-memory gzip (also zlib, and concatenated
    gzip members), raising ``ArchiveError("too_large")`` as soon as more than ``limit`` bytes would come out, and
    ``ArchiveError("truncated")`` if the compressed data ends before the stream does.

    It can ``seek`` forward: the bytes skipped are decompressed (and counted against ``limit``) but never held, so
    ``tarfile`` can read it in its random-access mode, jumping over a paper's figures instead of copying them
    through its streaming mode's small buffers. Seeking backwards is refused (``OSError``)."""

    def __init__(self, data: bytes, limit: int):
        self._data = memoryview(data)
        self._pos = 0  # in the compressed data
        self._limit = limit
        self.total = 0  # decompressed bytes so far
        self.position = 0  # decompressed bytes handed out or skipped
        self._dec = isal_zlib.decompressobj(wbits=47)
        self._pending = b""  # decompressed, not handed out yet from ``_offset`` on
        self._offset = 0
        self._done = False

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.position

    def _more(self, want: int) -> bool:
        """Decompress the next piece (at most ``max(want, _CHUNK)`` bytes, and never past the limit's first
        extra byte) into ``_pending``; False at the end of the stream."""
        while not self._done:
            if self._dec.eof:
                # what follows the member is in unused_data (zlib may also leave it in unconsumed_tail: not twice)
                rest = self._dec.unused_data + bytes(self._data[self._pos:])
                if rest[:2] == b"\x1f\x8b":  # another gzip member follows; anything else is trailing padding or
                    self._dec = isal_zlib.decompressobj(wbits=47)
                    self._data, self._pos = memoryview(rest), 0
                else:  # garbage, which gunzip ignores too
                    self._done = True
                    return False
            if self._dec.unconsumed_tail:
                chunk = self._dec.unconsumed_tail
            elif self._pos < len(self._data):
                chunk = self._data[self._pos:self._pos + _CHUNK]
                self._pos += len(chunk)
            else:
                if not self._dec.eof:
                    raise ArchiveError("truncated", "gzip stream ends early")
                continue
            try:
                # max_length bounds the output of one call: a bomb never gets to allocate more than the cap
                out = self._dec.decompress(chunk, min(max(want, _CHUNK), _MAX_PIECE, self._limit - self.total + 1))
            except (zlib.error, isal_zlib.error) as e:
                raise ArchiveError("bad_gzip", str(e)) from None
            self.total += len(out)
            if self.total > self._limit:
                raise ArchiveError("too_large", f"more than {self._limit} bytes uncompressed")
            if out:
                self._pending, self._offset = out, 0
                return True
        return False

    def read(self, size: int | None = -1) -> bytes:
        if size is None or size < 0:
            size = self._limit + 1  # to the end: past the limit it raises
        parts, need = [], size
        while need > 0:
            if self._offset >= len(self._pending) and not self._more(need):
                break
            piece = self._pending[self._offset:self._offset + need] if self._offset or need < len(self._pending) \
                else self._pending
            self._offset += len(piece)
            need -= len(piece)
            parts.append(piece)
        self.position += size - need
        return parts[0] if len(parts) == 1 else b"".join(parts)

    def readinto(self, buffer) -> int:
        data = self.read(len(buffer))
        buffer[:len(data)] = data
        return len(data)

    def peek(self, size: int) -> bytes:
        """The next ``size`` bytes (fewer at the end), without moving."""
        while len(self._pending) - self._offset < size:
            rest = self._pending[self._offset:]
            if not self._more(size - len(rest)):
                self._pending, self._offset = rest, 0
                break
            self._pending = rest + self._pending
        return self._pending[self._offset:self._offset + size]

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        target = offset + (self.position if whence == io.SEEK_CUR else 0)
        if whence not in (io.SEEK_SET, io.SEEK_CUR) or target < self.position:
            raise OSError("a gzip stream only seeks forward")
        skip = target - self.position
        while skip > 0:
            if self._offset >= len(self._pending) and not self._more(skip):
                break  # past the end: the next read returns nothing, as a file's would
            n = min(skip, len(self._pending) - self._offset)
            self._offset += n
            skip -= n
            self.position += n
        return self.position


def read_bounded(stream: IO[bytes], limit: int, reason: str = "too_large") -> bytes:
    """Read a stream to its end, refusing more than ``limit`` bytes."""
    data = stream.read(limit + 1)
    if len(data) > limit:
        raise ArchiveError(reason, f"more than {limit} bytes")
    return data


@dataclass
class PaperSource:
    """One paper's readable sources: ``files`` maps normalized member names to bytes. ``kind`` is ``tar`` or
    ``tex`` (a single gzipped file, stored under the name ``main.tex``)."""

    kind: str
    files: dict[str, bytes]


def _looks_like_tar(head: bytes) -> bool:
    if len(head) < 512:
        return False
    if head[257:262] == b"ustar":
        return True
    try:  # old v7 tars have no magic; a header whose checksum verifies is one
        tarfile.TarInfo.frombuf(head[:512], "utf-8", "surrogateescape")
        return True
    except tarfile.HeaderError:
        return False


def open_paper(gz: bytes, limits: Limits, skipped: Counter | None = None) -> PaperSource:
    """Decompress one paper's ``.gz`` and read its text files, all in memory and within ``limits``.

    Raises ``ArchiveError`` with reason ``pdf_only``, ``postscript_only``, ``too_large``, ``truncated``, ``bad_gzip``, ``bad_tar``,
    ``too_many_members``, ``empty`` or ``compressed_bulk_tar`` (a gzipped bulk tar of papers, not a paper: arXiv
    ships bulk tars uncompressed). Unsafe or oversized members are skipped and counted in ``skipped``.
    """
    skipped = skipped if skipped is not None else Counter()
    if gz[:2] != b"\x1f\x8b":
        if gz[:5] == b"%PDF-":
            raise ArchiveError("pdf_only")
        raise ArchiveError("bad_gzip", "not a gzip file")
    stream = BoundedGunzip(gz, limits.max_paper_bytes)
    head = stream.peek(512)
    if not head:
        raise ArchiveError("empty")
    if head.startswith(b"%PDF-"):
        raise ArchiveError("pdf_only")
    if head.startswith(b"%!PS"):
        raise ArchiveError("postscript_only")  # old submissions without LaTeX sources
    if not _looks_like_tar(head):
        text = read_bounded(stream, limits.max_file_bytes)
        return PaperSource("tex", {"main.tex": text})
    files: dict[str, bytes] = {}
    members = 0
    try:
        # random-access mode on a forward-only stream: a figure is skipped by one seek, not copied through
        # the streaming mode's 10 KiB reads
        with tarfile.open(fileobj=stream, mode="r:") as tar:
            for member in tar:
                members += 1
                if members > limits.max_members:
                    raise ArchiveError("too_many_members", f"more than {limits.max_members}")
                reason = unsafe_member_reason(member)
                if reason == "hardlink" and _safe_name(member.name) and _safe_name(member.linkname):
                    # a hard link is a second name for an earlier member: a copy of what we kept of it
                    name, target = normalized_name(member.name), normalized_name(member.linkname)
                    if target in files:
                        files[name] = files[target]
                    elif name.lower().endswith(TEXT_SUFFIXES):
                        skipped["hardlink_unknown_target"] += 1
                    continue
                if reason:
                    if reason != "not_a_file" or not member.isdir():
                        skipped[reason] += 1
                    continue
                name = normalized_name(member.name)
                if members == 1 and is_paper_name(name):
                    raise ArchiveError("compressed_bulk_tar", "a gzipped tar of papers; read bulk tars uncompressed")
                if not name.lower().endswith(TEXT_SUFFIXES) and name.lower() not in README_NAMES:
                    continue  # figures and data: streamed past, never held
                if member.size > limits.max_file_bytes:
                    skipped["large_file"] += 1
                    continue
                files[name] = _read_member(tar, member)
    except ArchiveError:
        raise
    except (tarfile.TarError, EOFError, OSError, zlib.error) as e:
        raise ArchiveError(_tar_error_reason(e), str(e)) from None
    if stream.total == 0:
        raise ArchiveError("empty")
    return PaperSource("tar", files)


def _read_member(tar: tarfile.TarFile, member: tarfile.TarInfo) -> bytes:
    """A regular member's bytes: its size (already checked against a cap) and no more, read in one call, straight
    from the archive where they start (a member that is not sparse is one run of bytes: no need for extractfile's
    buffered reader and its second copy)."""
    if member.sparse is not None:
        data = tar.extractfile(member).read(member.size)
    else:
        tar.fileobj.seek(member.offset_data)
        data = tar.fileobj.read(member.size)
    if len(data) != member.size:
        raise ArchiveError("truncated", f"{member.name}: unexpected end of data")
    return data


def _tar_error_reason(error: Exception) -> str:
    return "truncated" if "unexpected end of data" in str(error) or isinstance(error, EOFError) else "bad_tar"


def iter_bulk_tar(fileobj: IO[bytes], limits: Limits, skipped: Counter) -> Iterator[tuple[str, bytes | None]]:
    """The papers of an arXiv bulk tar, streamed: ``(member name, compressed bytes)`` for ``.gz`` members and
    ``(member name, None)`` for ``.pdf`` members (papers without sources). Unsafe members are skipped and counted;
    a damaged tar ends with ``ArchiveError("bad_tar")`` after the papers before the damage. Uncompressed, so no
    amplification; a seekable file is read in ``tarfile``'s random-access mode (front to back all the same: a
    ``.pdf`` member is skipped by a seek, and a paper read in one call, not in the streaming mode's 10 KiB reads)."""
    count = 0
    try:
        with tarfile.open(fileobj=fileobj, mode="r:" if fileobj.seekable() else "r|") as tar:
            for member in tar:
                count += 1
                if count > limits.max_papers:
                    raise ArchiveError("too_many_members", f"more than {limits.max_papers} papers")
                reason = unsafe_member_reason(member)
                if reason:
                    if not member.isdir():
                        skipped[reason] += 1
                    continue
                name = normalized_name(member.name)
                lower = name.lower()
                if lower.endswith(".pdf"):
                    yield name, None
                elif lower.endswith(".gz"):
                    if member.size > limits.max_gz_bytes:
                        skipped["large_paper"] += 1
                        continue
                    yield name, _read_member(tar, member)
                else:
                    skipped["not_a_paper"] += 1
    except ArchiveError:
        raise
    except (tarfile.TarError, EOFError, OSError, zlib.error) as e:
        raise ArchiveError(_tar_error_reason(e), str(e)) from None
