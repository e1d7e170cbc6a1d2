"""Math-aware extraction (proofpile.web.extract, proofpile.web.mathml) and its filter lists in filters/web/."""

from __future__ import annotations

import re

import pytest
from datatrove.data import Document
from resiliparse.extract.html2text import extract_plain_text
from resiliparse.parse.html import HTMLTree

from proofpile.config import read_list
from proofpile.web import mathml
from proofpile.web.extract import (
    BOILERPLATE_LINES,
    BOILERPLATE_PATTERNS,
    SKIP_ELEMENTS,
    SOURCES,
    Boilerplate,
    MathExtractor,
    extract_math_text,
)

PROSE = "This paragraph is long enough, and plain enough, that the main-content heuristics keep it on the page."


def page(body: str) -> str:
    return f"<html><head></head><body><article><p>{PROSE}</p>{body}<p>{PROSE}</p></article></body>" \
        "</html>"


def extract_body(body: str) -> tuple[str, dict]:
    """Extraction of ``body`` between two prose paragraphs, with the prose taken out again."""
    text, counts = extract_math_text(page(body))
    assert text.startswith(PROSE) and text.endswith(PROSE), text
    return text[len(PROSE): -len(PROSE)].strip(), counts


def dollar_spans(text: str) -> list[str]:
    return re.findall(r"\$\$.+?\$\$|\$[^$]+\$", text)


# -- each math source -----------------------------------------------------------------------------------------


def test_mathjax_scripts_inline_and_display():
    text, counts = extract_body(
        '<p>Let <script type="math/tex">x^2+1</script> be, and <script type="math/tex; mode=display">'
        "\\int_0^1 f</script> and <script type='math/tex;mode=display'>a=b</script> done.</p>"
    )
    assert text == "Let $x^2+1$ be, and $$\\int_0^1 f$$ and $$a=b$$ done."
    assert counts == {"math_inline": 1, "math_display": 2, "math_sources": {"mathjax": 3}}


def test_mathjax2_rendered_copies_are_dropped_not_doubled():
    text, counts = extract_body(
        '<p>R <span class="MathJax_Preview">x2</span><span class="MathJax" id="MathJax-Element-1-Frame"><nobr>x2'
        '</nobr><span class="MJX_Assistive_MathML"><math><msup><mi>x</mi><mn>2</mn></msup></math></span></span>'
        '<script type="math/tex" id="MathJax-Element-1">x^2</script> end</p>'
    )
    assert text == "R $x^2$ end"
    assert counts["math_sources"] == {"mathjax": 1}


def test_mathjax3_rendered_container_uses_its_assistive_mathml():
    text, counts = extract_body(
        '<p>R <mjx-container class="MathJax CtxtMenu_Attached_0" jax="CHTML"><mjx-math>y0</mjx-math>'
        "<mjx-assistive-mml><math><msub><mi>y</mi><mn>0</mn></msub></math></mjx-assistive-mml></mjx-container> end</p>"
    )
    assert text == "R $y_0$ end"
    assert counts["math_sources"] == {"mathml": 1}


def test_mathml_prefers_tex_annotation_then_alttext_then_conversion():
    text, counts = extract_body(
        '<p>A <math display="block"><semantics><mrow><mi>x</mi></mrow>'
        '<annotation encoding="application/x-tex">x_1</annotation></semantics></math> '
        'B <math alttext="\\alpha + \\beta"><mi>α</mi><mo>+</mo><mi>β</mi></math> '
        "C <math><mfrac><mn>1</mn><mi>y</mi></mfrac></math> end</p>"
    )
    assert text == "A $$x_1$$ B $\\alpha + \\beta$ C $\\frac{1}{y}$ end"
    assert counts == {"math_inline": 2, "math_display": 1, "math_sources": {"mathml": 3}}


def test_katex_annotation_without_the_html_rendering():
    text, counts = extract_body(
        '<p>K <span class="katex"><span class="katex-mathml"><math><semantics><mrow><mi>c</mi></mrow>'
        '<annotation encoding="application/x-tex">c^2</annotation></semantics></math></span>'
        '<span class="katex-html" aria-hidden="true"><span class="base">c2</span></span></span> and '
        '<span class="katex-display"><span class="katex"><span class="katex-mathml"><math display="block">'
        '<semantics><mi>e</mi><annotation encoding="application/x-tex">e^{i\\pi}</annotation></semantics></math>'
        '</span><span class="katex-html">eiπ</span></span></span> end</p>'
    )
    assert text == "K $c^2$ and $$e^{i\\pi}$$ end"
    assert counts == {"math_inline": 1, "math_display": 1, "math_sources": {"katex": 2}}


def test_stack_exchange_math_container():
    text, counts = extract_body(
        '<p>SE <span class="math-container">$a+b$</span> and <span class="math-container">$$\\sum_i i$$</span></p>'
    )
    assert text == "SE $a+b$ and $$\\sum_i i$$"
    assert counts == {"math_inline": 1, "math_display": 1, "math_sources": {"math_container": 2}}


