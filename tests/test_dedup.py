"""Exact and MinHash near-dedup: math-safe shingles, LSH + exact-Jaccard verification measured against brute force
on a planted corpus, and the dedup stage end to end on contract shards."""

from pathlib import Path

import numpy as np
import orjson
import pytest
from datatrove.pipeline.dedup.minhash import MinhashConfig
from datatrove.utils.text import simplify_text
from helpers import read_tree, write_shard

from proofpile.config import ConfigError, StageConfig
from proofpile.dedup.evaluate import lsh_pairs, planted_corpus, precision_recall, shingle_sets, true_pairs
from proofpile.dedup.steps import MathMinhashSignature, jaccard
from proofpile.dedup.text import (
    batch_word_hashes,
    fast_word_hashes,
    ngram_hashes,
    text_ngram_hashes,
    word_hashes,
    words,
)
from proofpile.stage import atomic_write, run_stage

PROJECT = Path(__file__).resolve().parents[1]


def signer(num_buckets=20, hashes_per_bucket=6, tmp="/tmp/unused-sigs"):
    return MathMinhashSignature(tmp, MinhashConfig(n_grams=5, num_buckets=num_buckets,
                                                   hashes_per_bucket=hashes_per_bucket))


# -- normalisation ---------------------------------------------------------------------------------------------

def test_words_keep_numbers_operators_and_latex_commands():
    assert words("Solve  $4x-7 = 2X+9$.\n\\frac{1}{2}") == [
        "solve", "$", "4x", "-", "7", "=", "2x", "+", "9", "$", ".", "\\", "frac", "{", "1", "}", "{", "2", "}"]
    assert words("ＡＢＣ") == ["abc"]  # NFKC: full-width letters are letters


def test_problems_differing_in_numbers_do_not_collide():
    a = "Find all real $x$ with $x^2 - 5x + 6 = 0$ and explain why there are exactly two of them."
    b = "Find all real $x$ with $x^2 - 7x + 12 = 0$ and explain why there are exactly two of them."
    # datatrove's default normalisation (numbers -> 0, punctuation removed) makes them one text
    assert simplify_text(a) == simplify_text(b)
    s = signer()
    assert jaccard(*shingle_sets(s, [a, b])) < 0.6
    assert lsh_pairs(s, [a, b], verify=0.8) == set()


def test_ngram_hashes_are_order_sensitive_and_short_texts_get_one():
    h = word_hashes(["a", "b", "c", "d"])
    assert len(ngram_hashes(h, 2)) == 3
    assert ngram_hashes(h[::-1], 4)[0] != ngram_hashes(h, 4)[0]
    assert len(ngram_hashes(h, 5)) == 0 and len(ngram_hashes(h, 5, short=True)) == 1
    assert len(ngram_hashes(h[:0], 5, short=True)) == 0
    # deterministic across processes (no Python hash())
    assert text_ngram_hashes("one two three", 2).tolist() == text_ngram_hashes("ONE  two\nthree", 2).tolist()


def test_fast_word_hashes_split_text_exactly_as_words():
    """The numpy word hashing sees the same words as the regex: one hash per word, equal words equal hashes."""
    import random

    rng = random.Random(0)
    alphabet = "abcXYZ09_ \t\n.,$\\{}^-+=é∑≤ＡＢ\u00a0\u2003x²½ß\x1c"
    for _ in range(500):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 60)))
        tokens, hashes = words(text), fast_word_hashes(text, seed=3).tolist()
        assert len(tokens) == len(hashes), text
        by_word = {}
        for token, h in zip(tokens, hashes):
            assert by_word.setdefault(token, h) == h, (text, token)
        assert len(set(by_word.values())) == len(by_word), text  # distinct words, distinct hashes
    assert fast_word_hashes("Ab c", seed=1).tolist() != fast_word_hashes("Ab c", seed=2).tolist()


