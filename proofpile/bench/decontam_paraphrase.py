"""The paraphrase tier (``proofpile.decontam.paraphrase``) with the packaged all-MiniLM-L6-v2 model.

``decontam_paraphrase_recall``: share of 50 paraphrases of MATH/GSM8K test problems that we wrote (same numbers,
new wording: ``proofpile/bench/data/decontam-paraphrases.jsonl``), each set between two paragraphs of real math
prose, flagged as their own item; the detail has the share flagged among a seeded sample of the MATH and GSM8K
train sets (not test items; target <= 1%) and the tier's documents/s on that sample.

Needs ../shared/fixtures/benchmarks/ and the ``paraphrase`` extra; absent, no figure (said so).
"""

from __future__ import annotations

import random
import time
from pathlib import Path

import orjson

from proofpile.bench import figure
from proofpile.bench.decontam import BENCHMARKS, TEST_SETS, TRAIN_SETS, prose_paragraphs
from proofpile.decontam.ngrams import build_index

PARAPHRASES = Path(__file__).resolve().parent / "data" / "decontam-paraphrases.jsonl"
TRAIN_SAMPLE = 150  # documents per train set (embedding is the cost: ~2 docs/s on a loaded 2-core machine)


def run(workdir: Path) -> list[dict]:
    if not all(Path(b.path).is_file() for b in TEST_SETS) or not (BENCHMARKS / TRAIN_SETS[0][0]).is_file():
        print("  skipped: ../shared/fixtures/benchmarks/ is absent")
        return []
    try:
        import sentence_transformers  # noqa: F401

        from proofpile.decontam.paraphrase import ParaphraseConfig, ParaphraseDecontamination
    except ImportError:
        print("  skipped: the paraphrase extra is not installed (pip install proofpile[paraphrase])")
        return []
    index = str(workdir / "index")
    build_index(TEST_SETS, index)
    cfg = ParaphraseConfig()
    step = ParaphraseDecontamination(index, str(workdir / "hits"), cfg)
    step._load()
    position = {(it["benchmark"], it["index"]): k for k, it in enumerate(step._items)}
    rng = random.Random(16)
    paragraphs = prose_paragraphs()
    found = 0
    rows = [orjson.loads(line) for line in PARAPHRASES.read_bytes().splitlines() if line.strip()]
    for row in rows:
        before, after = rng.sample(paragraphs, 2)
        matches = step.matches(f"{before}\n\n{row['paraphrase']}\n\n{after}")
        found += any(m["item"] == position[(row["benchmark"], row["item"])] for m in matches)
    train = []
    for name, fields in TRAIN_SETS:
        lines = (BENCHMARKS / name).read_bytes().splitlines()
        for line in rng.sample(lines, TRAIN_SAMPLE):
            row = orjson.loads(line)
            train.append("\n\n".join(row[f] for f in fields))
    start = time.perf_counter()
    train_flagged = sum(bool(step.matches(t)) for t in train)
    seconds = time.perf_counter() - start
    return [figure("decontam_paraphrase_recall", found / len(rows), "share flagged",
                   "50 hand-written paraphrases of test problems in real math prose (target >= 0.8)",
                   paraphrases=len(rows), flagged=found, model=cfg.model, threshold=cfg.threshold,
                   train_documents=len(train), train_flagged=train_flagged,
                   train_share_flagged=round(train_flagged / len(train), 4),
                   paraphrase_docs_per_s=round(len(train) / seconds, 1))]
