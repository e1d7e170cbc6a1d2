"""Jupyter notebooks -> Markdown: markdown cells as text, code cells fenced with the kernel's language, text outputs
fenced as ``output``. Outputs that hold images or tracebacks are cleared. Notebooks without LaTeX math in a markdown
cell or a sympy import are dropped (``jupyter_no_math``); ones that are not JSON (``jupyter_not_json``) or not
notebooks (``jupyter_not_nbformat``) are counted drops."""

from __future__ import annotations

import re

import orjson
from datatrove.data import Document

from proofpile.code.filters import CodeFilter
from proofpile.config import read_list

_SYMPY = re.compile(r"^[ \t]*(?:import[ \t]+(?:[\w.]+[ \t]*,[ \t]*)*sympy\b|from[ \t]+sympy\b)", re.M)


def _source(value) -> str:
    if isinstance(value, list):
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
    if not isinstance(nb.get("nbformat"), int) or not isinstance(cells, list) or \
            not all(isinstance(c, dict) and isinstance(c.get("cell_type"), str) for c in cells):
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

    def __init__(self, math_markers: str):
        super().__init__()
        self.math = re.compile("|".join(f"(?:{m})" for m in read_list(math_markers)), re.S)

    def has_math(self, nb: dict) -> bool:
        for cell in nb["cells"]:
            src = _source(cell.get("source"))
            if cell["cell_type"] == "markdown" and self.math.search(src):
                return True
            if cell["cell_type"] == "code" and _SYMPY.search(src):
                return True
        return False

    def output_text(self, output) -> str | None:
        """The text of one output, or None if it is cleared (images, tracebacks) or holds no text."""
        if not isinstance(output, dict):
            return None
        kind = output.get("output_type")
        if kind in ("error", "pyerr"):
            self.stat_update("cleared_traceback_outputs")
            return None
        data = output.get("data") if isinstance(output.get("data"), dict) else {}
        if any(k.startswith("image/") for k in data) or any(k in output for k in ("png", "jpeg", "svg")):
            self.stat_update("cleared_image_outputs")
            return None
        if kind == "stream":
            return _source(output.get("text"))
        if "text/plain" in data:
            return _source(data["text/plain"])
        return _source(output.get("text")) or None

    def to_markdown(self, nb: dict) -> str:
        lang = kernel_language(nb)
        parts = []
        for cell in nb["cells"]:
            src = _source(cell.get("source")).strip("\n")
            if cell["cell_type"] == "code":
                if src.strip():
                    parts.append(f"```{lang}\n{src}\n```")
                for output in cell.get("outputs") or []:
                    text = self.output_text(output)
                    if text and text.strip():
                        parts.append(f"```output\n{text.strip(chr(10))}\n```")
            elif src.strip():
                parts.append(src)
        return "\n\n".join(parts) + "\n"

    def reason(self, doc: Document):
        if doc.metadata.get("lang") != "Jupyter":
            return None
        nb, reason = parse_notebook(doc.text)
        if nb is None:
            return f"jupyter_{reason}"
        if not self.has_math(nb):
            return "jupyter_no_math"
        text = self.to_markdown(nb)
        if not text.strip():
            return "jupyter_empty"
        doc.text = text
        doc.metadata["kernel_language"] = kernel_language(nb)
