"""MinHash near-dedup: signature speed against datasketch, and precision/recall against brute-force Jaccard.

- ``minhash_vs_datasketch``: documents/s of our stage-1 signatures (math-safe words, numpy hashing of a batch of
  documents at once, as the stage computes them) over datasketch's ``MinHash.bulk`` on the same documents with the
  same number of permutations. Both start from raw text and use the same regex words, so the difference is shingle
  hashing and permutation.
- ``minhash_recall`` / ``minhash_precision``: on a planted corpus (exact copies, near copies at 1-30% edits,
  problems that differ only in numbers), the pairs the stage's LSH bands + exact-Jaccard verification report,
  against every pair with exact Jaccard >= 0.8 (brute force).
"""

from __future__ import annotations

from pathlib import Path

from datasketch import MinHash
from datatrove.pipeline.dedup.minhash import MinhashConfig, MinhashDedupSignature
from datatrove.utils.text import TextNormConfig

from proofpile.bench import PROJECT, best_of, figure
from proofpile.config import StageConfig
from proofpile.dedup.evaluate import lsh_pairs, planted_corpus, precision_recall, shingle_sets, true_pairs
from proofpile.dedup.steps import MathMinhashSignature, MathWordTokenizer, text_batches
from proofpile.dedup.text import words
from proofpile.stages.dedup import minhash_config


def _stage_params():
    return StageConfig.load("dedup", PROJECT / "pipelines" / "dedup.yaml", data_root="/nonexistent").params


def run(workdir: Path) -> list[dict]:
    p = _stage_params()
    config = minhash_config(p)
    ours = MathMinhashSignature(str(workdir / "sigs"), config)
    num_perm = config.num_buckets * config.hashes_per_bucket
    n = config.n_grams
    texts = [t for _, t in planted_corpus(600, seed=7)]
    mbytes = sum(len(t.encode()) for t in texts) / 1e6

    def our_signatures():  # as the stage computes them: a batch of documents at a time
        for batch in text_batches(texts, str):
            ours.get_signatures(*ours.get_shingles_batch(batch, [0] * len(batch)))

    def datasketch_bulk():
        shingles = []
        for t in texts:
            w = words(t)
            shingles.append([" ".join(w[i : i + n]).encode() for i in range(max(1, len(w) - n + 1))])
        MinHash.bulk(shingles, num_perm=num_perm)

    def datasketch_update_batch():
        for t in texts:
            w = words(t)
            m = MinHash(num_perm=num_perm)
            m.update_batch([" ".join(w[i : i + n]).encode() for i in range(max(1, len(w) - n + 1))])

    # datatrove's own stage 1 (its default word tokenizer is spaCy, absent here: our regex plugged in)
    datatrove_sig = MinhashDedupSignature(str(workdir / "dt"), MinhashConfig(
        n_grams=n, num_buckets=config.num_buckets, hashes_per_bucket=config.hashes_per_bucket,
        norm_config=TextNormConfig()), language=MathWordTokenizer())

    def datatrove_signatures():
        for t in texts:
            sh = datatrove_sig.get_shingles(t)
            if sh.size:
                datatrove_sig.get_signature(sh)

    # interleaved rounds, best of each: load from other processes on a shared machine hits both sides alike
    t_ours, t_bulk, t_batch, t_dt = (min(ts) for ts in zip(*[
        (best_of(our_signatures, 1), best_of(datasketch_bulk, 1), best_of(datasketch_update_batch, 1),
         best_of(datatrove_signatures, 1)) for _ in range(3)]))
    rate = lambda t: round(len(texts) / t, 1)  # noqa: E731
    figures = [figure("minhash_vs_datasketch", t_bulk / t_ours, "x", "datasketch MinHash.bulk (same docs, words, "
                      f"{num_perm} permutations)", docs=len(texts), mbytes=round(mbytes, 2), num_perm=num_perm,
                      ours_docs_per_s=rate(t_ours), datasketch_bulk_docs_per_s=rate(t_bulk),
                      datasketch_update_batch_docs_per_s=rate(t_batch),
                      datatrove_signature_docs_per_s=rate(t_dt), goal=">= 2")]

    docs = planted_corpus(300, seed=11)
    texts = [t for _, t in docs]
    sets = shingle_sets(ours, texts)
    truth = true_pairs(sets, 0.8)
    verify = p.verify_jaccard
    precision, recall = precision_recall(lsh_pairs(ours, texts, verify=verify, sets=sets), truth)
    lsh_precision, lsh_recall = precision_recall(lsh_pairs(ours, texts, verify=None, sets=sets), truth)
    detail = dict(docs=len(texts), true_pairs=len(truth), bands=config.num_buckets, rows=config.hashes_per_bucket,
                  verify_jaccard=verify, lsh_only_precision=round(lsh_precision, 4),
                  lsh_only_recall=round(lsh_recall, 4))
    figures.append(figure("minhash_recall", recall, "ratio", "brute-force exact Jaccard >= 0.8", goal=">= 0.95",
                          **detail))
    figures.append(figure("minhash_precision", precision, "ratio", "brute-force exact Jaccard >= 0.8",
                          goal=">= 0.95", **detail))
    return figures
