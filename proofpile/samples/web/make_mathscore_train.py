"""Write filters/web/mathscore-train.jsonl: the labelled set the default MathScore model is trained on.

Our own text, generated from vocabularies and sentence templates written here with a fixed seed (nothing is copied
from anywhere). Documents are page-sized and mixed, like extracted web pages:

- "math": lecture notes, Wikipedia-like articles (statistics, machine learning, physics, analysis), worked
  problems, forum questions and answers, all long prose with ``$...$`` / ``$$...$$`` LaTeX at varying density (a
  formula every sentence or two, or a handful among paragraphs of prose); plus puzzles and word problems in plain
  text (digits, "which of", "therefore"), math written without TeX;
- "other": news, shops (prices such as "$5"), recipes, sports, travel, software docs, forums, researcher home pages
  and blog posts (the vocabulary of science without its math), policies, and navigation-heavy pages in other
  scripts; with the same page furniture (menus, footers) as the math side, so furniture carries no signal.

    python -m proofpile.samples.web.make_mathscore_train   # rewrites the file, byte-identical every time
"""

from __future__ import annotations

import json
import random
from pathlib import Path

OUT = Path(__file__).resolve().parents[3] / "filters" / "web" / "mathscore-train.jsonl"
SEED = 20240601
N_PER_LABEL = 450

# -- math: formulas -------------------------------------------------------------------------------------------
VARS = ["x", "y", "z", "n", "k", "t", "a", "b", "m", "u", "v", "s"]
IDX = ["i", "j", "k", "n", "m", "t"]
FUNCS = ["f", "g", "h", "p", "q", "F", "L", "\\phi", "\\psi"]
GREEK = ["\\alpha", "\\beta", "\\gamma", "\\delta", "\\lambda", "\\theta", "\\epsilon", "\\sigma", "\\mu", "\\omega",
         "\\eta", "\\rho", "\\tau", "\\pi", "\\xi", "\\kappa", "\\nu"]
SETS = ["\\mathbb{R}", "\\mathbb{Z}", "\\mathbb{N}", "\\mathbb{Q}", "\\mathbb{C}", "\\mathbb{R}^n", "\\mathcal{H}"]
BOLD = ["\\mathbf{x}", "\\mathbf{y}", "\\mathbf{w}", "\\mathbf{v}", "\\mathbf{u}", "\\boldsymbol{\\theta}"]


def _atom(r: random.Random) -> str:
    return r.choice([r.choice(VARS), r.choice(GREEK), f"{r.choice(VARS)}_{r.choice(IDX)}",
                     f"{r.choice(BOLD)}_{{{r.choice(IDX)}}}", f"{r.choice(VARS)}^{r.randint(2, 4)}",
                     str(r.randint(1, 12))])


