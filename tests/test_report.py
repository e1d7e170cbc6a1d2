"""The report stage on a synthetic data root: counts per subset/split/language/source, tokens from the tokenize
stage's stats, the funnel from real datatrove stats.json files, top domains, Markdown + HTML + PNG + terminal."""

import json
from pathlib import Path

import pytest
import zstandard
from datatrove.data import Document
from test_executors import Measure, RegexFilter, make_inputs

from proofpile.config import StageConfig
from proofpile.contract import ContractReader, ContractWriter, dumps
from proofpile.executors import build_executor
from proofpile.report import domain_of, step_funnel
from proofpile.stage import run_stage

DOCS = [  # subset, split, lang, source, url, text
    ("open-web-math", "train", "en", "warc", "https://www.math.stackexchange.com/q/1", "Let $x=1$."),
    ("open-web-math", "train", "en", "warc", "https://math.stackexchange.com/q/2", "Then $y = x^2$ holds."),
    ("open-web-math", "train", "de", "warc", "https://mathoverflow.net/a/3", "Sei ε > 0."),
    ("open-web-math", "test", "en", "warc", "https://mathoverflow.net/a/4", "Proof. Trivial."),
    ("algebraic-stack", "train", "lean", "github", None, "theorem t : 1 = 1 := rfl"),
    ("algebraic-stack", "validation", "python", "stack", None, "import sympy"),
    ("arxiv", "train", "en", "arxiv-src", None, "\\section{Intro} We prove"),
]


def shard(path: Path, docs) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(zstandard.ZstdCompressor().compress(b"".join(dumps(d) for d in docs)))


@pytest.fixture
def data_root(tmp_path):
    root = tmp_path / "root"
    by_folder = {}
    for i, (subset, split, lang, source, url, text) in enumerate(DOCS):
        meta = {"subset": subset, "split": split, "lang": lang, "source": source, **({"url": url} if url else {})}
        if i == 5:
            del meta["split"]  # the split folder still says it
        by_folder.setdefault((subset, split), []).append(Document(text=text, id=f"d{i}", metadata=meta))
    for (subset, split), docs in by_folder.items():
        shard(root / "decontam" / subset / split / "00000.jsonl.zst", docs)
    tok = root / "tokenized" / "mistral-v1"
    tok.mkdir(parents=True)
    (tok / "stats.json").write_text(json.dumps({
        "format": "proofpile-tokenized/1", "totals": {"documents": 7, "tokens": 1000, "shards": 3},
        "counts": [{"subset": "open-web-math", "split": "train", "lang": "en", "documents": 2, "tokens": 300},
                   {"subset": "open-web-math", "split": "train", "lang": "de", "documents": 1, "tokens": 100},
                   {"subset": "open-web-math", "split": "test", "lang": "en", "documents": 1, "tokens": 50},
                   {"subset": "algebraic-stack", "split": "train", "lang": "lean", "documents": 1, "tokens": 200},
                   {"subset": "algebraic-stack", "split": "validation", "lang": None, "documents": 1, "tokens": 150},
                   {"subset": "arxiv", "split": "train", "lang": "en", "documents": 1, "tokens": 200}]}))
    (root / "manifests").mkdir()
    (root / "manifests" / "mix.json").write_text(json.dumps({"name": "mix", "shards": [
        {"path": "tokenized/mistral-v1/arxiv/train/shard-00000.arrow", "subset": "arxiv", "split": "train",
         "documents": 1, "tokens": 200},
        {"path": "x", "subset": "open-web-math", "split": "train", "documents": 3, "tokens": 400}]}))
    (root / "markers").mkdir()
    (root / "markers" / "manifest.json").write_text("{}")
    # a real datatrove stats.json: a reader that meets a bad line, a filter with reasons, a writer
    web_in = make_inputs(tmp_path / "web-in", files=2, docs=10)
    (web_in / "in-000.jsonl.zst").write_bytes(
        zstandard.ZstdCompressor().compress(zstandard.ZstdDecompressor().decompress(
            (web_in / "in-000.jsonl.zst").read_bytes()) + b"{not json\n"))
    (tmp_path / "common.yaml").write_text("data_root: root\nexecutor: {kind: local, tasks: 2, workers: 1}\n")
    (tmp_path / "report.yaml").write_text("include: common.yaml\nreport: {top_domains: 5}\n")
    cfg = StageConfig.load("report", tmp_path / "report.yaml")
    build_executor(cfg, [ContractReader(str(web_in)), RegexFilter("DROPME"), Measure(),
                         ContractWriter(str(tmp_path / "web-out"))], str(root / "logs" / "web")).run()
    return cfg


