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

import glob
import os

from datatrove.utils.logging import logger

from proofpile.config import URL_SCHEMES, ConfigError, StageConfig
from proofpile.contract import ContractWriter
from proofpile.stage import run_pipeline

UPSTREAM = ()
OUTPUTS = ("web",)
SUBSET, SOURCE = "open-web-math", "warc"
DEFAULT_MATHSCORE = ("models", "mathscore-v2.bin")
_GLOB_CHARS = "*?["


def _split_glob(pattern: str) -> tuple[str, str | None]:
    """'dir/sub/*.warc.gz' -> ('dir/sub', '*.warc.gz'); a plain directory -> (dir, default pattern)."""
    if not any(c in pattern for c in _GLOB_CHARS):
        if os.path.isfile(pattern):
            return os.path.dirname(pattern) or ".", os.path.basename(pattern)
        return pattern, "**/*.warc*"
    parts = pattern.split("/")
    i = next(i for i, p in enumerate(parts) if any(c in p for c in _GLOB_CHARS))
    return "/".join(parts[:i]) or ".", "/".join(parts[i:])


def _section(cfg: StageConfig, key: str) -> dict:
    value = cfg.get(key) or {}
    if not isinstance(value, dict):
        raise ConfigError(f"web.{key} must be a mapping")
    return value


def paths_file(cfg: StageConfig) -> str:
    """The crawl listing: a URL, a local file, or a path relative to base_url (crawl-data/CC-MAIN-.../warc.paths.gz)."""
    value = str(cfg.get("paths_file"))
    local = cfg.path(value)
    if value.startswith(URL_SCHEMES) or os.path.exists(local) or not cfg.get("base_url"):
        return local
    return cfg.get("base_url").rstrip("/") + "/" + value.lstrip("/")


def build_reader(cfg: StageConfig, prefilter=None):
    from proofpile.web.warc import HtmlWarcReader

    common = dict(first=cfg.get("first"), every=cfg.get("every", 1), path_range=cfg.get("path_range"),
                  crawl=cfg.get("crawl"), max_page_bytes=int(cfg.get("max_page_bytes", 5_000_000)),
                  default_metadata={"subset": SUBSET, "source": SOURCE}, prefilter=prefilter)
    if cfg.get("paths_file"):
        if not cfg.get("base_url"):
            raise ConfigError("web.paths_file needs web.base_url (e.g. https://data.commoncrawl.org)")
        return HtmlWarcReader(cfg.path(cfg.get("base_url")), paths_file=paths_file(cfg), **common)
    if not cfg.get("warcs"):
        raise ConfigError("web: set either `warcs` (local WARC files, a glob) or `paths_file` + `base_url`")
    folder, pattern = _split_glob(cfg.param_path("warcs"))
    if not folder.startswith(URL_SCHEMES) and not os.path.isdir(folder):
        raise FileNotFoundError(f"web.warcs: no folder {folder}")
    return HtmlWarcReader(folder, glob_pattern=pattern, **common)


def mathscore_model(cfg: StageConfig) -> str:
    """The configured MathScore model, or the default one trained (deterministically) into the data root."""
    from proofpile.web.mathscore import ensure_default_model, resolve_model

    ms = _section(cfg, "mathscore")
    if ms.get("model"):
        return resolve_model(cfg.path(ms["model"]))
    return ensure_default_model(_mathscore_train(cfg), cfg.out(*DEFAULT_MATHSCORE), ms.get("params"))


def _mathscore_train(cfg: StageConfig) -> str:
    return cfg.path(_section(cfg, "mathscore").get("train", "filters/web/mathscore-train.jsonl"))


def _prefilter_files(cfg: StageConfig) -> tuple[str, str]:
    """(math markers, LaTeX commands): the prefilter's lists."""
    pre = _section(cfg, "prefilter")
    return (cfg.path(pre.get("markers", "filters/web/math-markers.txt")),
            cfg.path(pre.get("latex_commands", "filters/web/latex-commands.txt")))


_EXTRACT_FILES = ("boilerplate_lines", "boilerplate_patterns", "skip_elements")


