"""The ``proofpile`` command: one subcommand per stage, plus tools (``train-mathscore``, ``publish``, ``deps``)."""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
from pathlib import Path

from proofpile import console
from proofpile.config import EXECUTOR_KINDS, StageConfig
from proofpile.errors import ENVIRONMENT_ERRORS, describe
from proofpile.stage import STAGES, dependency_files, marker_path, run_stage, stage_module

# subcommands that are tools rather than stages: name -> module with configure_parser(p) and main(args) -> int
TOOLS = {
    "train-mathscore": "proofpile.web.mathscore",
    "publish": "proofpile.publish",
}

DESCRIPTION = """\
Build Proof-Pile-2-class math pretraining corpora, stage by stage.

stages (each reads the previous stages' outputs under one data root):
  web, code, arxiv, proofsteps   -> documents ({"id", "text", "meta"} jsonl.zst shards)
  dedup -> decontam (+ splits) -> tokenize (Arrow shards) -> manifest -> report

Run one stage:   proofpile code --config pipelines/code.yaml
Run them all:    proofpile all --config-dir pipelines     (or `make all`, which also skips what is up to date)
See a config:    proofpile config code                    (every key, its value and where the value came from)
"""


def _first_line(module) -> str:
    return (module.__doc__ or "").strip().splitlines()[0] if module.__doc__ else ""


def _add_run_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data-root", help="override the config's data_root (relative to the working directory)")
    p.add_argument("--executor", choices=EXECUTOR_KINDS, help="override executor.kind")
    p.add_argument("--tasks", type=int, help="override executor.tasks (number of datatrove ranks)")
    p.add_argument("--workers", type=int, help="override executor.workers (ranks run at once)")
    p.add_argument("--force", action="store_true", help="clear this stage's outputs and rerun it from scratch")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="proofpile", description=DESCRIPTION,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in STAGES:
        module = stage_module(name)
        p = sub.add_parser(name, help=_first_line(module), description=module.__doc__,
                           formatter_class=argparse.RawDescriptionHelpFormatter)
        p.add_argument("--config", default=f"pipelines/{name}.yaml",
                       help=f"the stage's YAML config (default: pipelines/{name}.yaml)")
        _add_run_options(p)
    p = sub.add_parser("all", help="run every stage in order, skipping the finished ones")
    p.add_argument("--config-dir", default="pipelines", help="folder holding <stage>.yaml configs")
    _add_run_options(p)
    p = sub.add_parser("config", help="print a stage's resolved config and where each value came from")
    p.add_argument("stage", choices=STAGES)
    p.add_argument("--config", help="the stage's YAML config (default: pipelines/<stage>.yaml)")
    _add_run_options(p)
    p = sub.add_parser("deps", help="print Makefile dependencies of every stage (used by the Makefile)")
    p.add_argument("--config-dir", default="pipelines")
    p.add_argument("--data-root")
    for name, module_name in TOOLS.items():
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            continue
        p = sub.add_parser(name, help=_first_line(module), description=module.__doc__,
                           formatter_class=argparse.RawDescriptionHelpFormatter)
        module.configure_parser(p)
        p.set_defaults(tool=module)
    return parser


def _overrides(args) -> dict:
    ex = {k: v for k, v in (("kind", args.executor), ("tasks", args.tasks), ("workers", args.workers)) if v}
    return {"executor": ex} if ex else {}


def _print_deps(config_dir: Path, data_root: str | None) -> None:
    """Make rules: the stage graph (each marker depends on its upstream stages' markers, from the stage modules'
    UPSTREAM), a target per stage, and each marker's config files, inputs and code; the rules file itself depends
    on the folders those were found in, so a new input file is seen. Targets are spelled as the Makefile spells
    them ($(ROOT)/markers/<stage>.json), since make matches names, not files."""

    def spell(paths):
        return " ".join(os.path.relpath(f).replace(" ", "\\ ") for f in paths)

    print("# written by `proofpile deps` from the stage modules (UPSTREAM, Config): do not edit")
    print(f"STAGES := {' '.join(STAGES)}")
    print(".PHONY: $(STAGES)")
    all_folders, markers = set(), {}
    for name in STAGES:
        cfg = StageConfig.load(name, config_dir / f"{name}.yaml", data_root=data_root)
        markers[name] = os.path.join(data_root, "markers", f"{name}.json") if data_root else \
            os.path.relpath(marker_path(cfg))
        files, folders = dependency_files(cfg)
        all_folders.update(folders)
        upstream = " ".join(markers[up] for up in stage_module(name).UPSTREAM)
        print(f"{name}: {markers[name]}")
        print(f"{markers[name]}:", " ".join(filter(None, (upstream, spell(files)))))
    print(f"all: {' '.join(markers.values())}")
    deps_file = os.path.join(data_root, "deps.mk") if data_root else os.path.relpath(cfg.data_root / "deps.mk")
    print(f"{deps_file}: {spell(sorted(all_folders))}")


def _print_config(cfg: StageConfig) -> None:
    rows = [(key, json.dumps(value, default=str), where) for key, value, where in cfg.resolved()]
    width = max(len(k) + len(v) for k, v, _ in rows) + 3
    for key, value, where in rows:
        print(f"{key} = {value}".ljust(width) + f"  # {where}")


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "true")
    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.command:
        parser.print_help()
        return 2
    console.quiet()  # per-rank logs to their files; the terminal gets a line per stage
    try:
        if getattr(args, "tool", None):
            return int(args.tool.main(args) or 0)
        if args.command == "config":
            config = args.config or f"pipelines/{args.stage}.yaml"
            _print_config(StageConfig.load(args.stage, config, args.data_root, _overrides(args)))
            return 0
        if args.command == "deps":
            _print_deps(Path(args.config_dir), args.data_root)
            return 0
        if args.command == "all":
            configs = []
            for name in STAGES:  # every config is checked before the first stage starts
                args.stage = name  # an error names its stage, not `all`
                configs.append(StageConfig.load(name, Path(args.config_dir) / f"{name}.yaml", args.data_root,
                                                _overrides(args)))
            for cfg in configs:
                args.stage = cfg.stage
                run_stage(cfg, force=args.force)
            return 0
        cfg = StageConfig.load(args.command, args.config, args.data_root, _overrides(args))
        run_stage(cfg, force=args.force)
        return 0
    except ENVIRONMENT_ERRORS as e:
        name = args.stage if args.command in ("config", "all") else args.command
        print(f"proofpile {name}: error: {describe(e)}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