def test_latex_images_from_alt_text_and_url():
    text, counts = extract_body(
        '<p>W <img class="latex" src="https://s0.wp.com/latex.php?latex=x%5E2&amp;bg=ffffff" alt="x^2" /> '
        'C <img src="https://latex.codecogs.com/gif.latex?\\dpi{120}\\frac{a}{b}%20+%20c" /> '
        'M <img src="/cgi-bin/mimetex.cgi?y_1" /> T <img src="http://example.org/cgi-bin/tex.cgi?\\alpha" /> '
        'P <img class="math" src="/photo.jpg" alt="a photo of a blackboard" /> end</p>'
    )
    assert text == "W $x^2$ C $\\frac{a}{b} + c$ M $y_1$ T $\\alpha$ P end"
    assert counts["math_sources"] == {"img_alt": 1, "img_url": 3}


def test_delimited_math_in_text_is_normalised():
    text, counts = extract_body("<p>inline \\(a+b\\) display \\[c=d\\] kept $$e=f$$ and $x^2$ too.</p>")
    assert text == "inline $a+b$ display $$c=d$$ kept $$e=f$$ and $x^2$ too."
    assert counts == {"math_inline": 2, "math_display": 2, "math_sources": {"text_delimited": 4}}


# -- OpenWebMath's bugs -------------------------------------------------------------------------------------


def test_align_environments_survive_intact():
    align = "\\begin{align} a &= b \\\\[2pt] c &= d \\end{align}"
    aligned = "\\begin{aligned} x &= 1 \\\\ y &= 2 \\end{aligned}"
    text, counts = extract_body(f"<p>{align} and \\[{aligned}\\]</p>")
    assert text == f"{align} and $${aligned}$$"
    # from a MathJax script too, newlines and all
    script_align = "\\begin{align*}\n  f(x) &= (x+1)^2 \\\\\n  &= x^2 + 2x + 1\n\\end{align*}"
    text, counts = extract_body(f'<p>So <script type="math/tex; mode=display">{script_align}</script></p>')
    assert "\\begin{align*}" in text and "&= x^2 + 2x + 1" in text and "\\end{align*}" in text
    assert text.startswith("So $$") and text.endswith("$$")


def test_multiline_display_math_and_stray_delimiters():
    text, counts = extract_body("<p>\\begin{align}<br>a &amp;= b \\\\<br>c &amp;= d<br>\\end{align}</p>"
                                "<p>\\[<br>x = 1<br>\\]</p>")
    assert text == "\\begin{align}\na &= b \\\\\nc &= d\n\\end{align}\n\n$$x = 1$$"
    assert counts == {"math_inline": 0, "math_display": 2, "math_sources": {"text_delimited": 2}}
    # a stray opener never swallows the paragraphs after it
    text, counts = extract_body("<p>A lone \\[ opener.</p><p>Next paragraph \\] closes nothing.</p>")
    assert text == "A lone \\[ opener.\n\nNext paragraph \\] closes nothing." and counts["math_display"] == 0


def test_currency_is_not_math():
    text, counts = extract_body("<p>It costs $5 and $10, or $3.50 each, where \\(n\\) is the count.</p>")
    assert text == "It costs $5 and $10, or $3.50 each, where $n$ is the count."
    assert counts == {"math_inline": 1, "math_display": 0, "math_sources": {"text_delimited": 1}}
    text, counts = extract_body("<p>Prices: $20 for one, $35 for two. No math here.</p>")
    assert "$20 for one, $35 for two" in text and counts["math_inline"] == counts["math_display"] == 0


# -- code, headings, boilerplate ------------------------------------------------------------------------------


def test_code_blocks_are_verbatim_and_headings_kept():
    text, _ = extract_body(
        "<h2>Section heading</h2><pre><code>pattern = re.compile(r\"\\(x\\)\")\nnext\n    return $$</code></pre>"
        "<p>and \\(z\\) here, <code>\\(q\\)</code> inline</p>"
    )
    assert text == (
        'Section heading\n\npattern = re.compile(r"\\(x\\)")\nnext\n    return $$\n\nand $z$ here, \\(q\\) inline'
    )


def test_bullet_lists_without_links_are_kept():
    # resiliparse's main-content pass drops a <ul> near <body>; a list without links is content (here with math)
    text, counts = extract_body(
        "<ul><li>First, <script type='math/tex'>a \\le b</script></li><li>Second, \\(b &lt; c\\)</li></ul>"
        "<ul class='menu'><li><a href='/'>Home</a></li><li><a href='/blog'>Blog</a></li></ul>"
    )
    assert text == "• First, $a \\le b$\n  • Second, $b < c$"  # bullets, never numbers the page does not have
    assert counts["math_inline"] == 2
    # an ordered list keeps its numbers; a bullet list inside it gets bullets
    text, _ = extract_body("<ol><li>Step one</li><li><p>Step two</p><ul><li>case a</li><li>case b</li></ul></li></ol>")
    assert text == "1. Step one\n\n2. Step two\n\n• case a\n    • case b"


@pytest.mark.parametrize("depth", range(0, 7))
def test_bullet_lists_kept_at_every_depth(depth):
    # lists at every depth below <body> come out alike, whether resiliparse keeps them itself or they are moved down
    prose = f"<p>{PROSE}</p>"
    html = f"<html><body>{'<div>' * depth}{prose}<ul><li>alpha item</li><li>beta item</li></ul>{prose}" \
           f"{'</div>' * depth}</body></html>"
    text, _ = extract_math_text(html)
    assert text == f"{PROSE}\n\n• alpha item\n  • beta item\n\n{PROSE}"


