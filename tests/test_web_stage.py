"""The whole web stage: the demo WARC through `proofpile web`, bad input through the pipeline, the demo's bytes."""

import io
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import zstandard
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from proofpile.config import ConfigError, StageConfig
from proofpile.stage import inputs
from proofpile.stages import web as web_stage

PROJECT = Path(__file__).resolve().parents[1]
CONFIG = PROJECT / "pipelines" / "web.yaml"
DEMO = PROJECT / "proofpile" / "samples" / "web" / "demo.warc.gz"
MATH_URLS = {
    "https://notes.example.org/probability/bayes-theorem",
    "https://forum.example.net/questions/4821/sum-of-first-n-odd-numbers",
    "https://calculus.example.com/lessons/fundamental-theorem",
    "https://wiki.example.org/wiki/Quadratic_formula",
    "https://homework.example.edu/algebra/geometric-series.html",
}


def read_shards(folder: Path) -> list[dict]:
    records = []
    for shard in sorted(folder.glob("*.jsonl.zst")):
        data = zstandard.ZstdDecompressor().stream_reader(shard.open("rb")).read()
        records += [json.loads(line) for line in data.decode().splitlines()]
    return records


def stats_by_step(root: Path) -> dict:
    stats = json.loads((root / "logs" / "web" / "stats.json").read_text())
    return {s["name"].split(": ", 1)[1]: s["stats"] for s in stats}


def total(value):
    return value["total"] if isinstance(value, dict) else value


