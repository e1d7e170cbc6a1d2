"""Loading the code stage's reviewed data files (``filters/code/``)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import yaml


def read_yaml(path: str | Path) -> dict:
    with open(path, encoding="utf-8") as f:
        data = yaml.load(f, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)) or {}
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a mapping")
    return data


@dataclass
class Rule:
    language: str
    pattern: re.Pattern | None
    matches: Callable[..., bool] | None = None  # ``pattern.search`` as a yes or no, faster: an ``AnyMatch``

    def __post_init__(self):
        if self.pattern is not None and self.matches is None:
            from proofpile.code.filters import AnyMatch

            self.matches = AnyMatch(self.pattern.pattern, self.pattern.flags)


@dataclass
class LanguageTable:
    """Extensions -> language, with content rules for shared extensions."""

    slugs: dict[str, str]  # target language -> slug
    extensions: dict[str, str]  # extension (no dot, lowercase, may hold dots) -> target language
    disambiguation: dict[str, list[Rule]] = field(default_factory=dict)
    stack_names: dict[str, str | None] = field(default_factory=dict)

    @classmethod
    def load(cls, path: str | Path) -> "LanguageTable":
        data = read_yaml(path)
        slugs, extensions = {}, {}
        for lang, spec in data["languages"].items():
            slugs[lang] = spec["slug"]
            for ext in spec["extensions"]:
                ext = str(ext).lower()
                if ext in extensions:
                    raise ValueError(f"{path}: extension {ext!r} is declared for {extensions[ext]} and {lang}")
                extensions[ext] = lang
        disambiguation = {}
        for ext, rules in (data.get("disambiguation") or {}).items():
            compiled = []
            for rule in rules:
                pattern = rule.get("pattern")
                compiled.append(Rule(rule["language"], re.compile(pattern, re.M) if pattern else None))
            disambiguation[str(ext).lower()] = compiled
        return cls(slugs, extensions, disambiguation, dict(data.get("stack_names") or {}))

    def __post_init__(self):
        from proofpile.code.filters import LiteralScan

        # per shared extension, one scan for the pieces of text all its rules need (``AnyMatch``)
        self.scans = {}
        for ext, rules in self.disambiguation.items():
            pieces = sorted({p for rule in rules if rule.matches is not None for p in rule.matches.pieces})
            self.scans[ext] = LiteralScan(pieces) if pieces else None

    def extension_of(self, path: str) -> str | None:
        """The longest known suffix of a file name (``a.lagda.tex`` -> ``lagda.tex``), or None."""
        name = path.rsplit("/", 1)[-1].lower()
        dot = name.find(".")
        while dot != -1:  # the suffix after each dot, longest first
            ext = name[dot + 1:]
            if ext in self.extensions or ext in self.disambiguation:
                return ext
            dot = name.find(".", dot + 1)
        return None

    def known(self, path: str) -> bool:
        return self.extension_of(path) is not None

    def detect(self, path: str, text: str, stack_lang: str | None = None) -> str | None:
        """The language of a file: a target language name, another language's name, "unknown", or None when
        neither the extension nor The Stack's label says anything."""
        ext = self.extension_of(path) if path else None
        if ext is None:
            if stack_lang is None:
                return None
            if stack_lang in self.slugs:
                return stack_lang
            return self.stack_names.get(stack_lang, stack_lang) or stack_lang
        rules = self.disambiguation.get(ext)
        if rules:
            head = text[:20000]  # rules look at the head: enough for every marker, bounded time
            scan = self.scans[ext]
            held = scan(head) if scan is not None else None
            for rule in rules:
                if rule.matches is None or rule.matches(head, held):
                    return rule.language
            return "unknown"
        return self.extensions[ext]
