"""Write the web stage's demo input, ``demo.warc.gz``: a small crawl of pages we wrote ourselves.

Math pages in the ways the web writes math -- MathJax (``script type=math/tex`` and ``\\(...\\)``), KaTeX,
MathML, LaTeX in image alt text (codecogs) -- next to pages the stage must drop: news, a recipe, a shop with prices
("$5"), a page that loads MathJax but holds no math, a French math page, a blocklisted domain, a PNG, a 404, and a
clipped last record. Deterministic (fixed dates and record ids, gzip members without mtimes), so rerunning gives the
same bytes.

    python -m proofpile.samples.web.make_demo_warc
"""

from __future__ import annotations

import io
import re
import uuid
from pathlib import Path

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

OUT = Path(__file__).resolve().parent / "demo.warc.gz"
DATE = "2024-05-18T01:58:10Z"
NS = uuid.UUID("6f1c2a8e-4b7d-4c1e-9a55-0c3e2d1f7a90")

HEAD = """<!DOCTYPE html>
<html lang="{lang}"><head><meta charset="{charset}"><title>{title}</title>
<link rel="stylesheet" href="/static/site.css">{extra_head}
</head><body>
<nav class="menu"><a href="/">Home</a> | <a href="/archive">Archive</a> | <a href="/about">About</a></nav>
<main><article>
<h1>{title}</h1>
"""
FOOT = """</article></main>
<footer><p>&copy; 2024 {site}. All rights reserved.</p><a href="/privacy">Privacy</a></footer>
</body></html>
"""
MATHJAX2 = ('\n<script type="text/javascript" async src="https://cdnjs.cloudflare.com/ajax/libs/mathjax/2.7.7/'
            'MathJax.js?config=TeX-AMS_HTML"></script>')
MATHJAX3 = '\n<script id="MathJax-script" async src="https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-mml-chtml.js"></script>'
KATEX = '\n<link rel="stylesheet" href="https://cdn.jsdelivr.net/npm/katex@0.16.9/dist/katex.min.css">'


def page(title: str, body: str, site: str, extra_head: str = "", lang: str = "en", charset: str = "utf-8") -> str:
    return HEAD.format(lang=lang, charset=charset, title=title, extra_head=extra_head) + body + FOOT.format(site=site)


def katex(tex: str, display: bool = False) -> str:
    """KaTeX's server-side output: MathML with the TeX in an annotation, then the HTML rendering."""
    inner = (f'<span class="katex"><span class="katex-mathml"><math xmlns="http://www.w3.org/1998/Math/MathML">'
             f'<semantics><mrow><mi>x</mi></mrow><annotation encoding="application/x-tex">{tex}</annotation>'
             f'</semantics></math></span><span class="katex-html" aria-hidden="true"><span class="base">'
             f'<span class="mord mathnormal">x</span></span></span></span>')
    return f'<span class="katex-display">{inner}</span>' if display else inner


def with_katex(body: str) -> str:
    """``[[tex]]`` -> inline KaTeX, ``[[d:tex]]`` -> display KaTeX."""
    return re.sub(r"\[\[(d:)?(.+?)\]\]", lambda m: katex(m.group(2).strip(), display=bool(m.group(1))), body)


PAGES: list[tuple[str, str, str]] = []  # (url, content type, html)

