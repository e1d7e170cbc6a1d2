"""Running a stage: skip finished work, resume killed work, redo changed work.

A stage module (``proofpile/stages/<name>.py``) declares

- ``UPSTREAM``: the stages whose outputs it reads (the stage graph: ``proofpile deps`` writes it for make);
- ``OUTPUTS``: the folders under the data root it owns (or ``outputs(cfg)``, when they depend on its config);
- ``Config``: its config section's typed model (``proofpile.config.Section``); the files and folders its
  path-typed fields name are its inputs (samples, filter lists, models, benchmark sets): a change to one reruns it;
- optionally ``more_inputs(cfg) -> list[str]``: inputs no path field names (a tokenizer inside a package);
- optionally ``LIBRARIES``: the distributions besides datatrove whose versions shape its outputs;
- optionally ``record(cfg) -> dict``: facts about the finished run its marker keeps for downstream stages;
- ``run(cfg)``: the work, usually ``run_pipeline(cfg, [reader, step, ..., writer])``;
- optionally ``terminal_lines(cfg) -> list[str]``: lines for the terminal after the stage's own line (e.g. where
  the report is).

``run_stage`` computes a fingerprint of everything a stage's outputs depend on: its resolved config, the size and
mtime of its inputs and code, the versions of the libraries that shape its outputs, and its upstream stages'
markers. If the fingerprint matches the one its last run
recorded, datatrove's completion files make finished ranks skip and a killed run resume. If it differs, the stage's
outputs and logs are cleared first, so a rerun never mixes old and new shards. When the work is done, the marker
``<data_root>/markers/<stage>.json`` is written last, atomically: the Makefile's targets.
"""

from __future__ import annotations

import ast
import hashlib
import importlib
import json
import os
import shutil
import time
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path
from types import ModuleType

from datatrove.utils.logging import logger

from proofpile import console
from proofpile.atomic import atomic_write
from proofpile.config import StageConfig
from proofpile.errors import check_data_root
from proofpile.lock import stage_lock
from proofpile.names import STAGES

PACKAGE_DIR = Path(__file__).resolve().parent
LIBRARIES = ("datatrove",)  # every stage runs on it


def stage_module(name: str) -> ModuleType:
    if name not in STAGES:
        raise KeyError(f"unknown stage {name!r}; stages are {', '.join(STAGES)}")
    return importlib.import_module(f"proofpile.stages.{name}")


def marker_path(cfg: StageConfig, stage: str | None = None) -> Path:
    return cfg.data_root / "markers" / f"{stage or cfg.stage}.json"


def upstream_record(cfg: StageConfig, stage: str) -> dict:
    """What an upstream stage's ``record(cfg)`` kept in its marker (empty if it keeps nothing)."""
    path = marker_path(cfg, stage)
    return json.loads(path.read_text()).get("record", {}) if path.exists() else {}


def outputs(cfg: StageConfig) -> tuple[str, ...]:
    module = stage_module(cfg.stage)
    return tuple(module.outputs(cfg)) if hasattr(module, "outputs") else module.OUTPUTS