def formula(r: random.Random, big: bool = False) -> str:
    """One formula, short (inline) or larger (display)."""
    a, b, c = _atom(r), _atom(r), _atom(r)
    v, w = r.sample(VARS, 2)
    i, j = r.sample(IDX, 2)
    f, g = r.choice(FUNCS), r.choice(GREEK)
    n = r.randint(2, 9)
    small = [
        f"{a}", f"{v}", f"{a} = {b}", f"{a} + {b}", f"{a} \\leq {b}", f"{v} \\in {r.choice(SETS)}",
        f"{f}({v})", f"{f}: {r.choice(SETS)} \\to {r.choice(SETS)}", f"{g} > 0", f"{v} \\to \\infty",
        f"{v}_{{{i}}}", f"{a}^{{{n}}}", f"\\frac{{{a}}}{{{b}}}", f"\\sqrt{{{a}}}", f"|{a} - {b}|",
        f"O({v} \\log {v})", f"{g}_{{{i}{j}}}", f"\\|{r.choice(BOLD)}\\|", f"{v} \\neq 0", f"[0, {n}]",
        f"\\mathbb{{E}}[{a}]", f"P({a} \\mid {b})", f"{a} \\approx {b}", f"{i} = 1, \\dots, {v}",
        f"{r.choice(BOLD)} \\in \\mathbb{{R}}^{{{v}}}", f"{g}^2", f"\\nabla {f}", f"{a} \\cdot {b}",
        f"{v} \\equiv {r.randint(0, 9)} \\pmod{{{n}}}", f"\\log {a}", f"e^{{{a}}}", f"\\hat{{{g}}}",
    ]
    large = [
        f"\\sum_{{{i}=1}}^{{{v}}} {a}_{{{i}}} = {b}",
        f"\\int_{{0}}^{{{n}}} {f}({v})\\, d{v} = {c}",
        f"{f}({v}) = \\frac{{1}}{{\\sqrt{{2\\pi}}\\sigma}} \\exp\\left(-\\frac{{({v}-\\mu)^2}}{{2\\sigma^2}}\\right)",
        f"\\lim_{{{v} \\to \\infty}} \\left(1 + \\frac{{1}}{{{v}}}\\right)^{{{v}}} = e",
        f"p_{{{j}\\mid {i}}} = \\frac{{\\exp(-\\lVert {r.choice(BOLD)}_{i} - {r.choice(BOLD)}_{j}\\rVert^2 / 2\\sigma_{i}^2)}}"
        f"{{\\sum_{{{c} \\neq {i}}} \\exp(-\\lVert {r.choice(BOLD)}_{i} - {r.choice(BOLD)}_{c}\\rVert^2 / 2\\sigma_{i}^2)}}",
        f"\\nabla_{{\\theta}} L(\\theta) = \\frac{{1}}{{N}} \\sum_{{{i}=1}}^{{N}} \\nabla_{{\\theta}} \\ell({a}_{i}, {b}_{i})",
        f"KL(P \\parallel Q) = \\sum_{{{i} \\neq {j}}} p_{{{i}{j}}} \\log \\frac{{p_{{{i}{j}}}}}{{q_{{{i}{j}}}}}",
        f"\\operatorname{{Var}}({a}) = \\mathbb{{E}}[{a}^2] - (\\mathbb{{E}}[{a}])^2",
        f"{f}'({v}) = \\lim_{{h \\to 0}} \\frac{{{f}({v} + h) - {f}({v})}}{{h}}",
        f"\\begin{{pmatrix}} {a} & {b} \\\\ {c} & {n} \\end{{pmatrix}} \\begin{{pmatrix}} {v} \\\\ {w} \\end{{pmatrix}}"
        f" = \\lambda \\begin{{pmatrix}} {v} \\\\ {w} \\end{{pmatrix}}",
        "\\hat{H} \\psi = i\\hbar \\frac{\\partial \\psi}{\\partial t}",
        f"F = m a = m \\frac{{d^2 {v}}}{{d t^2}}",
        f"\\binom{{{v}}}{{{n}}} = \\frac{{{v}!}}{{{n}!\\,({v}-{n})!}}",
        f"\\sum_{{{v}=1}}^{{\\infty}} \\frac{{1}}{{{v}^{{{n}}}}} < \\infty",
        f"{a} = \\frac{{-{b} \\pm \\sqrt{{{b}^2 - 4{a}{c}}}}}{{2{a}}}",
        f"\\Pr[X \\geq {g}] \\leq \\frac{{\\mathbb{{E}}[X]}}{{{g}}}",
        f"\\|{f} - {r.choice(FUNCS)}\\|_{{\\infty}} = \\sup_{{{v} \\in [0,1]}} |{f}({v}) - {r.choice(FUNCS)}({v})| < \\epsilon",
        f"\\mathcal{{L}}({r.choice(BOLD)}) = -\\sum_{{{i}}} y_{i} \\log \\hat{{y}}_{i} + {g} \\|{r.choice(BOLD)}\\|_2^2",
        "\\oint_{\\partial S} \\mathbf{E} \\cdot d\\mathbf{l} = -\\frac{d}{dt} \\iint_S \\mathbf{B} \\cdot d\\mathbf{A}",
        f"\\prod_{{{i}=1}}^{{{v}}} (1 + {a}_{i}) \\geq 1 + \\sum_{{{i}=1}}^{{{v}}} {a}_{i}",
        f"\\begin{{aligned}} {a} &= {b} + {c} \\\\ &\\leq {g} \\cdot {v} \\end{{aligned}}",
    ]
    return r.choice(large if big else small + large[:4])


