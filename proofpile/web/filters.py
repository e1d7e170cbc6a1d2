"""Filters of the web stage after extraction: URL blocklist, language, MathScore, quality.

Each is a datatrove ``BaseFilter`` that returns ``(False, reason)`` for a drop (counted as ``dropped_<reason>``)
and writes its score to ``meta`` for the documents it keeps; those after extraction judge a batch at a time
(``BatchFilter``). Models load lazily in the worker, so the steps pickle small.
"""

from __future__ import annotations

import contextlib
import math
import re
from functools import partial
from urllib.parse import urlsplit

from datatrove.data import Document, DocumentsPipeline
from datatrove.pipeline.filters.base_filter import BaseFilter, get_filter_result
from datatrove.utils.typeshelper import StatHints

from proofpile import mathspans
from proofpile.batches import sized_batches
from proofpile.config import read_list
from proofpile.lazy_model import LazyModel, lid176_path, load_fasttext
from proofpile.web.mathscore import normalize

_ACCENTED_RE = re.compile(r"[\u00C0-\u00D6\u00D8-\u00F6\u00F8-\u024F]")
_LETTER_RE = re.compile(r"[^\W\d_]")
_WORD_RE = re.compile(r"[^\W\d_]{2,}")


def strip_math(text: str) -> str:
    """The prose of ``text``: its math spans (by the one definition, :mod:`proofpile.mathspans`) removed; a price
    stays prose."""
    return mathspans.strip(text)


