"""The web stage on the real pages of the development set (../shared/fixtures/html/dev), scored as its README says,
each figure next to its baseline measured in the same run.

- ``dev_formula_recall``: unique expected formula bodies of 3+ characters found in our extraction, all math pages
  pooled (whitespace-free substring; ``{\\displaystyle …}`` wrappers and ``\\displaystyle`` tokens ignored on both
  sides). Pages whose bodies were derived from MathML (``derived``) or are AsciiMath (we convert it to TeX) are
  compared by skeleton (their letters and digits, in order, with TeX command names dropped). Baseline: resiliparse
  ``extract_plain_text(main_content=False)`` on the same pages; ``detail.per_technology`` has both per technology.
- ``dev_prose_recall`` (share of prose strings kept) and ``dev_boilerplate_leak`` (share of boilerplate strings
  kept), against resiliparse ``main_content=True``.
- ``dev_nonmath_false_math``: non-math pages whose output holds a math span (:mod:`proofpile.mathspans`) that is
  not in the page's own text. Must be 0.
- ``dev_page_accuracy``: the whole web stage (prefilter, extraction, language ID, MathScore, quality), run step by
  step on each page as a document; a math page must be kept, a non-math page dropped. Each drop's reason is in
  ``detail.pages``. MathScore precision/recall on these pages and on the Common Crawl excerpts is in
  :mod:`proofpile.bench.web_mathscore`.

Skipped (no figures, a reason printed) when ../shared is absent: the development set is real data, never generated.
"""

from __future__ import annotations

import html as htmllib
import json
import re
from pathlib import Path

from proofpile.bench import PROJECT, SHARED, figure

DEV = SHARED / "html" / "dev"

_WRAPPER = re.compile(r"\{\\(?:display|text)style")
_STYLE = re.compile(r"\\(?:display|text)style(?![A-Za-z])")
_SPACE = re.compile(r"\s+")
_COMMAND = re.compile(r"\\[A-Za-z]+")
_ENVIRONMENT = re.compile(r"\\(?:begin|end)\{[^}]*\}(?:\{[rlc|]*\})?")
_NOT_ALNUM = re.compile(r"[^0-9A-Za-z\u0370-\u03ff]+")


