"""Reading WARC files: local globs, or a Common Crawl ``warc.paths.gz`` listing streamed over HTTP(S)/S3.

``HtmlWarcReader`` builds on datatrove's ``WarcReader`` (same sharding: a rank reads whole files, file i goes to
rank i % world_size) with FastWARC underneath, and turns each HTML ``response`` record into a Document whose text
is the decoded HTML. Everything else is a counted drop: other record types are skipped by the parser, and
non-HTML payloads, non-2xx statuses, empty or oversized bodies, clipped records and undecodable bytes each have
their own ``dropped_<reason>`` stat. Given the math prefilter, the reader runs it on each payload's raw bytes before
decoding anything, and only pages that pass become Documents (the drops are counted under the prefilter's name).

One bad record never costs the records after it, and never runs into them. FastWARC reads the file strictly, so a
record whose ``Content-Length`` is wrong (too large, too small, garbage) fails at the next record's header, and a
bad gzip member fails as it is read. A record is passed on only once the next one has parsed; on a failure the
reader goes back to the suspect record's gzip member, checks that member alone (inflated with zlib, every record's
length against its member's end), keeps its good records, counts the bad one (``dropped_bad_content_length``,
``dropped_bad_gzip_member``, ``dropped_bad_warc_header``), and carries on at the next gzip member that inflates, as
warcio does. Uncompressed WARCs resynchronise on the next ``WARC/`` line. A file with no readable record counts
``warc_read_error``; none fails the task.

Remote files are opened as streams (``block_size=0`` over HTTP), so a WARC is parsed while it downloads and is
never stored on disk first.
"""

from __future__ import annotations

import codecs
import io
import itertools
import os
import re
import shutil
import tempfile
import zlib
from collections import Counter

from datatrove.data import DocumentsPipeline
from datatrove.io import DataFileLike, DataFolderLike, open_file
from datatrove.pipeline.readers.warc import WarcReader
from datatrove.utils.logging import logger
from fastwarc.warc import ArchiveIterator, WarcRecordType

from proofpile.batches import sized_batches

HTML_TYPES = ("text/html", "application/xhtml+xml")
CRAWL_RE = re.compile(r"CC-MAIN-\d{4}-\d{2}", re.IGNORECASE)
_META_CHARSET_RE = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([a-zA-Z0-9_.:-]+)""", re.IGNORECASE)
_REMOTE = {"http", "https"}
_GZIP_MAGIC = b"\x1f\x8b\x08"
_CONTENT_LENGTH_RE = re.compile(rb"\r\ncontent-length:[ \t]*([^\r\n]*)", re.IGNORECASE)
_RESPONSE_RE = re.compile(rb"\r\nWARC-Type:[ \t]*response\r\n", re.IGNORECASE)
_NEXT_RECORD = b"\r\n\r\nWARC/1."  # a record's end and the next one's start: never inside a kept page
_CHUNK = 1 << 16
# A file's kept pages are passed on in groups of this many (or this much text). With one page in a hundred kept, the
# steps after the reader would each run on one page between inflating a hundred, their code and models (the
# extractor's worker, fastText's) gone from the CPU caches every time; on a group they run back to back (~7% less CPU
# for the web stage on a crawl-like mix).
BURST_DOCS, BURST_CHARS = 16, 1 << 22


class _Resync(Exception):
    """Raised inside the fast loop when a record looks wrong: the reader checks its member and carries on."""


_SUSPECT = object()  # the result of a record that raised _Resync
# one malformed record (bad HTTP head, odd headers) is a drop, not the end of the file
_RECORD_ERRORS = (ValueError, AttributeError, LookupError, UnicodeError, zlib.error)


def slice_paths(paths: list[str], first: int | None = None, every: int = 1,
                path_range: tuple[int, int] | list[int] | None = None) -> list[str]:
    """A sample of a crawl's file list: the range ``[start, end)`` of its lines, then every k-th, then the first N."""
    if path_range is not None:
        start, end = path_range
        paths = paths[start:end]
    if every and every > 1:
        paths = paths[::every]
    if first is not None:
        paths = paths[:first]
    return paths


def crawl_from_path(path: str) -> str | None:
    m = CRAWL_RE.search(path)
    return m.group(0).upper() if m else None


def normalize_charset(name: str | None) -> str | None:
    if not name:
        return None
    try:
        return codecs.lookup(name.strip().strip("\"'")).name
    except LookupError:
        return None


