"""The web stage's WARC reader: real Common Crawl WARCs, clipped files, bad payloads, and streaming over HTTP."""

import contextlib
import gzip
import io
import os
import re
import threading
import time
import zlib
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import pytest
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from proofpile.web.prefilter import MathPrefilter
from proofpile.web.warc import HtmlWarcReader, crawl_from_path, decode_html, slice_paths

PROJECT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MARKERS = os.path.join(PROJECT, "filters", "web", "math-markers.txt")
LATEX = os.path.join(PROJECT, "filters", "web", "latex-commands.txt")


def warc_bytes(records) -> bytes:
    """records: (url, content_type, body bytes[, status[, extra http headers]])."""
    out = io.BytesIO()
    writer = WARCWriter(out, gzip=True)
    for i, (url, ctype, body, *rest) in enumerate(records):
        status = rest[0] if rest else "200 OK"
        extra = rest[1] if len(rest) > 1 else []
        http = StatusAndHeaders(status, [("Content-Type", ctype), *extra], protocol="HTTP/1.1")
        rec = writer.create_warc_record(url, "response", payload=io.BytesIO(body), http_headers=http,
                                        warc_headers_dict={"WARC-Record-ID": f"<urn:uuid:00000000-0000-0000-0000-{i:012d}>",
                                                           "WARC-Date": "2024-01-01T00:00:00Z"})
        writer.write_record(rec)
    return out.getvalue()


def read_all(folder, **kwargs):
    reader = HtmlWarcReader(str(folder), **kwargs)
    docs = list(reader.run())
    return docs, reader.stats.stats


def count_json(value):
    return value["total"] if isinstance(value, dict) else value


def count(stats, key):
    v = stats.get(key)
    return 0 if v is None else v.total


# -- real WARCs ------------------------------------------------------------------------------------------------
def test_cc_excerpt_has_no_math_and_prefilter_drops_all(shared_fixture):
    path = shared_fixture("warc/cc-main-2020-34-excerpt.warc.gz")
    docs, stats = read_all(path.parent, glob_pattern=path.name)
    assert len(docs) == 16 and count(stats, "responses") == 16
    d = docs[0]
    assert d.id == "urn:uuid:c4c112a5-3503-4483-abf8-51a0dd86dd53" == d.metadata["warc_record_id"]
    assert d.metadata["url"] == "http://003338.cn/l41/481397.html"
    assert d.metadata["crawl"] == "CC-MAIN-2020-34"
    assert d.metadata["warc_file"] == path.name
    # offsets are those of the (compressed) record: warcio agrees
    from warcio.archiveiterator import ArchiveIterator

    with open(path, "rb") as f:
        it = ArchiveIterator(f)
        offsets = {r.rec_headers["WARC-Record-ID"].strip("<>"): it.get_record_offset() for r in it}
    assert all(offsets[doc.id] == doc.metadata["warc_offset"] for doc in docs)
    # the windows-1251 page is decoded from its declared charset
    assert any(doc.metadata["charset"] == "cp1251" and "а" in doc.text for doc in docs)
    pre = MathPrefilter(MARKERS, LATEX)
    assert list(pre.run(iter(docs))) == []
    assert count(pre.stats.stats, "dropped_no_math_marker") == 16


def test_homepages_mathjax_pages_pass_prefilter(shared_fixture):
    path = shared_fixture("warc/homepages-mathjax.warc.gz")
    docs, _ = read_all(path.parent, glob_pattern=path.name)
    assert len(docs) == 22
    assert all(not d.metadata["url"].startswith("<") for d in docs)  # wget's <uri> form is unwrapped
    pre = MathPrefilter(MARKERS, LATEX)
    kept = list(pre.run(iter(docs)))
    assert 0 < len(kept) < len(docs)
    assert all(d.metadata["math_marker"] == "mathjax" for d in kept)


def test_clipped_warc_counts_an_error_and_does_not_crash(shared_fixture):
    path = shared_fixture("warc/clipped.warc.gz")
    docs, stats = read_all(path.parent, glob_pattern=path.name)
    assert docs == []  # its only record is cut short: never passed on truncated
    assert count(stats, "dropped_clipped_record") == 1