def manifest() -> list[dict]:
    with open(DEV / "manifest.jsonl", encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def read_page(entry: dict) -> str:
    return (DEV / entry["file"]).read_bytes().decode("utf-8", "replace")


def _unwrap(tex: str) -> str:
    """Drop ``{\\displaystyle …}`` wrappers (the brace pair) and ``\\displaystyle`` tokens."""
    while True:
        m = _WRAPPER.search(tex)
        if m is None:
            break
        depth, end = 0, None
        for i in range(m.start(), len(tex)):
            if tex[i] == "{" and tex[i - 1] != "\\":
                depth += 1
            elif tex[i] == "}" and tex[i - 1] != "\\":
                depth -= 1
                if depth == 0:
                    end = i
                    break
        if end is None:
            tex = tex[:m.start()] + tex[m.start() + 1:]
        else:
            tex = tex[:m.start()] + tex[m.end():end] + tex[end + 1:]
    return _STYLE.sub("", tex)


def tex_key(tex: str) -> str:
    return _SPACE.sub("", _unwrap(htmllib.unescape(tex)))


def skeleton(tex: str) -> str:
    """Letters and digits in order, without TeX command and environment names (``\\begin{array}{c}``, ``\\left``):
    how a MathML conversion is compared with TeX derived by other means."""
    return _NOT_ALNUM.sub("", _COMMAND.sub("", _ENVIRONMENT.sub("", htmllib.unescape(tex))))


def asciimath_skeleton(body: str) -> str:
    """An AsciiMath body's skeleton: its command words (``sqrt``, ``alpha``, ``oo``) dropped, like TeX commands."""
    from proofpile.web import asciimath

    names = {*asciimath.SYMBOLS, *asciimath.UNARY, *asciimath.BINARY}
    return skeleton(_WORD.sub(lambda m: "" if m.group() in names else m.group(), body))


_WORD = re.compile(r"[A-Za-z]{2,}")


def formula_scores(entry: dict, out: str) -> tuple[int, int]:
    """(found, expected) over the page's unique formula bodies of 3+ characters."""
    asciimath = entry.get("formula_syntax") == "asciimath"
    loose = entry.get("derived") or asciimath
    out_key = tex_key(out)
    out_skeleton = skeleton(out) if loose else ""
    found = total = 0
    for body in dict.fromkeys(entry["formulas"]):
        key = tex_key(body)
        if len(key) < 3:
            continue
        total += 1
        body_skeleton = asciimath_skeleton(body) if asciimath else skeleton(body)
        if key in out_key or (loose and body_skeleton in out_skeleton):
            found += 1
    return found, total


def _norm(text: str) -> str:
    return " ".join(text.split())


def string_share(strings: list[str], out: str) -> tuple[int, int]:
    out = _norm(out)
    return sum(_norm(s) in out for s in strings), len(strings)


def false_math(page: str, out: str) -> list[str]:
    """Math spans of ``out`` (delimiters and all) that are not in the page's own text."""
    from proofpile import mathspans

    source = _norm(htmllib.unescape(page))
    return [out[s.start:s.end] for s in mathspans.find(out) if _norm(out[s.start:s.end]) not in source]


def score_extractor(entries: list[dict], pages: list[str], outputs: list[str]) -> dict:
    """Pooled and per-technology figures of one extractor's outputs."""
    pooled = {"formulas": [0, 0], "prose": [0, 0], "boilerplate": [0, 0]}
    per_tech: dict[str, list[int]] = {}
    false_pages = {}
    for entry, page, out in zip(entries, pages, outputs):
        if entry["is_math"]:
            found, total = formula_scores(entry, out)
            pooled["formulas"][0] += found
            pooled["formulas"][1] += total
            for tech in entry["technology"]:
                counts = per_tech.setdefault(tech, [0, 0])
                counts[0] += found
                counts[1] += total
        else:
            spans = false_math(page, out)
            if spans:
                false_pages[entry["file"]] = spans[:3]
        for key in ("prose", "boilerplate"):
            got, n = string_share(entry[key], out)
            pooled[key][0] += got
            pooled[key][1] += n
    ratio = {k: (v[0] / v[1] if v[1] else 1.0) for k, v in pooled.items()}
    return {
        "formula_recall": ratio["formulas"],
        "prose_recall": ratio["prose"],
        "boilerplate_leak": ratio["boilerplate"],
        "per_technology": {t: round(f / n, 4) if n else None for t, (f, n) in sorted(per_tech.items())},
        "false_math_pages": false_pages,
        "formulas": pooled["formulas"],
    }


def stage_steps(workdir: Path) -> list:
    """The web stage's steps between reader and writer, built by the stage itself from the demo config (its
    defaults), the MathScore model trained into ``workdir``."""
    from proofpile.config import StageConfig
    from proofpile.stages import web

    root = PROJECT
    cfg = StageConfig.load("web", root / "pipelines" / "web.yaml", data_root=workdir)
    return web.build_steps(cfg, web.mathscore_model(cfg))


def expected_outcome(entry: dict) -> str:
    """What the stage (English, as configured by default) must do with a page: keep an English math page, drop a
    non-math page for any reason, drop a math page in another language as ``language``."""
    if not entry["is_math"]:
        return "drop"
    return "drop:language" if "non-english" in entry["technology"] else "keep"


def correct(result: dict) -> bool:
    if result["expected"] == "keep":
        return result["kept"]
    if result["expected"] == "drop":
        return not result["kept"]
    return not result["kept"] and result["reason"].endswith(":" + result["expected"].split(":", 1)[1])


def run_stage(steps: list, entries: list[dict], pages: list[str]) -> list[dict]:
    """Each page through the steps as one document: kept, or the step and reason that dropped it."""
    from datatrove.data import Document

    results = []
    for entry, page in zip(entries, pages):
        doc = Document(text=page, id=entry["file"], metadata={"url": entry.get("url") or ""})
        reason = None
        for step in steps:
            if hasattr(step, "extract"):  # the extractor, in-process (its sandbox is for the pipeline)
                text, counts = step.extract(page)
                if not text:
                    reason = "extract:empty_text"
                    break
                doc.text = text
                doc.metadata.update(counts)
                continue
            verdict = step.filter(doc)
            if verdict is not True:
                reason = f"{type(step).__name__}:{verdict[1] if isinstance(verdict, tuple) else 'dropped'}"
                break
        meta = {k: doc.metadata.get(k) for k in ("lang", "lang_score", "math_score") if k in doc.metadata}
        results.append({"file": entry["file"], "is_math": entry["is_math"], "kept": reason is None,
                        "expected": expected_outcome(entry), "reason": reason, **meta})
    return results


def run(workdir: Path) -> list[dict]:
    if not (DEV / "manifest.jsonl").is_file():
        print(f"  skipped: {DEV} is absent (the development set is real data in ../shared)")
        return []
    from resiliparse.extract.html2text import extract_plain_text
    from resiliparse.parse.html import HTMLTree

    from proofpile.web.extract import extract_math_text

    entries = manifest()
    pages = [read_page(e) for e in entries]
    ours = score_extractor(entries, pages, [extract_math_text(p)[0] for p in pages])
    full = score_extractor(entries, pages,
                           [extract_plain_text(HTMLTree.parse(p), main_content=False) for p in pages])
    main = score_extractor(entries, pages,
                           [extract_plain_text(HTMLTree.parse(p), main_content=True) for p in pages])
    below = {t: (v, full["per_technology"][t]) for t, v in ours["per_technology"].items()
             if v is not None and full["per_technology"][t] is not None and v < full["per_technology"][t]}
    stage = run_stage(stage_steps(workdir), entries, pages)
    right = sum(map(correct, stage))
    n_nonmath = sum(not e["is_math"] for e in entries)
    return [
        figure("dev_formula_recall", ours["formula_recall"], "share", "resiliparse main_content=False",
               goal=">= 0.98, and per technology >= the baseline", baseline_value=round(full["formula_recall"], 4),
               formulas=ours["formulas"], technologies_below_baseline=below,
               per_technology={t: {"ours": v, "resiliparse_full": full["per_technology"][t]}
                               for t, v in ours["per_technology"].items()}),
        figure("dev_prose_recall", ours["prose_recall"], "share", "resiliparse main_content=True",
               goal=">= 0.95", baseline_value=round(main["prose_recall"], 4)),
        figure("dev_boilerplate_leak", ours["boilerplate_leak"], "share", "resiliparse main_content=True",
               goal="<= 0.2", baseline_value=round(main["boilerplate_leak"], 4)),
        figure("dev_nonmath_false_math", len(ours["false_math_pages"]), "pages", "resiliparse main_content=False",
               goal="== 0", non_math_pages=n_nonmath, pages=ours["false_math_pages"],
               baseline_value=len(full["false_math_pages"])),
        figure("dev_page_accuracy", right / len(stage), "share", "is_math of the manifest", goal=">= 0.95",
               expected="keep English math pages, drop non-math pages, drop other-language math pages as language",
               wrong=[r for r in stage if not correct(r)], pages=stage),
    ]
