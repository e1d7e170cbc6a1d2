"""Readers of arXiv sources: bulk tars and per-paper ``.gz`` files as arXiv distributes them, and RedPajama's
arXiv jsonl. Each yields one document per paper whose text is the paper's flattened LaTeX (main file with its
``\\input``s inlined, comments removed); the cleaning steps in ``proofpile.arxiv.clean`` take it from there."""

from __future__ import annotations

from collections import Counter
from pathlib import PurePosixPath

import orjson
from datatrove.data import Document, DocumentsPipeline
from datatrove.io import DataFolderLike
from datatrove.pipeline.readers.base import BaseDiskReader

from proofpile.arxiv.archive import NEW_ID, OLD_ID, ArchiveError, Limits, iter_bulk_tar, open_paper, paper_stem
from proofpile.arxiv.latex import InlineLimits, decode_source, find_main_file, inline_inputs
from proofpile.budget import Budget, BudgetedStep
from proofpile.contract import iter_lines

SUBSET = "arxiv"


def parse_arxiv_name(name: str) -> dict:
    """``2301/2301.00001v2.gz`` -> ``{"arxiv_id": "2301.00001", "yymm": "2301", "version": "v2"}``; old-style
    ``math0601001.gz`` -> ``math/0601001``. An unrecognized name gives ``{}``."""
    stem = paper_stem(name)
    if m := NEW_ID.match(stem):
        meta = {"arxiv_id": m["id"], "yymm": m["yymm"]}
    elif m := OLD_ID.match(stem):
        meta = {"arxiv_id": f"{m['archive']}/{m['number']}", "yymm": m["yymm"]}
    else:
        return {}
    if m["version"]:
        meta["version"] = m["version"]
    return meta


def load_licenses(path: str | None) -> dict[str, str]:
    """arXiv id -> license URL from a jsonl of ``{"id", "license"}`` records (the shape of arXiv's OAI metadata
    snapshot); papers without a license there get none."""
    licenses: dict[str, str] = {}
    if not path:
        return licenses
    with open(path, "rb") as f:
        for line in f:
            try:
                record = orjson.loads(line)
            except orjson.JSONDecodeError:
                continue
            if isinstance(record, dict) and record.get("id") and record.get("license"):
                licenses[str(record["id"])] = str(record["license"])
    return licenses