# -- math: prose ---------------------------------------------------------------------------------------------
FIELDS = {
    "statistics": ["estimator", "sample", "variance", "distribution", "likelihood", "posterior", "regression",
                   "hypothesis test", "confidence interval", "random variable", "mean", "p-value"],
    "machine learning": ["loss", "gradient", "embedding", "classifier", "kernel", "neural network", "training set",
                         "objective", "weights", "dimensionality reduction", "cluster", "learning rate"],
    "physics": ["particle", "field", "energy", "momentum", "wave function", "potential", "force", "velocity",
                "Hamiltonian", "charge", "oscillator", "entropy"],
    "analysis": ["sequence", "series", "function", "integral", "derivative", "limit", "norm", "metric space",
                 "open set", "continuous map", "bound", "interval"],
    "algebra": ["group", "ring", "field", "vector space", "matrix", "eigenvalue", "polynomial", "ideal",
                "homomorphism", "basis", "determinant", "subgroup"],
    "combinatorics": ["graph", "vertex", "edge", "permutation", "subset", "coloring", "tree", "path",
                      "binomial coefficient", "partition", "recurrence", "generating function"],
}
ADJ = ["continuous", "bounded", "finite", "compact", "convergent", "invertible", "abelian", "connected", "smooth",
       "differentiable", "symmetric", "positive", "monotone", "independent", "unbiased", "linear", "orthogonal",
       "high-dimensional", "sparse", "stationary", "normalized", "convex"]
PEOPLE_M = ["Gauss", "Euler", "Noether", "Hilbert", "Kolmogorov", "Fisher", "Riemann", "Cauchy", "Laplace",
            "Bayes", "Markov", "Hinton", "Turing", "Shannon", "Lagrange", "Fourier"]


def _math_sentence(r: random.Random, field: str, with_formula: bool) -> str:
    term, term2 = r.sample(FIELDS[field], 2)
    adj = r.choice(ADJ)
    who = r.choice(PEOPLE_M)
    fx = f"${formula(r)}$" if with_formula else ""
    fy = f"${formula(r)}$" if with_formula else ""
    if with_formula:
        return r.choice([
            f"Let {fx} denote the {term} and let {fy} be the {adj} {term2}.",
            f"Given a set of {fx} {term}s, the method first computes {fy} as follows.",
            f"The {term} is defined by {fx}, where {fy} is the {term2}.",
            f"Since {fx}, it follows that {fy}.",
            f"We write {fx} for the {term} of the {term2}.",
            f"If {fx} then the {term} is {adj}, and in particular {fy}.",
            f"Substituting {fx} into the previous equation gives {fy}.",
            f"Here {fx} is a parameter that controls the {term}, usually chosen so that {fy}.",
            f"For every {fx} there exists {fy} such that the {term} is {adj}.",
            f"Note that {fx} holds only when the {term2} is {adj}.",
            f"Taking the derivative with respect to {fx} and setting it to zero yields {fy}.",
            f"By the theorem of {who}, the {term} satisfies {fx}.",
            f"In this notation the {adj} {term} is {fx} and its {term2} is {fy}.",
            f"The bound {fx} is sharp, as the example {fy} shows.",
            f"Hence {fx}, which completes the proof.",
        ])
    return r.choice([
        f"The {term} is one of the central objects of {field}.",
        f"In practice, the {adj} {term} is often estimated from data, and the {term2} is chosen by hand.",
        f"{who} introduced the idea in a paper on the {term2}, and it has been studied ever since.",
        f"This approach is widely used in {r.choice(list(FIELDS))}, computer science and engineering.",
        f"It is a {adj} technique well suited to problems where the {term} is large.",
        f"The {term} can be influenced strongly by the choice of the {term2}, so a good understanding is necessary.",
        f"As a consequence, the {term} is {adj} whenever the {term2} is.",
        f"We now turn to the {term2}, which behaves quite differently.",
        f"This result is known as {who}'s theorem, and the proof below follows the original argument closely.",
        f"The intuition is simple: a {adj} {term} cannot grow faster than its {term2}.",
        f"Many textbooks state this only for the {adj} case, but the general case is not much harder.",
        f"Section {r.randint(1, 9)}.{r.randint(1, 9)} explains why the {term} must be {adj}.",
        f"The algorithm comprises two main stages, and the second one refines the {term} found by the first.",
        f"Applications include image analysis, genetics, signal processing and the study of the {term2}.",
        f"Several variants of the method have been proposed to speed up the computation of the {term}.",
        f"Recall that a {term} is called {adj} if it has this property for every {term2}.",
    ])


def _paragraphs(r: random.Random, sentences: list[str]) -> str:
    out, i = [], 0
    while i < len(sentences):
        k = r.randint(2, 6)
        out.append(" ".join(sentences[i:i + k]))
        i += k
    return "\n\n".join(out)


NAV_WORDS = ["Home", "About", "Contact", "Blog", "News", "Search", "Login", "Sign up", "Archive", "Help", "Menu",
             "Share", "Tags", "Categories", "Privacy", "Terms", "Subscribe", "RSS", "Jump to navigation", "Edit"]


