"""The n-gram decontamination tier: precision, recall and throughput, with the full MATH and GSM8K test sets
(6,319 items) as the index.

- ``decontam_false_positive``: share of the MATH train set (7,500 problems with solutions) and GSM8K train set
  (7,473) flagged when run as documents: not test items (one MATH train problem is also a test problem), so a
  precise decontaminator flags almost none; the detail also counts removals among the real pages of
  ``html/dev/`` (text extracted with resiliparse) and the arXiv fixture's paragraphs, which should be none;
- ``decontam_recall``: 200 random test problems (seeded), each rewrapped, re-cased and set between paragraphs of
  unrelated real math prose (the arXiv fixture): share removed;
- ``decontam_throughput``: documents/s of reading contract shards and running the n-gram tier as a task of the
  stage does (index found in a warm cache, loaded, every document checked), as a ratio to plain reading of the
  same shards with the same reader (1.0 would mean decontamination is free); the detail also gives the cold
  figure, whose first run builds the index into an empty cache;
- ``decontam_vs_datatrove``: the same against datatrove's ``NGramsDecontFilter`` (13-grams, a Python dict lookup
  per n-gram string hash; our regex words plugged in for its spaCy tokenizer) with an index of the same MATH items
  built by datatrove's own ``compute_hashes``.

Needs ../shared/fixtures/benchmarks/ (math-test, gsm8k-test, math-train, gsm8k-train); absent, no figure (said so).
"""

from __future__ import annotations

import os
import random
import re
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import orjson
import zstandard
from datatrove.pipeline.decont.n_grams import NGramsDecontConfig, NGramsDecontFilter, NGramsDecontIndexer
from datatrove.utils.hashing import create_hash_func

from proofpile.bench import SHARED, figure, timer
from proofpile.contract import ContractReader
from proofpile.decontam.benchmarks import Benchmark, load_items
from proofpile.decontam.ngrams import NGramDecontamination, build_index, ensure_index
from proofpile.dedup.evaluate import planted_corpus
from proofpile.dedup.steps import MathWordTokenizer

FIXTURES = SHARED
BENCHMARKS = FIXTURES / "benchmarks"
TEST_SETS = [Benchmark("math", str(BENCHMARKS / "math-test.jsonl"), ("problem", "solution")),
             Benchmark("gsm8k", str(BENCHMARKS / "gsm8k-test.jsonl"), ("question", "answer"))]
TRAIN_SETS = [("math-train.jsonl", ("problem", "solution")), ("gsm8k-train.jsonl", ("question", "answer"))]


def prose_paragraphs() -> list[str]:
    """Paragraphs of real math prose (the arXiv fixture's LaTeX body), at least 40 words each."""
    tex = (FIXTURES / "arxiv" / "1707.08043" / "main.tex").read_text(errors="replace")
    body = tex.split("\\begin{document}", 1)[-1]
    return [p.strip() for p in re.split(r"\n\s*\n", body) if len(p.split()) >= 40]


def dev_pages() -> list[tuple[str, str]]:
    from resiliparse.extract.html2text import extract_plain_text

    out = []
    for path in sorted((FIXTURES / "html" / "dev").glob("*.html")):
        out.append((path.name, extract_plain_text(path.read_text(errors="replace"), main_content=False)))
    return out


def disguise(text: str, rng: random.Random) -> str:
    """Rewrapped (new line breaks every few words) and re-cased, as a page or PDF extraction would show it."""
    words = text.split()
    case = rng.choice([str.upper, str.lower, str.title])
    lines, i = [], 0
    while i < len(words):
        k = rng.randint(4, 11)
        lines.append(" ".join(words[i: i + k]))
        i += k
    return case("\n".join(lines))


def flagged(step: NGramDecontamination, texts) -> list[bool]:
    return [bool(step.matches(t)[0]) for t in texts]


def run(workdir: Path) -> list[dict]:
    missing = [p.name for p in [*(Path(b.path) for b in TEST_SETS), *(BENCHMARKS / f for f, _ in TRAIN_SETS)]
               if not p.is_file()]
    if missing:
        print(f"  skipped: ../shared/fixtures/benchmarks/ lacks {', '.join(missing)}")
        return []
    index = str(workdir / "index")
    summary = build_index(TEST_SETS, index)
    step = NGramDecontamination(index, str(workdir / "hits"))
    speed = throughput(workdir)  # first, while the process holds little: both of its sides meet the same heap
    figures = []

    # precision: the train sets as documents, and real pages / paper paragraphs that quote no benchmark
    train = []
    for name, fields in TRAIN_SETS:
        for line in (BENCHMARKS / name).read_bytes().splitlines():
            row = orjson.loads(line)
            train.append("\n\n".join(row[f] for f in fields))
    train_flags = flagged(step, train)
    pages, paragraphs = dev_pages(), prose_paragraphs()
    pages_removed = [name for (name, text), f in zip(pages, flagged(step, [t for _, t in pages])) if f]
    arxiv_removed = sum(flagged(step, paragraphs))
    figures.append(figure("decontam_false_positive", sum(train_flags) / len(train), "share flagged",
                          "MATH train + GSM8K train run as documents against the test-set index (target <= 0.005)",
                          documents=len(train), flagged=sum(train_flags), dev_pages=len(pages),
                          dev_pages_removed=pages_removed, arxiv_paragraphs=len(paragraphs),
                          arxiv_paragraphs_removed=arxiv_removed, index=summary))

    # recall: planted, disguised test problems
    rng = random.Random(13)
    items = [(b.name, item) for b in TEST_SETS for item in load_items(b)[0]]
    planted = []
    for bench, item in rng.sample(items, 200):
        problem = item[TEST_SETS[0].fields[0] if bench == "math" else TEST_SETS[1].fields[0]]
        before, after = rng.sample(paragraphs, 2)
        planted.append(f"{before}\n\n{disguise(problem, rng)}\n\n{after}")
    recall_flags = flagged(step, planted)
    figures.append(figure("decontam_recall", sum(recall_flags) / len(planted), "share removed",
                          "200 random MATH/GSM8K test problems, rewrapped, re-cased and set in real math prose "
                          "(target >= 0.98)", planted=len(planted), removed=sum(recall_flags)))

    figures += speed
    return figures