PAGES.append(("https://notes.example.org/probability/bayes-theorem", "text/html; charset=utf-8", page(
    "Bayes' theorem, step by step", """
<p>Bayes' theorem tells us how to update a probability when new evidence arrives. For two events
<script type="math/tex">A</script> and <script type="math/tex">B</script> with
<script type="math/tex">P(B) > 0</script> it reads</p>
<script type="math/tex; mode=display">P(A \\mid B) = \\frac{P(B \\mid A)\\, P(A)}{P(B)}.</script>
<p>The denominator is usually computed with the law of total probability: if the events
\\(A_1, \\dots, A_n\\) partition the sample space, then</p>
<script type="math/tex; mode=display">P(B) = \\sum_{i=1}^{n} P(B \\mid A_i)\\, P(A_i).</script>
<p>As an example, suppose a test detects a disease with probability \\(0.99\\) and gives a false positive
with probability \\(0.05\\), and the disease affects \\(1\\%\\) of the population. Then the probability of
having the disease after a positive test is</p>
<script type="math/tex; mode=display">\\frac{0.99 \\cdot 0.01}{0.99 \\cdot 0.01 + 0.05 \\cdot 0.99} \\approx 0.167,</script>
<p>which is much smaller than most people expect. The prior \\(P(A) = 0.01\\) matters as much as the accuracy of
the test, and this is the main lesson of the theorem: evidence must always be weighed against the base rate.</p>
""", "Probability Notes", MATHJAX2)))

PAGES.append(("https://forum.example.net/questions/4821/sum-of-first-n-odd-numbers", "text/html; charset=utf-8", page(
    "Why is the sum of the first n odd numbers a perfect square?", """
<div class="question"><p>I noticed that \\(1 + 3 = 4\\), \\(1 + 3 + 5 = 9\\) and \\(1 + 3 + 5 + 7 = 16\\).
Is it true that \\(\\sum_{k=1}^{n} (2k - 1) = n^2\\) for every positive integer \\(n\\), and how do I prove it?</p></div>
<div class="answer"><p>Yes. The cleanest proof is by induction on \\(n\\). For \\(n = 1\\) both sides equal
\\(1\\). Suppose the identity holds for \\(n\\). Then</p>
<p>$$\\sum_{k=1}^{n+1} (2k - 1) = n^2 + (2n + 1) = (n + 1)^2,$$</p>
<p>which is the identity for \\(n + 1\\). Alternatively, use the formula for an arithmetic series:
the sum has \\(n\\) terms, the first is \\(1\\) and the last is \\(2n - 1\\), so it equals
\\(\\frac{n (1 + 2n - 1)}{2} = n^2\\). There is also a picture proof: an \\(n \\times n\\) square grows to an
\\((n+1) \\times (n+1)\\) square by adding an L-shaped border of \\(2n + 1\\) cells.</p></div>
<div class="answer"><p>Another way to see it is to pair terms. Writing the sum forwards and backwards and adding
gives \\(2S = n \\cdot 2n\\), hence \\(S = n^2\\). This trick is the same one Gauss used for
\\(1 + 2 + \\cdots + n = \\frac{n(n+1)}{2}\\).</p></div>
<button class="vote">Upvote</button> <button class="share">Share</button>
""", "Math Forum", MATHJAX3)))

PAGES.append(("https://calculus.example.com/lessons/fundamental-theorem", "text/html; charset=utf-8", page(
    "The fundamental theorem of calculus", with_katex("""
<p>The fundamental theorem of calculus links differentiation and integration. Let [[f]] be continuous on
[[ [a, b] ]] and define [[F(x) = \\int_a^x f(t)\\, dt]]. Then [[F]] is differentiable and</p>
[[d:F'(x) = f(x) \\quad \\text{for all } x \\in (a, b).]]
<p>The second part says that if [[G]] is any antiderivative of [[f]], then</p>
[[d:\\int_a^b f(x)\\, dx = G(b) - G(a).]]
<p>For example, since [[\\frac{d}{dx} \\sin x = \\cos x]], we get
[[\\int_0^{\\pi/2} \\cos x \\, dx = \\sin(\\pi/2) - \\sin 0 = 1]]. The theorem turns the computation of
areas, which would otherwise require limits of Riemann sums, into the search for an antiderivative. Its proof uses
the mean value theorem for integrals: for small [[h]] the quotient
[[\\frac{F(x+h) - F(x)}{h}]] equals [[f(c_h)]] for some [[c_h]] between [[x]] and
[[x + h]], and continuity of [[f]] gives the limit.</p>
"""), "Calculus Lessons", KATEX)))

