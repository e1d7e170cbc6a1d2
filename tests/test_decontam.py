"""Decontamination: benchmark items planted in longer documents (whitespace and case changed) are found and
removed, ordinary math text is kept, and the report names the hits."""

import json
from pathlib import Path

import pytest
import yaml
from helpers import read_tree, write_shard

from proofpile.config import ConfigError, StageConfig
from proofpile.decontam.benchmarks import Benchmark, load_items, parse_benchmarks
from proofpile.decontam.ngrams import NGramDecontamination, build_index
from proofpile.stage import atomic_write, run_stage

PROJECT = Path(__file__).resolve().parents[1]
SAMPLES = PROJECT / "proofpile" / "samples" / "benchmarks"

ORDINARY = [
    "The derivative of a product is given by the product rule: if $u$ and $v$ are differentiable, then "
    "$(uv)' = u'v + uv'$. For example, the derivative of $x^2 \\sin x$ is $2x \\sin x + x^2 \\cos x$. The rule "
    "extends to three factors by applying it twice, and it is the source of integration by parts.",
    "A group is a set with an associative operation, an identity element and inverses. The integers under "
    "addition form a group, while the positive integers under multiplication do not, because $2$ has no inverse. "
    "Every subgroup of a cyclic group is cyclic, which one proves with the division algorithm.",
    "To solve a linear equation, isolate the unknown: subtract the same quantity from both sides, then divide. "
    "For instance, from $3x + 5 = 20$ we get $3x = 15$ and $x = 5$. Always check the answer by substitution.",
]


def disguise(text: str) -> str:
    """Changed case and whitespace, as a page or a PDF extraction would."""
    return "\n   ".join(text.upper().split(" "))


def plant(problem: str) -> str:
    return ORDINARY[0] + "\n\nHere is one from my homework set:  " + disguise(problem) + "\n\nThanks! " + ORDINARY[1]


def make_filter(tmp_path, benchmarks, n=13, report_n=30):
    build_index(benchmarks, sorted({n, report_n}), str(tmp_path / "index"))
    return NGramDecontamination(str(tmp_path / "index"), str(tmp_path / "hits"), n=n, report_n=report_n)


def run_filter(f, docs):
    from datatrove.data import Document

    out = list(f.run(iter([Document(text=t, id=i, metadata={"subset": "open-web-math"}) for i, t in docs])))
    return [d.id for d in out]


SAMPLE_BENCHMARKS = [Benchmark("math", str(SAMPLES / "math-test.jsonl"), ("problem", "solution")),
                     Benchmark("gsm8k", str(SAMPLES / "gsm8k-test.jsonl"), ("question", "answer"))]


def test_planted_items_are_removed_and_ordinary_math_is_kept(tmp_path):
    math_items, _ = load_items(SAMPLE_BENCHMARKS[0])
    gsm_items, _ = load_items(SAMPLE_BENCHMARKS[1])
    docs = [("plain-0", ORDINARY[0]), ("plain-1", ORDINARY[1]), ("plain-2", ORDINARY[2]),
            ("math-problem", plant(math_items[2]["problem"])),
            ("gsm-answer", plant(gsm_items[0]["answer"])),
            ("math-solution", plant(math_items[1]["solution"]))]
    f = make_filter(tmp_path, SAMPLE_BENCHMARKS)
    assert run_filter(f, docs) == ["plain-0", "plain-1", "plain-2"]
    assert f.stats["dropped_contaminated_math"].total == 2 and f.stats["dropped_contaminated_gsm8k"].total == 1
    hits = [json.loads(line) for line in (tmp_path / "hits" / "00000.jsonl").read_text().splitlines()]
    assert {(h["doc_id"], h["benchmark"], h["item"]) for h in hits if h["n"] == 13} == {
        ("math-problem", "math", 2), ("gsm-answer", "gsm8k", 0), ("math-solution", "math", 1)}


def test_shorter_than_n_items_are_not_indexed(tmp_path):
    path = tmp_path / "b.jsonl"
    path.write_text(json.dumps({"q": "What is 2 + 2?"}) + "\n")
    f = make_filter(tmp_path, [Benchmark("tiny", str(path), ("q",))])
    assert run_filter(f, [("d", "Quiz: what is 2 + 2? Four.")]) == ["d"]


def test_full_math_and_gsm8k_test_sets(shared_fixture, tmp_path):
    math_path, gsm_path = shared_fixture("benchmarks/math-test.jsonl"), shared_fixture("benchmarks/gsm8k-test.jsonl")
    benches = [Benchmark("math", str(math_path), ("problem", "solution")),
               Benchmark("gsm8k", str(gsm_path), ("question", "answer"))]
    rows = [json.loads(line) for line in math_path.read_text().splitlines()]
    gsm = [json.loads(line) for line in gsm_path.read_text().splitlines()]
    docs = [(f"plain-{i}", t) for i, t in enumerate(ORDINARY)]
    docs += [(f"math-{k}", plant(rows[k]["problem"])) for k in (0, 1234, 4999) if len(rows[k]["problem"]) > 120]
    docs += [("gsm-question", plant(gsm[100]["question"]))]
    f = make_filter(tmp_path, benches)
    kept = run_filter(f, docs)
    assert kept == ["plain-0", "plain-1", "plain-2"]
    hits = [json.loads(line) for line in (tmp_path / "hits" / "00000.jsonl").read_text().splitlines()]
    found = {(h["doc_id"], h["item"]) for h in hits if h["n"] == 30}
    for doc_id, _ in docs[3:]:
        if doc_id.startswith("math-"):
            assert (doc_id, int(doc_id.split("-")[1])) in found


