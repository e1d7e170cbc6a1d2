"""Language detection: extension first, file content where an extension is shared (``filters/code/languages.yaml``)."""

from __future__ import annotations

from datatrove.data import Document

from proofpile.code.data import LanguageTable
from proofpile.code.filters import CodeFilter


class DetectLanguage(CodeFilter):
    """Sets ``meta.lang`` to one of the 17 target languages or drops the file (``not_target_language``, with
    ``detected/<Language>`` counted; ``unknown_language`` when nothing matched). A ``CodeFilter`` for its cheaper
    bookkeeping; it is not a language rule, so its drops are not counted per language."""

    name = "🔤 Detect language"

    def __init__(self, languages: str):
        super().__init__()
        self.table = LanguageTable.load(languages)
        self.read_labels = {lang: f"lang/{lang}/read" for lang in self.table.slugs}  # made once, counted per file

    def filter(self, doc: Document) -> bool | tuple[bool, str]:
        meta = doc.metadata
        lang = self.table.detect(meta.get("path") or "", doc.text, meta.pop("stack_lang", None))
        label = self.read_labels.get(lang)
        if label is not None:
            meta["lang"] = lang
            self.count(label)
            return True
        if lang is None or lang == "unknown":
            return False, "unknown_language"
        self.count(f"detected/{lang}")
        return False, "not_target_language"