class ArxivSourceReader(BudgetedStep, BaseDiskReader):
    """arXiv source as distributed: bulk ``.tar`` files of per-paper ``.gz`` (and ``.pdf``) members, or a folder of
    per-paper ``.gz`` files. Bulk tars are uncompressed, as arXiv ships them: a compressed bulk tar would let one
    small file expand without bound while being streamed past. Archives are read in memory within ``limits`` (see ``proofpile.arxiv.archive``); a
    paper that cannot be read safely, has no LaTeX (PDF-only) or no main file is a counted drop, and so is one whose
    reading takes more than ``budget`` (``dropped_over_time_budget``, ...: see ``proofpile.budget``)."""

    name = "📄 arXiv source"

    def __init__(self, data_folder: DataFolderLike, glob_pattern: str | None = None, limits: Limits = Limits(),
                 inline_limits: InlineLimits = InlineLimits(), license_file: str | None = None,
                 budget: Budget = Budget(), **kwargs):
        super().__init__(data_folder, glob_pattern=glob_pattern, add_file_path=False, **kwargs)
        self.budget = budget
        self.limits = limits
        self.inline_limits = inline_limits
        self.license_file = license_file
        self._licenses: dict[str, str] | None = None

    def read_file(self, filepath: str) -> DocumentsPipeline:
        lower = filepath.lower()
        if lower.endswith(".tar"):
            yield from self._read_bulk(filepath)
        elif lower.endswith((".gz", ".tgz")):  # one paper: a gzipped tar of its sources, or a gzipped .tex
            with self.data_folder.open(filepath, "rb") as f:
                data = f.read(self.limits.max_gz_bytes + 1)
            if len(data) > self.limits.max_gz_bytes:
                self.stat_update("dropped_too_large")
                return
            doc, _ = self.within_budget(self._paper, PurePosixPath(filepath).name, data, filepath)
            if doc is not None:
                yield doc
        elif lower.endswith(".pdf"):
            self.stat_update("dropped_pdf_only")
        else:
            self.stat_update("skipped_not_arxiv_source")

    def _read_bulk(self, filepath: str) -> DocumentsPipeline:
        skipped: Counter = Counter()
        try:
            with self.data_folder.open(filepath, "rb") as f:
                for name, gz in iter_bulk_tar(f, self.limits, skipped):
                    self._count_skipped(skipped)
                    if gz is None:
                        self.stat_update("dropped_pdf_only")
                        continue
                    doc, _ = self.within_budget(self._paper, name, gz, f"{filepath}:{name}")
                    if doc is not None:
                        yield doc
        except ArchiveError as e:
            # the papers before the damage are out already; the rest of this tar is lost and said so
            self.stat_update(f"dropped_archive_{e.reason}")
        self._count_skipped(skipped)

    def _count_skipped(self, skipped: Counter) -> None:
        for reason, n in skipped.items():
            self.stat_update(f"skipped_member_{reason}", value=n)
        skipped.clear()

    def _paper(self, name: str, gz: bytes, source_file: str) -> Document | None:
        skipped: Counter = Counter()
        try:
            paper = open_paper(gz, self.limits, skipped)
        except ArchiveError as e:
            self._count_skipped(skipped)
            self.stat_update(f"dropped_{e.reason}")
            return None
        self._count_skipped(skipped)
        stats: Counter = Counter()
        sources = {n: decode_source(b, stats) for n, b in paper.files.items()}
        stripped: dict[str, str] = {}  # each file's text without comments, made once for both
        main = find_main_file(sources, stats, stripped)
        text = inline_inputs(sources, main, self.inline_limits, stats, stripped) if main is not None else None
        for key, n in stats.items():
            self.stat_update(key, value=n)
        if main is None:
            self.stat_update("dropped_no_main_file")
            return None
        meta = {"subset": SUBSET, "source": "arxiv-source", **parse_arxiv_name(name), "source_file": source_file,
                "main_file": main, "source_kind": paper.kind}
        if license := self._license(meta.get("arxiv_id")):
            meta["license"] = license
        doc_id = meta.get("arxiv_id", paper_stem(name)) + meta.get("version", "")
        return Document(text=text, id=doc_id, metadata=meta)

    def _license(self, arxiv_id: str | None) -> str | None:
        if not self.license_file or not arxiv_id:
            return None
        if self._licenses is None:
            self._licenses = load_licenses(self.license_file)
        return self._licenses.get(arxiv_id)


class RedPajamaArxivReader(BaseDiskReader):
    """RedPajama's arXiv dump (``{"text", "meta": {"arxiv_id", "yymm", ...}}`` jsonl, plain, ``.gz`` or ``.zst``):
    already cleaned LaTeX, one paper a line. Bad lines, records without an arXiv id or text, and a truncated
    compressed tail are counted drops; the lines before the damage are kept."""

    name = "📄 RedPajama arXiv"

    def __init__(self, data_folder: DataFolderLike, glob_pattern: str | None = None, **kwargs):
        super().__init__(data_folder, glob_pattern=glob_pattern, add_file_path=False, **kwargs)

    def read_file(self, filepath: str) -> DocumentsPipeline:
        with self.data_folder.open(filepath, "rb") as raw:
            for line in iter_lines(raw, filepath):
                if line is None:
                    self.stat_update("dropped_truncated_file")
                    return
                if not line.strip():
                    continue
                try:
                    record = orjson.loads(line)
                except orjson.JSONDecodeError:
                    self.stat_update("dropped_bad_json")
                    continue
                doc = redpajama_document(record, filepath)
                if doc is None:
                    self.stat_update("dropped_missing_id_or_text")
                    continue
                yield doc


def redpajama_document(record, source_file: str) -> Document | None:
    if not isinstance(record, dict) or not isinstance(record.get("text"), str) or not record["text"].strip():
        return None
    meta = record.get("meta") if isinstance(record.get("meta"), dict) else {}
    arxiv_id = str(meta.get("arxiv_id") or "").strip()
    if not arxiv_id:
        return None
    out = {"subset": SUBSET, "source": "redpajama-arxiv", "arxiv_id": arxiv_id,
           "yymm": meta.get("yymm") or parse_arxiv_name(arxiv_id.replace("/", "")).get("yymm"),
           "source_file": source_file}
    for key in ("version", "license", "url", "timestamp", "language"):
        if meta.get(key):
            out[key] = meta[key]
    out = {k: v for k, v in out.items() if v is not None}
    return Document(text=record["text"], id=arxiv_id + str(out.get("version", "")), metadata=out)