def decode_wide(body: bytes) -> tuple[str, str] | None:
    """(text, charset) of a UTF-32 or UTF-16 page, told by its byte-order mark or, without one, by where the NULs
    beside its first ASCII character fall; None when it does not decode."""
    if body.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        charset = "utf-32"
    elif body.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        charset = "utf-16"
    elif body[1:4] == b"\0\0\0" or body[:3] == b"\0\0\0":
        charset = "utf-32-le" if body[1:4] == b"\0\0\0" else "utf-32-be"
    else:
        charset = "utf-16-le" if body[1:2] == b"\0" else "utf-16-be"
    try:
        return body.decode(charset), charset
    except UnicodeDecodeError:
        return None


def decode_html(body: bytes, declared: str | None) -> tuple[str, str] | None:
    """Decode an HTML payload: UTF-8 when the bytes are valid UTF-8 (the most common mislabelling is UTF-8 sent as
    latin-1), else the charset declared by HTTP or ``<meta charset>``, else resiliparse's detection. Returns
    (text, charset) or None when nothing decodes."""
    try:
        return body.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    m = _META_CHARSET_RE.search(body, 0, 4096)
    candidates = [normalize_charset(declared), normalize_charset(m.group(1).decode("ascii", "ignore")) if m else None]
    if "utf-8" in candidates:
        # UTF-8 as declared, with a few stray bytes (a pasted latin-1 snippet): keep it UTF-8 rather than
        # re-decode the whole page as some single-byte charset
        text = body.decode("utf-8", errors="replace")
        if text.count("\ufffd") <= max(1, len(text) // 1000):
            return text, "utf-8"

    def detected():  # only when what the page declares fails: detection is the slow part
        from resiliparse.parse.encoding import detect_encoding

        candidates.append(normalize_charset(detect_encoding(body[:1 << 16])))
        yield candidates[-1]

    for charset in itertools.chain(candidates[:2], detected()):
        if charset and charset != "utf-8":
            try:
                return body.decode(charset), charset
            except (UnicodeDecodeError, LookupError):
                continue
    # every guess failed strictly: keep the page with replacement characters only if they are rare
    charset = next((c for c in candidates if c), "utf-8")
    text = body.decode(charset, errors="replace")
    if text.count("\ufffd") > len(text) // 100:
        return None
    return text, charset


def _decompress(body: bytes, encoding: str, limit: int) -> bytes | None:
    """Undo an HTTP Content-Encoding that the crawler kept (wget does), bounded by ``limit`` bytes."""
    wbits = {"gzip": 47, "x-gzip": 47, "deflate": 15}.get(encoding)
    if wbits is None:
        return None
    try:
        out = zlib.decompressobj(wbits).decompress(body, limit + 1)
    except zlib.error:
        return None
    return out


class HtmlWarcReader(WarcReader):
    """WARC ``response`` records with an HTML/XHTML payload -> Documents of decoded HTML.

    Args:
        data_folder: folder (local path or URL, e.g. ``https://data.commoncrawl.org``) the paths are relative to
        paths_file: a listing such as Common Crawl's ``warc.paths.gz``, one path a line (local or remote)
        glob_pattern: with no paths_file, which files under data_folder to read
        first / every / path_range: take a sample of the file list (see ``slice_paths``)
        crawl: crawl id for ``meta.crawl``; by default read from each path (``CC-MAIN-YYYY-WW``)
        max_page_bytes: payloads above this are dropped (``too_large``) before decoding
        prefilter: a ``MathPrefilter`` (the same object as the pipeline's step) to run on raw payloads
    """

    name = "🕷 HTML WARC"
    _requires_dependencies = ["fastwarc", "resiliparse"]

    def __init__(self, data_folder: DataFolderLike, paths_file: DataFileLike | None = None,
                 glob_pattern: str | None = "**/*.warc*", first: int | None = None, every: int = 1,
                 path_range: tuple[int, int] | None = None, crawl: str | None = None,
                 max_page_bytes: int = 5_000_000, default_metadata: dict | None = None, limit: int = -1,
                 prefilter=None):
        super().__init__(data_folder, paths_file=paths_file, compression=None, glob_pattern=glob_pattern,
                         default_metadata=default_metadata, limit=limit)
        self.add_file_path = False
        self.first, self.every, self.path_range = first, every, path_range
        self.crawl = crawl
        self.max_page_bytes = max_page_bytes
        self.prefilter = prefilter

    # -- which files -------------------------------------------------------------------------------------------
    def all_paths(self) -> list[str]:
        if self.paths_file:
            with open_file(self.paths_file, mode="rt", compression="infer") as f:
                paths = [line.strip() for line in f if line.strip() and not line.startswith("#")]
        else:
            paths = self.data_folder.list_files(recursive=self.recursive, glob_pattern=self.glob_pattern)
        return slice_paths(paths, self.first, self.every, self.path_range)

    def run(self, data: DocumentsPipeline = None, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        if data:
            yield from data
        shard = self.all_paths()[rank::world_size]
        if not shard:
            logger.warning(f"No WARC files for rank {rank} under {self.data_folder.path}")
        for doc in self.read_files_shard(shard):
            self.update_doc_stats(doc)
            yield doc

    # -- one file ----------------------------------------------------------------------------------------------
    def _open(self, filepath: str, stream: bool = True):
        protocol = self.data_folder.fs.protocol
        protocols = set(protocol) if isinstance(protocol, (tuple, list)) else {protocol}
        # remote: a stream, not a download; seekable (ranged reads) only to go back to a damaged record
        kwargs = {"block_size": 0} if stream and protocols & _REMOTE else {}
        return self.data_folder.open(filepath, "rb", **kwargs)

    def _open_seekable(self, filepath: str, copies: dict):
        """The file, seekable: to go back to a damaged record. A server without ranged reads gets the file copied
        to a local temporary file once (``copies`` holds it, removed when the file is done)."""
        if filepath in copies:
            return open(copies[filepath], "rb")
        f = self._open(filepath, stream=False)
        try:
            f.seek(1)
            f.read(1)
            f.seek(0)
            return f
        except ValueError:  # fsspec: "the HTTP server doesn't appear to support range requests"
            f.close()
        with tempfile.NamedTemporaryFile(prefix="proofpile-warc-", delete=False) as local, \
                self._open(filepath) as remote:
            copies[filepath] = local.name
            shutil.copyfileobj(remote, local, 1 << 20)
        return open(copies[filepath], "rb")

    def read_file(self, filepath: str):
        counts = Counter()  # this file's stats, flushed once: a stat update per page costs as much as the prefilter
        try:
            # its kept pages in groups (see BURST_DOCS), then its counts: after them, as when passed on one at a time
            for burst in sized_batches(self._read_records(filepath, counts), BURST_DOCS, BURST_CHARS):
                yield from burst
        finally:
            self._flush(counts)

    def _read_records(self, filepath: str, counts: Counter):
        crawl = self.crawl or crawl_from_path(filepath) or crawl_from_path(str(self.data_folder.path))
        start, read_any, failed = 0, False, False
        copies = {}  # local copies of files from servers without ranged reads (only after a damaged record)
        try:
            while start is not None:
                held = None  # the last record's (offset, result): released once the next record has parsed
                try:
                    with (self._open(filepath) if start == 0 else self._open_seekable(filepath, copies)) as f:
                        if start:
                            f.seek(start)
                        # other record types are parsed (a wrong length there fails too) but never reach Python
                        to_doc = self._record_to_doc
                        for record in ArchiveIterator(f, record_types=WarcRecordType.response, parse_http=True):
                            read_any = True
                            offset = record.stream_pos
                            try:
                                result = to_doc(record, filepath, crawl, offset)
                            except _Resync:
                                result = _SUSPECT
                            except _RECORD_ERRORS:
                                result = "dropped_bad_record"
                            if held is not None:  # released inline: this loop runs once a page
                                counts["responses"] += 1
                                if held[1].__class__ is str:
                                    counts[held[1]] += 1
                                else:
                                    yield held[1]
                            held = (offset, result)
                            if result is _SUSPECT:
                                raise _Resync
                        read_any = read_any or f.tell() > 0  # a WARC, even without a response record
                    if held is not None:
                        yield from self._release(held[1], counts)
                    start = None
                except Exception as e:  # a wrong length, a bad gzip member, a clipped file: check and go on
                    suspect = held[0] if held is not None else start
                    if not isinstance(e, _Resync):
                        logger.info(f"{filepath}: resynchronising after offset {suspect}: {type(e).__name__}: {e}")
                    results, start, framed = self._resync(filepath, suspect, crawl, counts, copies)
                    read_any = read_any or framed
                    for result in results:
                        yield from self._release(result, counts)
        except Exception as e:  # the stream itself gave up (network, permissions): keep what was read, count it
            failed = True
            counts["warc_read_error"] += 1
            logger.warning(f"{filepath}: WARC read error: {type(e).__name__}: {e}")
        finally:
            for path in copies.values():
                os.unlink(path)
        if not read_any and not failed:
            counts["warc_read_error"] += 1
            logger.warning(f"{filepath}: no WARC record could be read (not a WARC, or damaged throughout)")

    def _flush(self, counts: Counter) -> None:
        dropped_here = counts.pop("prefilter", 0)
        if self.prefilter is not None:
            self.prefilter.count_dropped(dropped_here)
        for key, n in counts.items():
            self.stat_update(key, value=n)
        counts.clear()

    @staticmethod
    def _release(result, counts: Counter):
        """A response record's result is a Document, or the stat its drop counts (None: another record type)."""
        if result is None:
            return
        counts["responses"] += 1
        if isinstance(result, str):
            counts[result] += 1
        else:
            yield result

    # -- one record --------------------------------------------------------------------------------------------
    def _record_result(self, record, filepath: str, crawl: str | None, offset: int | None = None):
        if record.record_type != WarcRecordType.response:
            return None
        try:
            # ``offset`` given: the record was framed by its member, its length is known good
            return self._record_to_doc(record, filepath, crawl, record.stream_pos if offset is None else offset,
                                       framed=offset is not None)
        except _RECORD_ERRORS:
            return "dropped_bad_record"

    def _record_to_doc(self, record, filepath: str, crawl: str | None, offset: int, framed: bool = False):
        """A Document, or the name of the stat the record's drop counts (with ``responses``, counted on release)."""
        content_type = (record.http_content_type or record.headers.get("WARC-Identified-Payload-Type") or "").lower()
        if content_type not in HTML_TYPES:
            return "dropped_not_html"
        http = record.http_headers
        status = http.status_code if http is not None else None
        if status is not None and not 200 <= status < 300:
            return "dropped_http_status"
        expected = record.content_length
        body = record.reader.read(self.max_page_bytes + 1)
        if len(body) > self.max_page_bytes:
            return "dropped_too_large"
        if len(body) < expected:
            raise _Resync  # clipped: the file ends early, or the length is too large; the member check tells
        encoding = ((http.get("Content-Encoding") if http is not None else None) or "").strip().lower()
        if encoding and encoding != "identity":
            body = _decompress(body, encoding, self.max_page_bytes)
            if body is None:
                return "dropped_bad_content_encoding"
            if len(body) > self.max_page_bytes:
                return "dropped_too_large"
        wide = None
        if b"\0" in body[:4]:  # UTF-16/32 (markup's ASCII has NULs beside it): markers only match in UTF-8
            wide = decode_wide(body)
            if wide is None:
                return "dropped_undecodable"
            body = wide[0].encode("utf-8")
        marker = None
        if self.prefilter is not None:
            marker = self.prefilter.matcher.first(body)
            if marker is None:
                return "prefilter"
            if not framed and _NEXT_RECORD in body:  # the next record's head inside this one: wrong length?
                raise _Resync
        if not body.strip():
            return "dropped_empty_body"
        decoded = wide or decode_html(body, record.http_charset)
        if decoded is None:
            return "dropped_undecodable"
        html, charset = decoded
        headers = record.headers
        record_id = headers.get("WARC-Record-ID", "").strip("<>")
        url = (headers.get("WARC-Target-URI") or "").strip("<>")
        if not record_id:
            return "dropped_no_record_id"
        meta = {"url": url, "warc_file": filepath, "warc_offset": offset, "warc_record_id": record_id,
                "crawl": crawl, "warc_date": headers.get("WARC-Date"), "charset": charset}
        if marker is not None:
            meta["math_marker"] = marker
        return self.get_document_from_dict({"text": html, "id": record_id, "metadata": meta}, filepath, offset)

    # -- after a failure: check one member, then carry on ------------------------------------------------------
    def _resync(self, filepath: str, offset: int, crawl: str | None, counts: Counter, copies: dict):
        """Check the gzip member (or, uncompressed, the record) at ``offset``. Returns its records' results, the
        offset to read on from (None: the end), and whether a WARC record was found there."""
        limit = self.max_page_bytes + (1 << 20)  # a page plus generous headers
        with self._open_seekable(filepath, copies) as f:
            f.seek(offset)
            if f.read(3) != _GZIP_MAGIC:  # uncompressed: frame the one record here
                f.seek(offset)
                results, framed, length = self._frame(f.read(limit), filepath, crawl, counts, offset, one=True)
                if length:
                    return results, offset + length, True
                return results, _next_line(f, offset + 1, b"WARC/1."), framed
            member, end, size = _inflate_member(f, offset, limit)
            if end is None:  # the file ends inside this member
                if _RESPONSE_RE.search(member or b"", 0, 1 << 14):
                    counts["responses"] += 1
                counts["dropped_clipped_record"] += 1
                return [], None, bool(member and member.startswith(b"WARC/"))
            if member is None:  # corrupt: carry on at the next member that inflates
                counts["dropped_bad_gzip_member"] += 1
                return [], _next_member(f, offset + 1), False
            if size > limit:
                counts["dropped_too_large"] += 1
                return [], end, True
            results, framed, _ = self._frame(member, filepath, crawl, counts, offset)
            return results, end, framed

    def _frame(self, data: bytes, filepath: str, crawl: str | None, counts: Counter, offset: int,
               one: bool = False) -> tuple[list, bool, int]:
        """The records of one inflated gzip member (with ``one``: the first record of ``data``), each checked
        against where the data says it ends: a record whose Content-Length does not end where the next record (or
        the member) starts is dropped, with the rest of its member. Returns (results, whether a WARC header was
        found, the length of the good records framed)."""
        results, pos, framed = [], 0, False
        while pos < len(data):
            head_end = data.find(b"\r\n\r\n", pos)
            if not data.startswith(b"WARC/", pos) or head_end < 0:
                counts["dropped_bad_warc_header"] += 1
                break
            framed = True
            m = _CONTENT_LENGTH_RE.search(data, pos, head_end + 2)
            length = m.group(1).strip() if m else b""
            end = head_end + 4 + int(length) if length.isdigit() else -1
            if end < 0 or data[end:end + 4] != b"\r\n\r\n" or not (
                    one or end + 4 == len(data) or data.startswith(b"WARC/", end + 4)):
                counts["dropped_bad_content_length"] += 1
                break
            for record in ArchiveIterator(io.BytesIO(data[pos:end + 4]), parse_http=True):
                results.append(self._record_result(record, filepath, crawl, offset=offset))
            pos = end + 4
            if one:
                break
        return results, framed, pos


def _inflate_member(f, offset: int, limit: int) -> tuple[bytes | None, int | None, int]:
    """Inflate the gzip member starting at ``offset`` (``f`` positioned after its first 3 bytes). Returns (its first
    ``limit`` bytes, where the next member starts, its inflated size); (None, offset, 0) when it is corrupt, (what
    inflated, None, size) when the file ends inside it. Past ``limit`` the rest is inflated and discarded: a huge
    member costs bounded memory."""
    inflater = zlib.decompressobj(31)
    out, size, consumed = [], 0, 0
    data = _GZIP_MAGIC
    try:
        while True:
            if data:
                consumed += len(data)
                chunk = inflater.decompress(data)
                if size < limit:
                    out.append(chunk[:limit - size])
                size += len(chunk)
                if inflater.eof:
                    return b"".join(out), offset + consumed - len(inflater.unused_data), size
            data = f.read(_CHUNK)
            if not data:
                return b"".join(out), None, size
    except zlib.error:
        return None, offset, 0


def _next_member(f, offset: int) -> int | None:
    """The offset of the next gzip member at or after ``offset`` that inflates to a WARC record, or None."""
    while True:
        candidate = _next_line(f, offset, _GZIP_MAGIC, line_start=False)
        if candidate is None:
            return None
        f.seek(candidate + 3)
        member, _, _ = _inflate_member(f, candidate, 16)
        if member is not None and member.startswith(b"WARC/"):
            return candidate
        offset = candidate + 1


def _next_line(f, offset: int, needle: bytes, line_start: bool = True) -> int | None:
    """The offset of the next ``needle`` at or after ``offset`` (at a line start, unless told otherwise)."""
    pattern = b"\n" + needle if line_start else needle
    skip = 1 if line_start else 0
    f.seek(offset)
    carry, base = b"", offset
    while True:
        chunk = f.read(_CHUNK)
        if not chunk:
            return None
        data = carry + chunk
        i = data.find(pattern)
        if i >= 0:
            return base + i + skip
        carry = data[-(len(pattern) - 1):]
        base += len(data) - len(carry)