def _furniture(r: random.Random) -> tuple[str, str]:
    """Menus and footers, on both sides of the set."""
    head = " | ".join(r.sample(NAV_WORDS, r.randint(0, 6)))
    foot = r.choice(["", f"Posted {r.randint(1, 28)} May {r.randint(2005, 2024)}", "Share this page",
                     f"{r.randint(1, 40)} comments", "Retrieved from the archive", "Cite this page",
                     f"© {r.randint(2005, 2024)} All rights reserved", "Last edited 3 days ago"])
    return head, foot


def _page(r: random.Random, title: str, body: str) -> str:
    head, foot = _furniture(r)
    return "\n\n".join(part for part in (head, title, body, foot) if part)


def math_article(r: random.Random) -> str:
    """Wikipedia-like article or lecture notes: prose with formulas, sparse or dense."""
    field = r.choice(list(FIELDS))
    density = r.choice([0.15, 0.25, 0.4, 0.6, 0.85])
    n = r.randint(6, 45)
    lead = [_math_sentence(r, field, False) for _ in range(r.randint(0, 8))]  # a prose lead, as on Wikipedia
    body = []
    for _ in range(n):
        if r.random() < 0.15:
            body.append(f"$${formula(r, big=True)}$$")
        else:
            body.append(_math_sentence(r, field, r.random() < density))
    if not any("$" in s for s in body):
        body.append(f"$${formula(r, big=True)}$$")
    title = r.choice([f"{r.choice(FIELDS[field]).capitalize()} ({field})", f"Lecture {r.randint(1, 24)}: "
                      f"{r.choice(FIELDS[field])}s", f"Notes on the {r.choice(FIELDS[field])}",
                      f"{r.choice(PEOPLE_M)}'s {r.choice(['theorem', 'inequality', 'method', 'lemma'])}"])
    return _page(r, title, _paragraphs(r, lead + body))


def math_forum(r: random.Random) -> str:
    """A question with formulas and its answers."""
    field = r.choice(list(FIELDS))
    term = r.choice(FIELDS[field])
    q = [r.choice([f"How do I show that ${formula(r)}$ is {r.choice(ADJ)}?",
                   f"I am trying to compute ${formula(r, True)}$ but I get stuck.",
                   f"Why is the {term} ${formula(r)}$ and not ${formula(r)}$?",
                   f"Is it true that ${formula(r)}$ for every {term}?"]),
         r.choice([f"I tried writing ${formula(r)}$ and expanding, but then ${formula(r)}$ does not simplify.",
                   f"My textbook says ${formula(r)}$ without proof.", "Any hint would be appreciated.",
                   f"This came up in my homework on the {term}."])]
    answers = []
    for _ in range(r.randint(1, 4)):
        a = [r.choice(["Hint:", "Answer:", "Here is one way.", "Note that", "Consider", "Write"]) +
             f" ${formula(r)}$."]
        a += [_math_sentence(r, field, r.random() < 0.7) for _ in range(r.randint(1, 6))]
        if r.random() < 0.5:
            a.append(f"$${formula(r, True)}$$")
        a.append(r.choice(["", f"– user{r.randint(100, 99999)}", f"{r.randint(0, 40)} votes",
                           "Thanks, that makes sense now.", "This is the accepted answer."]))
        answers.append(" ".join(x for x in a if x))
    title = f"{r.randint(1, 5)} Answers" if r.random() < 0.5 else "Answers"
    return _page(r, " ".join(q), title + "\n\n" + "\n\n".join(answers))


def math_worked(r: random.Random) -> str:
    """A worked problem or exercise with its solution."""
    v = r.choice(VARS)
    c, d = r.randint(2, 12), r.randint(1, 20)
    steps = [r.choice([f"Problem {r.randint(1, 50)}. Solve ${v}^2 - {c}{v} + {d} = 0$.",
                       f"Exercise {r.randint(1, 30)}. Evaluate ${formula(r, True)}$.",
                       f"Example {r.randint(1, 9)}. Find the minimum of ${formula(r)}$ on $[0, {c}]$."])]
    for _ in range(r.randint(2, 10)):
        steps.append(r.choice([
            f"Subtracting ${d}$ from both sides gives ${formula(r)}$.",
            f"Dividing by ${c}$ we get ${v} = {d}/{c}$.",
            f"By the quadratic formula, $${formula(r, True)}$$",
            f"Check: substituting ${v} = {d}$ back gives ${formula(r)}$.",
            f"So the answer is ${v} = {r.randint(1, 9)}$ or ${v} = -{r.randint(1, 9)}$.",
            f"Differentiate: ${formula(r)}$, and set it equal to zero.",
            "The second derivative is positive, so this is a minimum.",
            f"Therefore ${formula(r)}$. $\\blacksquare$",
            f"We use the substitution $u = {v}^2$, so $du = 2{v}\\,d{v}$.",
        ]))
    return _page(r, "Solution", _paragraphs(r, steps))