def test_report_counts_tokens_funnel_domains(data_root, capsys):
    run_stage(data_root)
    reports = data_root.data_root / "reports"
    report = json.loads((reports / "report.json").read_text())
    assert report["documents_from"] == "decontam"
    assert report["totals"]["documents"] == 7
    assert report["totals"]["bytes"] == sum(len(d[-1].encode()) for d in DOCS)
    assert report["totals"]["tokens:mistral-v1"] == 1000
    by_subset = {tuple(r["key"]): r for r in report["by_subset"]}
    assert by_subset[("open-web-math",)]["documents"] == 4
    assert by_subset[("open-web-math",)]["tokens:mistral-v1"] == 450
    split = {tuple(r["key"]): r for r in report["by_subset_split"]}
    assert split[("algebraic-stack", "validation")]["documents"] == 1, "split taken from the folder"
    lang = {tuple(r["key"]): r for r in report["by_language"]}
    assert lang[("open-web-math", "de")] == {"key": ["open-web-math", "de"], "documents": 1,
                                             "bytes": len("Sei ε > 0.".encode()), "tokens:mistral-v1": 100}
    source = {tuple(r["key"]): r for r in report["by_source"]}
    assert source[("algebraic-stack", "github")]["documents"] == 1
    assert dict(report["top_domains"]) == {"math.stackexchange.com": 2, "mathoverflow.net": 2}
    assert report["manifests"][0]["rows"] == [["arxiv", "train", 1, 200], ["open-web-math", "train", 3, 400]]
    # the funnel of the web stage from datatrove's own stats.json
    (web,) = [f for f in report["funnels"] if f["stage"] == "web"]
    steps = {s["step"].split(": ", 1)[-1]: s for s in web["steps"]}
    assert steps["📜 Contract reader"] == {"step": "📖 - READER: 📜 Contract reader", "in": 21, "kept": 20,
                                          "dropped": 1, "reasons": {"bad_json": 1}}
    assert (steps["🕵 Regex"]["in"], steps["🕵 Regex"]["kept"], steps["🕵 Regex"]["dropped"]) == (20, 16, 4)
    assert steps["📜 Contract writer"]["kept"] == 16
    assert not [f for f in report["funnels"] if f["stage"] == "report"]
    # renderings
    md = (reports / "report.md").read_text()
    assert "| open-web-math | 4 |" in md and "bad_json: 1" in md and "![" in md
    page = (reports / "report.html").read_text()
    for png in ("subsets.png", "funnel-web.png", "domains.png"):
        assert (reports / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert f'src="{png}"' in page
    out = capsys.readouterr().out
    assert "== Documents per subset ==" in out and "math.stackexchange.com" in out and "1,000" in out


def test_report_is_deterministic(data_root):
    run_stage(data_root)
    reports = data_root.data_root / "reports"
    first = {p.name: p.read_bytes() for p in reports.iterdir() if p.is_file()}
    run_stage(data_root, force=True)
    assert {p.name: p.read_bytes() for p in reports.iterdir() if p.is_file()} == first


def test_report_without_tokens_or_documents_says_so(tmp_path):
    (tmp_path / "common.yaml").write_text("data_root: root\nexecutor: {kind: local, tasks: 1}\n")
    (tmp_path / "report.yaml").write_text("include: common.yaml\nreport: {}\n")
    cfg = StageConfig.load("report", tmp_path / "report.yaml")
    (cfg.data_root / "markers").mkdir(parents=True)
    (cfg.data_root / "markers" / "manifest.json").write_text("{}")
    run_stage(cfg)
    md = (cfg.data_root / "reports" / "report.md").read_text()
    assert "token counts are not reported" in md and "read from `nothing`" in md


def test_step_funnel_reads_counter_shapes():
    step = {"name": "🔻 - FILTER: lang", "stats": {"total": {"total": 10, "n": 2, "unit": "task"}, "forwarded": 7,
                                                  "dropped": 3, "dropped_lang": 2, "dropped_short": 1}}
    assert step_funnel(step) == {"step": "🔻 - FILTER: lang", "in": 10, "kept": 7, "dropped": 3,
                                 "reasons": {"lang": 2, "short": 1}}
    other = step_funnel({"name": "x", "stats": {"documents": 5, "dropped_dup": 2}})
    assert (other["in"], other["kept"], other["dropped"]) == (5, 3, 2)
    assert domain_of("https://WWW.Example.org:8080/x") == "example.org" and domain_of("http://[bad") == "(bad url)"
