"""The web stage's filters: URL blocklist, language ID, MathScore (training and scoring), quality, perplexity."""

import os
import pickle
import subprocess
import sys

import pytest
from datatrove.data import Document

from proofpile.lazy_model import lid176_path
from proofpile.web import mathscore
from proofpile.web.filters import (
    LanguageIdFilter,
    MathScoreFilter,
    QualityFilter,
    UrlBlocklistFilter,
    accented_ratio,
    kenlm_available,
    strip_math,
)

PROJECT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FILTERS = os.path.join(PROJECT, "filters", "web")
TRAIN = os.path.join(FILTERS, "mathscore-train.jsonl")

MATH_TEXT = (
    "Let $f: \\mathbb{R} \\to \\mathbb{R}$ be continuous with $f(0) = 0$. We prove that the integral "
    "$$\\int_0^1 f(x)\\, dx = \\lim_{n \\to \\infty} \\frac{1}{n} \\sum_{k=1}^{n} f(k/n).$$ "
    "Indeed, the right-hand side is a Riemann sum for $f$ on $[0, 1]$, and since $f$ is continuous the sums "
    "converge to the integral. Hence the claim follows from the definition of the Riemann integral."
)
NEWS_TEXT = (
    "The city council on Thursday postponed a vote on the long-awaited repair of the river bridge, saying it "
    "needed more time to review bids. The lowest bid came in at $48 million and the second at $52 million, "
    "nearly twice the original estimate. Business owners urged the council to move quickly before summer."
)


def doc(text, **meta):
    return Document(text=text, id="d", metadata=dict(meta))


def test_url_blocklist():
    f = UrlBlocklistFilter(os.path.join(FILTERS, "url-blocklist.txt"))
    assert f.filter(doc("x", url="https://www.chegg.com/homework-help/q1")) == (False, "blocked_domain")
    assert f.filter(doc("x", url="https://blocked.example/a")) == (False, "blocked_domain")
    assert f.filter(doc("x", url="https://notchegg.com/")) is True
    assert f.filter(doc("x", url="https://math.stackexchange.com/q/1")) is True
    assert f.filter(doc("x", url="http://[bad")) is True  # an unparsable URL is not a crash


def test_language_id_uses_the_local_lid176():
    assert os.path.isfile(lid176_path())
    f = LanguageIdFilter(languages=["en"], threshold=0.5)
    d = doc(MATH_TEXT)
    assert f.filter(d) is True and d.metadata["lang"] == "en" and d.metadata["lang_score"] > 0.5
    fr = doc("Une suite est dite géométrique s'il existe un réel $q$ tel que, pour tout entier naturel $n$, "
             "on ait $u_{n+1} = q u_n$. Le réel $q$ est appelé la raison de la suite.")
    assert f.filter(fr) == (False, "language") and fr.metadata["lang"] == "fr"
    # nothing but math is in no other language: kept for MathScore and quality to judge; no prose, no math: dropped
    assert f.filter(doc("$x$ $y$")) is True and f.filter(doc("... 12 !!")) == (False, "no_prose")
    f2 = pickle.loads(pickle.dumps(f))  # steps pickle small: the model reloads in the worker
    assert f2.model._model is None and f2.filter(doc(MATH_TEXT)) is True


def test_language_id_is_decided_on_the_prose_of_a_page():
    f = LanguageIdFilter(languages=["en"], threshold=0.5)
    # a table of macros and their formulas: little prose, so lid.176 is unsure of it (0.27), but what prose there
    # is reads as English
    names = ["alef", "alefsym", "Alpha", "and", "ang", "Bbb", "Beta", "bold", "bull", "Chi", "clubs", "Complex"]
    table = "\n".join(f"{name}: ${chr(92)}{name}$" for name in names)
    dense = doc(table)
    assert f.predict(dense.text)[1] < 0.5 and f.filter(dense) is True and dense.metadata["lang"] == "en"
    # a short problem: a title and a formula are too little to name a language; MathScore and quality judge it
    short = doc("Problem 3\n\n$$\\int_0^1 x^2\\,dx$$")
    assert f.filter(short) is True and short.metadata["lang"] == "und"
    # prose in another language is dropped however much math is around it
    de = doc("Sei $f$ stetig. Dann gilt $\\int_0^1 f = F(1) - F(0)$ und $F' = f$ nach dem Hauptsatz der Analysis, "
             "den wir im letzten Kapitel bewiesen haben. $x^2$ $y^2$ $z^2$")
    assert f.filter(de) == (False, "language") and de.metadata["lang"] == "de"
    assert not f.is_math_dense(NEWS_TEXT) and f.is_math_dense(table)