PAGES.append(("https://wiki.example.org/wiki/Quadratic_formula", "text/html; charset=utf-8", page(
    "Quadratic formula", """
<p>In elementary algebra, the quadratic formula gives the solutions of the quadratic equation
<math alttext="{\\displaystyle ax^{2}+bx+c=0}" display="inline"><semantics><mrow><mi>a</mi><msup><mi>x</mi><mn>2</mn></msup>
<mo>+</mo><mi>b</mi><mi>x</mi><mo>+</mo><mi>c</mi><mo>=</mo><mn>0</mn></mrow>
<annotation encoding="application/x-tex">{\\displaystyle ax^{2}+bx+c=0}</annotation></semantics></math>
with <math alttext="{\\displaystyle a\\neq 0}"><mrow><mi>a</mi><mo>&#8800;</mo><mn>0</mn></mrow></math>. The solutions are</p>
<p><math alttext="{\\displaystyle x={\\frac {-b\\pm {\\sqrt {b^{2}-4ac}}}{2a}}}" display="block"><mrow><mi>x</mi><mo>=</mo>
<mfrac><mrow><mo>&#8722;</mo><mi>b</mi><mo>&#177;</mo><msqrt><mrow><msup><mi>b</mi><mn>2</mn></msup><mo>&#8722;</mo><mn>4</mn><mi>a</mi><mi>c</mi></mrow></msqrt></mrow>
<mrow><mn>2</mn><mi>a</mi></mrow></mfrac></mrow></math></p>
<p>The expression under the square root, <math alttext="{\\displaystyle \\Delta =b^{2}-4ac}"><mrow><mi>&#916;</mi><mo>=</mo>
<msup><mi>b</mi><mn>2</mn></msup><mo>&#8722;</mo><mn>4</mn><mi>a</mi><mi>c</mi></mrow></math>, is called the discriminant. If the
discriminant is positive there are two distinct real roots, if it is zero there is one repeated real root, and if it
is negative the two roots are complex conjugates. The formula is derived by completing the square: dividing by the
leading coefficient and adding the square of half the linear coefficient to both sides gives
<math alttext="{\\displaystyle \\left(x+{\\frac {b}{2a}}\\right)^{2}={\\frac {b^{2}-4ac}{4a^{2}}}}"><mrow><mi>x</mi></mrow></math>,
and taking square roots finishes the derivation.</p>
""", "Example Wiki")))

PAGES.append(("https://homework.example.edu/algebra/geometric-series.html", "text/html; charset=iso-8859-1", page(
    "Geometric series: a short note", """
<p>A geometric series is a sum in which each term is a fixed multiple of the previous one. Its partial sums have a
closed form:</p>
<p><img src="https://latex.codecogs.com/gif.latex?S_n%3D%5Csum_%7Bk%3D0%7D%5E%7Bn-1%7D%20ar%5Ek" alt="S_n = \\sum_{k=0}^{n-1} a r^k = a \\frac{1 - r^n}{1 - r}" class="latex"></p>
<p>for every ratio <img src="https://latex.codecogs.com/gif.latex?r%5Cneq%201" alt="r \\neq 1">. When
<img src="https://latex.codecogs.com/gif.latex?%7Cr%7C%3C1" alt="|r| < 1"> the term
<img src="https://latex.codecogs.com/gif.latex?r%5En" alt="r^n"> tends to zero, so the infinite series converges:</p>
<p><img src="https://latex.codecogs.com/gif.latex?%5Csum_%7Bk%3D0%7D%5E%5Cinfty%20ar%5Ek%3D%5Cfrac%7Ba%7D%7B1-r%7D" alt="\\sum_{k=0}^{\\infty} a r^k = \\frac{a}{1 - r}"></p>
<p>For instance, with first term 1 and ratio one half the sum is 2, which is the na\u00efve paradox of Zeno resolved: the
runner covers half the distance, then a quarter, then an eighth, and the total distance is finite. A repeating
decimal such as 0.333... is also a geometric series with first term 3/10 and ratio 1/10, whose sum is 1/3.</p>
""", "Homework Help", charset="iso-8859-1")))