COLORS = ["red", "green", "blue", "yellow", "purple", "white", "orange", "black"]
THINGS = ["coins", "cards", "matchsticks", "dice", "bricks", "boxes", "weights", "balls", "tiles", "keys"]
NAMES = ["Alice", "Bob", "Carol", "Dan", "Eve", "Tom", "Priya", "Kenji", "Lena", "Omar", "Sara", "Max"]


def math_puzzle(r: random.Random) -> str:
    """A puzzle or word problem in plain text: math without TeX."""
    t = r.choice(THINGS)
    c1, c2 = r.sample(COLORS, 2)
    a, b = r.sample(range(1, 10), 2)
    n, m = r.randint(3, 30), r.randint(2, 12)
    who, who2 = r.sample(NAMES, 2)
    q = r.choice([
        f"Here is an easy puzzle. I have {n} {t}, and exactly one of them is heavier than the others. Using a "
        f"balance scale only {m} times, can you find it?",
        f"The digits {a} and {b} look the same when you turn one of them upside down. Which of the {c1} and {c2} "
        f"{t} is the {a}, and which is the {b}?",
        f"{who} has {n} {t} and gives {m} of them to {who2}. Then {who2} doubles what she has. How many {t} "
        f"does each of them have now?",
        f"A number has {m} digits and the sum of its digits is {n}. What is the smallest such number?",
        f"Three friends share {n * 3} {t} so that each gets {m} more than the previous one. How many does each get?",
        f"Place the numbers 1 to {m + 4} in the circles so that every line adds up to the same total.",
        f"A train leaves at {a} o'clock and travels {n * 10} km at {m * 10} km per hour. When does it arrive?",
        f"Not every puzzle has to be hard: which of the following numbers is the odd one out? {a}, {b}, {n}, {m}",
    ])
    reasoning = [r.choice([
        f"If the {c1} one were the {a}, the {t} on the left would be unsupported and fall, so that cannot be.",
        f"Split the {t} into groups of {m} and weigh two groups against each other.",
        "If the two sides balance, the heavy one is in the third group; otherwise it is on the heavier side.",
        f"So {who} has {n - m} left and {who2} ends up with {2 * m}.",
        f"Therefore the {c1} is {a} and the {c2} is {b}.",
        f"Because the total of all the numbers is {n * m}, each line must add up to {n}.",
        f"The answer is {n + m}, since {n} plus {m} is {n + m}.",
        f"Suppose the smallest number starts with {a}; then the remaining digits must add up to {n - a}.",
        f"Each weighing has three outcomes, so {m} weighings can tell apart at most {3 ** min(m, 6)} cases.",
        f"Counting the odd numbers first, there are {n // 2} of them, and the rest are even.",
        f"It works for {a} and {b}, and by the same argument for every number up to {n}.",
        f"Hence the only possibility is {a}, which you can check by trying the other cases.",
        "Ergo the only consistent assignment is the one above.",
        f"The trick is that {a} is the only prime in the list.",
        "Insight: count the possibilities instead of trying them one by one.",
    ]) for _ in range(r.randint(3, 12))]
    answers = f"{r.randint(1, 6)} Answers" if r.random() < 0.6 else "Solution"
    return _page(r, q, answers + "\n\n" + _paragraphs(r, reasoning))


# -- other ---------------------------------------------------------------------------------------------------
PLACES = ["Lisbon", "Denver", "Osaka", "the lake district", "Cape Town", "Vancouver", "a small village", "Tuscany",
          "Berlin", "Melbourne", "the coast", "Chicago", "Seoul", "Bristol"]
FOODS = ["banana bread", "chicken curry", "tomato soup", "lemon tart", "pancakes", "vegetable lasagna",
         "chocolate cookies", "garlic noodles", "apple pie", "fish tacos"]
ITEMS = ["wireless headphones", "running shoes", "a coffee grinder", "a desk lamp", "a backpack", "a phone case",
         "garden tools", "a yoga mat", "a rain jacket", "an office chair"]