def test_a_batch_hashes_each_text_as_if_alone():
    """Signatures of a batch of documents do not depend on the batch: the same words, n-grams and signatures as
    one document at a time (empty, short and non-ASCII texts included)."""
    texts = [t for _, t in planted_corpus(20, seed=4)] + ["", "two words", "x", "é ß ½ x² ∑", "", "a b c d e"]
    texts = texts[::2] + texts[1::2]
    seeds = list(range(len(texts)))
    hashes, offsets = batch_word_hashes(texts, seeds)
    s = signer()
    shingles, shingle_offsets = s.get_shingles_batch(texts, seeds)
    signatures = iter(s.get_signatures(shingles, shingle_offsets))
    for i, text in enumerate(texts):
        assert hashes[offsets[i]:offsets[i + 1]].tolist() == fast_word_hashes(text, seed=i).tolist()
        alone = s.get_shingles(text, seed=i)
        assert shingles[shingle_offsets[i]:shingle_offsets[i + 1]].tolist() == alone.tolist()
        assert len(alone) == (len(words(text)) > 0) * max(1, len(words(text)) - 4)
        if alone.size:
            assert (next(signatures) == s.get_signature(alone)).all()
    assert next(signatures, None) is None  # one signature per text with a shingle


def test_signature_estimates_exact_jaccard():
    s = signer()
    docs = planted_corpus(40, seed=3)
    sets = [np.unique(s.get_shingles(t)) for _, t in docs]
    errors = []
    for i in range(0, len(sets) - 1):
        a, b = sets[i], sets[i + 1]
        exact = jaccard(a, b)
        est = float((s.get_signature(a) == s.get_signature(b)).mean())
        errors.append(est - exact)
    errors = np.array(errors)
    # 120 permutations: standard error <= sqrt(0.25 / 120) ~ 0.046
    assert abs(errors.mean()) < 0.02 and np.abs(errors).max() < 0.2


def test_signature_values_stay_below_datatrove_hash_ceiling():
    s = signer()
    sig = s.get_signature(s.get_shingles("a b c d e f g h i j k l m n o p"))
    assert sig.shape == (20, 6) and int(sig.max()) < (1 << 61) - 1


# -- precision and recall against brute force -------------------------------------------------------------------

def test_planted_corpus_precision_and_recall_at_08():
    docs = planted_corpus(120, seed=1)
    ids, texts = [d for d, _ in docs], [t for _, t in docs]
    s = signer()
    sets = shingle_sets(s, texts)
    truth = true_pairs(sets, 0.8)
    predicted = lsh_pairs(s, texts, verify=0.8, sets=sets)
    precision, recall = precision_recall(predicted, truth)
    assert len(truth) > 30  # the corpus really has near duplicates
    assert precision >= 0.95 and recall >= 0.95, (precision, recall)
    # planted exact copies are found; problems that differ in their numbers are not paired
    twins = [(ids.index(i.removesuffix("-twin")), ids.index(i)) for i in ids if i.endswith("-twin")]
    assert twins and not any(tuple(sorted(p)) in predicted for p in twins)
    exact = [(ids.index(i.removesuffix("-exact")), ids.index(i)) for i in ids if i.endswith("-exact")]
    assert exact and all(tuple(sorted(p)) in predicted for p in exact)


def test_lsh_alone_over_flags_pairs_below_threshold():
    """Why the verification step exists: LSH candidates include pairs under 0.8 that it would remove."""
    docs = planted_corpus(120, seed=1)
    texts = [t for _, t in docs]
    s = signer()
    sets = shingle_sets(s, texts)
    truth = true_pairs(sets, 0.8)
    precision, _ = precision_recall(lsh_pairs(s, texts, verify=None, sets=sets), truth)
    assert precision < 0.9


# -- the stage on contract shards ------------------------------------------------------------------------------