def run_cli(root: Path, *extra: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    return subprocess.run([sys.executable, "-m", "proofpile.cli", "web", "--config", str(CONFIG), "--data-root",
                           str(root), *extra], capture_output=True, text=True, cwd=PROJECT, env=env, timeout=300)


@pytest.fixture(scope="module")
def demo_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("web-demo")
    proc = run_cli(root)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return root


@pytest.mark.slow
def test_demo_keeps_math_pages_and_drops_the_rest_with_reasons(demo_root):
    records = read_shards(demo_root / "web")
    assert {r["meta"]["url"] for r in records} == MATH_URLS
    for r in records:
        meta = r["meta"]
        assert meta["subset"] == "open-web-math" and meta["source"] == "warc"
        assert r["id"] == meta["warc_record_id"] and r["id"].startswith("urn:uuid:")
        assert meta["warc_file"] == "demo.warc.gz" and isinstance(meta["warc_offset"], int)
        assert "crawl" in meta and meta["lang"] == "en" and meta["lang_score"] >= 0.5
        assert meta["math_score"] >= 0.5
        assert meta["math_inline"] + meta["math_display"] > 0 and meta["math_sources"]
        assert "$" in r["text"] and "<" not in r["text"][:50]
    by_url = {r["meta"]["url"]: r for r in records}
    assert "\\frac{P(B \\mid A)\\, P(A)}{P(B)}" in by_url["https://notes.example.org/probability/bayes-theorem"]["text"]
    assert "na\u00efve" in by_url["https://homework.example.edu/algebra/geometric-series.html"]["text"]

    steps = stats_by_step(demo_root)
    reader = steps["🕷 HTML WARC"]
    assert total(reader["responses"]) == 14
    assert total(reader["dropped_not_html"]) == 1 and total(reader["dropped_http_status"]) == 1
    assert total(reader["dropped_clipped_record"]) == 1
    assert total(steps["⛔ URL blocklist"]["dropped_blocked_domain"]) == 1
    assert total(steps["🧮 Math prefilter"]["dropped_no_math_marker"]) == 3  # news, recipe, shop
    assert total(steps["🌍 Language ID (lid.176)"]["dropped_language"]) == 1  # the French page
    assert total(steps["📐 MathScore"]["dropped_math_score"]) == 1  # a home page that loads MathJax
    assert (demo_root / "models" / "mathscore-v2.bin").exists()
    assert (demo_root / "markers" / "web.json").exists()


@pytest.mark.slow
def test_demo_output_is_deterministic(demo_root, tmp_path):
    proc = run_cli(tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    a = sorted((demo_root / "web").glob("*.jsonl.zst"))
    b = sorted((tmp_path / "web").glob("*.jsonl.zst"))
    assert [p.name for p in a] == [p.name for p in b]
    assert all(x.read_bytes() == y.read_bytes() for x, y in zip(a, b))
    assert (demo_root / "models" / "mathscore-v2.bin").read_bytes() == (tmp_path / "models" / "mathscore-v2.bin").read_bytes()


def test_demo_warc_is_reproducible():
    from proofpile.samples.web.make_demo_warc import build

    assert build() == DEMO.read_bytes()


def test_config_errors(tmp_path):
    with pytest.raises(ConfigError, match="warcs"):
        StageConfig.load("web", CONFIG, data_root=tmp_path, overrides={"web": {"warcs": None}})
    with pytest.raises(ConfigError, match="base_url"):
        StageConfig.load("web", CONFIG, data_root=tmp_path,
                         overrides={"web": {"warcs": None, "paths_file": "x/warc.paths.gz"}})
    cfg = StageConfig.load("web", CONFIG, data_root=tmp_path, overrides={"web": {"mathscore": {"model": "nope-v1.bin"}}})
    with pytest.raises(FileNotFoundError):
        web_stage.mathscore_model(cfg)


def test_inputs_list_the_local_files_the_stage_reads(tmp_path):
    cfg = StageConfig.load("web", CONFIG, data_root=tmp_path)
    got = {os.path.relpath(p, PROJECT) for p in inputs(cfg)}
    assert got == {"proofpile/samples/web", "filters/web/url-blocklist.txt", "filters/web/math-markers.txt",
                   "filters/web/latex-commands.txt", "filters/web/mathscore-train.jsonl",
                   "filters/web/mathscore-real.jsonl",
                   "filters/web/boilerplate-lines.txt", "filters/web/boilerplate-patterns.txt",
                   "filters/web/skip-elements.txt"}


def test_missing_kenlm_skips_perplexity_with_a_clear_error(tmp_path, monkeypatch):
    from proofpile.web import filters

    monkeypatch.setattr(filters, "kenlm_available", lambda: False)
    messages = []
    from datatrove.utils.logging import logger

    handler = logger.add(lambda m: messages.append(str(m)), level="ERROR")
    try:
        cfg = StageConfig.load("web", CONFIG, data_root=tmp_path,
                               overrides={"web": {"quality": {"kenlm_model": "models/en.arpa"}}})
        steps = web_stage.build_steps(cfg, "unused-v1.bin")
    finally:
        logger.remove(handler)
    assert not any(isinstance(s, filters.PerplexityFilter) for s in steps)
    assert any("kenlm" in m and "SKIPPED" in m for m in messages)


def _warc(records) -> bytes:
    out = io.BytesIO()
    writer = WARCWriter(out, gzip=True)
    for i, (url, body) in enumerate(records):
        http = StatusAndHeaders("200 OK", [("Content-Type", "text/html")], protocol="HTTP/1.1")
        writer.write_record(writer.create_warc_record(
            url, "response", payload=io.BytesIO(body), http_headers=http,
            warc_headers_dict={"WARC-Record-ID": f"<urn:uuid:00000000-0000-0000-0000-{i:012d}>"}))
    return out.getvalue()


@pytest.mark.slow
def test_pathological_pages_are_bounded_and_counted(tmp_path):
    """A 50 MB math page and a 100,000-deep DOM reach the extractor (the size cap raised past them) and cost at
    most its per-record time limit each; the good page after them still comes out."""
    from proofpile.web.extract import MathExtractor
    from proofpile.web.prefilter import MathPrefilter
    from proofpile.web.warc import HtmlWarcReader

    head = b"<html><head><script src='https://cdn.example/MathJax.js'></script></head><body>"
    big = head + b"<p>word \\(x\\) and more text here</p>" * 1_500_000 + b"</body></html>"
    deep = head + b"<div>" * 100_000 + b"deep \\(a^2\\)" + b"</div>" * 100_000 + b"</body></html>"
    good = head + b"<p>Since \\(a^2 + b^2 = c^2\\), the triangle is right-angled.</p></body></html>"
    (tmp_path / "bad.warc.gz").write_bytes(_warc([("http://a.example/big", big), ("http://a.example/deep", deep),
                                                  ("http://a.example/good", good)]))
    reader = HtmlWarcReader(str(tmp_path), max_page_bytes=64_000_000)
    prefilter = MathPrefilter(str(PROJECT / "filters/web/math-markers.txt"))
    extractor = MathExtractor(timeout=2)
    start = time.monotonic()
    docs = list(extractor.run(prefilter.run(reader.run())))
    elapsed = time.monotonic() - start
    urls = [d.metadata["url"] for d in docs]
    assert "http://a.example/good" in urls and "http://a.example/big" not in urls
    assert elapsed < 30
    stats = extractor.stats.stats
    assert stats["dropped_timeout"].total >= 1


@pytest.mark.slow
def test_real_crawl_pages_without_math_are_all_dropped(shared_fixture, tmp_path):
    """The shared real WARCs hold no math page: the prefilter drops the plain pages, MathScore the home pages that
    load MathJax, and the clipped record is a counted error."""
    from proofpile.stage import run_stage

    folder = shared_fixture("warc/homepages-mathjax.warc.gz").parent
    config = tmp_path / "web.yaml"
    config.write_text(f"include: {CONFIG}\nweb:\n  warcs: {folder}/*.warc.gz\n")
    cfg = StageConfig.load("web", config, data_root=tmp_path / "root", overrides={"executor": {"tasks": 1}})
    run_stage(cfg)
    assert read_shards(tmp_path / "root" / "web") == []
    steps = stats_by_step(tmp_path / "root")
    assert total(steps["🕷 HTML WARC"]["dropped_clipped_record"]) == 1
    # the prefilter runs inside the reader: only the pages that pass become documents, its drops are its own
    assert total(steps["🕷 HTML WARC"]["responses"]) == 16 + 22 + 1 + 1
    assert total(steps["🕷 HTML WARC"]["documents"]) == 9
    assert total(steps["🧮 Math prefilter"]["dropped_no_math_marker"]) == 16 + 13 + 1
    assert total(steps["🧮 Math prefilter"]["total"]) == 16 + 22 + 1
    assert total(steps["📐 MathScore"]["dropped_math_score"]) == 9


@pytest.mark.slow
def test_write_dropped_keeps_what_the_filters_dropped(tmp_path):
    from proofpile.stage import run_stage

    cfg = StageConfig.load("web", CONFIG, data_root=tmp_path,
                           overrides={"web": {"write_dropped": True}, "executor": {"tasks": 1}})
    run_stage(cfg)
    dropped = tmp_path / "logs" / "web" / "dropped"
    [home] = read_shards(dropped / "mathscore")
    assert home["meta"]["url"] == "https://people.example.edu/~jdoe/"
    assert home["meta"]["filter_reason"] == "math_score" and home["meta"]["math_score"] < 0.5
    [french] = read_shards(dropped / "language")
    assert french["meta"]["lang"] == "fr" and french["meta"]["filter_reason"] == "language"
    assert {r["meta"]["url"] for r in read_shards(tmp_path / "web")} == MATH_URLS
