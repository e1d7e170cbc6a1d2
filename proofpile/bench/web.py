"""The web stage on a realistic mix (about 1 math page in 100) against extracting every page.

The mix is a WARC written into the work dir from real crawl pages (the shared WARC fixtures, when present) and the
demo's pages, repeated: ~990 pages without math and 10 math pages. Both runs read the same WARC in one process; the
stage runs reader -> URL blocklist -> prefilter -> extraction -> language ID -> MathScore -> quality, the baseline
reader -> extraction of every page. The figure is the ratio of their throughputs (goal: >= 5x). A second figure
times the prefilter's Aho-Corasick pass against a single compiled regex of the same marker lists.
"""

from __future__ import annotations

import io
from pathlib import Path

from proofpile.bench import figure, timer

PROJECT = Path(__file__).resolve().parents[2]
FIXTURES = PROJECT.parent / "shared" / "fixtures" / "warc"
DEMO = PROJECT / "proofpile" / "samples" / "web" / "demo.warc.gz"
FILTERS = PROJECT / "filters" / "web"
N_PAGES, N_MATH = 1000, 10


def _pages(path: Path) -> list[tuple[str, bytes]]:
    """(url, html bytes) of the HTML responses of a WARC (clipped records skipped)."""
    from fastwarc.warc import ArchiveIterator, WarcRecordType

    out = []
    with open(path, "rb") as f:
        for record in ArchiveIterator(f, record_types=WarcRecordType.response, parse_http=True):
            ctype = (record.http_content_type or "").lower()
            status = record.http_headers.status_code if record.http_headers is not None else 200
            body = record.reader.read()
            if ctype == "text/html" and status == 200 and len(body) == record.content_length and body.strip():
                out.append(((record.headers.get("WARC-Target-URI") or "").strip("<>"), body))
    return out


