"""Write filters/web/mathscore-train.jsonl: the labelled set the default MathScore model is trained on.

Our own short paragraphs, generated from templates with a fixed seed (nothing is copied from anywhere): "math"
paragraphs read like the extracted text of math pages (prose with $...$ / $$...$$ LaTeX: definitions, worked
problems, proofs, forum answers); "other" paragraphs like news, recipes, shops (with prices such as "$5"), travel,
sports, software, and academic home pages that load MathJax but hold no math.

    python -m proofpile.samples.web.make_mathscore_train   # rewrites the file, byte-identical every time
"""

from __future__ import annotations

import json
import random
from pathlib import Path

OUT = Path(__file__).resolve().parents[3] / "filters" / "web" / "mathscore-train.jsonl"
SEED = 20240601
N_PER_LABEL = 300

VARS = ["x", "y", "z", "n", "k", "t", "a", "b", "m"]
FUNCS = ["f", "g", "h", "p", "q"]
GREEK = ["\\alpha", "\\beta", "\\lambda", "\\theta", "\\epsilon", "\\sigma", "\\mu", "\\omega"]
SETS = ["\\mathbb{R}", "\\mathbb{Z}", "\\mathbb{N}", "\\mathbb{Q}", "\\mathbb{C}"]
TOPICS = ["group", "ring", "vector space", "metric space", "graph", "polynomial", "matrix", "sequence", "series",
          "random variable", "integral", "derivative", "prime", "triangle", "function", "set"]
ADJ = ["continuous", "bounded", "finite", "compact", "convergent", "invertible", "abelian", "connected",
       "differentiable", "symmetric", "positive", "monotone"]


def _expr(r: random.Random) -> str:
    v, w = r.sample(VARS, 2)
    c = r.randint(2, 9)
    return r.choice([
        f"{v}^{c} + {r.randint(1, 9)}{v} - {r.randint(1, 20)}",
        f"\\frac{{{v}^2 + {c}}}{{{w} - 1}}",
        f"\\sqrt{{{v}^2 + {w}^2}}",
        f"\\sum_{{{v}=1}}^{{{w}}} {v}^{c}",
        f"\\int_0^{c} {v}^2 \\, d{v}",
        f"{r.choice(GREEK)} {v} + {r.choice(GREEK)}",
        f"\\lim_{{{v} \\to \\infty}} \\frac{{1}}{{{v}^{c}}}",
        f"\\binom{{{v}}}{{{c}}}",
        f"{r.choice(FUNCS)}({v}) = {v}^{c} - {c}{v}",
        f"e^{{{c}{v}}} \\cos({v})",
        f"\\log_{c} {v} + \\log_{c} {w}",
        f"|{v} - {w}| \\leq {r.choice(GREEK)}",
    ])


