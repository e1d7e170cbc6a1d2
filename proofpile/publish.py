"""Upload the corpus to the Hugging Face Hub in Proof-Pile-2's layout, with a dataset card (or --dry-run the plan).

What is uploaded (``--what``):

- ``documents``: ``<root>/decontam/<subset>/<split>/*.jsonl.zst`` as
  ``<subset>/<split>/<subset>-<split>-NNNNN.jsonl.zst`` for the subsets arxiv, open-web-math and algebraic-stack
  and the splits train, validation and test;
- ``arrow``: ``<root>/tokenized/<tokenizer-id>/<subset>/<split>/shard-NNNNN.arrow`` (and its ``stats.json``) under
  ``tokenized/<tokenizer-id>/``.

The files are first gathered in a staging folder inside the data root (``<root>/publish/<org>--<name>/``, hard links
where the filesystem allows, else copies) together with ``README.md``: a dataset card whose YAML ``configs`` (one
per subset, named after it, plus ``default`` with all three; for Arrow shards ``<subset>-<tokenizer-id>``) and
``dataset_info`` features (the union of every file's fields, so shards whose ``meta`` keys differ still load) let
``datasets.load_dataset("<org>/<name>", "algebraic-stack")`` work without a loading script. (``datasets`` uses one
builder per repository, chosen by its first config: with ``--what both`` the configs are the documents' and the
card shows how to load the Arrow shards with ``data_files=``.) The staging folder is
then uploaded with huggingface_hub's resumable large-folder upload (``upload_large_folder``; on huggingface_hub
versions without it, ``upload_folder``, which resumes through hf_xet): run the same command again to resume an
interrupted upload.

The token comes from ``HF_TOKEN`` or ``hf auth login``; it is passed to huggingface_hub and never printed or logged.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import re
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

import yaml

from proofpile.config import ConfigError, common_config
from proofpile.contract import iter_lines
from proofpile.names import SPLITS, SUBSETS

WHAT = ("documents", "arrow", "both")
REPO_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[A-Za-z0-9][\w.-]*$")
_SCHEMA_CHUNK = 32 << 20  # bytes of JSON lines per schema inference call


@dataclass(frozen=True)
class PlannedFile:
    path_in_repo: str
    source: Path
    size: int


@dataclass
class Plan:
    repo_id: str
    files: list[PlannedFile]
    configs: list[dict]  # {"config_name", "data_files": [{"split", "path"}], "default"?}
    card: str

    @property
    def total_bytes(self) -> int:
        return sum(f.size for f in self.files)


# -- what goes where -----------------------------------------------------------------------------------------------
def document_files(root: Path) -> dict[str, dict[str, list[Path]]]:
    """{subset: {split: [shards]}} of the final documents (only non-empty splits)."""
    out: dict[str, dict[str, list[Path]]] = {}
    for subset in SUBSETS:
        for split in SPLITS:
            files = sorted((root / "decontam" / subset / split).glob("**/*.jsonl.zst"))
            files = [f for f in files if f.is_file() and not f.name.startswith(".")]
            if files:
                out.setdefault(subset, {})[split] = files
    return out


def arrow_files(root: Path) -> dict[str, dict[str, dict[str, list[Path]]]]:
    """{tokenizer id: {subset: {split: [shards]}}}."""
    out: dict = {}
    for tok_dir in sorted(p for p in (root / "tokenized").glob("*") if p.is_dir()):
        for subset in SUBSETS:
            for split in SPLITS:
                files = sorted((tok_dir / subset / split).glob("shard-*.arrow"))
                if files:
                    out.setdefault(tok_dir.name, {}).setdefault(subset, {})[split] = files
    return out


def _schema_of_jsonl(path: Path):
    """The Arrow schema of a jsonl(.zst) file: each chunk of lines inferred on its own, then unified (a key that
    appears only late in the file still counts)."""
    import pyarrow.json as pj

    schemas, chunk = [], []
    size = 0

    def flush():
        if chunk:
            schemas.append(pj.read_json(io.BytesIO(b"".join(chunk))).schema)
            chunk.clear()

    with open(path, "rb") as raw:
        for line in iter_lines(raw, str(path)):
            if line is None:
                raise ValueError(f"{path}: truncated or corrupt zstd stream; refusing to publish it")
            if not line.strip():
                continue
            chunk.append(line if line.endswith(b"\n") else line + b"\n")
            size += len(line)
            if size >= _SCHEMA_CHUNK:
                flush()
                size = 0
    flush()
    return schemas


def unified_features(schemas: list):
    """One ``datasets.Features`` for Arrow schemas inferred from jsonl chunks (``_schema_of_jsonl``)."""
    import datasets
    import pyarrow as pa

    try:
        schema = pa.unify_schemas(schemas, promote_options="permissive")
    except (pa.ArrowTypeError, pa.ArrowInvalid) as e:
        raise ValueError(f"the documents' fields have conflicting types, so no single schema loads them: {e}")
    return datasets.Features.from_arrow_schema(schema)


def make_plan(root: Path, repo_id: str, what: str = "documents") -> Plan:
    if what not in WHAT:
        raise ConfigError(f"--what must be one of {', '.join(WHAT)}")
    files: list[PlannedFile] = []
    configs: list[dict] = []
    features: dict[str, object] = {}
    counts: list[tuple[str, str, int, int]] = []  # config, split, files, bytes
    if what in ("documents", "both"):
        docs = document_files(root)
        if not docs:
            raise ConfigError(f"no documents under {root / 'decontam'}/<subset>/<split>/ (run the decontam stage)")
        all_schemas = []  # each shard is read (and its schema inferred) once, for its subset and for "default"
        for subset, splits in docs.items():
            data_files = []
            for split, shards in splits.items():
                for i, src in enumerate(shards):
                    files.append(PlannedFile(f"{subset}/{split}/{subset}-{split}-{i:05d}.jsonl.zst", src,
                                             src.stat().st_size))
                data_files.append({"split": split, "path": f"{subset}/{split}/*.jsonl.zst"})
                counts.append((subset, split, len(shards), sum(s.stat().st_size for s in shards)))
            configs.append({"config_name": subset, "data_files": data_files})
            schemas = [s for shards in splits.values() for shard in shards for s in _schema_of_jsonl(shard)]
            features[subset] = unified_features(schemas)
            all_schemas += schemas
        splits_present = [s for s in SPLITS if any(s in sp for sp in docs.values())]
        configs.insert(0, {"config_name": "default", "default": True, "data_files": [
            {"split": split, "path": [f"{subset}/{split}/*.jsonl.zst" for subset in docs if split in docs[subset]]}
            for split in splits_present]})
        features["default"] = unified_features(all_schemas)
    arrow_configs: list[dict] = []
    if what in ("arrow", "both"):
        arrows = arrow_files(root)
        if not arrows:
            raise ConfigError(f"no Arrow shards under {root / 'tokenized'}/<tokenizer-id>/ (run the tokenize stage)")
        for tok, subsets in arrows.items():
            stats = root / "tokenized" / tok / "stats.json"
            if stats.exists():
                files.append(PlannedFile(f"tokenized/{tok}/stats.json", stats, stats.stat().st_size))
            for subset, splits in subsets.items():
                data_files = []
                for split, shards in splits.items():
                    for src in shards:
                        files.append(PlannedFile(f"tokenized/{tok}/{subset}/{split}/{src.name}", src,
                                                 src.stat().st_size))
                    data_files.append({"split": split, "path": f"tokenized/{tok}/{subset}/{split}/*.arrow"})
                    counts.append((f"{subset}-{tok}", split, len(shards), sum(s.stat().st_size for s in shards)))
                arrow_configs.append({"config_name": f"{subset}-{tok}", "data_files": data_files})
    # `datasets` picks one builder (json or arrow) for a whole repository, from its first config: with both, the
    # configs are the documents' and the card says how to load the shards with data_files=
    if not configs:
        configs = arrow_configs
    card = dataset_card(repo_id, configs, features, counts, root, arrow_configs if configs is not arrow_configs else [])
    return Plan(repo_id=repo_id, files=files, configs=configs, card=card)


def dataset_card(repo_id: str, configs: list[dict], features: dict, counts: list, root: Path,
                 unlisted_arrow: list[dict]) -> str:
    from datasets.info import DatasetInfo, DatasetInfosDict

    header: dict = {"license": "other", "language": ["en"], "task_categories": ["text-generation"],
                    "tags": ["math", "proof-pile-2", "proofpile"], "pretty_name": repo_id.split("/")[-1],
                    "configs": configs}
    if features:
        DatasetInfosDict({name: DatasetInfo(features=f) for name, f in features.items()}).to_dataset_card_data(header)
    tokens = _token_lines(root)
    lines = ["---", yaml.safe_dump(header, sort_keys=False, allow_unicode=True).rstrip(), "---", "",
             f"# {repo_id.split('/')[-1]}", "",
             "A math pretraining corpus in the layout of Proof-Pile-2 (arXiv, OpenWebMath-style web pages and "
             "AlgebraicStack code), built with proofpile on HuggingFace datatrove.", "",
             "Every document is a JSON line `{\"id\", \"text\", \"meta\"}`; `meta.subset`, `meta.source` and "
             "provenance (url, repository/path/commit/license, arXiv id) say where it comes from. The documents "
             "keep the licenses of their sources.", "",
             "## Load", "", "```python", "import datasets", "",
             f"ds = datasets.load_dataset({repo_id!r}, {configs[-1]['config_name']!r}, split=\"train\")",
             "```", "", "## Files", "", "| config | split | files | bytes |", "|---|---|---|---|"]
    lines += [f"| {c} | {s} | {n} | {b:,} |" for c, s, n, b in counts]
    if tokens:
        lines += ["", "## Tokens", "", *tokens]
    if unlisted_arrow:
        example = unlisted_arrow[-1]
        files = {d["split"]: d["path"] for d in example["data_files"]}
        lines += ["", "## Token shards", "",
                  "Tokenized Arrow shards (`input_ids` per document, plus `id`, `subset`, `split`, `lang`) are under "
                  "`tokenized/<tokenizer-id>/<subset>/<split>/`; load them with `data_files`:", "", "```python",
                  f"ds = datasets.load_dataset({repo_id!r}, data_files={files!r})", "```", "",
                  "| subset-tokenizer | split | path |", "|---|---|---|"]
        lines += [f"| {c['config_name']} | {d['split']} | `{d['path']}` |" for c in unlisted_arrow
                  for d in c["data_files"]]
    return "\n".join(lines) + "\n"


def _token_lines(root: Path) -> list[str]:
    out = []
    for stats in sorted((root / "tokenized").glob("*/stats.json")):
        try:
            data = json.loads(stats.read_text())
            out.append(f"- `{stats.parent.name}`: {int(data['totals']['tokens']):,} tokens in "
                       f"{int(data['totals']['documents']):,} documents")
        except (OSError, ValueError, KeyError, TypeError):
            continue
    return out


# -- staging and upload ---------------------------------------------------------------------------------------------
def stage(plan: Plan, staging: Path) -> Path:
    """Make ``staging`` hold exactly the planned files and the card (hard links, else copies); returns it."""
    staging.mkdir(parents=True, exist_ok=True)
    wanted = {f.path_in_repo for f in plan.files} | {"README.md"}
    for existing in sorted(staging.rglob("*")):
        rel = existing.relative_to(staging).as_posix()
        if existing.is_file() and rel not in wanted and not rel.startswith(".cache/"):
            existing.unlink()  # a stale file from an earlier plan must not be uploaded
    for f in plan.files:
        dst = staging / f.path_in_repo
        dst.parent.mkdir(parents=True, exist_ok=True)
        if dst.exists():
            if os.path.samefile(dst, f.source) or (dst.stat().st_size == f.size and _same_bytes(dst, f.source)):
                continue
            dst.unlink()
        try:
            os.link(f.source, dst)
        except OSError:
            shutil.copy2(f.source, dst)
    (staging / "README.md").write_text(plan.card)
    return staging


def _same_bytes(a: Path, b: Path) -> bool:
    with open(a, "rb") as fa, open(b, "rb") as fb:
        while True:
            x, y = fa.read(1 << 20), fb.read(1 << 20)
            if x != y:
                return False
            if not x:
                return True


def upload(staging: Path, repo_id: str, token: str, private: bool = False, revision: str | None = None) -> None:
    from huggingface_hub import HfApi

    api = HfApi(token=token)
    api.create_repo(repo_id, repo_type="dataset", private=private, exist_ok=True)
    if hasattr(api, "upload_large_folder"):
        api.upload_large_folder(repo_id=repo_id, folder_path=str(staging), repo_type="dataset", revision=revision,
                                private=private)
    else:  # huggingface_hub >= 2: upload_folder is the resumable, multi-commit one
        api.upload_folder(repo_id=repo_id, folder_path=str(staging), repo_type="dataset", revision=revision,
                          commit_message="Upload corpus with proofpile", ignore_patterns=[".cache/**"])


def hub_token() -> str | None:
    from huggingface_hub import get_token

    return get_token()


# -- CLI ------------------------------------------------------------------------------------------------------------
def configure_parser(p: argparse.ArgumentParser) -> None:
    p.add_argument("--repo-id", required=True, help="the dataset repository, ORG/NAME")
    p.add_argument("--data-root", help="the data root (default: the config's data_root or PROOFPILE_DATA_ROOT)")
    p.add_argument("--config", default="pipelines/common.yaml", help="a config giving data_root")
    p.add_argument("--what", choices=WHAT, default="documents",
                   help="the jsonl.zst documents, the Arrow token shards, or both (default: documents)")
    p.add_argument("--staging", help="staging folder (default: <root>/publish/<org>--<name>)")
    p.add_argument("--private", action="store_true", help="create the repository as private")
    p.add_argument("--revision", help="branch to upload to (default: main)")
    p.add_argument("--dry-run", action="store_true", help="print the plan (every file with its size) and the card")


def print_plan(plan: Plan, out=None) -> None:
    out = out or sys.stdout
    width = max(len(f.path_in_repo) for f in plan.files) if plan.files else 10
    print(f"plan: {len(plan.files) + 1} files, {plan.total_bytes + len(plan.card.encode()):,} bytes "
          f"-> https://huggingface.co/datasets/{plan.repo_id}", file=out)
    for f in plan.files:
        print(f"  {f.path_in_repo.ljust(width)}  {f.size:>15,} B  <- {f.source}", file=out)
    print(f"  {'README.md'.ljust(width)}  {len(plan.card.encode()):>15,} B  (dataset card, below)", file=out)
    print("configs: " + ", ".join(c["config_name"] for c in plan.configs), file=out)
    print("\n----- README.md -----", file=out)
    print(plan.card, end="", file=out)
    print("----- end of README.md -----", file=out)


def main(args) -> int:
    if not REPO_ID.match(args.repo_id or ""):
        print(f"proofpile publish: error: --repo-id must look like ORG/NAME, got {args.repo_id!r}", file=sys.stderr)
        return 2
    try:
        if args.data_root:
            root = Path(args.data_root).resolve()
        else:
            root = common_config(args.config)[4]
        plan = make_plan(root, args.repo_id, args.what)
    except (ConfigError, ValueError) as e:
        print(f"proofpile publish: error: {e}", file=sys.stderr)
        return 1
    staging = Path(args.staging) if args.staging else root / "publish" / args.repo_id.replace("/", "--")
    print_plan(plan)
    if args.dry_run:
        print(f"dry run: nothing staged or uploaded (staging folder would be {staging})")
        return 0
    token = hub_token()
    if not token:
        print("proofpile publish: error: no Hugging Face token: set HF_TOKEN or run `hf auth login`",
              file=sys.stderr)
        return 1
    stage(plan, staging)
    print(f"staged in {staging}; uploading to {args.repo_id} (token from "
          f"{'HF_TOKEN' if os.environ.get('HF_TOKEN') else 'the HF login'}) ...", flush=True)
    try:
        upload(staging, args.repo_id, token, private=args.private, revision=args.revision)
    except Exception as e:  # the hub's errors name the repo and the status, not the token; say it without a trace
        message = str(e).replace(token, "***")
        print(f"proofpile publish: upload failed: {type(e).__name__}: {message}\n"
              f"run the same command again to resume", file=sys.stderr)
        return 1
    print(f"done: https://huggingface.co/datasets/{args.repo_id}")
    return 0