def library_versions(name: str) -> dict[str, str | None]:
    """The installed version of each library that shapes a stage's outputs (None: not installed)."""
    versions = {}
    for dist in LIBRARIES + tuple(getattr(stage_module(name), "LIBRARIES", ())):
        try:
            versions[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            versions[dist] = None
    return versions


def _walk(path: str) -> Iterator[tuple[str, int, int]]:
    """(path, size, mtime_ns) of the file, or of every file under the folder in sorted path order (``__pycache__``
    skipped), or ``(path, -1, -1)`` when it does not exist. A generator listing one folder at a time: a source tree of
    millions of files is never held in memory (as a list it was ~0.5 KB a file of a run's peak RSS)."""
    p = Path(path)
    if not p.exists():
        yield str(p), -1, -1
    elif p.is_file():
        st = p.stat()
        yield str(p), st.st_size, st.st_mtime_ns
    else:
        yield from _walk_folder(str(p))


def _walk_folder(folder: str) -> Iterator[tuple[str, int, int]]:
    with os.scandir(folder) as it:
        entries = sorted(it, key=lambda e: e.name)  # siblings by name: the order of sorted full paths
    for entry in entries:
        if entry.is_dir(follow_symlinks=False):  # as Path.rglob: a linked folder is not entered
            if entry.name != "__pycache__":
                yield from _walk_folder(entry.path)
        elif entry.is_file():
            st = entry.stat()
            yield entry.path, st.st_size, st.st_mtime_ns


# the runner's own modules: how a stage is run, not what it writes (editing them reruns nothing)
RUNNER_MODULES = {"stage", "cli", "config", "executors", "spark", "console", "lock", "processes", "errors",
                  "atomic", "scratch", "names"}


def _imported_modules(path: Path) -> set[str]:
    """The ``proofpile.*`` modules a source file imports, at any depth (function-level imports included)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("proofpile."))
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module == "proofpile":
                found.update(f"proofpile.{a.name}" for a in node.names)
            elif node.module.startswith("proofpile."):
                found.add(node.module)
                found.update(f"{node.module}.{a.name}" for a in node.names)  # submodules imported by name
    return found


def _module_file(module: str) -> Path | None:
    rel = Path(*module.split(".")[1:])
    for candidate in (PACKAGE_DIR / rel.with_suffix(".py"), PACKAGE_DIR / rel / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def code_paths(name: str) -> list[str]:
    """The code a stage's output depends on: its step-list module and every proofpile module it imports,
    transitively (lazy imports inside functions too), but the runner's own."""
    todo, seen = [PACKAGE_DIR / "stages" / f"{name}.py"], set()
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        for module in _imported_modules(path):
            parts = module.split(".")
            target = _module_file(module)
            if target is not None and parts[1] not in RUNNER_MODULES:
                todo.append(target)
                # importing a.b.c runs the __init__ of a.b first
                todo += [p for i in range(2, len(parts)) if (p := PACKAGE_DIR.joinpath(*parts[1:i], "__init__.py")).is_file()]
    return sorted(str(p) for p in seen)


def inputs(cfg: StageConfig) -> list[str]:
    """The local files and folders outside the data root a stage reads: its path-typed config fields, and what
    its module's ``more_inputs`` adds."""
    more = getattr(stage_module(cfg.stage), "more_inputs", None)
    return cfg.input_paths() + (list(more(cfg)) if more else [])


def read_paths(cfg: StageConfig) -> list[str]:
    """The files and folders outside the data root a stage's outputs depend on: its inputs and its code."""
    return inputs(cfg) + code_paths(cfg.stage)


def dependency_paths(cfg: StageConfig) -> list[str]:
    """What make watches: the stage's config files too. (The fingerprint hashes the resolved config instead, so
    an edit to a config file reruns only the stages whose resolved config it changes.)"""
    return [str(f) for f in cfg.files] + read_paths(cfg)


def dependency_files(cfg: StageConfig) -> tuple[list[str], list[str]]:
    """Every local file the stage depends on outside the data root (what make should watch), and the folders they
    were found in (a file added to one of them changes the folder's mtime: the list must be made again)."""
    files, folders = set(), set()
    for path in dependency_paths(cfg):
        for f, size, _ in _walk(path):
            if size >= 0:
                files.add(f)
                folders.update(str(p) for p in Path(f).parents if Path(path) in p.parents or p == Path(path))
    return sorted(files), sorted(folders)


def fingerprint(cfg: StageConfig) -> str:
    module = stage_module(cfg.stage)
    upstream = {}
    for up in module.UPSTREAM:
        m = marker_path(cfg, up)
        upstream[up] = hashlib.sha256(m.read_bytes()).hexdigest() if m.exists() else None
    state = {
        "stage": cfg.stage,
        "params": cfg.params.model_dump(mode="json"),
        # of the executor settings only tasks changes what a stage writes: it fixes the shard layout
        "tasks": cfg.executor.tasks,
        "libraries": library_versions(cfg.stage),
        "upstream": upstream,
    }
    h = hashlib.sha256(json.dumps(state, sort_keys=True, default=str).encode())
    for path in read_paths(cfg):  # the files' names, sizes and mtimes, streamed
        h.update(b"\0path\0" + path.encode("utf-8", "surrogateescape"))
        for f, size, mtime in _walk(path):
            h.update(f"\0{f}\0{size}\0{mtime}".encode("utf-8", "surrogateescape"))
    return h.hexdigest()


def output_files(cfg: StageConfig, outputs) -> dict[str, int]:
    files = {}
    for out in outputs:
        base = cfg.data_root / out
        if base.exists():
            for f in sorted(base.rglob("*")):
                if f.is_file() and not f.name.startswith("."):
                    files[str(f.relative_to(cfg.data_root))] = f.stat().st_size
    return files


def run_stage(cfg: StageConfig, force: bool = False) -> Path:
    """Run one stage to completion (or skip it if it is already complete). Returns its marker path. Holds the
    stage's lock on the data root meanwhile: a second run of it there stops with a message naming this one."""
    check_data_root(cfg.data_root)
    with stage_lock(cfg.data_root, cfg.stage):
        return _run_stage(cfg, force)


def _run_stage(cfg: StageConfig, force: bool) -> Path:
    module = stage_module(cfg.stage)
    for up in module.UPSTREAM:
        if not marker_path(cfg, up).exists():
            raise RuntimeError(f"stage {cfg.stage!r} needs stage {up!r} first (no {marker_path(cfg, up)})")
    fp = fingerprint(cfg)
    fp_file = Path(cfg.logs_dir()) / "fingerprint"
    previous = fp_file.read_text().strip() if fp_file.exists() else None
    marker = marker_path(cfg)
    if force or previous != fp:
        if previous is not None or force:
            logger.info(f"[{cfg.stage}] inputs or config changed: clearing its outputs and logs")
        for out in outputs(cfg):
            shutil.rmtree(cfg.data_root / out, ignore_errors=True)
        shutil.rmtree(cfg.logs_dir(), ignore_errors=True)
        marker.unlink(missing_ok=True)
    elif marker.exists():
        console.line(f"[{cfg.stage}] already complete")
        _terminal_lines(module, cfg)
        os.utime(marker)  # newer than its prerequisites again, for make
        return marker
    atomic_write(fp_file, fp.encode())
    started = time.time()
    module.run(cfg)
    record = {"stage": cfg.stage, "fingerprint": fp, "outputs": output_files(cfg, outputs(cfg))}
    if hasattr(module, "record"):
        record["record"] = module.record(cfg)
    atomic_write(marker, json.dumps(record, indent=1, sort_keys=True).encode())
    files = console.plural(len(record["outputs"]), "file")
    console.line(f"[{cfg.stage}] done in {time.time() - started:.1f}s: {files}")
    _terminal_lines(module, cfg)
    return marker


def _terminal_lines(module: ModuleType, cfg: StageConfig) -> None:
    for line in module.terminal_lines(cfg) if hasattr(module, "terminal_lines") else []:
        console.line(line)


def run_pipeline(cfg: StageConfig, pipeline: list, name: str | None = None, tasks: int | None = None,
                 workers: int | None = None):
    """Run a datatrove pipeline for this stage with the configured executor; logs go to logs/<stage>[/<name>]."""
    from proofpile.executors import build_executor

    logging_dir = os.path.join(cfg.logs_dir(), name) if name else cfg.logs_dir()
    executor = build_executor(cfg, pipeline, logging_dir, tasks=tasks, workers=workers)
    executor.run()
    return executor