# markup of every kind the rewrites query, spelled the ways pages spell it; the raw-page scan must find each
_MARKUP = [
    "<script type='math/tex'>x</script>", "<SCRIPT TYPE='Math/TeX; mode=display'>x</SCRIPT>",
    "<script type=\"text/tex\">x</script>", "<math><mi>x</mi></math>", "<MATH alttext='x'></MATH>",
    "<mjx-container><math><mi>x</mi></math></mjx-container>", "<d-math>x</d-math>", "<dt-math block>x</dt-math>",
    "<span class='katex'>x</span>", "<span class=\"foo katex-display\">x</span>", "<div class = math>x</div>",
    "<span class='MathJax_Preview'>x</span>", "<span CLASS=\"mjx-chtml\">x</span>", "<span class='math-container'>x</span>",
    "<span data-math='x'>y</span>", "<span data-expr=\"x\">y</span>", "<amp-mathml data-formula='x'></amp-mathml>",
    "<img src='https://latex.codecogs.com/gif.latex?x'>", "<img alt='a > b' src='/cgi-bin/mimetex.cgi?a>b'>",
    "<img alt=\"it's\" class='latex' src='x.png'>", "<img\nclass='ql-img-inline-formula'\nsrc='a.svg'>",
    "<img src=\"/chart?cht=tx&chl=x\">", "<img class='mwe-math-fallback-image-inline' alt='x'>",
    "<div><ul><li>item</li></ul></div>", "<UL><li>item</li></UL>",
]


@pytest.mark.parametrize("markup", _MARKUP)
def test_raw_page_scan_finds_every_kind_the_rewrites_query(markup):
    # a kind left out of the scan would silently lose its math: every selector part that matches an element of a
    # page must have its marker found in the page's bytes
    from proofpile.web.extract import _MATH_PARTS, _marker_scan

    html = f"<html><body>{markup}</body></html>"
    kinds = _marker_scan().kinds_in(html.encode())
    matched = {kind for kind, selector in _MATH_PARTS.items()
               if len(HTMLTree.parse(html).document.query_selector_all(selector))}
    assert matched and matched <= kinds, (matched, kinds)


@pytest.mark.parametrize("markup", [
    "<form role='search'><input></form>", "<FORM ACTION='/Login'>x</FORM>", "<div role=navigation>x</div>",
    "<span role='button'>x</span>", "<div class='social-share'>x</div>", "<span class=\"js-vote-count\">1</span>",
    "<a class='comment-reply-link'>Reply</a>", "<div class='nav-links'>x</div>",
])
def test_raw_page_scan_finds_every_skip_selector_that_matches(markup):
    # a page is extracted with the skip selectors whose markers its bytes hold: one that matches must be among them
    from proofpile.web.extract import _marker_scan, _skip_elements

    html = f"<html><body>{markup}</body></html>"
    kinds = _marker_scan().kinds_in(html.encode())
    groups = _skip_elements(str(SKIP_ELEMENTS))
    matched = {i for i, (selector, _) in enumerate(groups)
               if len(HTMLTree.parse(html).document.query_selector_all(selector))}
    assert matched and all(not groups[i][1] or f"skip {i}" in kinds for i in matched), (matched, kinds)


def test_raw_page_scan_leaves_out_what_is_not_there():
    from proofpile.web.extract import _marker_scan

    plain = "<html><body><h2>Text</h2><p class='lead'>It costs $5.</p><img src='a.png' alt='photo'></body></html>"
    assert _marker_scan().kinds_in(plain.encode()) == set()
    assert _marker_scan().kinds_in("<p class='x' data-x='math'>\ue001</p><h1>".encode()) == {"sentinel", "h1"}


def test_navigation_buttons_forms_and_boilerplate_lines_dropped():
    text, _ = extract_body(
        "<nav><a href='/'>Home</a> <a href='/a'>About us</a></nav><p>Share</p><p>Log in</p>"
        "<p>We use cookies to improve your experience.</p><button>Click me</button>"
        "<form><input name='q'><label>Search this site</label></form><div class='share'>Tweet this</div>"
        "<p>Share <script type='math/tex'>q</script> is about math, not a button.</p>"
    )
    assert text == "Share $q$ is about math, not a button."


def test_boilerplate_lines_filter():
    boilerplate = Boilerplate()
    for line in ["Share", "  Log in ", "» Next post", "Reply", "© 2023 Some Blog", "All rights reserved.",
                 "This website uses cookies to ensure you get the best experience.", "Jump to navigation"]:
        assert boilerplate.is_boilerplate(line), line
    for line in ["Share the cake into 3 equal parts.", "Next, we prove the lemma.", "Log in to the server with ssh",
                 "We use induction on n.", "x" * 300 + " all rights reserved"]:
        assert not boilerplate.is_boilerplate(line), line
    assert boilerplate.clean("keep\nShare\nkeep too") == "keep\nkeep too"
    assert boilerplate.clean("Share\nmid\nShare", keep_first=True, keep_last=True) == "Share\nmid\nShare"


# -- filter lists are data, each tested -----------------------------------------------------------------------


@pytest.mark.parametrize("path", [BOILERPLATE_LINES, BOILERPLATE_PATTERNS, SKIP_ELEMENTS])
def test_filter_lists_load_without_blank_or_duplicate_items(path):
    items = read_list(path)
    assert len(items) >= 10 or path == SKIP_ELEMENTS and len(items) >= 5
    assert len(set(items)) == len(items), [i for i in items if items.count(i) > 1]
    assert all(item == item.strip() and item for item in items)


