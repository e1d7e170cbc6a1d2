"""Decontamination: benchmark items planted in longer documents (whitespace and case changed) are found and
removed, ordinary math text is kept, and the report names the hits."""

import itertools
import json
from pathlib import Path

import pytest
import yaml
from helpers import read_tree, write_shard

from proofpile.config import ConfigError, StageConfig
from proofpile.decontam.benchmarks import Benchmark, load_items, parse_benchmarks
from proofpile.decontam.ngrams import NGramDecontamination, build_index
from proofpile.decontam.words import NgramHasher, WordHasher, _attach_scripts
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


def make_filter(tmp_path, benchmarks, **kwargs):
    index_args = {k: kwargs.pop(k) for k in ("reference", "max_items_per_ngram") if k in kwargs}
    summary = build_index(benchmarks, str(tmp_path / "index"), **index_args)
    f = NGramDecontamination(str(tmp_path / "index"), str(tmp_path / "hits"), **kwargs)
    f.summary = summary
    return f


def run_filter(f, docs, subset="open-web-math"):
    from datatrove.data import Document

    out = list(f.run(iter([Document(text=t, id=i, metadata={"subset": subset}) for i, t in docs])))
    return [d.id for d in out]


def hits(tmp_path):
    return [json.loads(line) for line in (tmp_path / "hits" / "00000.jsonl").read_text().splitlines()]


SAMPLE_BENCHMARKS = [Benchmark("math", str(SAMPLES / "math-test.jsonl"), ("problem", "solution")),
                     Benchmark("gsm8k", str(SAMPLES / "gsm8k-test.jsonl"), ("question", "answer"))]


def test_words_keep_math_apart_and_ignore_spelling():
    w = lambda text: WordHasher().hashes(text).tolist()  # noqa: E731
    assert WordHasher().words("a, b; c.") == ["a", "b", "c"]
    assert w("$x^2 + 1$") != w("$x_2 + 1$") and w("x^{2}") == w("x^2") and w("x_{ 2 }") == w("x_2")
    assert w(r"\left(\dfrac{1}{2}\right)") == w(r"(\frac{1}{2})") == w(r"\Big( \tfrac{1}{2} \Big)")
    assert len(w("a, b; c.")) == 3  # punctuation is not a word
    assert w("Thirteen   WORDS\n wrapped") == w("thirteen words wrapped")
    assert w(r"x \leq 2 \text{ cm}") == w(r"x \le 2 cm")
    assert w(r"\frac{a}{b}") != w(r"\sqrt{a}{b}")


def test_scripts_attach_as_the_spelled_out_replacements_do():
    # _attach_scripts against the plain replacements it stands for, on every short string of the bytes that matter
    # (deleting one byte could, in principle, make a new pair); without ^ or _ nothing needs attaching
    def replaced(s: bytes) -> bytes:
        return s.replace(b"{ ", b"{").replace(b"^ ", b"^").replace(b"_ ", b"_").replace(b"^{", b"^").replace(b"_{", b"_")

    for n in range(1, 7):
        for chars in itertools.product(b"{^_ x", repeat=n):
            s = bytes(chars)
            assert _attach_scripts(s) == (replaced(s) if b"^" in s or b"_" in s else s), s


def test_batch_words_are_each_texts_own():
    hasher = WordHasher()
    batch = hasher.batch(["a b", "", "c\0d e", "f^{2}"])
    assert [batch.words(t) for t in range(4)] == [["a", "b"], [], ["c", "d", "e"], ["f", "^2"]]
    assert hasher.batch(["c\0d e"]).hashes.tolist() == hasher.hashes("c d e").tolist()
    assert hasher.batch([]).first.tolist() == [0]


def test_ngram_hashes_are_windows_of_the_same_words():
    hasher, ngrams = WordHasher(), NgramHasher()
    doc = hasher.hashes("one two three four five six")
    part = hasher.hashes("three four five")
    assert ngrams.of(doc, 3)[2] == ngrams.of(part, 3)[0]
    assert len(set(ngrams.of(doc, 3).tolist())) == 4 and ngrams.of(doc, 7).size == 0


