"""Readers of proof-step exports. Each yields one document per theorem (a Lean ``--proofstep`` text file, which
names no theorems, is one document), so that benchmark hygiene can drop single theorems; ``LeanFileAssembler``
then joins a Lean file's surviving theorems into the one document per file Proof-Pile-2 has.

A file that is not valid JSON, is cut off, or has the wrong shape is a counted drop (``dropped_truncated_file``,
``dropped_malformed_json``, ``dropped_malformed``), never an exception."""

from __future__ import annotations

import orjson
from datatrove.data import Document, DocumentsPipeline
from datatrove.io import DataFolderLike
from datatrove.pipeline.readers.base import BaseDiskReader

from proofpile.proofsteps.isabelle import parse_pisa
from proofpile.proofsteps.lean import ProofstepFormatError, parse_infotree, parse_proofstep_text

SUBSET = "algebraic-stack"
LEAN_SOURCE, ISABELLE_SOURCE = "lean-proofsteps", "isabelle-proofsteps"


def _load_json(data: bytes):
    """Parsed JSON, or ProofstepFormatError: ``truncated_file`` when the text just stops (the parser ran out of
    input), ``malformed_json`` otherwise."""
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as e:
        # orjson reports where the unfinished value began; its message says the input just stopped
        ran_out = "end of data" in str(e) or "EOF" in str(e) or e.pos >= len(data.rstrip()) - 1
        reason = "truncated_file" if ran_out and data.lstrip()[:1] in (b"{", b"[") else "malformed_json"
        raise ProofstepFormatError(reason, str(e)) from None


class _ProofstepReader(BaseDiskReader):
    max_file_bytes = 256 << 20

    def __init__(self, data_folder: DataFolderLike, glob_pattern: str | None = None, **kwargs):
        super().__init__(data_folder, glob_pattern=glob_pattern, add_file_path=False, **kwargs)

    def read_file(self, filepath: str) -> DocumentsPipeline:
        with self.data_folder.open(filepath, "rb") as f:
            data = f.read(self.max_file_bytes + 1)
        if len(data) > self.max_file_bytes:
            self.stat_update("dropped_too_large")
            return
        try:
            docs = list(self.parse(data, filepath))
        except ProofstepFormatError as e:
            self.stat_update(f"dropped_{e.reason}")
            return
        yield from docs

    def parse(self, data: bytes, filepath: str):
        raise NotImplementedError


def _lean_doc(filepath: str, key: str, text: str, **meta) -> Document:
    meta = {"subset": SUBSET, "source": LEAN_SOURCE, "lang": "Lean", "path": filepath, **meta}
    return Document(text=text, id=f"{LEAN_SOURCE}:{filepath}#{key}",
                    metadata={k: v for k, v in meta.items() if v is not None})


class LeanProofstepTextReader(_ProofstepReader):
    """``lake exe training_data <Module> --proofstep`` output, one file per module: ``[GOAL]``/``[PROOFSTEP]``
    blocks. A cut-off last block is dropped and counted (``dropped_truncated_block``); the complete blocks before
    it are kept, since every block stands alone."""

    name = "🧮 Lean proofstep text"

    def parse(self, data: bytes, filepath: str):
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            raise ProofstepFormatError("non_utf8") from None
        steps, truncated = parse_proofstep_text(text)
        if truncated:
            self.stat_update("dropped_truncated_block")
        if not steps:
            raise ProofstepFormatError("truncated_file" if truncated else "no_proof_steps")
        self.stat_update("steps", value=len(steps))
        module = filepath.rsplit("/", 1)[-1].removesuffix(".txt").removesuffix(".proofstep")
        yield _lean_doc(filepath, "all", "\n".join(s.render() for s in steps), module=module,
                        format="training_data", steps=len(steps))


class LeanInfoTreeReader(_ProofstepReader):
    """Lean 4 InfoTree JSON exports (``{"name": <module>, "trees": [...]}``): one document per declaration with
    tactic steps, ``meta.theorem`` its name."""

    name = "🧮 Lean InfoTree"

    def parse(self, data: bytes, filepath: str):
        module, theorems, stats = parse_infotree(_load_json(data))
        for key, n in stats.items():
            self.stat_update(key, value=n)
        if not theorems:
            raise ProofstepFormatError("no_proof_steps")
        for i, thm in enumerate(theorems):
            self.stat_update("steps", value=len(thm.steps))
            key = thm.name or f"{i}@L{thm.line}"
            yield _lean_doc(filepath, key, thm.render(), module=module, theorem=thm.name, statement=thm.statement,
                            line=thm.line, format="infotree", steps=len(thm.steps))


class IsabellePisaReader(_ProofstepReader):
    """PISA ``*.thy_output.json`` extractions: one document per lemma/theorem with proof steps."""

    name = "🧮 Isabelle PISA"

    def parse(self, data: bytes, filepath: str):
        theorems, orphans = parse_pisa(_load_json(data))
        if orphans:
            self.stat_update("skipped_steps_without_statement", value=orphans)
        for thm in theorems:
            if not thm.steps:
                self.stat_update("skipped_no_proof_steps")  # definitions, and lemmas proved by one `by` line
                continue
            self.stat_update("steps", value=len(thm.steps))
            name = thm.name
            meta = {"subset": SUBSET, "source": ISABELLE_SOURCE, "lang": "Isabelle", "path": filepath,
                    "theory": filepath.rsplit("/", 1)[-1].split(".thy", 1)[0], "theorem": name,
                    "statement": thm.statement, "index": thm.index, "steps": len(thm.steps)}
            yield Document(text=thm.render(), id=f"{ISABELLE_SOURCE}:{filepath}#{thm.index}",
                           metadata={k: v for k, v in meta.items() if v is not None})