def test_boilerplate_lines_are_short_lowercase_labels():
    for label in read_list(BOILERPLATE_LINES):
        assert label == label.lower() and len(label) <= 40 and "\t" not in label, label


def test_boilerplate_patterns_compile_and_anywhere_patterns_are_lowercase():
    patterns = read_list(BOILERPLATE_PATTERNS)
    for pattern in patterns:
        re.compile(pattern)
        if pattern.startswith(".*"):
            # searched in lowercased text, so an uppercase letter outside an escape could never match
            assert re.sub(r"\\[A-Za-z]", "", pattern) == re.sub(r"\\[A-Za-z]", "", pattern).lower(), pattern
    boilerplate = Boilerplate()
    assert boilerplate.at_start is not None and boilerplate.anywhere


def test_boilerplate_clean_drops_exactly_the_lines_is_boilerplate_names():
    # clean() tests only the lines a Hyperscan pass picks: it must pick every line the line-by-line test drops,
    # Unicode spellings included (a no-break space, Arabic digits, a Kelvin sign, tabs, upper case)
    boilerplate = Boilerplate()
    lines = ["Share", "SHARE THIS", "  Log in ", "» Next post", "Reply", "© 2023 Some Blog", "Copyright\u00a0© 2023",
             "© \u0662\u0660\u0662\u0663 Blog", "\tPowered by WordPress", "3 comments", "Posted by Ann on Monday",
             "This website uses cookies to ensure you get the best experience.", "All Rights Reserved.",
             "Jump to navigation", "Tags: a, b", "", " ", "Share the cake into 3 equal parts.", "Next, we prove it.",
             "x" * 300 + " all rights reserved", "We use induction on n.", "\u212aeep this line", "$x^2$ | Share",
             "LIKE", "Menu \u2192", "Tweet\r"]
    text = "\n".join(lines)
    assert boilerplate.clean(text) == "\n".join(line for line in lines if not boilerplate.is_boilerplate(line))
    assert sum(map(boilerplate.is_boilerplate, lines)) >= 15


def test_boilerplate_patterns_that_hyperscan_cannot_take_fail_at_construction(tmp_path):
    bad = tmp_path / "patterns.txt"
    bad.write_text("(?a:share)\n")  # an ASCII-only group: fine for re, not for Hyperscan
    with pytest.raises(ValueError, match="boilerplate patterns"):
        MathExtractor(boilerplate_patterns=bad)


def test_skip_element_selectors_parse_and_apply():
    selectors = read_list(SKIP_ELEMENTS)
    html = ("<body><p>kept text</p><div class='share'>dropped</div><div role='navigation'>dropped</div>"
            "<div class='social-share-buttons'>dropped</div><span class='js-vote-count'>12</span>"
            "<form role='search'><label>Search</label><input name='q'></form>"
            "<form action='/login'>dropped</form><form class='InlineModForm'><p>post kept</p></form></body>")
    for selector in selectors:  # one by one: a bad selector is named by its own failure
        extract_plain_text(HTMLTree.parse(html), skip_elements=[selector])
    assert extract_plain_text(HTMLTree.parse(html), skip_elements=selectors) == "kept text\n\npost kept"


# -- MathML -> LaTeX ---------------------------------------------------------------------------------------------


def convert(mathml_source: str) -> str:
    tree = HTMLTree.parse(f"<body>{mathml_source}</body>")
    return mathml.convert(tree.body.query_selector("math"))