def build_mix(out: Path) -> dict:
    """Write the mixed WARC; returns what it holds."""
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    from proofpile.config import read_list
    from proofpile.web.prefilter import MarkerMatcher

    matcher = MarkerMatcher(read_list(FILTERS / "math-markers.txt"), read_list(FILTERS / "latex-commands.txt"))
    demo = _pages(DEMO)
    math = [p for p in demo if matcher.first(p[1].decode("utf-8", "replace")) and "example.fr" not in p[0]
            and "people.example.edu" not in p[0] and "blocked" not in p[0]]
    plain, marked = [p for p in demo if not matcher.first(p[1].decode("utf-8", "replace"))], []
    for name in ("cc-main-2020-34-excerpt.warc.gz", "cc-main-2024-22-one-page.warc.gz", "homepages-mathjax.warc.gz"):
        if (FIXTURES / name).exists():
            for page in _pages(FIXTURES / name):
                (marked if matcher.first(page[1].decode("utf-8", "replace")) else plain).append(page)
    # real crawls: well under 1% of pages carry a math marker. Each marked non-math page (home pages that load
    # MathJax) appears once; the rest of the non-math share cycles through the unmarked pages.
    others = marked + [plain[i % len(plain)] for i in range(N_PAGES - N_MATH - len(marked))]
    step = len(others) // N_MATH
    pages = []
    for i, page in enumerate(others):
        if i % step == 0 and len(pages) - i < N_MATH:
            pages.append(math[(i // step) % len(math)])
        pages.append(page)
    buf = io.BytesIO()
    writer = WARCWriter(buf, gzip=True)
    for i, (url, body) in enumerate(pages):
        http = StatusAndHeaders("200 OK", [("Content-Type", "text/html; charset=utf-8")], protocol="HTTP/1.1")
        writer.write_record(writer.create_warc_record(
            f"{url}#{i}", "response", payload=io.BytesIO(body), http_headers=http,
            warc_headers_dict={"WARC-Record-ID": f"<urn:uuid:00000000-0000-0000-0000-{i:012d}>",
                               "WARC-Date": "2024-01-01T00:00:00Z"}))
    out.write_bytes(buf.getvalue())
    return {"pages": len(pages), "math_pages": len(pages) - len(others), "marked_non_math_pages": len(marked),
            "distinct_unmarked_pages": len(plain), "html_mb": round(sum(len(b) for _, b in pages) / 1e6, 1),
            "warc_mb": round(out.stat().st_size / 1e6, 1), "real_fixtures": FIXTURES.exists()}


def _drain(pipeline) -> int:
    return sum(1 for _ in pipeline)


def run(workdir: Path) -> list:
    from proofpile.web.extract import MathExtractor
    from proofpile.web.filters import LanguageIdFilter, MathScoreFilter, QualityFilter, UrlBlocklistFilter
    from proofpile.web.mathscore import ensure_default_model
    from proofpile.web.prefilter import MathPrefilter
    from proofpile.web.warc import HtmlWarcReader

    mix = build_mix(workdir / "mix.warc.gz")
    model = ensure_default_model(str(FILTERS / "mathscore-train.jsonl"), workdir / "mathscore-v2.bin")

    # One set of steps per side, warmed by a first pass and timed on the second: the models, the extractor's
    # sandbox process and the page cache are per-rank start-up costs that a production rank pays once for
    # thousands of WARCs, so neither side is timed with them.
    steps = [UrlBlocklistFilter(str(FILTERS / "url-blocklist.txt")),
             MathPrefilter(str(FILTERS / "math-markers.txt"), str(FILTERS / "latex-commands.txt")),
             MathExtractor(timeout=10), LanguageIdFilter(), MathScoreFilter(model), QualityFilter()]
    extractor = MathExtractor(timeout=10)

    def stage():
        pipeline = HtmlWarcReader(str(workdir), glob_pattern="mix.warc.gz").run()
        for step in steps:
            pipeline = step.run(pipeline)
        return _drain(pipeline)

    def extract_all():
        return _drain(extractor.run(HtmlWarcReader(str(workdir), glob_pattern="mix.warc.gz").run()))

    stage(), extract_all()  # warm
    passed_before = steps[1].stats.stats["forwarded"].total
    with timer() as t_stage:
        kept = stage()
    with timer() as t_all:
        extracted = extract_all()
    passed = steps[1].stats.stats["forwarded"].total - passed_before
    prefilter_figure = _prefilter_vs_regex(workdir)
    stage_pps, all_pps = mix["pages"] / t_stage(), mix["pages"] / t_all()
    return [figure(
        "web_stage_vs_extract_all", stage_pps / all_pps, "x", "math-aware extraction of every page",
        **mix, prefilter_passed=passed, prefilter_pass_rate=round(passed / mix["pages"], 4), kept=kept,
        extracted_all=extracted, stage_seconds=round(t_stage(), 3), extract_all_seconds=round(t_all(), 3),
        stage_pages_per_s=round(stage_pps, 1), extract_all_pages_per_s=round(all_pps, 1),
        stage_html_mb_per_s=round(mix["html_mb"] / t_stage(), 1),
        extract_all_html_mb_per_s=round(mix["html_mb"] / t_all(), 1), goal=">= 5x",
    ), prefilter_figure]


def _prefilter_vs_regex(workdir: Path, n_pages: int = 200) -> dict:
    """The prefilter's Aho-Corasick pass against one compiled case-insensitive regex of the same lists."""
    import re

    from proofpile.config import read_list
    from proofpile.web.prefilter import MarkerMatcher
    from proofpile.web.warc import HtmlWarcReader

    markers, commands = read_list(FILTERS / "math-markers.txt"), read_list(FILTERS / "latex-commands.txt")
    texts = [d.text for _, d in zip(range(n_pages), HtmlWarcReader(str(workdir), glob_pattern="mix.warc.gz").run())]
    matcher = MarkerMatcher(markers, commands)
    words = "|".join(re.escape(c) + ("(?![a-zA-Z])" if c[-1].isalpha() else "") for c in commands)
    regex = re.compile("|".join(re.escape(m) for m in markers) + "|" + words, re.IGNORECASE)
    with timer() as t_aho:
        hits_aho = sum(matcher.first(t) is not None for t in texts)
    with timer() as t_re:
        hits_re = sum(regex.search(t) is not None for t in texts)
    mb = sum(len(t) for t in texts) / 1e6
    return figure("web_prefilter_vs_regex", t_re() / t_aho(), "x", "one compiled case-insensitive regex",
                  pages=len(texts), html_mb=round(mb, 1), hits_aho=hits_aho, hits_regex=hits_re,
                  aho_mb_per_s=round(mb / t_aho(), 1), regex_mb_per_s=round(mb / t_re(), 1))