def test_clipped_tail_keeps_good_records(tmp_path):
    good = warc_bytes([(f"http://a.example/{i}", "text/html", b"<p>page %d</p>" % i) for i in range(3)])
    last = warc_bytes([("http://a.example/last", "text/html", os.urandom(4000).hex().encode())])
    (tmp_path / "x.warc.gz").write_bytes(good + last[: len(last) // 2])
    docs, stats = read_all(tmp_path)
    assert [d.metadata["url"] for d in docs] == [f"http://a.example/{i}" for i in range(3)]
    assert count(stats, "dropped_clipped_record") + count(stats, "warc_read_error") == 1


# -- bad input -------------------------------------------------------------------------------------------------
def test_bad_records_are_counted_drops(tmp_path):
    big = b"<html><body>" + b"<p>MathJax " + b"x" * (50 * 1024 * 1024) + b"</p></body></html>"
    records = [
        ("http://ok.example/utf8", "text/html; charset=utf-8", "<p>caf\u00e9 \\(x^2\\)</p>".encode()),
        ("http://ok.example/latin1", "text/html; charset=iso-8859-1", "<p>na\u00efve caf\u00e9</p>".encode("latin-1")),
        # declared latin-1 but really UTF-8: decoded as UTF-8, no mojibake
        ("http://ok.example/mislabelled", "text/html; charset=iso-8859-1", "<p>na\u00efve \u2211</p>".encode()),
        # declared UTF-8 but really windows-1252: falls back to the <meta> charset / detection
        ("http://ok.example/cp1252", "text/html; charset=utf-8",
         '<meta charset="windows-1252"><p>\u201cquoted\u201d caf\u00e9</p>'.encode("cp1252")),
        ("http://ok.example/nocharset", "text/html", "<p>\u00e9t\u00e9 \u00e0 Paris</p>".encode("latin-1")),
        ("http://bad.example/empty", "text/html", b""),
        ("http://bad.example/blank", "text/html", b"   \n  "),
        ("http://bad.example/big", "text/html", big),
        ("http://bad.example/png", "image/png", b"\x89PNG\r\n\x1a\n" + bytes(range(256))),
        ("http://bad.example/404", "text/html", b"<p>not found</p>", "404 Not Found"),
        ("http://bad.example/gzip-garbage", "text/html", b"\x1f\x8b\x08garbage" * 10, "200 OK",
         [("Content-Encoding", "gzip")]),
        ("http://ok.example/gzipped", "text/html", gzip.compress(b"<p>zipped</p>", mtime=0), "200 OK",
         [("Content-Encoding", "gzip")]),
        ("http://bad.example/binary", "text/html", bytes(range(256)) * 64),
    ]
    (tmp_path / "bad.warc.gz").write_bytes(warc_bytes(records))
    start = time.monotonic()
    docs, stats = read_all(tmp_path)
    assert time.monotonic() - start < 30
    by_url = {d.metadata["url"]: d for d in docs}
    assert set(by_url) == {"http://ok.example/utf8", "http://ok.example/latin1", "http://ok.example/mislabelled",
                           "http://ok.example/cp1252", "http://ok.example/nocharset", "http://ok.example/gzipped"}
    assert "caf\u00e9" in by_url["http://ok.example/utf8"].text
    assert "na\u00efve caf\u00e9" in by_url["http://ok.example/latin1"].text
    assert "na\u00efve \u2211" in by_url["http://ok.example/mislabelled"].text
    assert "\u201cquoted\u201d" in by_url["http://ok.example/cp1252"].text
    assert "\u00e9t\u00e9" in by_url["http://ok.example/nocharset"].text
    assert by_url["http://ok.example/gzipped"].text == "<p>zipped</p>"
    assert count(stats, "dropped_empty_body") == 2
    assert count(stats, "dropped_too_large") == 1
    assert count(stats, "dropped_not_html") == 1
    assert count(stats, "dropped_http_status") == 1
    assert count(stats, "dropped_bad_content_encoding") == 1
    assert count(stats, "dropped_undecodable") == 1


def test_gzip_garbage_file_is_a_counted_error(tmp_path):
    (tmp_path / "garbage.warc.gz").write_bytes(b"\x1f\x8b\x08\x00" + os.urandom(5000))
    (tmp_path / "text.warc.gz").write_bytes(b"this is not a WARC file at all\n" * 100)
    good = warc_bytes([("http://a.example/", "text/html", b"<p>fine</p>")])
    (tmp_path / "z-good.warc.gz").write_bytes(good)
    docs, stats = read_all(tmp_path)
    assert [d.metadata["url"] for d in docs] == ["http://a.example/"]
    assert count(stats, "warc_read_error") == 2


def test_decode_html():
    assert decode_html("\u00e9".encode(), None) == ("\u00e9", "utf-8")
    assert decode_html("\u00e9".encode("latin-1"), "latin-1") == ("\u00e9", "iso8859-1")
    assert decode_html("\u00e9".encode("latin-1"), "no-such-charset")[0] != ""
    text, charset = decode_html("привет мир, это страница".encode("cp1251"), None)
    assert text == "привет мир, это страница"
    # declared UTF-8 with one stray byte: still UTF-8, one replacement character, no mojibake
    page = ("<p>" + "∑ déjà vu " * 50 + "</p>").encode() + b"\xff"
    text, charset = decode_html(page, "utf-8")
    assert charset == "utf-8" and "∑ déjà vu" in text and text.count("\ufffd") == 1


# -- file lists ------------------------------------------------------------------------------------------------
def test_slice_paths_and_crawl():
    paths = [f"p{i}" for i in range(10)]
    assert slice_paths(paths, first=3) == ["p0", "p1", "p2"]
    assert slice_paths(paths, every=4) == ["p0", "p4", "p8"]
    assert slice_paths(paths, path_range=(2, 5)) == ["p2", "p3", "p4"]
    assert slice_paths(paths, first=2, every=2, path_range=(1, 9)) == ["p1", "p3"]
    assert crawl_from_path("crawl-data/CC-MAIN-2024-22/segments/1/warc/x.warc.gz") == "CC-MAIN-2024-22"
    assert crawl_from_path("local/demo.warc.gz") is None


def test_ranks_shard_by_file(tmp_path):
    for i in range(4):
        (tmp_path / f"{i}.warc.gz").write_bytes(warc_bytes([(f"http://a.example/{i}", "text/html", b"<p>x</p>")]))
    reader = HtmlWarcReader(str(tmp_path))
    seen = [[d.metadata["url"] for d in reader.run(rank=r, world_size=2)] for r in range(2)]
    assert seen == [["http://a.example/0", "http://a.example/2"], ["http://a.example/1", "http://a.example/3"]]


@pytest.fixture
def http_crawl(tmp_path):
    """A Common-Crawl-shaped folder served over HTTP on 127.0.0.1, with its warc.paths.gz."""
    root = tmp_path / "www"
    paths = []
    for i in range(4):
        rel = f"crawl-data/CC-MAIN-2099-01/segments/{i}/warc/part-{i}.warc.gz"
        (root / os.path.dirname(rel)).mkdir(parents=True)
        pages = [(f"http://site{i}.example/{j}", "text/html", f"<p>page {i}.{j} \\frac{{a}}{{b}}</p>".encode())
                 for j in range(3)]
        (root / rel).write_bytes(warc_bytes(pages))
        paths.append(rel)
    listing = root / "crawl-data" / "CC-MAIN-2099-01" / "warc.paths.gz"
    listing.write_bytes(gzip.compress(("\n".join(paths) + "\n").encode(), mtime=0))

    with serve(root) as url:
        yield url


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@contextlib.contextmanager
def serve(folder):
    """``folder`` served over HTTP on 127.0.0.1 (a real server, ranged reads included); yields its base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_Quiet, directory=str(folder)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_streams_warcs_over_http_from_a_paths_file(http_crawl):
    listing = f"{http_crawl}/crawl-data/CC-MAIN-2099-01/warc.paths.gz"
    reader = HtmlWarcReader(http_crawl, paths_file=listing, every=2, first=2)
    assert reader.all_paths() == ["crawl-data/CC-MAIN-2099-01/segments/0/warc/part-0.warc.gz",
                                  "crawl-data/CC-MAIN-2099-01/segments/2/warc/part-2.warc.gz"]
    docs = list(reader.run())
    assert [d.metadata["url"] for d in docs] == [f"http://site{i}.example/{j}" for i in (0, 2) for j in range(3)]
    assert {d.metadata["crawl"] for d in docs} == {"CC-MAIN-2099-01"}
    assert docs[0].metadata["warc_file"] == "crawl-data/CC-MAIN-2099-01/segments/0/warc/part-0.warc.gz"
    assert "\\frac{a}{b}" in docs[0].text
    # a shard range, read by two ranks
    ranged = HtmlWarcReader(http_crawl, paths_file=listing, path_range=(1, 4))
    urls = [d.metadata["url"] for r in range(2) for d in ranged.run(rank=r, world_size=2)]
    assert sorted({u.split("/")[2] for u in urls}) == ["site1.example", "site2.example", "site3.example"]


def test_http_stream_is_not_downloaded_first(http_crawl, monkeypatch):
    """The remote file is opened as a stream (fsspec HTTPStreamFile), not fetched whole to a local file."""
    import fsspec.implementations.http as fh

    opened = []
    original = fh.HTTPStreamFile.__init__

    def spy(self, *args, **kwargs):
        opened.append(args[1] if len(args) > 1 else kwargs.get("url"))
        original(self, *args, **kwargs)

    monkeypatch.setattr(fh.HTTPStreamFile, "__init__", spy)
    listing = f"{http_crawl}/crawl-data/CC-MAIN-2099-01/warc.paths.gz"
    docs = list(HtmlWarcReader(http_crawl, paths_file=listing, first=1).run())
    assert len(docs) == 3 and len(opened) == 1


def test_stage_reads_a_crawl_listing_relative_to_base_url(http_crawl, tmp_path):
    """`proofpile web` with paths_file + base_url and a sample of the listing, all over HTTP on 127.0.0.1."""
    import json

    from proofpile.config import StageConfig
    from proofpile.stage import run_stage

    config = tmp_path / "web.yaml"
    config.write_text(f"include: {PROJECT}/pipelines/web.yaml\nweb:\n  warcs: null\n"
                      f"  paths_file: crawl-data/CC-MAIN-2099-01/warc.paths.gz\n  base_url: {http_crawl}\n"
                      f"  path_range: [1, 4]\n  every: 2\n")
    cfg = StageConfig.load("web", config, data_root=tmp_path / "root")
    run_stage(cfg)
    stats = {s["name"].split(": ", 1)[1]: s["stats"]
             for s in json.loads((tmp_path / "root" / "logs" / "web" / "stats.json").read_text())}
    reader = stats["🕷 HTML WARC"]
    assert count_json(reader["input_files"]) == 2 and count_json(reader["documents"]) == 6  # files 1 and 3
    assert count_json(stats["🧮 Math prefilter"]["forwarded"]) == 6  # every page has \frac (all too short to keep)


def _raw_record(i: int, payload: bytes) -> bytes:
    """A gzipped WARC response record around any payload, however malformed its HTTP part."""
    head = (f"WARC/1.0\r\nWARC-Type: response\r\nWARC-Record-ID: <urn:uuid:00000000-0000-0000-0000-{i:012d}>\r\n"
            f"WARC-Target-URI: http://x.example/{i}\r\nWARC-Identified-Payload-Type: text/html\r\n"
            f"Content-Type: application/http; msgtype=response\r\nContent-Length: {len(payload)}\r\n\r\n").encode()
    return gzip.compress(head + payload + b"\r\n\r\n", mtime=0)


def test_malformed_http_parts_do_not_end_the_file(tmp_path):
    payloads = [b"garbage without an http head\r\n\r\n<p>x</p>",
                b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Encoding: br\r\n\r\n<p>x</p>",
                b"HTTP/1.1 abc\r\n\r\n<p>x</p>",
                b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n<p>fine</p>"]
    (tmp_path / "a.warc.gz").write_bytes(b"".join(_raw_record(i, p) for i, p in enumerate(payloads)))
    docs, stats = read_all(tmp_path)
    assert "http://x.example/3" in [d.metadata["url"] for d in docs]
    assert count(stats, "dropped_bad_content_encoding") == 1 and count(stats, "warc_read_error") == 0


# -- one bad record among good ones ----------------------------------------------------------------------------
def _with_content_length(member: bytes, length: bytes) -> bytes:
    """A gzipped record whose WARC Content-Length header is replaced (the block itself is unchanged)."""
    raw = gzip.decompress(member)
    head, block = raw.split(b"\r\n\r\n", 1)
    lines = [b"Content-Length: " + length if line.lower().startswith(b"content-length:") else line
             for line in head.split(b"\r\n")]
    return gzip.compress(b"\r\n".join(lines) + b"\r\n\r\n" + block, mtime=0)


def _page(i: int) -> bytes:
    return f"<html><body><p>good page {i}: $\\frac{{a}}{{b}}$ MathJax</p>{'x' * 3000}</body></html>".encode()


def _bad_warc(gzipped: bool = True) -> tuple[bytes, list[str]]:
    """Good records with, between them, a corrupt gzip member and records whose Content-Length is 2,000 bytes too
    large, 100 bytes too small, and garbage."""
    good = [warc_bytes([(f"http://good.example/{i}", "text/html", _page(i))]) for i in range(6)]
    bad = [warc_bytes([(f"http://bad.example/{i}", "text/html", _page(100 + i))]) for i in range(4)]
    length = int(re.search(rb"Content-Length: (\d+)", gzip.decompress(bad[1])).group(1))
    corrupt = bytearray(bad[0])
    corrupt[40:80] = bytes(40)
    parts = [good[0], bytes(corrupt), good[1], _with_content_length(bad[1], str(length + 2000).encode()), good[2],
             _with_content_length(bad[2], str(length - 100).encode()), good[3],
             _with_content_length(bad[3], b"12abc"), good[4], good[5]]
    if not gzipped:
        parts = [gzip.decompress(p) for p in parts if p is not parts[1]]
    return b"".join(parts), [f"http://good.example/{i}" for i in range(6)]


@pytest.mark.parametrize("with_prefilter", [False, True])
def test_bad_records_between_good_ones_cost_only_themselves(tmp_path, with_prefilter):
    data, good_urls = _bad_warc()
    (tmp_path / "bad.warc.gz").write_bytes(data)
    prefilter = MathPrefilter(MARKERS, LATEX) if with_prefilter else None
    docs, stats = read_all(tmp_path, prefilter=prefilter)
    assert [d.metadata["url"] for d in docs] == good_urls
    for i, d in enumerate(docs):  # each page whole, and nothing of another record in it
        assert d.text == _page(i).decode() and "WARC/1.0" not in d.text
    assert count(stats, "dropped_bad_gzip_member") == 1
    assert count(stats, "dropped_bad_content_length") == 3
    assert count(stats, "warc_read_error") == 0
    if with_prefilter:
        assert all(d.metadata["math_marker"] for d in docs)


def test_bad_lengths_in_an_uncompressed_warc(tmp_path):
    data, good_urls = _bad_warc(gzipped=False)
    (tmp_path / "bad.warc").write_bytes(data)
    docs, stats = read_all(tmp_path)
    assert [d.metadata["url"] for d in docs] == good_urls
    assert all(d.text == _page(i).decode() for i, d in enumerate(docs))
    assert count(stats, "dropped_bad_content_length") == 3


def test_prefilter_in_the_reader_counts_its_drops_under_its_own_name(tmp_path):
    pages = [("http://a.example/math", "text/html", b"<p>\\(x^2\\) with MathJax</p>"),
             ("http://a.example/plain", "text/html", b"<p>no math here</p>"),
             ("http://a.example/plain2", "text/html", b"<p>nor here</p>")]
    (tmp_path / "a.warc.gz").write_bytes(warc_bytes(pages))
    prefilter = MathPrefilter(MARKERS, LATEX)
    reader = HtmlWarcReader(str(tmp_path), prefilter=prefilter)
    kept = list(prefilter.run(reader.run()))
    assert [d.metadata["url"] for d in kept] == ["http://a.example/math"]
    assert kept[0].metadata["math_marker"] == "mathjax"
    pre = prefilter.stats.stats
    assert count(pre, "total") == 3 and count(pre, "forwarded") == 1
    assert count(pre, "dropped_no_math_marker") == 2
    assert count(reader.stats.stats, "responses") == 3 and count(reader.stats.stats, "documents") == 1


def test_a_warc_without_responses_is_not_an_error(tmp_path):
    out = io.BytesIO()
    writer = WARCWriter(out, gzip=True)
    writer.write_record(writer.create_warcinfo_record("x.warc.gz", {"software": "test"}))
    (tmp_path / "x.warc.gz").write_bytes(out.getvalue())
    docs, stats = read_all(tmp_path)
    assert docs == [] and count(stats, "warc_read_error") == 0


def test_bad_records_in_a_warc_streamed_over_http(tmp_path):
    """Over HTTP the file is read as a stream; going back to a bad record reopens it with ranged reads."""
    data, good_urls = _bad_warc()
    (tmp_path / "bad.warc.gz").write_bytes(data)

    with serve(tmp_path) as url:
        reader = HtmlWarcReader(url, paths_file=_listing(tmp_path, ["bad.warc.gz"]))
        docs = list(reader.run())
    assert [d.metadata["url"] for d in docs] == good_urls
    assert all(d.text == _page(i).decode() for i, d in enumerate(docs))
    assert count(reader.stats.stats, "dropped_bad_content_length") == 3


def _listing(folder, names) -> str:
    path = folder / "warc.paths"
    path.write_text("\n".join(names) + "\n")
    return str(path)


def test_a_page_that_quotes_a_warc_record_is_kept_whole(tmp_path):
    """A page whose text holds what looks like a record boundary is checked against its member, then kept."""
    quoted = b"<pre>MathJax demo\r\n\r\nWARC/1.0\r\nWARC-Type: response\r\n\r\n</pre>" + b"x" * 500
    pages = [("http://a.example/0", "text/html", _page(0)), ("http://a.example/warc", "text/html", quoted),
             ("http://a.example/2", "text/html", _page(2))]
    (tmp_path / "a.warc.gz").write_bytes(b"".join(warc_bytes([p]) for p in pages))
    docs, stats = read_all(tmp_path, prefilter=MathPrefilter(MARKERS, LATEX))
    assert [d.metadata["url"] for d in docs] == [p[0] for p in pages]
    assert docs[1].text == quoted.decode()
    assert count(stats, "dropped_bad_content_length") == 0


def test_real_crawl_warc_with_a_bad_member_and_a_bad_length(shared_fixture, tmp_path):
    """The real Common Crawl excerpt (request, response and metadata records, one gzip member each) with one
    response member corrupted and another response's Content-Length 2,000 too large: the 14 other pages are kept."""
    src = shared_fixture("warc/cc-main-2020-34-excerpt.warc.gz").read_bytes()
    members, pos = [], 0
    while pos < len(src):
        inflater = zlib.decompressobj(31)
        inflater.decompress(src[pos:])
        members.append(src[pos:len(src) - len(inflater.unused_data)])
        pos = len(src) - len(inflater.unused_data)
    responses = [i for i, m in enumerate(members) if b"WARC-Type: response" in gzip.decompress(m)[:400]]
    corrupt, too_long = responses[3], responses[9]
    damaged = bytearray(members[corrupt])
    damaged[len(damaged) // 2:len(damaged) // 2 + 20] = bytes(20)
    members[corrupt] = bytes(damaged)
    raw = gzip.decompress(members[too_long])
    length = int(re.search(rb"Content-Length: (\d+)", raw).group(1))
    members[too_long] = _with_content_length(members[too_long], str(length + 2000).encode())
    (tmp_path / "x.warc.gz").write_bytes(b"".join(members))
    docs, stats = read_all(tmp_path)
    assert len(docs) == 14 and count(stats, "responses") == 14  # the two bad records are counted apart
    assert count(stats, "dropped_bad_gzip_member") == 1 and count(stats, "dropped_bad_content_length") == 1
    assert not any("WARC/1.0" in d.text for d in docs)


def test_utf16_and_utf32_pages_are_prefiltered_as_text(tmp_path):
    """Markers are ASCII, but in UTF-16/32 every ASCII byte has NULs beside it: such pages are transcoded before
    the prefilter, with or without a byte-order mark, and decoded once."""
    html = "<html><body><p>Die Summe \\(\\sum_{k=1}^n k = \\frac{n(n+1)}{2}\\) mit MathJax, größer.</p></body></html>"
    pages = [("http://w.example/utf16-bom", "text/html; charset=utf-16", html.encode("utf-16")),
             ("http://w.example/utf16le", "text/html", html.encode("utf-16-le")),
             ("http://w.example/utf16be", "text/html; charset=UTF-16BE", html.encode("utf-16-be")),
             ("http://w.example/utf32", "text/html; charset=utf-32", html.encode("utf-32")),
             ("http://w.example/plain16", "text/html", "<p>no math here at all</p>".encode("utf-16")),
             ("http://w.example/bad16", "text/html", "\\(x\\)".encode("utf-16-le") + b"\x00\xd8")]  # lone surrogate
    (tmp_path / "a.warc.gz").write_bytes(warc_bytes(pages))
    prefilter = MathPrefilter(MARKERS, LATEX)
    reader = HtmlWarcReader(str(tmp_path), prefilter=prefilter)
    kept = list(prefilter.run(reader.run()))
    assert [d.metadata["url"] for d in kept] == ["http://w.example/utf16-bom", "http://w.example/utf16le",
                                                 "http://w.example/utf16be", "http://w.example/utf32"]
    assert all(d.text == html for d in kept)
    assert [d.metadata["charset"] for d in kept] == ["utf-16", "utf-16-le", "utf-16-be", "utf-32"]
    assert count(prefilter.stats.stats, "dropped_no_math_marker") == 1
    assert count(reader.stats.stats, "dropped_undecodable") == 1