def medians_alternating(*fns, repeat: int = 5) -> list[float]:
    """The median time of each function over ``repeat`` rounds that run each once in turn: on a machine shared
    with other work, both sides of a ratio meet the same load."""
    times = [[] for _ in fns]
    for _ in range(repeat):
        for fn, spent in zip(fns, times):
            with timer() as t:
                fn()
            spent.append(t())
    return [sorted(spent)[repeat // 2] for spent in times]


def throughput(workdir: Path) -> list[dict]:
    docs = planted_corpus(1500, seed=3)
    shard = workdir / "docs" / "00000.jsonl.zst"
    shard.parent.mkdir(parents=True)
    records = [{"id": i, "text": t, "meta": {"subset": "open-web-math"}} for i, t in docs]
    shard.write_bytes(zstandard.ZstdCompressor().compress(b"".join(orjson.dumps(r) + b"\n" for r in records)))
    mbytes = sum(len(t.encode()) for _, t in docs) / 1e6
    math_only = TEST_SETS[:1]
    cache = workdir / "cache"

    def read():
        for _ in ContractReader(str(workdir / "docs")).run():
            pass

    def decontaminate():
        # what the stage does: the index made (found in the cache when warm), loaded, every document checked
        index, _ = ensure_index(math_only, workdir / "index")
        step = NGramDecontamination(index, str(workdir / "tp-hits"))
        for _ in step.run(ContractReader(str(workdir / "docs")).run()):
            pass

    previous = os.environ.get("PROOFPILE_CACHE")
    os.environ["PROOFPILE_CACHE"] = str(cache)  # this benchmark's own cache: cold means cold
    try:
        with timer() as cold:
            decontaminate()  # builds the index into the empty cache
        t_read, t_decont = medians_alternating(read, decontaminate)
    finally:
        os.environ.pop("PROOFPILE_CACHE") if previous is None else os.environ.__setitem__("PROOFPILE_CACHE", previous)

    # datatrove's filter, with an index from its own hashing code (its indexer class needs lighteval)
    dt_config = NGramsDecontConfig(n_grams=13, find_query_ngrams=True)
    indexer = SimpleNamespace(tokenizer=MathWordTokenizer(), config=dt_config,
                              hash_func=create_hash_func(dt_config.hash_config))
    items, _ = load_items(math_only[0])
    dt_hashes = set()
    for item in items:
        dt_hashes.update(NGramsDecontIndexer.compute_hashes(indexer, item["solution"], item["problem"]))
    (workdir / "dt-index").mkdir()
    np.array(sorted(dt_hashes), dtype=np.uint64).tofile(workdir / "dt-index" / "math.index.hashes")

    def datatrove_decontaminate():
        step = NGramsDecontFilter(str(workdir / "dt-index"), config=dt_config, language=MathWordTokenizer())
        step.load_index_hashes()
        for _ in step.run(ContractReader(str(workdir / "docs")).run()):
            pass

    t_dt, = medians_alternating(datatrove_decontaminate, repeat=3)
    detail = {"docs": len(docs), "mbytes": round(mbytes, 2), "index": "MATH test, 5,000 items",
              "decontam_docs_per_s": round(len(docs) / t_decont, 1), "decontam_mb_per_s": round(mbytes / t_decont, 2),
              "read_docs_per_s": round(len(docs) / t_read, 1)}
    return [figure("decontam_vs_datatrove", t_dt / t_decont, "x", "datatrove NGramsDecontFilter (13-gram, same "
                   "MATH index, our words plugged in)", **detail, datatrove_docs_per_s=round(len(docs) / t_dt, 1)),
            figure("decontam_throughput", t_read / t_decont, "ratio", "plain reading of the same shards "
                   "(ContractReader; the index found in a warm cache and loaded in every run; target >= 0.2)",
                   **detail, cold_ratio=round(t_read / cold(), 4), cold_s=round(cold(), 2),
                   note="cold: the first run, which builds the index into an empty cache (a fixed cost per "
                        "benchmark set and settings, once per machine)")]