class BatchFilter(BaseFilter):
    """A filter that judges documents a batch at a time (up to ``batch_docs``, or ``batch_chars`` of text), then
    passes them on in order, counted (``total``, ``forwarded``, ``dropped``, ``dropped_<reason>``, time per
    document) and written as excluded exactly as datatrove's ``BaseFilter.run`` does one at a time: its model and
    code run back to back, warm in the CPU caches. One at a time, with one page in a hundred kept, every page found
    them cold (the web stage's model filters cost ~40% more)."""

    batch_docs, batch_chars = 16, 1 << 22

    def run(self, data: DocumentsPipeline, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        with self.exclusion_writer if self.exclusion_writer else contextlib.nullcontext() as writer:
            for batch in sized_batches(data, self.batch_docs, self.batch_chars):
                results = []
                for doc in batch:
                    with self.track_time():
                        results.append(self.filter(doc))
                for doc, result in zip(batch, results):
                    self.stat_update(StatHints.total)
                    keep, reason = get_filter_result(result)
                    if keep:
                        self.stat_update(StatHints.forwarded)
                        self.update_doc_stats(doc)
                        yield doc
                        continue
                    self.stat_update(StatHints.dropped)
                    if reason:
                        self.stat_update(f"dropped_{reason}")
                    if self.exclusion_writer:
                        if reason:
                            doc.metadata["filter_reason"] = reason
                        writer.write(doc, rank)


class UrlBlocklistFilter(BaseFilter):
    """Drops pages whose host is a blocklisted domain or a subdomain of one (``blocked_domain``)."""

    name = "⛔ URL blocklist"

    def __init__(self, blocklist_file: str, exclusion_writer=None):
        super().__init__(exclusion_writer)
        self.domains = frozenset(d.lower().lstrip(".") for d in read_list(blocklist_file))

    def blocked(self, url: str) -> bool:
        try:
            host = (urlsplit(url).hostname or "").lower()
        except ValueError:
            return False
        parts = host.split(".")
        return any(".".join(parts[i:]) in self.domains for i in range(len(parts)))

    def filter(self, doc: Document) -> bool | tuple[bool, str]:
        if self.blocked(doc.metadata.get("url") or ""):
            return False, "blocked_domain"
        return True


class LanguageIdFilter(BatchFilter):
    """fastText language ID on the prose of the extracted text (its math removed). Keeps a document whose top label
    is one of ``languages`` with a score of at least ``threshold``; writes ``meta.lang`` and ``meta.lang_score``.

    A math-dense page (at least ``math_dense`` formulas per prose word, and two: a table of q-expansions, a short
    problem page) has little prose to judge, so its score is low whatever its language: there the top label
    decides alone. A page in another language is dropped (``language``) either way; a page with no prose at all is
    kept when it has math (nothing but formulas is in no other language), else dropped (``no_prose``); so is one
    with fewer than ``min_prose_words`` words of prose, too few to identify a language."""

    name = "🌍 Language ID (lid.176)"

    def __init__(self, languages: list[str] | str | None = ("en",), threshold: float = 0.5,
                 model_path: str | None = None, math_dense: float = 0.1, min_prose_words: int = 5,
                 exclusion_writer=None):
        super().__init__(exclusion_writer)
        self.math_dense, self.min_prose_words = math_dense, min_prose_words
        self.languages = [languages] if isinstance(languages, str) else (list(languages) if languages else None)
        self.threshold = threshold
        self.model = LazyModel(model_path or lid176_path())

    def predict(self, text: str) -> tuple[str, float]:
        """(language, score) of the prose of ``text``; ``("und", 0.0)`` for fewer than ``min_prose_words`` words
        (a title and a formula: too little for lid.176, which calls "jsMath2jax Test" Chinese)."""
        return self._predict(*_prose(text)[:2])

    def _predict(self, prose: str, words: int) -> tuple[str, float]:
        if words < self.min_prose_words:
            return "und", 0.0
        labels, scores = self.model.get().predict(prose, k=1)
        return labels[0].removeprefix("__label__"), float(scores[0])

    def filter(self, doc: Document) -> bool | tuple[bool, str]:
        prose, words, formulas = _prose(doc.text)  # the math found once, for every test below
        lang, score = self._predict(prose, words)
        doc.metadata["lang"] = lang
        doc.metadata["lang_score"] = round(score, 4)
        if lang == "und":  # nothing but math is in no other language: MathScore and quality judge it
            return formulas > 0 or (False, "no_prose")
        if self.languages and lang not in self.languages:
            return False, "language"
        if score < self.threshold and not self._math_dense(words, formulas):
            return False, "language_score"
        return True

    def is_math_dense(self, text: str) -> bool:
        _, words, formulas = _prose(text)
        return self._math_dense(words, formulas)

    def _math_dense(self, words: int, formulas: int) -> bool:
        return formulas >= 2 and formulas >= self.math_dense * words


def _prose(text: str) -> tuple[str, int, int]:
    """The prose of ``text`` on one line (its math spans removed), its words, and its number of formulas."""
    prose, formulas = mathspans.prose_and_count(text)
    prose = " ".join(prose.split())
    return prose, len(_WORD_RE.findall(prose)), formulas


class MathScoreFilter(BatchFilter):
    """A fastText classifier on the extracted text (ours: labels ``math``/``other``, see proofpile.web.mathscore;
    any other fastText model works with ``label`` set to its positive label). Writes ``meta.math_score`` (the
    probability of ``label``); drops below ``threshold`` as ``math_score``."""

    name = "📐 MathScore"

    def __init__(self, model_path: str, threshold: float = 0.5, label: str = "math", exclusion_writer=None):
        super().__init__(exclusion_writer)
        self.threshold = threshold
        self.label = f"__label__{label.removeprefix('__label__')}"
        self.model = LazyModel(model_path, load=partial(_load_classifier, label=self.label))

    def score(self, text: str) -> float:
        labels, probs = self.model.get().predict(normalize(text), k=-1)
        return float(dict(zip(labels, probs)).get(self.label, 0.0))

    def filter(self, doc: Document) -> bool | tuple[bool, str]:
        score = self.score(doc.text)
        doc.metadata["math_score"] = round(score, 4)
        return score >= self.threshold or (False, "math_score")


def accented_ratio(text: str) -> float:
    letters = len(_LETTER_RE.findall(text))
    return len(_ACCENTED_RE.findall(text)) / letters if letters else 0.0


class QualityFilter(BatchFilter):
    """Cheap quality checks on the extracted text: a minimum length (characters and words) and a maximum ratio of
    accented Latin letters among letters (a page that lid.176 calls English but is mostly accented is mis-decoded or
    not English). A page with at least ``min_formulas`` formulas (a short problem, a worked formula) is held to the
    lower ``min_chars_with_math`` / ``min_words_with_math``: a few formulas say more than many words of prose."""

    name = "🧹 Quality"

    def __init__(self, min_chars: int = 300, min_words: int = 50, max_accented_ratio: float = 0.03,
                 min_formulas: int = 2, min_chars_with_math: int = 100, min_words_with_math: int = 10,
                 exclusion_writer=None):
        super().__init__(exclusion_writer)
        self.min_chars, self.min_words, self.max_accented_ratio = min_chars, min_words, max_accented_ratio
        self.min_formulas, self.min_chars_with_math, self.min_words_with_math = \
            min_formulas, min_chars_with_math, min_words_with_math

    def filter(self, doc: Document) -> bool | tuple[bool, str]:
        text = doc.text.strip()
        min_chars, min_words = self.min_chars, self.min_words
        words = len(text.split())
        if (len(text) < min_chars or words < min_words) and self.min_formulas:
            if sum(1 for _ in mathspans.find(text)) >= self.min_formulas:
                min_chars, min_words = self.min_chars_with_math, self.min_words_with_math
        if len(text) < min_chars:
            return False, "too_short"
        if words < min_words:
            return False, "too_few_words"
        if accented_ratio(text) > self.max_accented_ratio:
            return False, "accented_chars"
        return True


def kenlm_available() -> bool:
    try:
        import kenlm  # noqa: F401
    except ImportError:
        return False
    return True


class PerplexityFilter(BatchFilter):
    """KenLM perplexity (ccnet normalisation: lowercase, digits to 0, one line per paragraph) of the text with its
    math removed; writes ``meta.perplexity`` and drops above ``max_perplexity``. Needs the ``kenlm`` module."""

    name = "📉 KenLM perplexity"
    _requires_dependencies = ["kenlm"]

    def __init__(self, model_path: str, max_perplexity: float = 1500.0, exclusion_writer=None):
        super().__init__(exclusion_writer)
        self.model = LazyModel(model_path, load=_load_kenlm)
        self.max_perplexity = max_perplexity

    def perplexity(self, text: str) -> float:
        model = self.model.get()
        log_score, length = 0.0, 0
        for line in strip_math(text).lower().splitlines():
            line = " ".join(re.sub(r"\d", "0", line).split())
            if line:
                log_score += model.score(line)
                length += len(line.split()) + 1
        return 10.0 ** (-log_score / length) if length else math.inf

    def filter(self, doc: Document) -> bool | tuple[bool, str]:
        ppl = self.perplexity(doc.text)
        doc.metadata["perplexity"] = round(ppl, 1)
        return ppl <= self.max_perplexity or (False, "perplexity")


def _load_classifier(path: str, label: str):
    model = load_fasttext(path)
    if label not in model.labels:
        raise ValueError(f"{path}: not a MathScore model (labels {model.labels}, need {label}; set "
                         "web.mathscore.label)")
    return model


def _load_kenlm(path: str):
    import kenlm

    return kenlm.Model(path)