def test_planted_problems_are_removed_and_ordinary_math_is_kept(tmp_path):
    math_items, _ = load_items(SAMPLE_BENCHMARKS[0])
    gsm_items, _ = load_items(SAMPLE_BENCHMARKS[1])
    docs = [("plain-0", ORDINARY[0]), ("plain-1", ORDINARY[1]), ("plain-2", ORDINARY[2]),
            ("math-problem", plant(math_items[2]["problem"])),
            ("gsm-question", plant(gsm_items[0]["question"])),
            ("short-problem", plant(math_items[5]["problem"])),  # "Compute $\cos 300^\circ$." whole
            # a solution is not what identifies an item: reported as a 30-gram overlap, not removed
            ("math-solution", plant(math_items[6]["solution"]))]
    f = make_filter(tmp_path, SAMPLE_BENCHMARKS)
    assert run_filter(f, docs) == ["plain-0", "plain-1", "plain-2", "math-solution"]
    assert f.stats["dropped_contaminated_math"].total == 2 and f.stats["dropped_contaminated_gsm8k"].total == 1
    found = {(h["doc_id"], h["benchmark"], h["item"]) for h in hits(tmp_path) if h["action"]}
    assert found == {("math-problem", "math", 2), ("gsm-question", "gsm8k", 0), ("short-problem", "math", 5)}
    record = next(h for h in hits(tmp_path) if h["doc_id"] == "math-problem")
    assert record["share"] == 1.0 and " ".join(record["span"].split()).startswith("a bag holds $5$ red marbles")
    assert record["overlap_30"] is True
    assert [(h["doc_id"], h["item"], h["action"]) for h in hits(tmp_path) if h["doc_id"] == "math-solution"] == [
        ("math-solution", 6, None)]
    assert f.stats["llemma30/open-web-math/math"].total == 2  # the planted problem and the solution
    assert f.stats["total"].total == 7 and f.stats["forwarded"].total == 4 and f.stats["batches"].total == 1
    # the same, a few documents' text at a time: each batch is looked up on its own, the counts add up
    small = NGramDecontamination(str(tmp_path / "index"), str(tmp_path / "hits-small"), batch_chars=600)
    assert run_filter(small, docs) == ["plain-0", "plain-1", "plain-2", "math-solution"]
    totals = lambda step: {k: v.total for k, v in step.stats.stats.items() if k != "batches"}  # noqa: E731
    assert small.stats["batches"].total > 3 and totals(small) == totals(f)
    assert small.stats.stats.to_dict()["checked/open-web-math"] == 7  # a plain count, as datatrove writes one


def test_a_few_shared_ngrams_or_the_words_without_the_numbers_are_not_contamination(tmp_path):
    math_items, _ = load_items(SAMPLE_BENCHMARKS[0])
    problem = math_items[2]["problem"]  # "A bag holds 5 red marbles and 3 blue marbles. Two marbles are drawn..."
    first_half = " ".join(problem.split()[:14])
    other_numbers = problem.replace("$5$", "$7$").replace("$3$", "$4$")
    f = make_filter(tmp_path, SAMPLE_BENCHMARKS)
    docs = [("half", ORDINARY[0] + " " + first_half + " ... " + ORDINARY[1]), ("sibling", plant(other_numbers))]
    assert run_filter(f, docs) == ["half", "sibling"]
    f2 = make_filter(tmp_path / "loose", SAMPLE_BENCHMARKS, min_share=0.05)
    assert run_filter(f2, [("half", ORDINARY[0] + " " + first_half + " ... " + ORDINARY[1])]) == []


def test_ngrams_in_many_items_or_in_the_reference_corpus_are_ignored(tmp_path):
    template = ("Consider the following quantity carefully, take your time, write down every step of the work, "
                "check each step twice and then tell me what is the value of the expression")  # 30 words
    path = tmp_path / "b.jsonl"
    path.write_text("".join(json.dumps({"q": f"{template} of {a} and {b}?"}) + "\n"
                            for a, b in (("alpha", "beta"), ("gamma", "delta"), ("epsilon", "zeta"))))
    bench = [Benchmark("tpl", str(path), ("q",))]
    doc = [("tpl", f"Homework: {template} of eta and theta?")]
    assert run_filter(make_filter(tmp_path / "a", bench, max_items_per_ngram=3), doc) == []
    assert run_filter(make_filter(tmp_path / "b", bench), doc) == ["tpl"]
    # a clean reference corpus where a phrase is common makes it generic too
    ref = tmp_path / "ref"
    ref.mkdir()
    for i in range(2):
        (ref / f"{i}.txt").write_text(f"Page {i}: {template} is a question we hear often.")
    single = tmp_path / "one.jsonl"
    single.write_text(json.dumps({"q": f"{template} of alpha and beta?"}) + "\n")
    one = [Benchmark("one", str(single), ("q",))]
    assert run_filter(make_filter(tmp_path / "d", one), doc) == []
    f = make_filter(tmp_path / "e", one, reference=[str(ref / "0.txt"), str(ref / "1.txt")])
    assert f.summary["_ignored_ngrams"]["in_reference_corpus"] == 18
    assert run_filter(f, doc) == ["tpl"]


