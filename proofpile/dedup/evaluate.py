"""Measuring near-dedup against the truth: a planted corpus and brute-force exact Jaccard (tests and benchmarks).

``planted_corpus`` writes math-like documents with planted exact duplicates, near duplicates at a spread of edit
rates (so pairs fall on both sides of the threshold), and "twins": problems that differ only in their numbers.
``lsh_pairs`` runs the same signatures, bands and verification as the stage's MinHash pipelines (datatrove's
bucket stage pairs documents whose band values are equal), in memory; ``true_pairs`` is the brute force.
"""

from __future__ import annotations

import itertools
import random
from collections import defaultdict

import numpy as np

from proofpile.dedup.steps import MathMinhashSignature, jaccard

_WORDS = ("let be the function of a real number such that find all values where we have since then hence "
          "therefore it follows suppose integer prime sum product equation solution root polynomial triangle "
          "angle side area circle radius probability sequence limit derivative integral matrix vector "
          "show prove compute determine largest smallest positive negative each every exactly").split()
_FORMULAS = ("$f(x) = {a}x^2 + {b}x - {c}$", "$\\frac{{{a}}}{{{b}}} + \\sqrt{{{c}}}$", "$x^{a} - {b} = {c}y$",
             "$\\sum_{{k=1}}^{{{a}}} k^{b} = {c}$", "$\\int_0^{{{a}}} x^{b}\\,dx$", "${a} \\cdot {b} \\equiv {c} "
             "\\pmod 7$", "$\\binom{{{a}}}{{{b}}}$", "$|z - {a}| < {b}$")


def _sentence(rng: random.Random, numbers=None) -> str:
    words = [rng.choice(_WORDS) for _ in range(rng.randint(6, 14))]
    nums = numbers or {k: rng.randint(2, 99) for k in "abc"}
    words.insert(rng.randrange(len(words)), rng.choice(_FORMULAS).format(**nums))
    return " ".join(words).capitalize() + "."


def _edit(rng: random.Random, text: str, rate: float) -> str:
    """Replace, drop or insert about ``rate`` of the words (whitespace and case changed too)."""
    out = []
    for w in text.split(" "):
        r = rng.random()
        if r < rate / 3:
            continue
        out.append(rng.choice(_WORDS) if r < 2 * rate / 3 else w)
        if r > 1 - rate / 3:
            out.append(rng.choice(_WORDS))
    return "  ".join(out) if rng.random() < 0.5 else "\n".join(out).upper()


def planted_corpus(n_base: int = 200, seed: int = 0) -> list[tuple[str, str]]:
    """``[(id, text)]``: ``n_base`` originals, and per original maybe an exact copy, near copies at edit rates
    from 1% to 30%, or a twin with different numbers. Shuffled deterministically."""
    rng = random.Random(seed)
    docs = []
    for i in range(n_base):
        template = [(rng.randrange(len(_FORMULAS)), rng.randint(6, 14)) for _ in range(rng.randint(8, 25))]
        sent_seed = rng.random()
        base = " ".join(_sentence(random.Random(f"{sent_seed}-{j}")) for j in range(len(template)))
        docs.append((f"doc{i}", base))
        kind = rng.random()
        if kind < 0.15:
            docs.append((f"doc{i}-exact", base))
        elif kind < 0.6:
            for k in range(rng.randint(1, 3)):
                docs.append((f"doc{i}-near{k}", _edit(rng, base, rng.choice((0.01, 0.03, 0.06, 0.1, 0.15, 0.3)))))
        elif kind < 0.8:
            # the same problem with other numbers: a different problem
            twin = " ".join(_sentence(random.Random(f"{sent_seed}-{j}"),
                                      numbers={k: rng.randint(100, 999) for k in "abc"})
                            for j in range(len(template)))
            docs.append((f"doc{i}-twin", twin))
    rng.shuffle(docs)
    return docs


def shingle_sets(signer: MathMinhashSignature, texts: list[str]) -> list[np.ndarray]:
    return [np.unique(signer.get_shingles(t).astype(np.uint32)) for t in texts]


def true_pairs(sets: list[np.ndarray], threshold: float) -> set[tuple[int, int]]:
    """Every pair whose exact Jaccard similarity is >= threshold. Exhaustive: the intersection of every pair of
    documents sharing a shingle is counted exactly (a pair sharing none has Jaccard 0)."""
    owners = defaultdict(list)
    for i, shingles in enumerate(sets):
        for h in shingles.tolist():
            owners[h].append(i)
    inter = defaultdict(int)
    for docs in owners.values():
        for pair in itertools.combinations(docs, 2):
            inter[pair] += 1
    return {(i, j) for (i, j), c in inter.items() if c / (sets[i].size + sets[j].size - c) >= threshold}


def lsh_pairs(signer: MathMinhashSignature, texts: list[str], verify: float | None,
              sets: list[np.ndarray] | None = None) -> set[tuple[int, int]]:
    """Pairs that share a band (datatrove's bucket stage), kept if their exact Jaccard >= ``verify``."""
    buckets = defaultdict(list)
    for i, text in enumerate(texts):
        shingles = signer.get_shingles(text)
        if shingles.size:
            for b, band in enumerate(signer.get_signature(shingles)):
                buckets[(b, band.tobytes())].append(i)
    candidates = {(a, b) for docs in buckets.values() for a, b in itertools.combinations(sorted(docs), 2)}
    if verify is None:
        return candidates
    sets = sets or shingle_sets(signer, texts)
    return {(a, b) for a, b in candidates if jaccard(sets[a], sets[b]) >= verify}


def precision_recall(predicted: set, truth: set) -> tuple[float, float]:
    hit = len(predicted & truth)
    return (hit / len(predicted) if predicted else 1.0), (hit / len(truth) if truth else 1.0)