TEAMS = ["the Rovers", "City", "the Hawks", "United", "the Lions", "the Comets", "the Giants", "Athletic"]
PEOPLE = ["Maria", "the mayor", "our editor", "the coach", "a local chef", "the author", "my neighbour", "Dr. Chen",
          "the minister", "a spokesperson", "the manager", "the professor"]
TECH = ["the new release", "the update", "the library", "this plugin", "the app", "the server", "the database",
        "the command-line tool"]
RESEARCH = ["natural language processing", "human-computer interaction", "machine learning", "computer vision",
            "information retrieval", "scientific literature", "language models", "social computing",
            "digital humanities", "data science", "topic modeling", "accessibility"]
VENUES = ["ACL", "EMNLP", "NAACL", "CHI", "NeurIPS", "ICLR", "CSCW", "SIGIR", "UIST", "KDD"]


def _other_sentence(r: random.Random, genre: str) -> str:
    place, food, item, person, tech = (r.choice(x) for x in (PLACES, FOODS, ITEMS, PEOPLE, TECH))
    team, team2 = r.sample(TEAMS, 2)
    price, price2, n = r.randint(2, 99), r.randint(2, 99), r.randint(2, 40)
    topic, topic2 = r.sample(RESEARCH, 2)
    pools = {
        "news": [f"{person.capitalize()} said on Tuesday that the council will vote next week on the plan.",
                 f"Residents have complained about traffic for {n} months.",
                 f"The project is expected to cost about ${price} million, nearly twice the estimate.",
                 "Stock markets closed higher after the central bank kept interest rates unchanged.",
                 f"Shares of technology companies rose {n} percent while energy stocks fell.",
                 f"Police said {n} people were arrested during the protest in {place}.",
                 f"The election results will be announced on {r.choice(['Monday', 'Friday', 'Sunday'])}.",
                 f"Officials in {place} expect the road to reopen within {n} days."],
        "shop": [f"Buy {item} today for only ${price}.99, down from ${price + price2}.99.",
                 f"Free shipping on orders over ${price2} and easy returns within {n} days.",
                 "Add to cart and check out in seconds.", f"Rated {r.randint(3, 5)}.{r.randint(0, 9)} out of 5 "
                 f"by {n * 10} customers.", f"Only {n} left in stock, order soon.",
                 f"Customer review: I bought {item} last month for ${price} and it works great.",
                 f"Save {n}% with code SPRING{r.randint(10, 99)} at checkout.", "Size guide | Shipping | Returns"],
        "recipe": [f"Preheat the oven to {r.choice([180, 200, 350, 375])} degrees.",
                   f"Mix the flour, sugar and butter for the {food}, then add two eggs.",
                   f"Bake for {n} minutes until golden, and let it cool before serving.",
                   f"This {food} recipe serves {n % 8 + 2}.", "Chop the onions and garlic and fry them gently.",
                   f"You will need {n * 10} g of flour, {price} g of butter and a pinch of salt.",
                   "Season to taste with salt and pepper.", f"Prep time: {n} min. Cook time: {price} min."],
        "sports": [f"{team.capitalize()} beat {team2} {r.randint(0, 5)}-{r.randint(0, 5)} on Saturday night.",
                   "The striker scored twice in the second half.",
                   "The coach praised the defence after a difficult week.",
                   f"He finished {r.randint(1, 20)}th in the stage and is {n} seconds behind the leader.",
                   f"The season starts in {place} on {r.randint(1, 28)} August.",
                   f"Tickets cost ${price} and go on sale Friday.", f"{team.capitalize()} have won {n} games."],
        "travel": [f"We spent {n} days in {place} and loved every minute.",
                   "The old town is full of cafes, and the museum is free on Sundays.",
                   f"The train from the airport costs about ${price} and takes {n} minutes.",
                   "Book your hotel early in summer.", f"The weather in {place} was sunny with highs around "
                   f"{n + 50} degrees.", "Our favourite restaurant was a tiny place near the harbour.",
                   f"Day {r.randint(1, 9)}: a long walk along the river and a boat trip at sunset."],
        "software": [f"To install {tech}, run the installer and restart your computer.",
                     "If the login page does not load, clear your browser cache and try again.",
                     f"Version {r.randint(1, 9)}.{r.randint(0, 20)}.{r.randint(0, 9)} fixes a crash on startup.",
                     f"Set the option timeout to {n} in the configuration file and restart the service.",
                     "Run pip install --upgrade and check the changelog for breaking changes.",
                     "The API returns a JSON object with the fields id, name and created_at.",
                     f"Contact support if the problem persists after {n} minutes.",
                     "Click Settings, then Accounts, then Export to download your data."],
        "forum": [f"Has anyone tried {item}? I am thinking of buying one for about ${price}.",
                  "Thanks for the replies, I will try that tomorrow.", "Same problem here, any update?",
                  f"We had the same issue with our garden in {place} last year.",
                  "I would recommend asking at the shop, they were very helpful.",
                  f"Posted by user{r.randint(100, 9999)} {n} days ago.", "This answer worked for me.",
                  "My car makes a noise when I brake, is it the pads or the discs?",
                  f"Reply #{n}: the fix was a new cable, cost me ${price}."],
        "home": [f"I am a PhD student working on {topic} and {topic2}.",
                 f"Before that I worked at a startup in {place}.", "My CV and publications are listed below.",
                 f"Our paper on {topic} was accepted at {r.choice(VENUES)} {r.randint(2015, 2024)}!",
                 f"I am an assistant professor at the university, where I lead a lab on {topic}.",
                 f"My research interests include {topic}, {topic2} and open science.",
                 f"I am looking for students interested in {topic}; please email me.",
                 f"Previously I was a research scientist and a postdoc in {place}.",
                 f"Selected publications: {r.choice(VENUES)} {r.randint(2015, 2024)}, {r.choice(VENUES)} "
                 f"{r.randint(2015, 2024)}.", "Email | Google Scholar | GitHub | Twitter"],
        "blog": [f"Blog post: how I organise my reading notes on {topic}.",
                 "I keep one file per paper, tag each note by project, and review them every Friday.",
                 f"It takes about {n} minutes a week and saves hours later.",
                 f"This post walks through a small project on {topic} using Python and a notebook.",
                 f"The dataset has {n * 1000} documents, and training the model takes about {n} minutes.",
                 "I moved my reference library from one app to another; here is what I learned.",
                 f"Notes from a workshop on {topic}: mostly discussions about data, evaluation and ethics.",
                 f"For a crash course in {topic}, start with the tutorials and a small dataset of your own.",
                 "The results are in the table below, and the code is on GitHub."],
        "essay": [_essay_sentence(r)],
        "policy": ["We use cookies to improve your experience and to show relevant ads.",
                   "You can change your settings at any time.",
                   "By continuing to browse you agree to our terms of service.",
                   "We do not sell your personal data to third parties.",
                   f"This policy was last updated on {r.randint(1, 28)} March {r.randint(2015, 2024)}."],
    }
    return r.choice(pools[genre])