def math_paragraph(r: random.Random) -> str:
    v, w = r.sample(VARS, 2)
    f = r.choice(FUNCS)
    topic, adj = r.choice(TOPICS), r.choice(ADJ)
    e1, e2 = _expr(r), _expr(r)
    c = r.randint(2, 12)
    templates = [
        f"Let ${f}: {r.choice(SETS)} \\to {r.choice(SETS)}$ be a {adj} function. We claim that ${e1}$ is bounded. "
        f"Indeed, for every ${r.choice(GREEK)} > 0$ there is ${v}_0$ such that $|{f}({v}) - {f}({v}_0)| < "
        f"{r.choice(GREEK)}$, which proves the claim.",
        f"Solve for ${v}$: ${e1} = 0$. Subtracting and dividing by {c} gives ${v} = {r.randint(1, 9)}$ or "
        f"${v} = -{r.randint(1, 9)}$. Check both roots by substituting back into the original equation.",
        f"Theorem {r.randint(1, 9)}.{r.randint(1, 9)}. Every {adj} {topic} of order ${c}$ satisfies $${e1}$$ "
        f"Proof. By induction on ${v}$. The base case ${v} = 1$ is immediate, and the inductive step follows "
        f"from ${e2}$. $\\blacksquare$",
        f"To compute $${e1}$$ we substitute $u = {v}^2$, so $du = 2{v}\\,d{v}$, and the integral becomes "
        f"${e2}$. Evaluating at the bounds gives the answer ${c}/{c + 1}$.",
        f"Definition. A {topic} $G$ is called {adj} if for all ${v}, {w} \\in G$ we have ${e1} = {e2}$. "
        f"For example, the {topic} ${r.choice(SETS)}$ is {adj}, while the {topic} of ${c} \\times {c}$ matrices "
        f"is not.",
        f"Answer: note that ${e1} \\geq 0$ for all real ${v}$, with equality if and only if ${v} = {w}$. "
        f"Hence the minimum of ${f}$ is attained at ${v} = {w}$, and the minimum value is ${e2}$.",
        f"The derivative of ${f}({v}) = {e1}$ is ${f}'({v}) = {c}{v}^{{{c - 1}}}$. Setting ${f}'({v}) = 0$ "
        f"we find the critical points, and the second derivative test shows which is a maximum.",
        f"Lemma. If ${v} \\equiv {r.randint(1, 9)} \\pmod{{{c}}}$ then ${v}^2 \\equiv {r.randint(0, 9)} "
        f"\\pmod{{{c}}}$. Proof: write ${v} = {c}k + r$ and expand $({c}k + r)^2$; every term but $r^2$ is a "
        f"multiple of ${c}$.",
        f"Let $X$ be a random variable with mean $\\mu$ and variance $\\sigma^2$. By Chebyshev's inequality, "
        f"$P(|X - \\mu| \\geq {c}\\sigma) \\leq \\frac{{1}}{{{c * c}}}$, so at least ${c * c - 1}/{c * c}$ of "
        f"the mass lies within ${c}$ standard deviations.",
        f"Consider the matrix $A = \\begin{{pmatrix}} {c} & 1 \\\\ 0 & {c + 1} \\end{{pmatrix}}$. Its eigenvalues "
        f"are $\\lambda_1 = {c}$ and $\\lambda_2 = {c + 1}$, so $\\det A = {c * (c + 1)}$ and $A$ is invertible.",
        f"We have $$\\begin{{align}} {e1} &= {e2} \\\\ &\\leq {_expr(r)} \\end{{align}}$$ where the inequality "
        f"uses the triangle inequality and the bound on ${v}$ from the previous step.",
        f"The series $\\sum_{{n=1}}^\\infty \\frac{{1}}{{n^{{{c}}}}}$ converges by the p-test since ${c} > 1$, "
        f"whereas the harmonic series $\\sum 1/n$ diverges. Compare with ${e1}$.",
        f"How do I show that ${e1}$ is {adj}? I tried writing ${v} = {w} + h$ and expanding, but I get stuck at "
        f"${e2}$. Hint: use the mean value theorem on the interval $[{w}, {v}]$.",
        f"Exercise {r.randint(1, 30)}. Prove that the {topic} generated by ${v}$ and ${w}$ is {adj}. "
        f"Hint: show that ${e1}$ and use the fact that ${e2}$.",
        f"In the triangle $ABC$ with $AB = {c}$ and $BC = {c + 2}$ and angle $B = 60^\\circ$, the law of cosines "
        f"gives $AC^2 = {c}^2 + {c + 2}^2 - 2 \\cdot {c} \\cdot {c + 2} \\cos 60^\\circ$.",
        f"Since ${f}$ is {adj} on $[0, {c}]$, by the intermediate value theorem there exists ${v} \\in (0, {c})$ "
        f"with ${f}({v}) = 0$. Then ${e1}$ and therefore ${e2}$.",
    ]
    return r.choice(templates)


PLACES = ["Lisbon", "Denver", "Osaka", "the lake district", "Cape Town", "Vancouver", "a small village", "Tuscany"]
FOODS = ["banana bread", "chicken curry", "tomato soup", "lemon tart", "pancakes", "vegetable lasagna",
         "chocolate cookies", "garlic noodles"]
ITEMS = ["wireless headphones", "running shoes", "a coffee grinder", "a desk lamp", "a backpack", "a phone case",
         "garden tools", "a yoga mat"]
