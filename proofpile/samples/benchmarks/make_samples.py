"""Writes the demo's tiny benchmark files in the MATH and GSM8K test-set formats.

The problems are our own (written for the demo, not taken from MATH or GSM8K). One MATH-style item quotes the
Bayes' theorem page of the web demo (proofpile/samples/web/make_demo_warc.py) in its solution, so the demo's
decontamination report has a real (Llemma-style 30-gram) overlap to show.
Run: python proofpile/samples/benchmarks/make_samples.py
"""

import json
from pathlib import Path

HERE = Path(__file__).resolve().parent

MATH = [
    ("Algebra", "Level 2", "Solve for $x$: $4x - 7 = 2x + 9$.",
     "Subtracting $2x$ from both sides gives $2x - 7 = 9$, so $2x = 16$ and $x = \\boxed{8}$."),
    ("Number Theory", "Level 3", "What is the remainder when $7^{100}$ is divided by $5$?",
     "The powers of $7$ modulo $5$ cycle with period $4$: $7 \\equiv 2$, $2^2 = 4$, $2^3 \\equiv 3$, "
     "$2^4 \\equiv 1$. Since $100$ is a multiple of $4$, $7^{100} \\equiv 1 \\pmod 5$, so the remainder is "
     "$\\boxed{1}$."),
    ("Counting & Probability", "Level 4",
     "A bag holds $5$ red marbles and $3$ blue marbles. Two marbles are drawn at random without replacement. "
     "What is the probability that both are blue? Express your answer as a common fraction.",
     "There are $\\binom{8}{2} = 28$ ways to draw two marbles and $\\binom{3}{2} = 3$ ways to draw two blue "
     "ones, so the probability is $\\boxed{\\frac{3}{28}}$."),
    ("Geometry", "Level 3",
     "A right triangle has legs of length $9$ and $12$. What is the length of the altitude to the hypotenuse?",
     "The hypotenuse is $\\sqrt{9^2 + 12^2} = 15$. Twice the area is $9 \\cdot 12 = 108 = 15h$, so the "
     "altitude is $h = \\boxed{\\frac{36}{5}}$."),
    ("Intermediate Algebra", "Level 4",
     "Find the sum of all real numbers $x$ such that $x^4 - 13x^2 + 36 = 0$.",
     "Factoring gives $(x^2 - 4)(x^2 - 9) = 0$, so $x \\in \\{-3, -2, 2, 3\\}$ and the sum is $\\boxed{0}$."),
    ("Precalculus", "Level 2", "Compute $\\cos 300^\\circ$.",
     "Since $300^\\circ = 360^\\circ - 60^\\circ$, we have $\\cos 300^\\circ = \\cos 60^\\circ = "
     "\\boxed{\\frac{1}{2}}$."),
    ("Counting & Probability", "Level 5",
     "A test detects a disease with probability $0.99$ and gives a false positive with probability $0.05$. The "
     "disease affects $1\\%$ of the population. What is the probability of having the disease after a positive "
     "test, to the nearest thousandth?",
     "Bayes' theorem tells us how to update a probability when new evidence arrives. The probability is "
     "$\\frac{0.99 \\cdot 0.01}{0.99 \\cdot 0.01 + 0.05 \\cdot 0.99} \\approx \\boxed{0.167}$, much smaller than "
     "most people expect: the prior matters as much as the accuracy of the test, and this is the main lesson of "
     "the theorem: evidence must always be weighed against the base rate."),
]

GSM8K = [
    ("Maya buys 3 notebooks at $4 each and 2 pens at $1.50 each. She pays with a $20 bill. How much change does "
     "she get?",
     "The notebooks cost 3 * 4 = <<3*4=12>>12 dollars.\nThe pens cost 2 * 1.50 = <<2*1.50=3>>3 dollars.\n"
     "Together she spends 12 + 3 = <<12+3=15>>15 dollars.\nHer change is 20 - 15 = <<20-15=5>>5 dollars.\n#### 5"),
    ("A baker makes 48 muffins in the morning and sells three quarters of them before noon. In the afternoon he "
     "bakes 20 more. How many muffins does he have at the end of the day if he sells 15 in the afternoon?",
     "He sells 48 * 3/4 = <<48*3/4=36>>36 muffins before noon, leaving 48 - 36 = <<48-36=12>>12.\n"
     "After baking he has 12 + 20 = <<12+20=32>>32.\nAfter the afternoon sales he has 32 - 15 = <<32-15=17>>17.\n"
     "#### 17"),
    ("A train travels 180 miles in 3 hours. At the same speed, how many miles does it travel in 5 hours?",
     "Its speed is 180 / 3 = <<180/3=60>>60 miles per hour.\nIn 5 hours it travels 60 * 5 = <<60*5=300>>300 miles.\n"
     "#### 300"),
    ("Lena reads 12 pages of her book every weekday and 20 pages on each day of the weekend. How many pages does "
     "she read in two weeks?",
     "In one week she reads 5 * 12 + 2 * 20 = <<5*12+2*20=100>>100 pages.\nIn two weeks she reads 2 * 100 = "
     "<<2*100=200>>200 pages.\n#### 200"),
]


def main():
    with open(HERE / "math-test.jsonl", "w") as f:
        for idx, (kind, level, problem, solution) in enumerate(MATH):
            f.write(json.dumps({"problem": problem, "level": level, "type": kind, "solution": solution,
                                "idx": idx}) + "\n")
    with open(HERE / "gsm8k-test.jsonl", "w") as f:
        for question, answer in GSM8K:
            f.write(json.dumps({"question": question, "answer": answer}) + "\n")


if __name__ == "__main__":
    main()