OTHER_GENRES = ["news", "shop", "recipe", "sports", "travel", "software", "forum", "home", "blog", "policy",
                "essay", "essay"]
NOUNS = ["people", "team", "email", "meeting", "family", "book", "music", "film", "community", "website", "company",
         "product", "chat", "message", "friend", "school", "teacher", "city", "garden", "job", "office", "weekend",
         "phone", "project", "story", "article", "newsletter", "volunteer", "audience", "festival", "neighbourhood",
         "library", "workplace", "tool", "habit", "conversation", "customer", "student", "parent", "holiday"]
VERBS = ["prefer", "enjoy", "miss", "share", "read", "organise", "discuss", "remember", "build", "visit", "plan",
         "avoid", "recommend", "notice", "support", "change", "choose", "follow", "improve", "celebrate"]
OPINION = ["more personal", "more casual", "a lot of fun", "hard to keep up with", "surprisingly useful",
           "too expensive", "a bit overwhelming", "important", "easy to forget", "worth the effort"]


def _essay_sentence(r: random.Random) -> str:
    a, b = r.sample(NOUNS, 2)
    v, o = r.choice(VERBS), r.choice(OPINION)
    return r.choice([
        f"People say they {v} the {a} because it is {o}.", f"Lately, the {a} has become {o} for many of us.",
        f"One issue is that the {a} is {o}, especially when the {b} is busy.",
        f"In our interviews, people told us they {v} the {b} but find the {a} {o}.",
        "Some of those might be important, but most of them will likely not be.",
        "The problem gets even worse if someone is coming back from a holiday.",
        f"We talked to {r.choice(['teachers', 'parents', 'volunteers', 'people'])} who {v} the {a} regularly.",
        f"I never expected the {a} to be {o}, but here we are.", "What do you think? Let me know in the comments.",
        f"It's just more fun, with plenty of jokes and stories about the {b}.",
        f"My {b} and I {v} the {a} every week, and it has changed how we work.",
        f"There have been complaints about the {a} as well.", f"Why does the {a} matter so much?",
        f"So we created a series of small experiments to learn what people {v} about the {b}.",
        f"Distinguishing the good {a} from the bad one can be hard, since they all look the same.",
    ])