# -- pages the stage must drop ---------------------------------------------------------------------------------
PAGES.append(("https://news.example.com/2024/05/17/city-council-bridge-vote", "text/html; charset=utf-8", page(
    "City council delays vote on bridge repairs", """
<p class="byline">By our city reporter, May 17, 2024</p>
<p>The city council on Thursday postponed a vote on the long-awaited repair of the river bridge, saying it needed
more time to review bids from three contractors. The bridge, built in 1962, has been closed to heavy trucks since
last winter, and residents of the east side have complained about detours that add twenty minutes to their commute.</p>
<p>Council members said the lowest bid came in at $48 million, nearly twice the original estimate. The mayor said
the city would seek state funding to cover part of the cost and hoped for a decision before the summer recess.</p>
<p>Local business owners urged the council to move quickly. "Every week of delay costs us customers," said the owner
of a bakery near the bridge. A public hearing is scheduled for next month at the community center.</p>
""", "Daily Example News")))

PAGES.append(("https://recipes.example.com/lemon-drizzle-cake", "text/html; charset=utf-8", page(
    "Lemon drizzle cake", """
<p>This lemon drizzle cake is moist, tangy and takes about an hour from start to finish. It keeps for three days in an
airtight tin and freezes well.</p>
<h2>Ingredients</h2><ul><li>225 g butter, softened</li><li>225 g caster sugar</li><li>4 eggs</li>
<li>275 g self-raising flour</li><li>2 lemons, zested and juiced</li><li>85 g icing sugar</li></ul>
<h2>Method</h2><ol><li>Heat the oven to 180C and line a loaf tin.</li><li>Beat the butter and sugar until pale, then
beat in the eggs one at a time.</li><li>Fold in the flour and lemon zest, spoon into the tin and bake for 45 minutes.</li>
<li>Mix the lemon juice with the icing sugar and pour over the warm cake.</li></ol>
""", "Example Recipes")))

PAGES.append(("https://shop.example.com/deals/kitchen", "text/html; charset=utf-8", page(
    "Kitchen deals of the week", """
<p>Everything you need for your kitchen, now on sale. Prices valid until Sunday while stocks last.</p>
<ul><li>Chef's knife, stainless steel: now $5 instead of $10</li><li>Non-stick frying pan: $24.99 (was $39.99)</li>
<li>Set of 6 glasses: $12, or two sets for $20</li><li>Coffee grinder: $35 and free shipping</li></ul>
<p>Orders over $50 ship free. Returns are accepted within 30 days. Sign up for our newsletter and get $5 off your
first order, plus early access to the summer sale.</p>
<button>Add to cart</button>
""", "Example Shop")))

PAGES.append(("https://people.example.edu/~jdoe/", "text/html; charset=utf-8", page(
    "Jane Doe - Home", """
<p>I am an assistant professor in the computer science department. My research is on information retrieval, search
interfaces and how people read scientific papers online. Before joining the faculty I was a postdoc in a research
lab and a software engineer at a small startup.</p>
<p>I teach the undergraduate course on web development and a graduate seminar on human-computer interaction.
Prospective students: please read the FAQ on my lab page before sending an email. I am recruiting two PhD students
this year.</p>
<h2>News</h2><ul><li>Our paper on reading interfaces received a best paper award.</li><li>I gave a keynote at a
workshop on digital libraries.</li></ul>
""", "Jane Doe", MATHJAX2)))

