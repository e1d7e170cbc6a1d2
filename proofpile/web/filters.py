"""Filters of the web stage after extraction: URL blocklist, language, MathScore, quality.

Each is a datatrove ``BaseFilter`` that returns ``(False, reason)`` for a drop (counted as ``dropped_<reason>``)
and writes its score to ``meta`` for the documents it keeps. Models load lazily in the worker, so the steps
pickle small.
"""

from __future__ import annotations

import math
import re
from functools import partial
from urllib.parse import urlsplit

from datatrove.data import Document
from datatrove.pipeline.filters.base_filter import BaseFilter

from proofpile.config import read_list
from proofpile.lazy_model import LazyModel, lid176_path, load_fasttext
from proofpile.web.mathscore import normalize

# $$...$$ and $...$ as the extractor writes them: removed before language ID, where TeX reads as noise
_MATH_RE = re.compile(r"\$\$.+?\$\$|\$[^$\n]+?\$", re.DOTALL)
_ACCENTED_RE = re.compile(r"[\u00C0-\u00D6\u00D8-\u00F6\u00F8-\u024F]")
_LETTER_RE = re.compile(r"[^\W\d_]")


def strip_math(text: str) -> str:
    return _MATH_RE.sub(" ", text)


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


class LanguageIdFilter(BaseFilter):
    """fastText language ID on the extracted text with its math removed. Keeps a document whose top label is one
    of ``languages`` with a score of at least ``threshold``; writes ``meta.lang`` and ``meta.lang_score``."""

    name = "🌍 Language ID (lid.176)"

    def __init__(self, languages: list[str] | str | None = ("en",), threshold: float = 0.5,
                 model_path: str | None = None, exclusion_writer=None):
        super().__init__(exclusion_writer)
        self.languages = [languages] if isinstance(languages, str) else (list(languages) if languages else None)
        self.threshold = threshold
        self.model = LazyModel(model_path or lid176_path())

    def predict(self, text: str) -> tuple[str, float]:
        prose = " ".join(strip_math(text).split())
        if not prose:
            return "und", 0.0
        labels, scores = self.model.get().predict(prose, k=1)
        return labels[0].removeprefix("__label__"), float(scores[0])

    def filter(self, doc: Document) -> bool | tuple[bool, str]:
        lang, score = self.predict(doc.text)
        doc.metadata["lang"] = lang
        doc.metadata["lang_score"] = round(score, 4)
        if self.languages and lang not in self.languages:
            return False, "language"
        if score < self.threshold:
            return False, "language_score"
        return True


class MathScoreFilter(BaseFilter):
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


class QualityFilter(BaseFilter):
    """Cheap quality checks on the extracted text: a minimum length (characters and words) and a maximum ratio of
    accented Latin letters among letters (a page that lid.176 calls English but is mostly accented is mis-decoded or
    not English)."""

    name = "🧹 Quality"

    def __init__(self, min_chars: int = 300, min_words: int = 50, max_accented_ratio: float = 0.03,
                 exclusion_writer=None):
        super().__init__(exclusion_writer)
        self.min_chars, self.min_words, self.max_accented_ratio = min_chars, min_words, max_accented_ratio

    def filter(self, doc: Document) -> bool | tuple[bool, str]:
        text = doc.text.strip()
        if len(text) < self.min_chars:
            return False, "too_short"
        if len(text.split()) < self.min_words:
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


class PerplexityFilter(BaseFilter):
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