def other_page(r: random.Random) -> str:
    genre = r.choice(OTHER_GENRES)
    sentences = [_other_sentence(r, genre) for _ in range(r.randint(3, 40))]
    if r.random() < 0.3:  # pages mix: a sidebar from another genre
        sentences += [_other_sentence(r, r.choice(OTHER_GENRES)) for _ in range(r.randint(1, 5))]
    title = r.choice([genre.capitalize(), "Welcome", f"{r.choice(PLACES)} | {genre}", "Latest", "About me"])
    return _page(r, title, _paragraphs(r, sentences))


LISTING_WORDS = ["Archive", "Results", "Standings", "Rank", "Points", "Team", "Season", "Page", "Next", "Last",
                 "Price", "Qty", "Date", "Time", "Platform", "Departure", "Category", "Total", "Stage", "Club",
                 "Views", "Downloads", "Size", "Model", "Item", "Order", "Sold", "Year", "Round", "Goals"]


def listing_page(r: random.Random) -> str:
    """Tables, archives, timetables, price lists and pagination: numbers that are not math."""
    cols = r.sample(LISTING_WORDS, r.randint(2, 5))
    rows = [" ".join(cols)]
    kind = r.randrange(4)
    for i in range(r.randint(4, 30)):
        if kind == 0:
            rows.append(f"{r.choice(LISTING_WORDS)} {r.randint(1995, 2024)}")
        elif kind == 1:
            rows.append(" ".join([str(i + 1), r.choice(TEAMS + PLACES), *(str(r.randint(0, 99)) for _ in cols[2:])]))
        elif kind == 2:
            rows.append(f"{r.randint(0, 23):02d}:{r.randint(0, 59):02d} {r.choice(PLACES)} {r.randint(1, 12)}")
        else:
            rows.append(f"{r.choice(ITEMS)} {r.choice(['$', '€', '£', ''])}{r.randint(1, 999)}.{r.randint(0, 99):02d}"
                        f" {r.choice(['in stock', 'sold out', ''])}")
    if r.random() < 0.5:
        rows.append(" ".join(str(k) for k in range(1, r.randint(3, 15))) + " Next Last")
    head, foot = _furniture(r)
    return "\n".join(x for x in (head, *rows, foot) if x)


SCRIPTS = [(0x4E00, 0x9FA5), (0x0430, 0x044F), (0x3041, 0x3093), (0x0627, 0x064A), (0xAC00, 0xD7A3)]


def foreign_page(r: random.Random) -> str:
    """A page in another script (menus, listings, numbers): not English, so not our math. Random letters of the
    script, the shape of such pages, not their text."""
    lo, hi = r.choice(SCRIPTS)
    spaced = lo < 0x3000 or lo >= 0xAC00

    def word() -> str:
        return "".join(chr(r.randint(lo, hi)) for _ in range(r.randint(2, 8)))

    lines = []
    for _ in range(r.randint(4, 40)):
        parts = [word() for _ in range(r.randint(1, 12))]
        if r.random() < 0.4:
            parts.insert(r.randrange(len(parts) + 1), r.choice([str(r.randint(1, 99999)), f"{r.randint(2005, 2024)}-"
                                                                 f"{r.randint(1, 12):02d}-{r.randint(1, 28):02d}",
                                                                 f"{r.randint(10, 999)}.com", "www", "QQ", "VIP"]))
        lines.append((" " if spaced else "").join(parts))
    return "\n".join(f"  • {line}" if r.random() < 0.3 else line for line in lines)


MATH_KINDS = [(math_article, 5), (math_forum, 3), (math_worked, 2), (math_puzzle, 2)]
OTHER_KINDS = [(other_page, 8), (listing_page, 1), (foreign_page, 1)]


def _pick(r: random.Random, kinds):
    return r.choices([k for k, _ in kinds], weights=[w for _, w in kinds])[0]


def generate() -> list[dict]:
    r = random.Random(SEED)
    rows, seen = [], set()
    for label, kinds in (("math", MATH_KINDS), ("other", OTHER_KINDS)):
        count = 0
        while count < N_PER_LABEL:
            text = _pick(r, kinds)(r)
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