def test_language_id_and_quality_find_the_math_of_a_page_once(monkeypatch):
    # the per-document hot path: a low-scoring, math-dense page is judged from one scan of its math
    from proofpile import mathspans

    scans = []  # every math scan goes through _math_matches (find, prose_and_count, has_math)
    real_scan = mathspans._math_matches
    monkeypatch.setattr(mathspans, "_math_matches", lambda text: scans.append(text) or real_scan(text))
    names = ["alef", "alefsym", "Alpha", "and", "ang", "Bbb", "Beta", "bold", "bull", "Chi", "clubs", "Complex"]
    dense = doc("\n".join(f"{name}: ${chr(92)}{name}$" for name in names))
    assert LanguageIdFilter(languages=["en"], threshold=0.5).filter(dense) is True
    assert dense.metadata["lang_score"] < 0.5 and len(scans) == 1
    assert QualityFilter().filter(dense) is True and len(scans) == 2  # (short: its formulas lower the bar)


def test_strip_math():
    assert strip_math("a $x^2$ b $$\\sum_i i$$ c costs 5") == "a   b   c costs 5"


@pytest.fixture(scope="module")
def model_path(tmp_path_factory):
    out = tmp_path_factory.mktemp("ms") / "mathscore-v2.bin"
    return mathscore.ensure_default_model(mathscore.default_train_files(), out)


def test_mathscore_default_model_separates_math_from_news(model_path):
    f = MathScoreFilter(model_path, threshold=0.5)
    m, n = doc(MATH_TEXT), doc(NEWS_TEXT)
    assert f.filter(m) is True and m.metadata["math_score"] > 0.8
    assert f.filter(n) == (False, "math_score") and n.metadata["math_score"] < 0.2


def test_mathscore_training_is_deterministic_and_cached(model_path, tmp_path, monkeypatch):
    monkeypatch.setenv("PROOFPILE_CACHE", str(tmp_path / "empty-cache"))  # trained again, not copied
    again = mathscore.ensure_default_model(mathscore.default_train_files(), tmp_path / "mathscore-v2.bin")
    assert open(again, "rb").read() == open(model_path, "rb").read()
    mtime = os.stat(again).st_mtime_ns
    mathscore.ensure_default_model(mathscore.default_train_files(), again)  # same data and settings: not retrained
    # the generated set alone is another model
    alone = mathscore.ensure_default_model(TRAIN, tmp_path / "alone-v2.bin")
    assert open(alone, "rb").read() != open(again, "rb").read()
    assert os.stat(again).st_mtime_ns == mtime


def test_default_model_is_trained_once_for_every_data_root(tmp_path, monkeypatch):
    monkeypatch.setenv("PROOFPILE_CACHE", str(tmp_path / "cache"))
    fits = []
    real_fit = mathscore._fit
    monkeypatch.setattr(mathscore, "_fit", lambda *a: fits.append(a) or real_fit(*a))
    roots = [tmp_path / f"root{i}" / "models" / "mathscore-v2.bin" for i in range(3)]
    paths = [mathscore.ensure_default_model(TRAIN, out) for out in roots]
    assert len(fits) == 1 and all(os.path.exists(p) for p in paths)
    assert len({open(p, "rb").read() for p in paths}) == 1
    # other settings are another model, trained once more
    mathscore.ensure_default_model(TRAIN, tmp_path / "root3" / "mathscore-v2.bin", {"epoch": 5})
    assert len(fits) == 2