@pytest.mark.parametrize(
    "source, tex",
    [
        ("<math><mi>x</mi><mo>=</mo><mn>2</mn></math>", "x=2"),
        ("<math><msup><mi>x</mi><mn>2</mn></msup></math>", "x^2"),
        ("<math><msup><mi>e</mi><mrow><mi>i</mi><mi>π</mi></mrow></msup></math>", "e^{i\\pi}"),
        ("<math><msub><mi>a</mi><mrow><mi>i</mi><mi>j</mi></mrow></msub></math>", "a_{ij}"),
        ("<math><msubsup><mi>x</mi><mi>i</mi><mn>2</mn></msubsup></math>", "x_i^2"),
        ("<math><mfrac><mrow><mi>a</mi><mo>+</mo><mi>b</mi></mrow><mn>2</mn></mfrac></math>", "\\frac{a+b}{2}"),
        ("<math><msqrt><mi>x</mi></msqrt></math>", "\\sqrt{x}"),
        ("<math><mroot><mi>x</mi><mn>3</mn></mroot></math>", "\\sqrt[3]{x}"),
        ("<math><mover><mi>x</mi><mo>^</mo></mover></math>", "\\hat{x}"),
        ("<math><mover><mi>v</mi><mo>→</mo></mover></math>", "\\vec{v}"),
        ("<math><munder><mi>lim</mi><mrow><mi>n</mi><mo>→</mo><mi>∞</mi></mrow></munder></math>",
         "\\lim_{n\\to\\infty}"),
        ("<math><munderover><mo>∑</mo><mrow><mi>k</mi><mo>=</mo><mn>1</mn></mrow><mi>n</mi></munderover>"
         "<mi>k</mi></math>", "\\sum_{k=1}^nk"),
        ("<math><mi>sin</mi><mi>θ</mi><mo>≤</mo><mn>1</mn></math>", "\\sin\\theta\\leq1"),
        ("<math><mi>α</mi><mi>x</mi></math>", "\\alpha x"),
        ("<math><mtext>if </mtext><mi>x</mi><mo>∈</mo><mi mathvariant='double-struck'>R</mi></math>",
         "\\text{if }x\\in\\mathbb{R}"),
        ("<math><mtable><mtr><mtd><mn>1</mn></mtd><mtd><mn>0</mn></mtd></mtr><mtr><mtd><mn>0</mn></mtd>"
         "<mtd><mn>1</mn></mtd></mtr></mtable></math>", "\\begin{matrix}1 & 0 \\\\ 0 & 1\\end{matrix}"),
        ("<math><mfenced><mi>a</mi><mi>b</mi></mfenced></math>", "(a,b)"),
        # a binomial is \binom, not (\binom{n}{k}); a fraction without a bar and without parentheses is not one
        ("<math><mrow><mo>(</mo><mfrac linethickness='0'><mi>n</mi><mi>k</mi></mfrac><mo>)</mo></mrow></math>",
         "\\binom{n}{k}"),
        ("<math><mfenced><mfrac linethickness='0pt'><mi>n</mi><mi>k</mi></mfrac></mfenced></math>", "\\binom{n}{k}"),
        ("<math><mfrac linethickness='0'><mi>a</mi><mi>b</mi></mfrac></math>", "\\genfrac{}{}{0pt}{}{a}{b}"),
        # accents are accents, not \stackrel{˙}{x}
        ("<math><mover accent='true'><mi>x</mi><mo>˙</mo></mover></math>", "\\dot{x}"),
        ("<math><mover accent='true'><mi>x</mi><mo>¨</mo></mover></math>", "\\ddot{x}"),
        ("<math><mover><mi>y</mi><mo>¯</mo></mover><mover><mrow><mi>a</mi><mi>b</mi></mrow><mo>¯</mo></mover>"
         "</math>", "\\bar{y}\\overline{ab}"),
        ("<math><munder><mi>x</mi><mo>_</mo></munder></math>", "\\underline{x}"),
        ("<math><mrow><mo>[</mo><mtable><mtr><mtd><mn>1</mn></mtd><mtd><mn>2</mn></mtd></mtr></mtable><mo>]</mo>"
         "</mrow></math>", "\\begin{bmatrix}1 & 2\\end{bmatrix}"),
        ("<math><mi mathvariant='sans-serif'>H</mi><mo>∗</mo><mi>ℙ</mi><mo>∊</mo><mo>■</mo></math>",
         "\\mathsf{H}\\ast\\mathbb{P}\\in\\blacksquare"),
        ("<math><mi>det</mi><mo>(</mo><mi>A</mi><mo>)</mo><mspace width='1em'/><mi>x</mi></math>",
         "\\det(A)\\quad x"),
        ("<math><mmultiscripts><mi>X</mi><mi>a</mi><none/><mprescripts/><mi>b</mi><none/></mmultiscripts></math>",
         "{}_bX_a"),
    ],
)
def test_mathml_to_latex(source, tex):
    assert convert(source) == tex


def test_mathml_conversion_is_depth_bounded():
    deep = "<math>" + "<mrow>" * 5000 + "<mi>x</mi>" + "</mrow>" * 5000 + "</math>"
    assert convert(deep) == "x"


# -- bad input ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("html", ["", "   \n\t", "<html></html>", "<!-- only a comment -->", "<script>x=1</script>"])
def test_empty_inputs_give_empty_text(html):
    assert extract_math_text(html) == ("", {"math_inline": 0, "math_display": 0, "math_sources": {}})


def test_odd_strings_do_not_crash():
    text, counts = extract_math_text("\x00\ud800<<<>>>&&&;<math><mi>y")  # NUL, a lone surrogate, broken tags
    assert "$y$" in text and counts["math_inline"] == 1
    # the page's own private-use characters cannot forge our internal fences
    text, counts = extract_math_text("<p>\ue000\ue010$x$ fake \ue003 and \ue002code\ue001</p>")
    assert not re.search("[\ue000-\ue003\ue010-\ue01f]", text)
    assert extract_math_text("<p>plain words</p>")[0] == "plain words"


def test_deep_dom_is_extracted_in_linear_time():
    # resiliparse's main-content pass is quadratic in nesting depth (minutes at 100,000): such pages are
    # extracted without it; this test would take minutes if that broke
    deep = "<html><body>" + "<div>" * 100_000 + "<p>deep text with \\(x\\)</p>" + "</div>" * 100_000 + "</body></html>"
    assert extract_math_text(deep) == ("deep text with $x$", {"math_inline": 1, "math_display": 0,
                                                               "math_sources": {"text_delimited": 1}})
    unclosed = "<span>" * 100_000 + "tail"
    assert extract_math_text(unclosed)[0] == "tail"


def test_large_page():
    paragraph = "<p>" + "Words and a formula <script type='math/tex'>f(x)=x^2</script> here. " * 20 + "</p>\n"
    html = "<html><body>" + paragraph * 1000 + "</body></html>"  # ~1.7 MB, 20,000 formulas
    text, counts = extract_math_text(html)
    assert counts == {"math_inline": 20_000, "math_display": 0, "math_sources": {"mathjax": 20_000}}
    assert text.count("$f(x)=x^2$") == 20_000


# -- the datatrove step -----------------------------------------------------------------------------------------


