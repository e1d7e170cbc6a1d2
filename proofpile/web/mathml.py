"""A small MathML -> LaTeX converter, for ``<math>`` elements that carry neither a TeX annotation nor ``alttext``.

It walks a resiliparse DOM node and covers presentation MathML as pages actually use it (mi, mn, mo, mrow,
msup, msub, msubsup, mfrac, msqrt, mroot, mover, munder, munderover, mtable, mtext, mfenced, mstyle...), mapping
common operators and Greek letters to commands. It is not a full MathML implementation: unknown elements
contribute their children, and a tree deeper than ``MAX_DEPTH`` contributes its plain text.
"""

from __future__ import annotations

import re

MAX_DEPTH = 64

# characters written as commands; the rest pass through (a model reads unicode fine)
SYMBOLS = {
    "α": r"\alpha", "β": r"\beta", "γ": r"\gamma", "δ": r"\delta", "ε": r"\epsilon", "ϵ": r"\epsilon",
    "ζ": r"\zeta", "η": r"\eta", "θ": r"\theta", "ϑ": r"\vartheta", "ι": r"\iota", "κ": r"\kappa",
    "λ": r"\lambda", "μ": r"\mu", "ν": r"\nu", "ξ": r"\xi", "π": r"\pi", "ϖ": r"\varpi", "ρ": r"\rho",
    "ϱ": r"\varrho", "σ": r"\sigma", "ς": r"\varsigma", "τ": r"\tau", "υ": r"\upsilon", "φ": r"\phi",
    "ϕ": r"\phi", "χ": r"\chi", "ψ": r"\psi", "ω": r"\omega", "Γ": r"\Gamma", "Δ": r"\Delta",
    "Θ": r"\Theta", "Λ": r"\Lambda", "Ξ": r"\Xi", "Π": r"\Pi", "Σ": r"\Sigma", "Υ": r"\Upsilon",
    "Φ": r"\Phi", "Ψ": r"\Psi", "Ω": r"\Omega",
    "∑": r"\sum", "∏": r"\prod", "∐": r"\coprod", "∫": r"\int", "∬": r"\iint", "∭": r"\iiint", "∮": r"\oint",
    "⋃": r"\bigcup", "⋂": r"\bigcap", "∞": r"\infty", "∂": r"\partial", "∇": r"\nabla", "∀": r"\forall",
    "∃": r"\exists", "∄": r"\nexists", "∅": r"\emptyset", "¬": r"\neg", "∧": r"\wedge", "∨": r"\vee",
    "≤": r"\leq", "≥": r"\geq", "≠": r"\neq", "≈": r"\approx", "≡": r"\equiv", "∼": r"\sim", "≃": r"\simeq",
    "≅": r"\cong", "∝": r"\propto", "≪": r"\ll", "≫": r"\gg", "≺": r"\prec", "≻": r"\succ",
    "∈": r"\in", "∉": r"\notin", "∋": r"\ni", "⊂": r"\subset", "⊃": r"\supset", "⊆": r"\subseteq",
    "⊇": r"\supseteq", "⊊": r"\subsetneq", "∪": r"\cup", "∩": r"\cap", "∖": r"\setminus",
    "×": r"\times", "÷": r"\div", "⋅": r"\cdot", "·": r"\cdot", "∘": r"\circ", "±": r"\pm", "∓": r"\mp",
    "⊗": r"\otimes", "⊕": r"\oplus", "⊙": r"\odot", "†": r"\dagger", "⋆": r"\star", "∗": "*",
    "→": r"\to", "←": r"\leftarrow", "↔": r"\leftrightarrow", "⇒": r"\Rightarrow", "⇐": r"\Leftarrow",
    "⇔": r"\Leftrightarrow", "↦": r"\mapsto", "⟶": r"\longrightarrow", "⟹": r"\Longrightarrow",
    "⟺": r"\iff", "↑": r"\uparrow", "↓": r"\downarrow",
    "…": r"\ldots", "⋯": r"\cdots", "⋮": r"\vdots", "⋱": r"\ddots", "′": "'", "″": "''", "°": r"^\circ",
    "⟨": r"\langle", "⟩": r"\rangle", "⌈": r"\lceil", "⌉": r"\rceil", "⌊": r"\lfloor",
    "⌋": r"\rfloor", "‖": r"\|", "∣": "|", "−": "-", "ℓ": r"\ell", "ℏ": r"\hbar", "ℵ": r"\aleph", "℘": r"\wp",
    "ℜ": r"\Re", "ℑ": r"\Im", "⊥": r"\perp", "∥": r"\parallel", "∠": r"\angle", "△": r"\triangle",
    "ℝ": r"\mathbb{R}", "ℕ": r"\mathbb{N}", "ℤ": r"\mathbb{Z}", "ℚ": r"\mathbb{Q}", "ℂ": r"\mathbb{C}",
    "\u2061": "", "\u2062": "", "\u2063": "", "\u2064": "", "\u00a0": " ",
    "{": r"\{", "}": r"\}", "%": r"\%", "#": r"\#", "&": r"\&", "$": r"\$",
}
_SYMBOL_RE = re.compile("|".join(re.escape(k) for k in sorted(SYMBOLS, key=len, reverse=True)))
FUNCTIONS = frozenset(
    "sin cos tan cot sec csc arcsin arccos arctan sinh cosh tanh coth log ln lg exp lim liminf limsup sup inf "
    "max min arg det dim gcd hom ker deg Pr mod".split()
)
# mover/munder accents: the character on top -> the command taking the base
ACCENTS = {
    "^": r"\hat", "ˆ": r"\hat", "̂": r"\hat", "~": r"\tilde", "˜": r"\tilde", "̃": r"\tilde",
    "¯": r"\overline", "‾": r"\overline", "_": r"\underline", "̲": r"\underline", "→": r"\vec", "⃗": r"\vec",
    "˙": r"\dot", "̇": r"\dot", "¨": r"\ddot", "̈": r"\ddot", "⏞": r"\overbrace", "⏟": r"\underbrace",
}
_LARGE_OPERATORS = frozenset({r"\sum", r"\prod", r"\coprod", r"\bigcup", r"\bigcap", r"\lim", r"\max", r"\min",
                              r"\sup", r"\inf", r"\int", r"\oint"})
