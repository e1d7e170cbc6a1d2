"""Jupyter notebooks -> Markdown: markdown cells as text, code cells fenced with the kernel's language, text outputs
fenced as ``output``. Outputs that hold images or tracebacks are cleared. Notebooks without LaTeX math in a markdown
cell or a sympy import are dropped (``jupyter_no_math``); ones that are not JSON (``jupyter_not_json``) or not
notebooks (``jupyter_not_nbformat``) are counted drops."""

from __future__ import annotations

import re

import orjson
from datatrove.data import Document

from proofpile import mathspans
from proofpile.code.filters import CodeFilter

# ECMA-48 escape sequences (colours, cursor moves) as terminals and IPython write them into stream outputs
_ANSI_ESCAPE = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)|[@-Z\\-_])")
_SYMPY = re.compile(r"^[ \t]*(?:import[ \t]+(?:[\w.]+[ \t]*,[ \t]*)*sympy\b|from[ \t]+sympy\b)", re.M)


def _without_escapes(text: str) -> str:
    return _ANSI_ESCAPE.sub("", text) if "\x1b" in text else text  # (most outputs have none: no regex pass)


def _source(value) -> str:
    if isinstance(value, list):
        try:
            return "".join(value)
        except TypeError:  # an item that is not a string: left out
            return "".join(x for x in value if isinstance(x, str))
    return value if isinstance(value, str) else ""


def parse_notebook(text: str) -> tuple[dict | None, str | None]:
    """The notebook as nbformat-4-shaped dict (cells with cell_type/source), or (None, reason)."""
    try:
        nb = orjson.loads(text)
    except orjson.JSONDecodeError:
        return None, "not_json"
    if not isinstance(nb, dict):
        return None, "not_nbformat"
    cells = nb.get("cells")
    if cells is None and isinstance(nb.get("worksheets"), list):  # nbformat 3: cells live in worksheets
        cells = [c for ws in nb["worksheets"] if isinstance(ws, dict) for c in (ws.get("cells") or [])]
        for c in cells:
            if isinstance(c, dict) and "input" in c and "source" not in c:
                c["source"] = c["input"]
    if not isinstance(nb.get("nbformat"), int) or not isinstance(cells, list):
        return None, "not_nbformat"
    for c in cells:  # (a loop: all() over a generator cost more than the tests)
        if not isinstance(c, dict) or not isinstance(c.get("cell_type"), str):
            return None, "not_nbformat"
    nb["cells"] = cells
    return nb, None


def kernel_language(nb: dict) -> str:
    meta = nb.get("metadata") if isinstance(nb.get("metadata"), dict) else {}
    for key, sub in (("kernelspec", "language"), ("language_info", "name")):
        value = meta.get(key, {}).get(sub) if isinstance(meta.get(key), dict) else None
        if isinstance(value, str) and value:
            return value.lower()
    return "python"


class JupyterToMarkdown(CodeFilter):
    """Keeps math notebooks, as Markdown (other languages pass untouched)."""

    name = "📓 Jupyter"
    language = "Jupyter"

    def has_math(self, nb: dict, sources: list[str] | None = None) -> bool:
        """``sources``: the cells' sources (``_source``), when read already."""
        cells = nb["cells"]
        for cell, src in zip(cells, sources if sources is not None else [_source(c.get("source")) for c in cells]):
            kind = cell["cell_type"]
            if kind == "markdown":
                if mathspans.has_math(src):  # the one definition of math
                    return True
            elif kind == "code" and "sympy" in src and _SYMPY.search(src):
                return True
        return False

    def output_text(self, output) -> str | None:
        """The text of one output, or None if it holds none. Images and tracebacks are cleared, and so is the plain
        text next to an image (a plot's ``<Figure size ...>``), but not a result that is math: sympy's outputs carry
        a PNG next to ``text/latex`` and ``text/plain``, and keep both (the LaTeX, then the plain form). Terminal
        colour codes are removed from stream and plain text."""
        if not isinstance(output, dict):
            return None
        kind = output.get("output_type")
        if kind == "stream":
            return _without_escapes(_source(output.get("text")))
        if kind in ("error", "pyerr"):
            self.count("cleared_traceback_outputs")
            return None
        data = output.get("data")
        if not isinstance(data, dict):
            data = {}
        latex, plain = data.get("text/latex"), data.get("text/plain")
        latex = "" if latex is None else _source(latex).strip()
        plain = "" if plain is None else _without_escapes(_source(plain)).strip("\n")
        if plain.isspace():
            plain = ""
        text = f"{latex}\n{plain}" if latex and plain else latex or plain
        image = "png" in output or "jpeg" in output or "svg" in output
        if not image:
            for key in data:  # (a loop: any() over a generator cost more than the tests)
                if key.startswith("image/"):
                    image = True
                    break
        if image:
            self.count("cleared_image_outputs")
            if not latex:
                return None
        if text:
            return text
        return _without_escapes(_source(output.get("text"))) or None

    def to_markdown(self, nb: dict, lang: str | None = None, sources: list[str] | None = None) -> str:
        """``sources``: the cells' sources (``_source``), when read already."""
        lang = lang or kernel_language(nb)
        cells = nb["cells"]
        parts = []
        for cell, src in zip(cells, sources if sources is not None else [_source(c.get("source")) for c in cells]):
            src = src.strip("\n")
            if cell["cell_type"] == "code":
                if src and not src.isspace():
                    parts.append(f"```{lang}\n{src}\n```")
                for output in cell.get("outputs") or ():
                    text = self.output_text(output)
                    if text and not text.isspace():
                        parts.append(f"```output\n{text.strip(chr(10))}\n```")
            elif src and not src.isspace():
                parts.append(src)
        return "\n\n".join(parts) + "\n"

    def reason(self, doc: Document):
        if doc.metadata.get("lang") != "Jupyter":
            return None
        nb, reason = parse_notebook(doc.text)
        if nb is None:
            return f"jupyter_{reason}"
        sources = [_source(cell.get("source")) for cell in nb["cells"]]
        if not self.has_math(nb, sources):
            return "jupyter_no_math"
        lang = kernel_language(nb)
        text = self.to_markdown(nb, lang, sources)
        if not text.strip():
            return "jupyter_empty"
        doc.text = text
        doc.metadata["kernel_language"] = lang