def test_math_extractor_step_replaces_text_adds_counts_and_counts_drops():
    docs = [
        Document(id="good", text=page("<p>Let <script type='math/tex'>x^2</script> be.</p>"), metadata={"url": "u"}),
        Document(id="empty", text="<html><body><script>var a;</script></body></html>", metadata={}),
        Document(id="blank", text="", metadata={}),
    ]
    step = MathExtractor(timeout=30)
    out = list(step.run(iter(docs)))
    assert [d.id for d in out] == ["good"]
    assert "Let $x^2$ be." in out[0].text and "<script" not in out[0].text
    assert out[0].metadata == {"url": "u", "math_inline": 1, "math_display": 0, "math_sources": {"mathjax": 1}}
    assert _stat(step, "dropped_empty_text") == 2
    assert _stat(step, "forwarded") == 1


def test_math_extractor_step_bounds_time_per_record():
    huge = "<html><body>" + "<div>" * 3000 + "<p>x</p>" * 2_000_000 + "</body></html>"  # ~16 MB, slow to extract
    docs = [Document(id="huge", text=huge, metadata={}),
            Document(id="after", text=page("<p>still <script type='math/tex'>y</script> here</p>"), metadata={})]
    step = MathExtractor(timeout=0.5)
    out = list(step.run(iter(docs)))
    assert [d.id for d in out] == ["after"]  # the worker was replaced after the timeout and went on
    assert _stat(step, "dropped_timeout") == 1


def _stat(step, key: str) -> int:
    value = step.stats.to_dict()["stats"].get(key, 0)
    return int(value["total"]) if isinstance(value, dict) else int(value)


def test_math_extractor_pickles():
    import pickle

    step = pickle.loads(pickle.dumps(MathExtractor(timeout=3)))
    assert step.timeout == 3 and step.extract(page("<p>\\(a\\)</p>"))[1]["math_inline"] == 1


# -- real pages (../shared/fixtures) ---------------------------------------------------------------------------


def test_wikipedia_mathml_alttext_comes_out_as_latex(shared_fixture):
    html = shared_fixture("html/wikipedia-tsne-mathml.html").read_text(encoding="utf-8")
    assert html.count("<math") == 34
    text, counts = extract_math_text(html)
    assert counts == {"math_inline": 34, "math_display": 0, "math_sources": {"mathml": 34}}
    spans = dollar_spans(text)
    assert len(spans) == 34
    for formula in [
        "$p_{ij}={\\frac {p_{j\\mid i}+p_{i\\mid j}}{2N}}$",
        "$\\mathbf {y} _{i}\\in \\mathbb {R} ^{d}$",
        "$KL(P||Q)=\\sum _{i\\neq j}p_{ij}\\log {\\frac {p_{ij}}{q_{ij}}}$",
        "$\\mathbf {x} _{1},\\dots ,\\mathbf {x} _{N}$",
    ]:
        assert formula in spans, formula
    # the {\displaystyle ...} wrapper is dropped and the fallback images do not repeat the formulas
    assert "displaystyle" not in text
    assert "Given a set of $N$ high-dimensional objects" in text
    assert "Jump to navigation" not in text


def test_stack_exchange_page(shared_fixture):
    html = shared_fixture("html/puzzling-stackexchange-mathjax.html").read_text(encoding="utf-8")
    assert html.count('type="math/tex"') == 22  # all of them \begingroup / \endgroup macro scoping
    text, counts = extract_math_text(html)
    assert "found out that the duplo 9 and 6 look exactly the same" in text
    assert "The green is 6 and the purple is 9." in text
    assert "begingroup" not in text and "endgroup" not in text and counts["math_inline"] == 0
    assert "MathJax" not in text and "Not the answer you're looking for" not in text


def test_arxiv_abstract_page(shared_fixture):
    html = shared_fixture("html/arxiv-abstract-page.html").read_text(encoding="utf-8")
    text, counts = extract_math_text(html)
    # the abstract (class="abstract mathjax": not a MathJax rendering) with its 7 inline formulas
    assert "Natural Language Processing RELIES on Linguistics" in text
    assert "around the acronym $RELIES$ that encapsulates" in text
    assert "$R$esources, $E$valuation, $L$ow-resource settings" in text
    assert counts == {"math_inline": 7, "math_display": 0, "math_sources": {"mathjax": 7}}


def test_homepages_that_load_mathjax(shared_fixture):
    from fastwarc.warc import ArchiveIterator, WarcRecordType
    from resiliparse.parse.encoding import bytes_to_str, detect_encoding

    path = shared_fixture("warc/homepages-mathjax.warc.gz")
    loading_mathjax = 0
    with open(path, "rb") as stream:
        for record in ArchiveIterator(stream, record_types=WarcRecordType.response, parse_http=True):
            body = record.reader.read()
            html = bytes_to_str(body, detect_encoding(body))
            text, counts = extract_math_text(html)
            assert text, record.headers.get("WARC-Target-URI")
            assert set(counts["math_sources"]) <= set(SOURCES)
            if "mathjax" in html.lower():
                loading_mathjax += 1
                # MathJax's loader and config stay out of the text, and pages without formulas get none
                assert "window.MathJax" not in text and "tex-mml-chtml" not in text
                assert counts["math_inline"] == counts["math_display"] == 0
    assert loading_mathjax >= 5


# -- the failure classes of real pages (issue 12), each from a snippet of our own -------------------------------