def make_root(root: Path, docs: list[tuple[str, str]]) -> None:
    half = len(docs) // 2
    web = [{"id": i, "text": t, "meta": {"subset": "open-web-math", "source": "test"}} for i, t in docs]
    write_shard(root / "web" / "00000.jsonl.zst", web[:half])
    write_shard(root / "web" / "00001.jsonl.zst", web[half:])
    # the same text in another subset is not a duplicate (within-subset dedup); a record without a subset is dropped
    write_shard(root / "arxiv" / "00000.jsonl.zst", [
        {"id": "arxiv-copy", "text": docs[0][1], "meta": {"subset": "arxiv", "source": "test"}},
        {"id": "no-subset", "text": "text without a subset", "meta": {"source": "test"}}])
    write_shard(root / "code" / "00000.jsonl.zst", [
        {"id": "code-1", "text": "def f(x):\n    return x + 1\n", "meta": {"subset": "algebraic-stack", "source": "t"}},
        {"id": "code-2", "text": "def f(x):\n    return x + 1\n",
         "meta": {"subset": "algebraic-stack", "source": "t"}}])
    for up in ("web", "code", "arxiv", "proofsteps"):
        atomic_write(root / "markers" / f"{up}.json", b"{}")


def run_dedup(root: Path, tasks: int = 2, **params) -> None:
    overrides = {"executor": {"tasks": tasks, "workers": 1}}
    if params:
        overrides["dedup"] = params
    run_stage(StageConfig.load("dedup", PROJECT / "pipelines" / "dedup.yaml", data_root=root, overrides=overrides))


def components(n: int, pairs) -> list[set[int]]:
    parent = list(range(n))

    def find(x):
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in pairs:
        parent[find(a)] = find(b)
    groups = {}
    for i in range(n):
        groups.setdefault(find(i), set()).add(i)
    return list(groups.values())


def test_stage_removes_exactly_one_less_than_each_duplicate_cluster(tmp_path):
    docs = planted_corpus(50, seed=2)
    make_root(tmp_path, docs)
    run_dedup(tmp_path)
    out = read_tree(tmp_path / "dedup")
    assert {Path(k).parts[0] for k in out} == {"open-web-math", "arxiv", "algebraic-stack"}
    kept = {r["id"] for recs in out.values() for r in recs}
    # brute force truth: connected components of pairs with exact Jaccard >= 0.8
    sets = shingle_sets(signer(), [t for _, t in docs])
    ids = [d for d, _ in docs]
    for group in components(len(docs), true_pairs(sets, 0.8)):
        survivors = [ids[i] for i in group if ids[i] in kept]
        assert len(survivors) == 1, (sorted(ids[i] for i in group), survivors)
    assert "arxiv-copy" in kept and "no-subset" not in kept
    assert ({"code-1", "code-2"} & kept) and len({"code-1", "code-2"} & kept) == 1
    # every record keeps its meta, and lands in its subset's folder
    for path, records in out.items():
        assert all(r["meta"]["subset"] == Path(path).parts[0] for r in records)
    summary = orjson.loads((tmp_path / "dedup" / "summary.json").read_bytes())
    assert summary["documents_in"] == len(docs) + 4 and summary["dropped_bad_subset"] == 1
    assert summary["documents_in"] - 1 - summary["dropped_exact_duplicates"] - summary["dropped_near_duplicates"] \
        == sum(summary["documents_out"].values()) == len(kept)
    assert summary["dropped_exact_duplicates"] >= 2  # code-2 and the planted exact copies


def test_stage_is_deterministic_and_can_dedup_across_subsets(tmp_path):
    docs = planted_corpus(15, seed=5)
    for name in ("a", "b"):
        make_root(tmp_path / name, docs)
        run_dedup(tmp_path / name)
    files_a = {p.relative_to(tmp_path / "a"): p.read_bytes() for p in (tmp_path / "a" / "dedup").rglob("*.zst")}
    files_b = {p.relative_to(tmp_path / "b"): p.read_bytes() for p in (tmp_path / "b" / "dedup").rglob("*.zst")}
    assert files_a == files_b and files_a
    make_root(tmp_path / "c", docs)
    run_dedup(tmp_path / "c", across_subsets=True)
    kept = {r["id"] for recs in read_tree(tmp_path / "c" / "dedup").values() for r in recs}
    assert "arxiv-copy" not in kept or docs[0][0] not in kept


