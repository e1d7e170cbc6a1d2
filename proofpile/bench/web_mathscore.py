"""MathScore (the default model, trained on generated text) measured on real pages, extracted as the stage extracts.

Labelled real pages (../shared/fixtures):

- the development set (html/dev): 26 math pages, 12 non-math pages carrying math-like markers;
- html/wikipedia-tsne-mathml.html and html/puzzling-stackexchange-mathjax.html (math);
- warc/cc-main-2020-34-excerpt.warc.gz (16 Common Crawl pages, no math) and warc/homepages-mathjax.warc.gz
  (researchers' home pages, several loading MathJax, no math content): negatives.

- ``mathscore_f1_real``: F1 of ``score >= threshold`` (0.5, the stage default) for "math page", against the
  baseline rule "the extracted text holds a math span" (:mod:`proofpile.mathspans`: what a classifier-free pipeline
  would keep), both on the same extracted texts. ``detail`` has precision and recall of both, per source, and the
  pages each gets wrong.

Skipped with a reason when ../shared is absent.
"""

from __future__ import annotations

from pathlib import Path

from proofpile.bench import SHARED, figure
from proofpile.bench.web_devset import manifest, read_page

THRESHOLD = 0.5


def labelled_pages() -> list[tuple[str, str, str, bool]]:
    """(source, name, html, is_math) for every labelled real page that is present."""
    pages = []
    if (SHARED / "html" / "dev" / "manifest.jsonl").is_file():
        pages += [("dev", e["file"], read_page(e), e["is_math"]) for e in manifest()]
    for name in ("wikipedia-tsne-mathml.html", "puzzling-stackexchange-mathjax.html"):
        path = SHARED / "html" / name
        if path.is_file():
            pages.append(("html", name, path.read_bytes().decode("utf-8", "replace"), True))
    for name in ("cc-main-2020-34-excerpt.warc.gz", "homepages-mathjax.warc.gz"):
        path = SHARED / "warc" / name
        if path.is_file():
            pages += [("warc", url, html, False) for url, html in warc_pages(path)]
    return pages


def warc_pages(path: Path) -> list[tuple[str, str]]:
    from fastwarc.warc import ArchiveIterator, WarcRecordType

    from proofpile.web.warc import decode_html

    pages = []
    with open(path, "rb") as f:
        for record in ArchiveIterator(f, record_types=WarcRecordType.response, parse_http=True):
            decoded = decode_html(record.reader.read(), record.http_charset)
            if decoded:
                pages.append((record.headers.get("WARC-Target-URI"), decoded[0]))
    return pages


def scores(predicted: list[bool], actual: list[bool]) -> dict:
    tp = sum(p and a for p, a in zip(predicted, actual))
    fp = sum(p and not a for p, a in zip(predicted, actual))
    fn = sum(a and not p for p, a in zip(predicted, actual))
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4), "pages": len(actual)}


def run(workdir: Path) -> list[dict]:
    pages = labelled_pages()
    if not pages:
        print(f"  skipped: {SHARED} is absent (MathScore is measured on real pages only)")
        return []
    from proofpile import mathspans
    from proofpile.web.extract import extract_math_text
    from proofpile.web.filters import MathScoreFilter
    from proofpile.web.mathscore import default_train_files, ensure_default_model

    model = ensure_default_model(default_train_files(), workdir / "mathscore-v2.bin")
    classifier = MathScoreFilter(model, threshold=THRESHOLD)
    rows = []
    for source, name, html, is_math in pages:
        text = extract_math_text(html)[0]
        if not text:
            continue
        rows.append((source, name, is_math, classifier.score(text) >= THRESHOLD, mathspans.has_math(text)))
    actual = [r[2] for r in rows]
    ours, rule = scores([r[3] for r in rows], actual), scores([r[4] for r in rows], actual)
    per_source = {source: scores([r[3] for r in rows if r[0] == source], [r[2] for r in rows if r[0] == source])
                  for source in sorted({r[0] for r in rows})}
    return [figure("mathscore_f1_real", ours["f1"] / rule["f1"] if rule["f1"] else 0.0, "x",
                   "has a math span (mathspans), same pages", f1=ours["f1"], mathscore=ours, has_math_span=rule,
                   per_source=per_source, threshold=THRESHOLD,
                   wrong=[f"{r[1]} (math={r[2]})" for r in rows if r[3] != r[2]])]