def test_mathscore_retries_after_nan(monkeypatch, tmp_path):
    calls = []
    real_fit = mathscore._fit

    def flaky(train_file, output, params):
        calls.append(dict(params))
        if len(calls) == 1:
            raise RuntimeError("RuntimeError: Encountered NaN.")
        return real_fit(train_file, output, params)

    monkeypatch.setattr(mathscore, "_fit", flaky)
    mathscore.train(mathscore.read_examples(TRAIN), tmp_path / "m-v1.bin")
    assert len(calls) == 2 and calls[1]["lr"] == calls[0]["lr"] / 2 and calls[1]["epoch"] < calls[0]["epoch"]
    assert (tmp_path / "m-v1.bin").exists()


def test_mathscore_training_on_tiny_separable_data(tmp_path):
    data = tmp_path / "tiny.jsonl"
    data.write_text('{"text": "$x^2$ \\\\frac{a}{b}", "label": "math"}\n{"text": "buy shoes now", "label": "other"}\n')
    model = mathscore.train(mathscore.read_examples(data), tmp_path / "tiny-v1.bin",
                            {"lr": 5.0, "epoch": 200})  # a setting that tends to diverge
    assert model.predict("buy shoes")[0][0] in ("__label__math", "__label__other")


def test_mathscore_bad_training_data(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "x", "label": "math"}\nnot json\n')
    with pytest.raises(mathscore.TrainingError, match=":2:"):
        mathscore.read_examples(bad)
    bad.write_text('{"text": "x", "label": "math"}\n')
    with pytest.raises(mathscore.TrainingError, match="other"):
        mathscore.read_examples(bad)
    bad.write_text('{"text": "x", "label": "maths"}\n')
    with pytest.raises(mathscore.TrainingError, match="label"):
        mathscore.read_examples(bad)


