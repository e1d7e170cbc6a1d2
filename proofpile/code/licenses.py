"""License detection from LICENSE / COPYING files: an SPDX id where the text is recognisable."""

from __future__ import annotations

import re
from pathlib import Path

from proofpile.code.data import read_yaml


class LicenseDetector:
    def __init__(self, path: str | Path):
        data = read_yaml(path)
        # one pattern for all names: asked of every directory entry a reader lists
        self.file_pattern = re.compile("|".join(f"(?:{p})" for p in data["files"]), re.I)
        self.licenses = [(entry["spdx"], [re.compile(p, re.I) for p in entry["all"]]) for entry in data["licenses"]]

    def is_license_file(self, name: str) -> bool:
        return self.file_pattern.match(name) is not None

    def identify(self, text: str) -> str:
        flat = " ".join(text.split())  # line breaks fall anywhere in license texts
        for spdx, patterns in self.licenses:
            if all(p.search(flat) for p in patterns):
                return spdx
        return "NOASSERTION"