def test_kept_documents_do_not_depend_on_the_number_of_tasks(tmp_path):
    """Each cluster keeps its smallest id, whichever rank read it first: tasks 1 and 3 keep the same documents."""
    docs = planted_corpus(60, seed=8)
    kept, summaries = [], []
    for tasks in (1, 3):
        make_root(tmp_path / str(tasks), docs)
        run_dedup(tmp_path / str(tasks), tasks=tasks)
        kept.append({r["id"] for recs in read_tree(tmp_path / str(tasks) / "dedup").values() for r in recs})
        summaries.append(orjson.loads((tmp_path / str(tasks) / "dedup" / "summary.json").read_bytes()))
    assert kept[0] == kept[1]
    assert summaries[0]["dropped_near_duplicates"] == summaries[1]["dropped_near_duplicates"] > 0
    # each group of duplicates keeps its smallest id ("docN" sorts before "docN-exact" / "docN-nearK")
    ids = [d for d, _ in docs]
    groups = components(len(docs), true_pairs(shingle_sets(signer(), [t for _, t in docs]), 0.8))
    assert all(min(ids[i] for i in group) in kept[0] for group in groups)
    assert sum(len(group) - len({ids[i] for i in group} & kept[0]) for group in groups) > 0.9 * sum(
        len(group) - 1 for group in groups)


def test_outputs_do_not_depend_on_how_the_bands_are_split_into_tasks(tmp_path):
    """LSH pairs found by 1 task or by 4 tasks sharing the 20 bands: byte-identical outputs."""
    docs = planted_corpus(40, seed=6)
    files, pairs = [], []
    for pair_tasks in (1, 4):
        root = tmp_path / str(pair_tasks)
        make_root(root, docs)
        run_dedup(root, pair_tasks=pair_tasks)
        assert len(list((root / "logs" / "dedup" / "2-pairs" / "completions").iterdir())) == pair_tasks
        files.append({p.relative_to(root): p.read_bytes() for p in (root / "dedup").rglob("*.zst")})
        pairs.append(orjson.loads((root / "dedup" / "summary.json").read_bytes())["lsh_pairs"])
    assert files[0] == files[1] and files[0]
    summary = orjson.loads((tmp_path / "4" / "dedup" / "summary.json").read_bytes())
    assert summary["dropped_near_duplicates"] > 0 and summary["lsh_pairs"]["verified_pairs"] > 0
    # one task verifies a pair once; four may each verify it, but the distinct joins are the same
    assert pairs[0]["near_joins"] == pairs[0]["verified_pairs"] == pairs[1]["near_joins"] > 0
    assert pairs[1]["verified_pairs"] > pairs[1]["near_joins"], pairs  # this corpus has pairs in several tasks


def test_config_is_validated(tmp_path):
    make_root(tmp_path, planted_corpus(2))
    with pytest.raises(ConfigError):
        run_dedup(tmp_path, num_bucket=3)
    with pytest.raises(ConfigError):
        run_dedup(tmp_path, verify_jaccard=1.5)


def test_stage_with_no_upstream_documents_writes_nothing_and_does_not_fail(tmp_path):
    (tmp_path / "web").mkdir()  # a stage that kept no document; the others wrote no folder at all
    for up in ("web", "code", "arxiv", "proofsteps"):
        atomic_write(tmp_path / "markers" / f"{up}.json", b"{}")
    run_dedup(tmp_path)
    assert read_tree(tmp_path / "dedup") == {} and (tmp_path / "markers" / "dedup.json").exists()


def test_exact_only(tmp_path):
    make_root(tmp_path, [("a", "one text here"), ("b", "one text here"), ("c", "one text here!")])
    run_dedup(tmp_path, near=False)
    kept = {r["id"] for recs in read_tree(tmp_path / "dedup").values() for r in recs}
    assert {"a", "b"} & kept and len({"a", "b"} & kept) == 1 and "c" in kept


def test_math_word_tokenizer_plugs_into_datatrove_signature_step(tmp_path):
    """datatrove's own stage 1 takes a WordTokenizer as ``language``: ours replaces spaCy (absent here)."""
    from datatrove.pipeline.dedup.minhash import MinhashDedupSignature

    from proofpile.dedup.steps import MathWordTokenizer

    step = MinhashDedupSignature(str(tmp_path), MinhashConfig(), language=MathWordTokenizer())
    assert step.get_shingles("Let $x = 2$ be a root of $x^2 - 4$ here.").size > 0
