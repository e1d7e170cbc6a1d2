"""The default MathScore model on real pages: the shared preparation (normalize), and generalisation from our
generated training set to real math pages (kept) and real non-math pages (dropped)."""

import os

import pytest

from proofpile.web import mathscore
from proofpile.web.extract import extract_math_text
from proofpile.web.filters import MathScoreFilter

PROJECT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TRAIN = os.path.join(PROJECT, "filters", "web", "mathscore-train.jsonl")
THRESHOLD = 0.5  # web.mathscore.threshold in pipelines/web.yaml


def test_normalize_makes_math_visible_to_a_bag_of_words():
    got = mathscore.normalize("Let $\\frac{a}{b} = 1$ hold. $$\\sum_{i=1}^n x_i$$ It costs $5 and $10, or $5-$10.")
    assert got.split() == ["let", "__math__", "\\frac", "=", "hold", ".", "__display__", "\\sum", "_", "=", "^", "_",
                           "it", "costs", "$", "0", "and", "$", "00", ",", "or", "$", "0", "-", "$", "00", "."]
    # other scripts fold to one token per word (CJK: per character), Greek letters in prose to __greek__
    assert mathscore.normalize("Привет мир 你好 α") == "__script__ __script__ __cjk__ __cjk__ __greek__"


def test_normalize_caps_prose_but_keeps_all_math():
    text = "word " * 1000 + " ".join(f"${i} \\leq \\alpha_{i}$" for i in range(50))
    tokens = mathscore.normalize(text).split()
    assert tokens.count("word") == mathscore.PROSE_WORDS
    assert tokens.count("__math__") == 50 and tokens.count("\\alpha") == 50


@pytest.fixture(scope="module")
def default_filter(tmp_path_factory):
    model = mathscore.ensure_default_model(TRAIN, tmp_path_factory.mktemp("ms") / "mathscore-v2.bin")
    return MathScoreFilter(model, threshold=THRESHOLD)


def _extracted(path) -> str:
    return extract_math_text(path.read_text(encoding="utf-8"))[0]


@pytest.mark.parametrize("name", ["wikipedia-tsne-mathml.html", "puzzling-stackexchange-mathjax.html"])
def test_real_math_pages_are_kept(shared_fixture, default_filter, name):
    """t-SNE: 34 formulas among long ML prose; puzzling.SE: a digit puzzle in plain text, math without TeX."""
    text = _extracted(shared_fixture(f"html/{name}"))
    assert default_filter.score(text) >= THRESHOLD


def test_arxiv_abstract_page_is_scored(shared_fixture, default_filter):
    """An NLP abstract whose only "math" is $R$esources: either way is right; the score is a probability."""
    assert 0.0 <= default_filter.score(_extracted(shared_fixture("html/arxiv-abstract-page.html"))) <= 1.0


def _warc_pages(path) -> list[tuple[str, str]]:
    from fastwarc.warc import ArchiveIterator, WarcRecordType

    from proofpile.web.warc import decode_html

    pages = []
    with open(path, "rb") as f:
        for record in ArchiveIterator(f, record_types=WarcRecordType.response, parse_http=True):
            decoded = decode_html(record.reader.read(), record.http_charset)
            text = extract_math_text(decoded[0])[0] if decoded else ""
            if text.strip():
                pages.append((record.headers.get("WARC-Target-URI"), text))
    return pages


def test_real_non_math_pages_score_below_the_threshold(shared_fixture, default_filter):
    """16 real Common Crawl pages (shops, news, forums, mostly not English): no math among them."""
    pages = _warc_pages(shared_fixture("warc/cc-main-2020-34-excerpt.warc.gz"))
    assert len(pages) == 16
    scores = {url: default_filter.score(text) for url, text in pages}
    assert sum(s < THRESHOLD for s in scores.values()) >= 14, scores


def test_real_home_pages_score_below_the_threshold(shared_fixture, default_filter):
    """Researchers' home pages and blogs (several load MathJax): the vocabulary of science without its math."""
    pages = _warc_pages(shared_fixture("warc/homepages-mathjax.warc.gz"))
    assert len(pages) >= 20
    scores = {url: default_filter.score(text) for url, text in pages}
    assert sum(s < THRESHOLD for s in scores.values()) >= len(pages) - 1, scores


def test_a_model_that_did_not_reach_the_disk_is_an_error(tmp_path):
    """fastText's save ignores write errors: a full disk (``/dev/full``) must fail the training, not leave a
    truncated model that the next run would trust."""
    from proofpile.web.mathscore import DEFAULT_PARAMS, _fit, read_examples

    train_file = tmp_path / "train.txt"
    train_file.write_text("".join(f"__label__{label} {text}\n" for label, text in read_examples(TRAIN)))
    params = {**DEFAULT_PARAMS, "epoch": 1}
    for _ in range(4):  # fastText can diverge ("Encountered NaN"); train() retries the same way
        with pytest.raises(RuntimeError) as error:
            _fit(str(train_file), "/dev/full", params)
        if "nan" not in str(error.value).lower():
            break
        params["lr"] /= 2
    assert "nan" not in str(error.value).lower()