def extract_options(cfg: StageConfig) -> dict:
    """web.extract as MathExtractor's keyword arguments, its list files resolved against the project root."""
    options = dict(_section(cfg, "extract"))
    for key in _EXTRACT_FILES:
        if options.get(key):
            options[key] = cfg.path(options[key])
    return options


def _extract_files(cfg: StageConfig) -> list[str]:
    from proofpile.web import extract

    options = extract_options(cfg)
    return [str(options.get(key) or getattr(extract, key.upper())) for key in _EXTRACT_FILES]


def build_steps(cfg: StageConfig, mathscore_path: str) -> list:
    """The web pipeline between reader and writer; its first step is the prefilter (give it to the reader)."""
    from proofpile.web.extract import MathExtractor
    from proofpile.web.filters import (LanguageIdFilter, MathScoreFilter, PerplexityFilter, QualityFilter,
                                       UrlBlocklistFilter, kenlm_available)
    from proofpile.web.prefilter import MathPrefilter

    lang, ms, quality = (_section(cfg, k) for k in ("language", "mathscore", "quality"))

    def dropped(name: str):
        """With ``write_dropped: true``, the extracted documents a filter drops go to logs/web/dropped/<name>/
        (meta.filter_reason says why): what one reads to tune thresholds."""
        return ContractWriter(cfg.out("logs", "web", "dropped", name)) if cfg.get("write_dropped") else None

    steps = [MathPrefilter(*_prefilter_files(cfg))]
    if cfg.get("url_blocklist"):
        steps.append(UrlBlocklistFilter(cfg.param_path("url_blocklist")))
    steps += [
        MathExtractor(**extract_options(cfg)),
        MathScoreFilter(mathscore_path, threshold=float(ms.get("threshold", 0.5)), label=ms.get("label", "math"),
                        exclusion_writer=dropped("mathscore")),
        LanguageIdFilter(languages=lang.get("languages", ["en"]), threshold=float(lang.get("threshold", 0.5)),
                         model_path=cfg.path(lang["model"]) if lang.get("model") else None,
                         exclusion_writer=dropped("language")),
        QualityFilter(min_chars=int(quality.get("min_chars", 300)), min_words=int(quality.get("min_words", 50)),
                      max_accented_ratio=float(quality.get("max_accented_ratio", 0.03)),
                      exclusion_writer=dropped("quality")),
    ]
    if quality.get("kenlm_model"):
        if kenlm_available():
            steps.append(PerplexityFilter(cfg.path(quality["kenlm_model"]), float(quality.get("max_perplexity", 1500)),
                                          exclusion_writer=dropped("perplexity")))
        else:
            logger.error("web.quality.kenlm_model is set but the `kenlm` module is not installed "
                         "(pip install kenlm): the perplexity filter is SKIPPED for this run")
    return steps


def inputs(cfg: StageConfig) -> list[str]:
    paths = []
    if cfg.get("warcs"):
        paths.append(_split_glob(cfg.param_path("warcs"))[0])
    listing = paths_file(cfg) if cfg.get("paths_file") else None
    if listing and not listing.startswith(URL_SCHEMES):
        paths.append(listing)
    if cfg.get("url_blocklist"):
        paths.append(cfg.param_path("url_blocklist"))
    paths += _prefilter_files(cfg)
    ms = _section(cfg, "mathscore")
    if ms.get("model") and not str(ms["model"]).startswith("hf://"):
        paths.append(cfg.path(ms["model"]))
    elif not ms.get("model"):
        paths.append(_mathscore_train(cfg))
    paths += _extract_files(cfg)
    for section, key in (("language", "model"), ("quality", "kenlm_model")):
        value = _section(cfg, section).get(key)
        if value:
            paths.append(cfg.path(value))
    return [p for p in paths if not glob.has_magic(p)]


def run(cfg: StageConfig) -> None:
    steps = build_steps(cfg, mathscore_model(cfg))
    reader = build_reader(cfg, prefilter=steps[0])
    run_pipeline(cfg, [reader, *steps, ContractWriter(cfg.stage_dir())])