def test_form_content_is_kept_form_controls_are_not():
    # forum software wraps every post of a thread in a form; its controls are UI, its posts are content
    text, counts = extract_body(
        "<form class='InlineModForm' action='inline-mod.php' method='post'>"
        "<div class='message'><p>Post one: we have \\(a^2+b^2=c^2\\) for right triangles.</p></div>"
        "<input type='checkbox' name='posts[1]'><select name='act'><option>Delete</option></select>"
        "<button>Go</button></form>"
        "<form><table><tr><td><script type='math/tex'>\\int_0^1 x\\,dx = 1/2</script></td></tr></table></form>"
    )
    assert text == "Post one: we have $a^2+b^2=c^2$ for right triangles.\n\n$\\int_0^1 x\\,dx = 1/2$"
    assert "Delete" not in text and "Go" not in text and counts["math_inline"] == 2


def test_latex_image_services_have_their_url_escapes_decoded():
    text, counts = extract_body(
        '<p>A <img src="https://latex.codecogs.com/gif.latex?IQR&amp;space;=&amp;space;Q_{3}-Q_{1}"> '
        'B <img src="https://latex.codecogs.com/png.image?\\dpi{110}&amp;space;\\bg_white&amp;space;a&amp;plus;b"> '
        'C <img src="https://latex.codecogs.com/svg.latex?\\large&amp;space;\\frac{x}{2}%20+%201"> '
        'D <img src="https://latex.codecogs.com/gif.latex?x%5E2" alt="x^2 + y^2" title="x^2 + y^2"> '
        'E <img src="https://latex.codecogs.com/gif.latex?z" alt="https://latex.codecogs.com/gif.latex?z"> end</p>'
    )
    # D: the author's alt text is clean TeX and wins over the URL; E: an alt that is a URL does not
    assert text == "A $IQR = Q_{3}-Q_{1}$ B $a+b$ C $\\frac{x}{2} + 1$ D $x^2 + y^2$ E $z$ end"
    assert counts["math_sources"] == {"img_url": 5}


def test_bbcode_tex_of_forum_posts_becomes_delimited_math():
    text, counts = extract_body(
        "<p>Use [itex]E = mc^2[/itex] and [tex]\\int_0^\\infty e^{-x}\\,dx = 1[/tex], also [math]a_n \\to 0[/math],"
        " [imath]x_1[/imath], [latex]\\sqrt{2}[/latex] and ##\\alpha + \\beta## here.</p>"
        "<p>Not math: ## Heading ## and C## or [b]bold[/b].</p>"
    )
    assert text == ("Use $E = mc^2$ and $$\\int_0^\\infty e^{-x}\\,dx = 1$$, also $$a_n \\to 0$$, $x_1$, "
                    "$$\\sqrt{2}$$ and $\\alpha + \\beta$ here.\n\nNot math: ## Heading ## and C## or [b]bold[/b].")
    assert counts["math_inline"] == 3 and counts["math_display"] == 3


def test_mathjax_mathml_and_asciimath_scripts_are_converted():
    text, counts = extract_body(
        "<p>M <script type='math/mml'><math><msup><mi>x</mi><mn>2</mn></msup></math></script> "
        "T <script type='text/tex'>y_1</script> "
        "D <script type='text/tex; mode=display'>a \\over b</script> "
        "A <script type='math/asciimath'>sqrt(x)/2</script> end</p>"
    )
    assert text == "M $x^2$ T $y_1$ D $$a \\over b$$ A $\\frac{\\sqrt{x}}{2}$ end"
    assert counts["math_sources"] == {"mathml": 1, "mathjax": 2, "asciimath": 1}


def test_tex_in_attributes_and_custom_elements():
    text, counts = extract_body(
        "<p>A <amp-mathml layout='container' inline data-formula='\\(a^2\\)'></amp-mathml> "
        "B <bento-mathml data-formula='\\[b^2\\]'></bento-mathml> "
        "C <math data-code='c^2'><mi>c</mi></math> "
        "D <span class='math-inline' data-math='d^2'><span class='katex'><span class='katex-html' "
        "aria-hidden='true'>d2</span></span></span> "
        "E <span class='katex-expr' data-expr='e^2'></span> "
        "F <span class='MathJax_CHTML'><span class='mjx-chtml'><span class='mjx-math' aria-label='f^2'>"
        "<span class='mjx-mi'>f</span></span></span></span> "
        "G <d-math>g^2</d-math> H <dt-math block>h^2</dt-math> end</p>"
    )
    assert text == "A $a^2$ B $$b^2$$ C $c^2$ D $d^2$ E $e^2$ F $f^2$ G $g^2$ H $$h^2$$ end"
    assert counts["math_sources"] == {"data_attr": 5, "mathjax": 1, "tex_element": 2}


def test_jsmath_div_math_is_delimited_on_jsmath_pages_only():
    body = "<p>Let</p><div class='math'>\\sum_{k=1}^n k</div><p>and <span class='math'>x^2</span> be.</p>"
    text, counts = extract_math_text("<html><head><script src='jsMath/easy/load.js'></script></head><body>"
                                     f"<article><p>{PROSE}</p>{body}</article></body></html>")
    assert "$$\\sum_{k=1}^n k$$" in text and "and $x^2$ be." in text
    assert counts["math_sources"] == {"tex_element": 2}
    text, counts = extract_body(body)  # a class named "math" on a page without jsMath is not a formula
    assert "$" not in text and counts["math_inline"] == counts["math_display"] == 0