PAGES.append(("https://maths.example.fr/cours/suites-geometriques", "text/html; charset=utf-8", page(
    "Suites géométriques", """
<p>Une suite \\((u_n)\\) est dite géométrique s'il existe un réel \\(q\\) tel que, pour tout entier naturel \\(n\\),
on ait \\(u_{n+1} = q\\, u_n\\). Le réel \\(q\\) est appelé la raison de la suite. On démontre alors par récurrence
que \\(u_n = u_0\\, q^n\\) pour tout entier \\(n\\).</p>
<p>La somme des premiers termes d'une suite géométrique de raison \\(q \\neq 1\\) vaut
$$\\sum_{k=0}^{n} u_k = u_0 \\frac{1 - q^{n+1}}{1 - q}.$$ Lorsque \\(|q| < 1\\), cette somme converge vers
\\(\\frac{u_0}{1 - q}\\), ce qui permet de calculer la limite de nombreuses suites récurrentes rencontrées en
économie et en physique. Par exemple, un capital placé à un taux annuel fixe évolue selon une suite géométrique.</p>
""", "Cours de maths", MATHJAX3, lang="fr")))

PAGES.append(("https://www.blocked.example/answers/derivative-of-x-squared", "text/html; charset=utf-8", page(
    "Derivative of x squared: answer", """
<p>Question: find the derivative of \\(f(x) = x^2 + 3x\\). Answer: using the power rule,
\\(f'(x) = 2x + 3\\). Unlock the full step-by-step solution and thousands of other answers with a subscription.
The derivative measures the rate of change: at \\(x = 1\\) the slope of the tangent line is \\(5\\), and the tangent
line is \\(y = 5x - 1\\). Subscribe now to see the remaining steps and the graph of \\(f\\) with its tangent.</p>
""", "Answers", MATHJAX2)))

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
NOT_FOUND = page("Page not found", "<p>Sorry, the page you requested does not exist. $\\frac{4}{0}$</p>", "Example",
                 MATHJAX2)


def _record_id(url: str, kind: str) -> str:
    return f"<urn:uuid:{uuid.uuid5(NS, kind + ':' + url)}>"


def _response(writer: WARCWriter, url: str, content_type: str, body: bytes, status: str = "200 OK"):
    http = StatusAndHeaders(status, [("Content-Type", content_type), ("Content-Length", str(len(body)))],
                            protocol="HTTP/1.1")
    headers = {"WARC-Date": DATE, "WARC-Record-ID": _record_id(url, "response")}
    return writer.create_warc_record(url, "response", payload=io.BytesIO(body), http_headers=http,
                                     warc_headers_dict=headers)


def build() -> bytes:
    out = io.BytesIO()
    writer = WARCWriter(out, gzip=True)
    info = writer.create_warcinfo_record("demo.warc.gz", {"software": "proofpile make_demo_warc",
                                                          "description": "proofpile web stage demo crawl"})
    info.rec_headers.replace_header("WARC-Date", DATE)
    info.rec_headers.replace_header("WARC-Record-ID", _record_id("demo.warc.gz", "warcinfo"))
    writer.write_record(info)
    for url, content_type, html in PAGES:
        charset = content_type.split("charset=")[-1]
        writer.write_record(_response(writer, url, content_type, html.encode(charset)))
    writer.write_record(_response(writer, "https://notes.example.org/static/diagram.png", "image/png", PNG))
    writer.write_record(_response(writer, "https://notes.example.org/missing", "text/html; charset=utf-8",
                                  NOT_FOUND.encode(), status="404 Not Found"))
    # a last record cut short, as when a download or a copy stops mid-file
    tail = io.BytesIO()
    clip = WARCWriter(tail, gzip=True)
    clip.write_record(_response(clip, "https://notes.example.org/probability/clipped", "text/html; charset=utf-8",
                                PAGES[0][2].encode()))
    return out.getvalue() + tail.getvalue()[: len(tail.getvalue()) // 2]


def main() -> None:
    data = build()
    OUT.write_bytes(data)
    print(f"{len(PAGES) + 3} responses, {len(data)} bytes -> {OUT}")


if __name__ == "__main__":
    main()