_ENDS_WITH_COMMAND = re.compile(r"\\[A-Za-z]+$")
_SKIPPED = frozenset({"annotation", "annotation-xml", "mprespacing", "none", "mphantom", "maligngroup",
                      "malignmark"})


def symbols(text: str) -> str:
    return _SYMBOL_RE.sub(lambda m: SYMBOLS[m.group()], text)


def _cat(parts) -> str:
    """Join LaTeX pieces, adding a space only where a command would swallow the next letter."""
    out = ""
    for part in parts:
        if not part:
            continue
        if out and _ENDS_WITH_COMMAND.search(out) and (part[0].isalpha()):
            out += " "
        out += part
    return out


def _arg(tex: str) -> str:
    """A command argument: bare when it is one character, else braced."""
    return tex if len(tex) == 1 else "{" + tex + "}"


def _children(node) -> list:
    return [child for child in node.child_nodes.values() if child.type == 1]  # element nodes only


def _text(node) -> str:
    return (node.text or "").strip()


def convert(node, depth: int = 0) -> str:
    """LaTeX for a MathML element (a resiliparse ``ElementNode``)."""
    if depth > MAX_DEPTH:
        return symbols(_text(node))
    tag = (node.tag or "").lower()
    if ":" in tag:  # m:mi in namespaced XHTML
        tag = tag.rsplit(":", 1)[1]
    if tag in _SKIPPED:
        return ""
    kids = _children(node)
    sub = [convert(kid, depth + 1) for kid in kids] if tag not in ("mi", "mn", "mo", "mtext", "ms") else []
    if tag == "mi":
        text = _text(node)
        if text in FUNCTIONS:
            return "\\" + text
        if len(text) > 1 and text.isalpha() and text.isascii():
            return r"\mathrm{" + text + "}"
        variant = node.getattr("mathvariant") or ""
        tex = symbols(text)
        if variant == "bold":
            return r"\mathbf{" + tex + "}"
        if variant == "double-struck" and text.isalpha() and text.isascii():
            return r"\mathbb{" + tex + "}"
        if variant == "fraktur":
            return r"\mathfrak{" + tex + "}"
        if variant in ("script", "bold-script"):
            return r"\mathcal{" + tex + "}"
        return tex
    if tag in ("mn", "mo"):
        return symbols(_text(node))
    if tag in ("mtext", "ms"):
        text = (node.text or "").replace("\u00a0", " ")
        return r"\text{" + text + "}" if text.strip() else ""
    if tag == "mspace":
        return " "
    if tag == "semantics":
        return sub[0] if sub else ""
    if tag in ("msup", "msub") and len(sub) >= 2:
        return _cat([_base(sub[0]), ("^" if tag == "msup" else "_") + _arg(sub[1])])
    if tag == "msubsup" and len(sub) >= 3:
        return _cat([_base(sub[0]), "_" + _arg(sub[1]), "^" + _arg(sub[2])])
    if tag == "mfrac" and len(sub) >= 2:
        if (node.getattr("linethickness") or "").strip() in ("0", "0pt", "0px", "0em"):
            return r"\binom{" + sub[0] + "}{" + sub[1] + "}"
        return r"\frac{" + sub[0] + "}{" + sub[1] + "}"
    if tag == "msqrt":
        return r"\sqrt{" + _cat(sub) + "}"
    if tag == "mroot" and len(sub) >= 2:
        return r"\sqrt[" + sub[1] + "]{" + sub[0] + "}"
    if tag in ("mover", "munder") and len(sub) >= 2:
        accent = ACCENTS.get(_text(kids[1]))
        if accent and (tag == "mover" or accent in (r"\underline", r"\underbrace")):
            return accent + "{" + sub[0] + "}"
        if sub[0] in _LARGE_OPERATORS:
            return _cat([sub[0], ("^" if tag == "mover" else "_") + _arg(sub[1])])
        return (r"\overset{" if tag == "mover" else r"\underset{") + sub[1] + "}{" + sub[0] + "}"
    if tag == "munderover" and len(sub) >= 3:
        return _cat([sub[0], "_" + _arg(sub[1]), "^" + _arg(sub[2])])
    if tag == "mtable":
        rows = [" & ".join(_cell(cell, depth + 2) for cell in _children(row)) for row in kids]
        return r"\begin{matrix}" + r" \\ ".join(rows) + r"\end{matrix}"
    if tag == "mfenced":
        open_, close = node.getattr("open", "("), node.getattr("close", ")")
        separator = (node.getattr("separators", ",") or ",")[:1]
        return _fence(open_) + separator.join(sub) + _fence(close)
    if tag == "menclose" and "radical" in (node.getattr("notation") or ""):
        return r"\sqrt{" + _cat(sub) + "}"
    return _cat(sub)  # math, mrow, mstyle, mpadded, menclose, merror, mtd, unknown


def _cell(node, depth: int) -> str:
    return _cat(convert(kid, depth) for kid in _children(node)) if (node.tag or "").endswith("mtd") else \
        convert(node, depth)


def _base(tex: str) -> str:
    # x^2 squared again needs braces: {x^2}^2
    return "{" + tex + "}" if ("^" in tex or "_" in tex) and not tex.startswith("\\") else tex


def _fence(char: str) -> str:
    if char in ("{", "}"):
        return "\\" + char
    return symbols(char)