def test_asciimath_backticks_on_asciimath_pages():
    head = "<html><head><script src='ASCIIMathML.js'></script></head><body><article>"
    text, counts = extract_math_text(f"{head}<p>{PROSE} Solve `x^2 = (a+b)/2` and `sum_(i=1)^n i`, not \\`q`.</p>"
                                     "</article></body></html>")
    assert text.endswith("Solve $x^{2}=\\frac{a+b}{2}$ and $\\sum_{i=1}^{n}i$, not \\`q`.")
    assert counts["math_sources"] == {"asciimath": 2}
    text, counts = extract_body("<p>Run `ls -l` here.</p>")  # back-ticks on other pages are code, not math
    assert text == "Run `ls -l` here." and counts["math_inline"] == 0


def test_word_mathml_in_conditional_comments():
    text, counts = extract_body("<p>Let <!--[if mathML]><mml:math xmlns:mml='http://www.w3.org/1998/Math/MathML'>"
                                "<mml:msup><mml:mi>y</mml:mi><mml:mn>3</mml:mn></mml:msup></mml:math>"
                                "<![endif]--> be.</p>")
    assert text == "Let $y^3$ be." and counts["math_sources"] == {"mathml": 1}


def test_math_figures_survive_main_content():
    text, counts = extract_body("<figure><div><d-math block>p(Y \\mid X) =</d-math></div>"
                                "<figcaption>The objective, for <d-math>X</d-math></figcaption></figure>")
    assert text == "$$p(Y \\mid X) =$$\nThe objective, for $X$"


def test_distill_math_in_a_hidden_store_is_kept_and_other_hidden_text_is_not():
    # Distill pages keep the TeX of their figure labels in a hidden #math-cache that their script draws from
    text, counts = extract_body("<div id='math-cache' style='display: none;'>\n <dt-math class='a'>\\alpha=</dt-math>"
                                "\n <dt-math class='b'>\\beta = 1</dt-math> hidden prose</div>"
                                "<div hidden><p><d-math>\\gamma</d-math></p></div>")
    assert text == "$\\alpha=$ $\\beta = 1$ $\\gamma$"
    assert counts["math_sources"] == {"tex_element": 3}
    # the rendered copies of other technologies stay out (MathJax 2's hidden preview beside its script)
    text, counts = extract_body("<p>Let <span class='MathJax_Preview' style='display:none'>x^2</span>"
                                "<script type='math/tex'>x^2</script> be.</p>")
    assert text == "Let $x^2$ be." and counts["math_inline"] == 1


def test_price_ranges_are_not_display_math():
    text, counts = extract_body("<p>Price range: $$ - $$$. Mains $12-$20, or $5 and $10.</p>")
    assert text == "Price range: $$ - $$$. Mains $12-$20, or $5 and $10."
    assert counts == {"math_inline": 0, "math_display": 0, "math_sources": {}}


def test_a_page_without_a_heading_starts_with_its_title():
    text, _ = extract_math_text(f"<html><head><title>Fermat's little theorem</title></head><body><p>{PROSE}</p>"
                                "</body></html>")
    assert text == f"Fermat's little theorem\n\n{PROSE}"
    text, _ = extract_math_text(f"<html><head><title>Site | Page</title></head><body><h1>Heading</h1><p>{PROSE}"
                                "</p></body></html>")
    assert text == f"Heading\n\n{PROSE}"


@pytest.mark.parametrize("source, tex", [
    ("x^2", "x^{2}"), ("a/b", "\\frac{a}{b}"), ("(a+b)/(c+d)", "\\frac{a+b}{c+d}"), ("sqrt(x+1)", "\\sqrt{x+1}"),
    ("root(3)(x)", "\\sqrt[3]{x}"), ("sum_(i=1)^n i", "\\sum_{i=1}^{n}i"), ("lim_(x->oo) 1/x", "\\lim_{x\\to\\infty}\\frac{1}{x}"),
    ("alpha+beta", "\\alpha+\\beta"), ("x in RR", "x\\in\\mathbb{R}"), ("sinx", "\\sin x"), ('"if " x', "\\text{if }x"),
    ("a !in B", "a\\notin B"), ("bb(v) xx ul(w)", "\\mathbf{v}\\times\\underline{w}"),
])
def test_asciimath_to_tex(source, tex):
    from proofpile.web.asciimath import to_tex

    assert to_tex(source) == tex


def test_asciimath_and_mml_scripts_never_crash():
    from proofpile.web.asciimath import to_tex

    assert to_tex("(" * 5000 + "x").startswith("(((") and to_tex("sqrt" * 3000 + " x").startswith("\\sqrt{")
    text, counts = extract_body("<p>A <script type='math/mml'>not <math at all</script> B "
                                "<script type='math/mml'></script> C <script type='math/asciimath'></script> end</p>")
    assert text.startswith("A") and text.endswith("end")


def test_unclosed_bbcode_and_deeply_nested_lists():
    text, counts = extract_body("<p>" + "[tex]" * 200 + "x and [itex]y[/itex]</p>")
    assert text.endswith("[tex]x and $y$") and counts["math_inline"] == 1
    # lists nested thousands deep (past the deep-DOM limit): each still a bullet, no number
    text, _ = extract_math_text("<ul><li>" * 2500 + "deep item")
    assert text == "• deep item"
