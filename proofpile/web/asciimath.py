"""AsciiMath -> LaTeX, for pages that write math in AsciiMath (MathJax's back-ticks, ``<script type="math/asciimath">``).

Table-driven, after the grammar of asciimath.org (``ASCIIMathML.js``)::

    E ::= I E | I/I E          I ::= S_S | S^S | S_S^S | S          S ::= v | lEr | uS | bSS | "text"

``v`` is a symbol (the ``SYMBOLS`` table, else a letter, a number or one character), ``l``/``r`` are brackets,
``u``/``b`` are unary/binary commands (``UNARY``, ``BINARY``). A bracket group that is the argument of ``/``, ``_``,
``^`` or a command loses its brackets, as in AsciiMath (``(a+b)/2`` -> ``\\frac{a+b}{2}``). Unknown input passes
through as itself: the converter never fails, and its output is only as good as AsciiMath's own rules.
"""

from __future__ import annotations

import re

# symbol -> TeX; longest match wins (the tokenizer tries the longest key first)
SYMBOLS = {
    # Greek
    **{g: "\\" + g for g in (
        "alpha beta gamma Gamma delta Delta epsilon varepsilon zeta eta theta Theta vartheta iota kappa lambda "
        "Lambda mu nu xi Xi pi Pi rho sigma Sigma tau upsilon phi Phi varphi chi psi Psi omega Omega").split()},
    # operators and relations
    "+-": r"\pm", "-+": r"\mp", "xx": r"\times", "-:": r"\div", "**": r"\ast", "***": r"\star", "@": r"\circ",
    "o+": r"\oplus", "ox": r"\otimes", "o.": r"\odot", "^^": r"\wedge", "^^^": r"\bigwedge", "vv": r"\vee",
    "vvv": r"\bigvee", "nn": r"\cap", "nnn": r"\bigcap", "uu": r"\cup", "uuu": r"\bigcup", "*": r"\cdot",
    "!=": r"\neq", "<=": r"\leq", ">=": r"\geq", "le": r"\le", "ge": r"\ge", "-<": r"\prec", ">-": r"\succ",
    "in": r"\in", "!in": r"\notin", "notin": r"\notin", "sub": r"\subset", "sup": r"\supset", "sube": r"\subseteq",
    "supe": r"\supseteq", "-=": r"\equiv", "~=": r"\cong", "~~": r"\approx", "prop": r"\propto",
    "and": r"\text{ and }", "or": r"\text{ or }", "not": r"\neg", "=>": r"\Rightarrow", "<=>": r"\Leftrightarrow",
    "iff": r"\iff", "if": r"\text{if}", "AA": r"\forall", "EE": r"\exists", "_|_": r"\bot", "TT": r"\top",
    "|--": r"\vdash", "|==": r"\models", "sum": r"\sum", "prod": r"\prod", "int": r"\int", "oint": r"\oint",
    "del": r"\partial", "grad": r"\nabla", "oo": r"\infty", "aleph": r"\aleph", "...": r"\ldots",
    "cdots": r"\cdots", "vdots": r"\vdots", "ddots": r"\ddots", "quad": r"\quad", "qquad": r"\qquad",
    "diamond": r"\diamond", "square": r"\square", "O/": r"\emptyset", "/_": r"\angle", ":.": r"\therefore",
    "CC": r"\mathbb{C}", "NN": r"\mathbb{N}", "QQ": r"\mathbb{Q}", "RR": r"\mathbb{R}", "ZZ": r"\mathbb{Z}",
    "->": r"\to", "to": r"\to", "|->": r"\mapsto", "uarr": r"\uparrow", "darr": r"\downarrow",
    "rarr": r"\rightarrow", "larr": r"\leftarrow", "harr": r"\leftrightarrow", "rArr": r"\Rightarrow",
    "lArr": r"\Leftarrow", "hArr": r"\Leftrightarrow", "|__": r"\lfloor", "__|": r"\rfloor", "|~": r"\lceil",
    "~|": r"\rceil", "'": "'", "!": "!", "|": "|", "\\ ": r"\ ", "=": "=", "<": "<", ">": ">", "+": "+", "-": "-",
    ",": ",", ".": ".", ":": ":", ";": ";", "lt": "<", "gt": ">", "mid": r"\mid",
    **{f: "\\" + f for f in (
        "sin cos tan sec csc cot sinh cosh tanh arcsin arccos arctan exp log ln det dim lim min max gcd lcm "
        "sup inf Pr liminf limsup").split()},
    "mod": r"\bmod", "lub": r"\operatorname{lub}", "glb": r"\operatorname{glb}", "f": "f", "g": "g",
}
LEFT = {"(": "(", "[": "[", "{": r"\{", "(:": r"\langle", "<<": r"\langle", "{:": "", "|:": "|"}
RIGHT = {")": ")", "]": "]", "}": r"\}", ":)": r"\rangle", ">>": r"\rangle", ":}": "", ":|": "|"}
UNARY = {"sqrt": r"\sqrt{%s}", "hat": r"\hat{%s}", "bar": r"\overline{%s}", "overline": r"\overline{%s}",
         "ul": r"\underline{%s}", "vec": r"\vec{%s}", "dot": r"\dot{%s}", "ddot": r"\ddot{%s}",
         "tilde": r"\tilde{%s}", "bb": r"\mathbf{%s}", "bbb": r"\mathbb{%s}", "cc": r"\mathcal{%s}",
         "tt": r"\mathtt{%s}", "fr": r"\mathfrak{%s}", "sf": r"\mathsf{%s}", "text": r"\text{%s}",
         "abs": r"\left|%s\right|", "floor": r"\lfloor %s\rfloor", "ceil": r"\lceil %s\rceil",
         "norm": r"\left\|%s\right\|", "ubrace": r"\underbrace{%s}", "obrace": r"\overbrace{%s}",
         "cancel": r"\cancel{%s}"}