def test_report_action_keeps_the_document_and_counts_it(tmp_path):
    math_items, _ = load_items(SAMPLE_BENCHMARKS[0])
    f = make_filter(tmp_path, SAMPLE_BENCHMARKS, actions={"arxiv": "report"})
    assert run_filter(f, [("p", plant(math_items[2]["problem"]))], subset="arxiv") == ["p"]
    assert f.stats["reported_math"].total == 1 and f.stats["flagged/arxiv/math"].total == 1
    assert hits(tmp_path)[0]["action"] == "report"
    with pytest.raises(ValueError):
        NGramDecontamination(str(tmp_path / "index"), str(tmp_path / "h"), action="delete")


def test_items_shorter_than_three_words_are_not_indexed(tmp_path):
    path = tmp_path / "b.jsonl"
    path.write_text(json.dumps({"q": "Compute $7!$."}) + "\n")
    f = make_filter(tmp_path, [Benchmark("tiny", str(path), ("q",))])
    assert f.summary["tiny"]["not_indexed"] == 1
    assert run_filter(f, [("d", "Quiz: compute 7! Easy.")]) == ["d"]


GENERIC = [  # what MATH solutions share with any page doing the same algebra (issue 13)
    r"By the quadratic formula, $x = \frac{-b \pm \sqrt{b^2-4ac}}{2a}$, and here the roots are real.",
    r"We know that $\sin 60^\circ = \dfrac{\sqrt{3}}{2}$ and so the height is $\dfrac{\sqrt{3}}{2} s$.",
    r"The odd numbers $3, 5, 7, 9, 11, 13, 15$ are listed, and $\left(\frac{1}{2}\right)^2 = \frac14$.",
    r"A matrix $\begin{pmatrix} a & b \\ c & d \end{pmatrix}$ is invertible when $ad - bc \neq 0$.",
]