def test_train_mathscore_cli(tmp_path):
    out = tmp_path / "models" / "mathscore-v2.bin"
    proc = subprocess.run([sys.executable, "-m", "proofpile.cli", "train-mathscore", "--input", TRAIN,
                           "--output", str(out), "--epoch", "10"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert out.exists() and '"accuracy": 1.0' in proc.stdout
    proc = subprocess.run([sys.executable, "-m", "proofpile.cli", "train-mathscore", "--input",
                           str(tmp_path / "missing.jsonl"), "--output", str(out)], capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 1 and "error" in proc.stderr


def test_resolve_model(tmp_path, monkeypatch):
    with pytest.raises(FileNotFoundError, match="train-mathscore"):
        mathscore.resolve_model(str(tmp_path / "nope-v1.bin"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(FileNotFoundError, match="not available"):
        mathscore.resolve_model("hf://someone/no-such-repo/mathscore-v1.bin")
    with pytest.raises(FileNotFoundError, match="hf://owner/repo/file.bin"):
        mathscore.resolve_model("hf://just-a-name")


def test_mathscore_rejects_a_model_without_math_label(tmp_path):
    # train() retries a diverged run at a lower rate: fastText can raise "Encountered NaN" on tiny separable data
    examples = [("en", "hello world"), ("fr", "bonjour le monde")] * 5
    mathscore.train(examples, tmp_path / "lang-v1.bin", {"epoch": 1, "bucket": 1000, "lr": 0.01, "dim": 10})
    with pytest.raises(ValueError, match="not a MathScore model"):
        MathScoreFilter(str(tmp_path / "lang-v1.bin")).filter(doc("hello"))
    # any fastText model works once its positive label is named
    d = doc("hello world")
    assert MathScoreFilter(str(tmp_path / "lang-v1.bin"), threshold=0.0, label="en").filter(d) is True
    assert 0.0 <= d.metadata["math_score"] <= 1.0


def test_quality_filter_holds_short_math_pages_to_a_lower_minimum():
    f = QualityFilter(min_chars=300, min_words=50)
    problem = doc("The quadratic formula. The two roots of $ax^2 + bx + c = 0$ are "
                  "$$x = \\frac{-b \\pm \\sqrt{b^2-4ac}}{2a}$$")
    assert f.filter(problem) is True
    assert f.filter(doc("One formula $x^2$ and some words that are not many at all, really not many.")) == \
        (False, "too_short")
    assert f.filter(doc("$x$ $y$ $z$")) == (False, "too_short")  # formulas alone are not a page
    assert QualityFilter(min_formulas=0).filter(problem) == (False, "too_short")


def test_quality_filter():
    f = QualityFilter(min_chars=100, min_words=20, max_accented_ratio=0.03)
    assert f.filter(doc(MATH_TEXT)) is True
    assert f.filter(doc("$x$ is short")) == (False, "too_short")
    assert f.filter(doc("x" * 200)) == (False, "too_few_words")
    accented = " ".join(["été déjà là où près"] * 20)
    assert f.filter(doc(accented)) == (False, "accented_chars")
    assert accented_ratio("abc") == 0 and accented_ratio("") == 0
    assert 0.1 < accented_ratio("éa") <= 0.5


def test_filters_judge_a_batch_then_count_and_pass_on_as_datatrove_does(tmp_path):
    """The web filters judge documents a batch at a time: what they keep (in order), their counts and the dropped
    documents they write are those of datatrove's one-at-a-time ``BaseFilter.run``."""
    from datatrove.pipeline.filters.base_filter import BaseFilter
    from datatrove.pipeline.writers import JsonlWriter

    # 35 documents, kept and dropped for three reasons: batches of 16, 16 and 3
    texts = [MATH_TEXT, "$x$ is short", "x" * 200, " ".join(["été déjà là où près"] * 20), NEWS_TEXT] * 7

    def run(runner, out):
        f = QualityFilter(min_chars=100, min_words=20, exclusion_writer=JsonlWriter(str(out), compression=None))
        kept = [d.id for d in runner(f, [Document(text=t, id=str(i)) for i, t in enumerate(texts)])]
        written = {p.name: p.read_bytes() for p in out.iterdir()}
        return kept, {k: v.to_dict() for k, v in f.stats.stats.items()}, f.stats.time_stats.n, written

    batched = run(QualityFilter.run, tmp_path / "batched")
    assert batched == run(BaseFilter.run, tmp_path / "one_at_a_time")
    kept, counts, timed, written = batched
    assert kept == [str(i) for i in range(35) if i % 5 in (0, 4)] and timed == 35
    assert counts["dropped_too_short"] == counts["dropped_too_few_words"] == counts["dropped_accented_chars"] == 7
    assert written["00000.jsonl"].count(b"\n") == 21


def test_perplexity_needs_kenlm():
    if kenlm_available():
        pytest.skip("kenlm is installed here")
    from proofpile.web.filters import PerplexityFilter

    with pytest.raises(ImportError, match="kenlm"):
        PerplexityFilter("model.arpa")


def test_perplexity_filter_with_a_stand_in_kenlm(monkeypatch):
    """The perplexity arithmetic and the drop, with a stand-in for kenlm.Model (log10 prob -1 per token)."""
    import types

    from proofpile.web.filters import PerplexityFilter

    class Model:
        def __init__(self, path):
            self.path = path

        def score(self, line):
            return -1.0 * (len(line.split()) + 1)

    monkeypatch.setitem(sys.modules, "kenlm", types.SimpleNamespace(Model=Model))
    monkeypatch.setattr(PerplexityFilter, "_requires_dependencies", [])
    NoDependencyCheck = PerplexityFilter

    f = NoDependencyCheck("en.arpa", max_perplexity=50)
    d = doc("One line of prose $x^2$ here.\n\nAnother 12 line.")
    assert f.filter(d) is True and d.metadata["perplexity"] == 10.0
    assert NoDependencyCheck("en.arpa", max_perplexity=5).filter(doc("some words")) == (False, "perplexity")
    assert NoDependencyCheck("en.arpa").filter(doc("$x$")) == (False, "perplexity")  # no prose at all