TEAMS = ["the Rovers", "City", "the Hawks", "United", "the Lions", "the Comets"]
PEOPLE = ["Maria", "the mayor", "our editor", "the coach", "a local chef", "the author", "my neighbour", "Dr. Chen"]
TECH = ["the new release", "the update", "the library", "this plugin", "the app", "the server"]


def other_paragraph(r: random.Random) -> str:
    place, food, item = r.choice(PLACES), r.choice(FOODS), r.choice(ITEMS)
    team, other_team = r.sample(TEAMS, 2)
    person, tech = r.choice(PEOPLE), r.choice(TECH)
    price, price2 = r.randint(2, 99), r.randint(2, 99)
    n = r.randint(2, 40)
    templates = [
        f"{person.capitalize()} said on Tuesday that the city council will vote next week on the plan to "
        f"rebuild the bridge. Residents have complained about traffic for {n} months, and the project is "
        f"expected to cost about ${price} million.",
        f"Preheat the oven to 350 degrees. Mix the flour, sugar and butter for the {food}, then add {n} grams of "
        f"salt and two eggs. Bake for {price} minutes until golden, and let it cool before serving.",
        f"Buy {item} today for only ${price}.99, down from ${price + price2}.99. Free shipping on orders over "
        f"${price2} and easy returns within {n} days. Add to cart and check out in seconds.",
        f"We spent {n} days in {place} and loved every minute. The old town is full of cafes, the museum is free "
        f"on Sundays, and the train from the airport costs about ${price}. Book your hotel early in summer.",
        f"{team.capitalize()} beat {other_team} {r.randint(0, 5)}-{r.randint(0, 5)} on Saturday night. The "
        f"striker scored twice in the second half, and the coach praised the defence after a difficult week.",
        f"To install {tech}, run the installer and restart your computer. If the login page does not load, "
        f"clear your browser cache and try again. Contact support if the problem persists after {n} minutes.",
        f"About me. I am a PhD student interested in natural language processing and human-computer interaction. "
        f"Before that I worked at a startup in {place}. My CV and publications are listed below. Contact: email.",
        f"Our team builds tools for researchers. We are hiring engineers and designers in {place}; see the "
        f"careers page for open positions, benefits and our office photos. Follow us for news.",
        f"Tickets for the concert go on sale Friday at 10 am and cost ${price} to ${price + price2}. Doors open at "
        f"7 pm, and the venue asks guests to arrive early because of security checks.",
        f"This {food} recipe serves {n % 8 + 2}. You will need onions, garlic, olive oil and fresh herbs. "
        f"Chop everything, fry gently for ten minutes, and season to taste with salt and pepper.",
        f"The weather in {place} will be sunny this weekend with highs around {n + 50} degrees. Rain is "
        f"expected on Monday, so plan outdoor activities for Saturday.",
        f"Customer review: I bought {item} last month for ${price} and it works great. The battery lasts all day "
        f"and the color is exactly as shown. Five stars, would buy again.",
        f"The museum's new exhibition brings together paintings from the nineteenth century, many shown in "
        f"public for the first time. It runs until the end of the year, and admission is ${price}.",
        f"Privacy policy: we use cookies to improve your experience and to show relevant ads. You can change "
        f"your settings at any time. By continuing to browse you agree to our terms of service.",
        f"Stock markets closed higher on Wednesday after the central bank kept interest rates unchanged. Shares "
        f"of technology companies rose {n} percent while energy stocks fell.",
        f"Blog post: how I organise my reading notes. I keep one file per paper, tag each note by project, and "
        f"review them every Friday. It takes about {n} minutes a week and saves hours later.",
    ]
    return r.choice(templates)


def generate() -> list[dict]:
    r = random.Random(SEED)
    rows, seen = [], set()
    for label, make in (("math", math_paragraph), ("other", other_paragraph)):
        count = 0
        while count < N_PER_LABEL:
            text = make(r)
            if text in seen:
                continue
            seen.add(text)
            rows.append({"text": text, "label": label})
            count += 1
    r.shuffle(rows)
    return rows


def main() -> None:
    rows = generate()
    OUT.write_text("".join(json.dumps(row, ensure_ascii=False, sort_keys=True) + "\n" for row in rows))
    print(f"{len(rows)} examples -> {OUT}")


if __name__ == "__main__":
    main()
