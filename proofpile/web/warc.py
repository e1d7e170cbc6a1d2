"""Reading WARC files: local globs, or a Common Crawl ``warc.paths.gz`` listing streamed over HTTP(S)/S3.

``HtmlWarcReader`` builds on datatrove's ``WarcReader`` (same sharding: a rank reads whole files, file i goes to
rank i % world_size) with FastWARC underneath, and turns each HTML ``response`` record into a Document whose text
is the decoded HTML. Everything else is a counted drop: other record types are skipped by the parser, and
non-HTML payloads, non-2xx statuses, empty or oversized bodies, clipped records and undecodable bytes each have
their own ``dropped_<reason>`` stat. A damaged file (truncated, gzip garbage) yields its good records, counts
``warc_read_error`` and ends; it never fails the task.

Remote files are opened as streams (``block_size=0`` over HTTP), so a WARC is parsed while it downloads and is
never stored on disk first.
"""

from __future__ import annotations

import itertools
import re
import zlib

from datatrove.data import DocumentsPipeline
from datatrove.io import DataFileLike, DataFolderLike, open_file
from datatrove.pipeline.readers.warc import WarcReader
from datatrove.utils.logging import logger

HTML_TYPES = ("text/html", "application/xhtml+xml")
CRAWL_RE = re.compile(r"CC-MAIN-\d{4}-\d{2}", re.IGNORECASE)
_META_CHARSET_RE = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([a-zA-Z0-9_.:-]+)""", re.IGNORECASE)
_REMOTE = {"http", "https"}


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
    import codecs

    if not name:
        return None
    try:
        return codecs.lookup(name.strip().strip("\"'")).name
    except LookupError:
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
    """

    name = "🕷 HTML WARC"
    _requires_dependencies = ["fastwarc", "resiliparse"]

    def __init__(self, data_folder: DataFolderLike, paths_file: DataFileLike | None = None,
                 glob_pattern: str | None = "**/*.warc*", first: int | None = None, every: int = 1,
                 path_range: tuple[int, int] | None = None, crawl: str | None = None,
                 max_page_bytes: int = 5_000_000, default_metadata: dict | None = None, limit: int = -1):
        super().__init__(data_folder, paths_file=paths_file, compression=None, glob_pattern=glob_pattern,
                         default_metadata=default_metadata, limit=limit)
        self.add_file_path = False
        self.first, self.every, self.path_range = first, every, path_range
        self.crawl = crawl
        self.max_page_bytes = max_page_bytes

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
    def _open(self, filepath: str):
        protocol = self.data_folder.fs.protocol
        protocols = set(protocol) if isinstance(protocol, (tuple, list)) else {protocol}
        kwargs = {"block_size": 0} if protocols & _REMOTE else {}  # a stream, not a download
        return self.data_folder.open(filepath, "rb", **kwargs)

    def read_file(self, filepath: str):
        from fastwarc.warc import ArchiveIterator, WarcRecordType

        crawl = self.crawl or crawl_from_path(filepath) or crawl_from_path(str(self.data_folder.path))
        records = 0
        try:
            with self._open(filepath) as f:
                for record in ArchiveIterator(f, parse_http=True):
                    records += 1
                    if record.record_type != WarcRecordType.response:
                        continue
                    with self.track_time():
                        try:
                            doc = self._record_to_doc(record, filepath, crawl)
                        except (ValueError, AttributeError, LookupError, UnicodeError, zlib.error):
                            # one malformed record (bad HTTP head, odd headers) is a drop, not the end of the file
                            doc = self._drop("bad_record")
                    if doc is not None:
                        yield doc
        except Exception as e:  # the stream or the parser gave up: keep what was read, count the damage
            self.stat_update("warc_read_error")
            logger.warning(f"{filepath}: WARC read error after {records} records: {type(e).__name__}: {e}")
            return
        if records == 0:
            self.stat_update("warc_read_error")
            logger.warning(f"{filepath}: no WARC record could be read (not a WARC, or damaged from the start)")

    def _drop(self, reason: str) -> None:
        self.stat_update(f"dropped_{reason}")

    def _record_to_doc(self, record, filepath: str, crawl: str | None):
        self.stat_update("responses")
        headers = record.headers
        content_type = (record.http_content_type or headers.get("WARC-Identified-Payload-Type") or "").lower()
        if content_type not in HTML_TYPES:
            return self._drop("not_html")
        status = record.http_headers.status_code if record.http_headers is not None else None
        if status is not None and not 200 <= status < 300:
            return self._drop("http_status")
        expected = record.content_length
        body = record.reader.read(self.max_page_bytes + 1)
        if len(body) > self.max_page_bytes:
            return self._drop("too_large")
        if len(body) < expected:
            return self._drop("clipped_record")
        encoding = ((record.http_headers.get("Content-Encoding") if record.http_headers is not None else None)
                    or "").strip().lower()
        if encoding and encoding != "identity":
            body = _decompress(body, encoding, self.max_page_bytes)
            if body is None:
                return self._drop("bad_content_encoding")
            if len(body) > self.max_page_bytes:
                return self._drop("too_large")
        if not body.strip():
            return self._drop("empty_body")
        decoded = decode_html(body, record.http_charset)
        if decoded is None:
            return self._drop("undecodable")
        html, charset = decoded
        record_id = headers.get("WARC-Record-ID", "").strip("<>")
        url = (headers.get("WARC-Target-URI") or "").strip("<>")
        if not record_id:
            return self._drop("no_record_id")
        meta = {"url": url, "warc_file": filepath, "warc_offset": record.stream_pos, "warc_record_id": record_id,
                "crawl": crawl, "warc_date": headers.get("WARC-Date"), "charset": charset}
        return self.get_document_from_dict({"text": html, "id": record_id, "metadata": meta}, filepath,
                                           record.stream_pos)
