"""The web stage on the real pages of the development set (../shared/fixtures/html/dev), scored as its README says
(proofpile.bench.web_devset): the figures `make bench` reports, held as floors here. Skipped when ../shared is
absent."""

from __future__ import annotations

import pytest

from proofpile.bench import web_devset


@pytest.fixture(scope="module")
def dev():
    if not (web_devset.DEV / "manifest.jsonl").is_file():
        pytest.skip("shared fixture html/dev is absent (../shared/fixtures is not beside the project)")
    from proofpile.web.extract import extract_math_text

    entries = web_devset.manifest()
    pages = [web_devset.read_page(e) for e in entries]
    return entries, pages, [extract_math_text(p)[0] for p in pages]


def test_formulas_prose_and_boilerplate(dev):
    scored = web_devset.score_extractor(*dev)
    assert scored["formula_recall"] >= 0.98, scored["formulas"]
    assert scored["prose_recall"] >= 0.95 and scored["boilerplate_leak"] <= 0.2


def test_no_non_math_page_gains_math(dev):
    assert web_devset.score_extractor(*dev)["false_math_pages"] == {}


@pytest.mark.parametrize("technology", ["mathjax-script-text-tex", "mathjax-server-chtml-aria-label", "data-attr-tex",
                                        "katex-html-only", "distill-d-math", "mathml-mml-prefix", "jsmath-div-math",
                                        "asciimath-backticks", "wordpress-latex-php", "mathml-annotation-x-tex"])
def test_each_technology_is_read(dev, technology):
    entries, pages, outputs = dev
    keep = [i for i, e in enumerate(entries) if technology in e["technology"]]
    scored = web_devset.score_extractor([entries[i] for i in keep], [pages[i] for i in keep],
                                        [outputs[i] for i in keep])
    assert scored["formula_recall"] >= 0.95, (technology, scored["formulas"])


def test_formulas_are_not_emitted_twice(dev):
    # MathJax's preview sits beside each formula's script: a formula comes out as often as the page has it, less
    # its previews
    from resiliparse.parse.html import HTMLTree

    entries, pages, outputs = dev
    for entry, page, out in zip(entries, pages, outputs):
        if "mathjax-preview-duplicate" not in entry["technology"]:
            continue
        squeeze = "".join  # whitespace-free, as the scorer compares
        previews = [squeeze(n.text.split())
                    for n in HTMLTree.parse(page).document.query_selector_all(".MathJax_Preview").values()]
        page, out = squeeze(page.replace("&amp;", "&").split()), squeeze(out.split())
        for body in entry["formulas"]:
            body = squeeze(body.split())
            if len(body) >= 5:
                assert out.count(body) == page.count(body) - sum(body in p for p in previews), (entry["file"], body)


def test_the_stage_keeps_math_pages_and_drops_the_rest_with_reasons(dev, tmp_path):
    entries, pages, _ = dev
    results = web_devset.run_stage(web_devset.stage_steps(tmp_path), entries, pages)
    wrong = [r for r in results if not web_devset.correct(r)]
    assert len(wrong) <= 1, wrong
    assert all(r["reason"] for r in results if not r["kept"])