BINARY = {"frac": r"\frac{%s}{%s}", "root": r"\sqrt[%s]{%s}", "stackrel": r"\stackrel{%s}{%s}",
          "overset": r"\overset{%s}{%s}", "underset": r"\underset{%s}{%s}", "color": r"{\color{%s}%s}"}

_KEYS = sorted({*SYMBOLS, *LEFT, *RIGHT, *UNARY, *BINARY, "/", "_", "^"}, key=len, reverse=True)
_TOKEN = re.compile(r'"[^"]*"|text\([^)]*\)|\d+(?:\.\d+)?|' + "|".join(re.escape(k) for k in _KEYS) +
                    r"|[A-Za-z]|\S")
_WORDY = re.compile(r"[A-Za-z]")


def _tokens(text: str) -> list[str]:
    return _TOKEN.findall(text)  # longest key first, as AsciiMath reads ("sinx" is sin x)


MAX_DEPTH = 64  # deeper nesting is written out token by token: a page cannot make the parser recurse unboundedly


class _Parser:
    def __init__(self, tokens: list[str]):
        self.tokens, self.i, self.depth = tokens, 0, 0

    def peek(self) -> str | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def next(self) -> str:
        tok = self.tokens[self.i]
        self.i += 1
        return tok

    def expression(self, closers: bool = False) -> str:
        parts = []
        while self.peek() is not None:
            if self.peek() in RIGHT:
                if closers:
                    break
                parts.append(RIGHT[self.next()])
                continue
            left, grouped = self.intermediate()
            if self.peek() == "/":
                self.next()
                right, right_grouped = self.intermediate()
                parts.append(r"\frac{%s}{%s}" % (_ungroup(left, grouped), _ungroup(right, right_grouped)))
            else:
                parts.append(left)
        return _join(parts)

    def intermediate(self) -> tuple[str, tuple | None]:
        base, grouped = self.simple()
        scripts = {"_", "^"}  # a subscript and a superscript, each at most once, in either order
        while self.peek() in scripts:
            mark = self.next()
            scripts.discard(mark)
            script, script_grouped = self.simple()
            base = f"{base}{mark}{{{_ungroup(script, script_grouped)}}}"
            grouped = None
        return base, grouped

    def simple(self) -> tuple[str, tuple | None]:
        """A simple expression and, for a bracket group, (open, inner, close) so a caller can drop the brackets."""
        tok = self.peek()
        if tok is None:
            return "", None
        self.next()
        if self.depth >= MAX_DEPTH:
            return SYMBOLS.get(tok, tok), None
        self.depth += 1
        try:
            return self._simple(tok)
        finally:
            self.depth -= 1

    def _simple(self, tok: str) -> tuple[str, tuple | None]:
        if tok in LEFT:
            inner = self.expression(closers=True)
            close = self.next() if self.peek() in RIGHT else ""
            left, right = LEFT[tok], RIGHT.get(close, "")
            return f"{left}{inner}{right}", (tok, inner, close)
        if tok in UNARY:
            arg, grouped = self.simple()
            return UNARY[tok] % _ungroup(arg, grouped), None
        if tok in BINARY:
            first, g1 = self.simple()
            second, g2 = self.simple()
            return BINARY[tok] % (_ungroup(first, g1), _ungroup(second, g2)), None
        if tok.startswith('"') and len(tok) > 1:
            return r"\text{%s}" % tok[1:-1], None
        if tok.startswith("text("):
            return r"\text{%s}" % tok[5:-1], None
        return SYMBOLS.get(tok, "\\" + tok if tok in "%#&$" else tok), None


def _ungroup(tex: str, grouped: tuple | None) -> str:
    if grouped is not None and grouped[0] in ("(", "[", "{", "{:") and grouped[2]:
        return grouped[1]
    return tex


def _join(parts: list[str]) -> str:
    out = ""
    for part in parts:
        if out and part and re.search(r"\\[A-Za-z]+$", out) and _WORDY.match(part):
            out += " "
        out += part
    return out


def to_tex(asciimath: str) -> str:
    """LaTeX for an AsciiMath formula."""
    return _Parser(_tokens(asciimath.strip())).expression().strip()