def test_full_math_and_gsm8k_test_sets(shared_fixture, tmp_path):
    math_path, gsm_path = shared_fixture("benchmarks/math-test.jsonl"), shared_fixture("benchmarks/gsm8k-test.jsonl")
    benches = [Benchmark("math", str(math_path), ("problem", "solution")),
               Benchmark("gsm8k", str(gsm_path), ("question", "answer"))]
    rows = [json.loads(line) for line in math_path.read_text().splitlines()]
    gsm = [json.loads(line) for line in gsm_path.read_text().splitlines()]
    docs = [(f"plain-{i}", t) for i, t in enumerate(ORDINARY)]
    docs += [("generic", "\n\n".join(GENERIC * 3))]
    docs += [(f"math-{k}", plant(rows[k]["problem"])) for k in (0, 1234, 4999)]
    docs += [("gsm-question", plant(gsm[100]["question"]))]
    f = make_filter(tmp_path, benches)
    assert run_filter(f, docs) == ["plain-0", "plain-1", "plain-2", "generic"]
    found = {(h["doc_id"], h["item"]) for h in hits(tmp_path) if h["action"]}
    assert found == {("math-0", 0), ("math-1234", 1234), ("math-4999", 4999), ("gsm-question", 100)}


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
    web.append({"id": "web-contaminated", "text": plant(math_items[6]["problem"]),
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
    rows = {(r["benchmark"], r["subset"]): r for r in report["table"]}
    assert rows[("math", "open-web-math")]["documents_checked"] == 4
    assert rows[("math", "open-web-math")]["documents_removed"] == 1
    assert rows[("math", "arxiv")] == {**rows[("math", "arxiv")], "documents_checked": 300, "documents_removed": 0}
    assert rows[("math", "open-web-math")]["documents_overlap_30gram"] == 1
    assert report["most_matched_items"]["math"][0]["item"] == 6
    assert report["most_matched_items"]["math"][0]["doc_id"] == "web-contaminated"
    flagged = [json.loads(line) for line in (tmp_path / "decontam" / "flagged.jsonl").read_text().splitlines()]
    assert [(h["doc_id"], h["benchmark"], h["item"], h["action"]) for h in flagged] == [
        ("web-contaminated", "math", 6, "drop")]
    md = (tmp_path / "decontam" / "report.md").read_text()
    assert "web-contaminated" in md and "math #6" in md and "| math | arxiv | 300 |" in md
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


def test_index_is_built_once_per_cache_and_again_when_its_inputs_change(tmp_path, monkeypatch):
    from proofpile.decontam.ngrams import ensure_index

    monkeypatch.setenv("PROOFPILE_CACHE", str(tmp_path / "cache"))
    bench = tmp_path / "math.jsonl"
    bench.write_bytes((SAMPLES / "math-test.jsonl").read_bytes())
    benchmarks = [Benchmark("math", str(bench), ("problem", "solution"))]
    fresh = build_index(benchmarks, str(tmp_path / "fresh"))
    folder, summary = ensure_index(benchmarks, tmp_path / "own")
    assert summary == fresh and Path(folder).parent == tmp_path / "cache" / "decontam-index"
    assert sorted(p.name for p in Path(folder).iterdir()) == sorted(
        p.name for p in (tmp_path / "fresh").iterdir()) + ["summary.json"]
    for path in (tmp_path / "fresh").iterdir():  # the same bytes as a fresh build
        assert (Path(folder) / path.name).read_bytes() == path.read_bytes()
    (Path(folder) / "items.json").write_bytes(b"[]")  # marks this copy: the next run reads it, builds nothing
    assert ensure_index(benchmarks, tmp_path / "own")[0] == folder and not (tmp_path / "own").exists()
    assert (Path(folder) / "items.json").read_bytes() == b"[]"
    assert ensure_index(benchmarks, tmp_path / "own", n=12)[0] != folder  # other settings, another index
    bench.write_bytes(bench.read_bytes()[: bench.read_bytes().rindex(b"\n", 0, -1) + 1])  # one item fewer
    assert ensure_index(benchmarks, tmp_path / "own")[1]["math"]["items"] == fresh["math"]["items"] - 1
    assert len(list((tmp_path / "cache" / "decontam-index").iterdir())) == 3
    monkeypatch.setenv("PROOFPILE_CACHE", str(bench))  # a file: no cache can be written there
    folder, summary = ensure_index(benchmarks, tmp_path / "own")
    assert folder == str(tmp_path / "own") and summary["math"]["items"] == fresh["math"]["items"] - 1


def _ensure_index_after(barrier, benchmarks, fallback, out):
    from proofpile.decontam.ngrams import ensure_index

    barrier.wait()  # every process builds at once
    folder, summary = ensure_index(benchmarks, fallback)
    out.put((folder, summary))


def test_processes_building_the_same_index_at_once_share_one(tmp_path, monkeypatch):
    """Tasks of one stage start together on a cold cache: each may build the index; one copy lands whole, every
    task reads an index equal to a fresh build, and no half-built folder is left."""
    import multiprocessing

    monkeypatch.setenv("PROOFPILE_CACHE", str(tmp_path / "cache"))
    benchmarks = [Benchmark("math", str(SAMPLES / "math-test.jsonl"), ("problem", "solution"))]
    fresh = build_index(benchmarks, str(tmp_path / "fresh"))
    context = multiprocessing.get_context("fork")
    barrier, out = context.Barrier(4), context.Queue()
    workers = [context.Process(target=_ensure_index_after, args=(barrier, benchmarks, tmp_path / f"own{i}", out))
               for i in range(4)]
    for w in workers:
        w.start()
    results = [out.get(timeout=120) for _ in workers]
    for w in workers:
        w.join(timeout=60)
        assert w.exitcode == 0
    assert len({folder for folder, _ in results}) == 1 and all(summary == fresh for _, summary in results)
    folder = Path(results[0][0])
    assert [p.name for p in (tmp_path / "cache" / "decontam-index").iterdir()] == [folder.name]
    for path in (tmp_path / "fresh").iterdir():
        assert (folder / path.name).read_bytes() == path.read_bytes()
    assert not any((tmp_path / f"own{i}").exists() for i in range(4))


def test_a_benchmark_of_statements_without_answers(tmp_path):
    # ProofNet's natural-language statements are items with one field: problem n-grams only, short ones whole
    statements = tmp_path / "statements.jsonl"
    statements.write_text("".join(json.dumps({"nl_statement": s}) + "\n" for s in [
        "Let $G$ be a finite group in which every element has order two. Prove that $G$ is abelian and that its "
        "order is a power of two.",
        "Prove that $\\sqrt{3}$ is irrational."]))
    f = make_filter(tmp_path, [Benchmark("proofnet", str(statements), ("nl_statement",))])
    assert f.summary["proofnet"]["indexed_by_ngrams"] == 1 and f.summary["proofnet"]["indexed_whole"] == 1
    docs = [("long", plant("Let $G$ be a finite group in which every element has order two. Prove that $G$ is "
                           "abelian and that its order is a power of two.")),
            ("short", plant("Prove that $\\sqrt{3}$ is irrational.")), ("plain", ORDINARY[1])]
    assert run_filter(f, docs) == ["plain"]
    assert f.stats["dropped_contaminated_proofnet"].total == 2