# -- the stage ---------------------------------------------------------------------------------------------------





def run_decontam(root: Path, **params):
    overrides = {"executor": {"tasks": 2, "workers": 1}}
    if params:
        overrides["decontam"] = params
    cfg = StageConfig.load("decontam", PROJECT / "pipelines" / "decontam.yaml", data_root=root, overrides=overrides)
    run_stage(cfg)
    return cfg


def test_stage_removes_splits_and_reports(tmp_path):
    math_items, _ = load_items(SAMPLE_BENCHMARKS[0])
    web = [{"id": f"web-{i}", "text": t, "meta": {"subset": "open-web-math", "source": "t", "url": f"u{i}"}}
           for i, t in enumerate(ORDINARY)]
    web.append({"id": "web-contaminated", "text": plant(math_items[6]["solution"]),
                "meta": {"subset": "open-web-math", "source": "t"}})
    write_shard(tmp_path / "dedup" / "open-web-math" / "00000.jsonl.zst", web)
    write_shard(tmp_path / "dedup" / "arxiv" / "00000.jsonl.zst",
                [{"id": f"ax-{i}", "text": ORDINARY[i % 3] + f" Remark {i}.",
                  "meta": {"subset": "arxiv", "source": "t"}} for i in range(300)])
    atomic_write(tmp_path / "markers" / "dedup.json", b"{}")
    run_decontam(tmp_path, splits={"validation": 0.05, "test": 0.05})
    out = read_tree(tmp_path / "decontam")
    ids = {r["id"] for recs in out.values() for r in recs}
    assert "web-contaminated" not in ids and {"web-0", "web-1", "web-2"} <= ids and len(ids) == 303
    for path, records in out.items():
        subset, split, _ = Path(path).parts
        assert split in ("train", "validation", "test")
        assert all(r["meta"]["split"] == split and r["meta"]["subset"] == subset for r in records)
    assert {Path(p).parts[1] for p in out if p.startswith("arxiv")} == {"train", "validation", "test"}
    by_id = {r["id"]: r for recs in out.values() for r in recs}
    assert by_id["web-0"]["meta"]["url"] == "u0"  # provenance kept
    report = json.loads((tmp_path / "decontam" / "report.json").read_text())
    assert report["documents_checked"] == 304 and report["documents_removed"] == 1
    assert report["removed_by_reason"] == {"contaminated_math": 1}
    assert report["hits_30gram"][0]["benchmark"] == "math" and report["hits_30gram"][0]["item"] == 6
    assert report["hits_30gram"][0]["documents"][0]["doc_id"] == "web-contaminated"
    md = (tmp_path / "decontam" / "report.md").read_text()
    assert "web-contaminated" in md and "math #6" in md
    # nothing but contract shards under decontam/<subset>/<split>/
    assert all(p.suffixes[-2:] == [".jsonl", ".zst"] for p in (tmp_path / "decontam").glob("*/*/*"))


def test_benchmark_list_is_validated(tmp_path):
    with pytest.raises(ConfigError):
        parse_benchmarks([{"name": "math", "path": "x.jsonl"}])
    with pytest.raises(ConfigError):
        parse_benchmarks([{"name": "m", "path": "a", "fields": ["q"]}, {"name": "m", "path": "b", "fields": ["q"]}])
    with pytest.raises(ConfigError):
        parse_benchmarks([{"name": "bad name", "path": "a", "fields": ["q"]}])
    with pytest.raises(FileNotFoundError):
        load_items(Benchmark("missing", str(tmp_path / "nope.jsonl"), ("q",)))


def test_hub_benchmark_offline_is_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    with pytest.raises(FileNotFoundError, match="Hub"):
        load_items(Benchmark("gsm8k", "hf://datasets/openai/gsm8k/main/test-00000-of-00001.parquet",
                             ("question", "answer")))


def test_benchmark_list_file_names_existing_files_with_their_fields():
    """filters/decontam/benchmarks.yaml: every entry parses, its file exists and every item has its fields."""
    raw = yaml.safe_load((PROJECT / "filters" / "decontam" / "benchmarks.yaml").read_text())
    benches = parse_benchmarks(raw, lambda p: str(PROJECT / p))
    assert {b.name for b in benches} == {"math", "gsm8k"}
    for bench in benches:
        items, incomplete = load_items(bench)
        assert items and incomplete == 0, bench


def test_demo_benchmark_samples_are_up_to_date(tmp_path):
    """The committed sample files are what make_samples.py writes."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_samples", SAMPLES / "make_samples.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.HERE = tmp_path
    module.main()
    for name in ("math-test.jsonl", "gsm8k-test.jsonl"):
        assert (tmp_path / name).read_bytes() == (SAMPLES / name).read_bytes()


def test_stage_with_no_documents(tmp_path):
    (tmp_path / "dedup").mkdir()
    atomic_write(tmp_path / "markers" / "dedup.json", b"{}")
    run_decontam(tmp_path)
    report = json.loads((tmp_path / "decontam" / "report.json").read_text())
    assert report["documents_checked"] == 0 and report["documents_removed"] == 0
