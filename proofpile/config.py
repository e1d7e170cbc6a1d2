"""Stage configs.

A stage's config is a YAML file (``pipelines/<stage>.yaml``) with a section named after the stage, optionally
``include``-ing shared files (``pipelines/common.yaml``: data root, executor, tokenizer). Included files are merged
first, the including file wins, dictionaries merge key by key.

Relative paths in a config resolve against ``base_dir`` (set in ``common.yaml`` to the project root), so configs
say ``filters/web/math-markers.txt`` rather than ``../filters/...``. URLs (``http://``, ``s3://``, ``hf://``) are left
as they are.
"""

from __future__ import annotations

import copy
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

URL_SCHEMES = ("http://", "https://", "s3://", "gs://", "hf://", "file://")


class ConfigError(ValueError):
    pass


def read_list(path: str | os.PathLike) -> list[str]:
    """A reviewed list under ``filters/``: one item a line, surrounding whitespace stripped; blank lines and lines
    starting with ``#`` are skipped (a ``#`` later in a line is part of the item)."""
    items = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            items.append(line)
    return items


def deep_merge(base: dict, over: dict) -> dict:
    out = copy.deepcopy(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def load_yaml(path: Path, _seen: tuple[Path, ...] = ()) -> tuple[dict, list[Path]]:
    """Load a YAML file with its includes. Returns the merged mapping and every file read (for fingerprints)."""
    path = path.resolve()
    if path in _seen:
        raise ConfigError(f"include cycle: {' -> '.join(map(str, _seen + (path,)))}")
    if not path.is_file():
        raise ConfigError(f"config file not found: {path}")
    with open(path) as f:
        data = yaml.safe_load(f) or {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: a config must be a mapping, got {type(data).__name__}")
    includes = data.pop("include", []) or []
    if isinstance(includes, str):
        includes = [includes]
    merged: dict = {}
    files: list[Path] = []
    for inc in includes:
        sub, sub_files = load_yaml(path.parent / inc, _seen + (path,))
        merged = deep_merge(merged, sub)
        files += sub_files
    data.setdefault("base_dir", merged.get("base_dir"))
    if data["base_dir"] is None:
        data["base_dir"] = str(path.parent)
    elif not os.path.isabs(data["base_dir"]) and "base_dir" not in merged:
        data["base_dir"] = str((path.parent / data["base_dir"]).resolve())
    return deep_merge(merged, data), files + [path]


@dataclass
class StageConfig:
    """What one stage needs: where things are, how to execute, and its own parameters."""

    stage: str
    data_root: Path
    base_dir: Path
    params: dict[str, Any]
    executor: dict[str, Any]
    raw: dict[str, Any]
    files: list[Path] = field(default_factory=list)

    @classmethod
    def load(cls, stage: str, config_path: str | Path, data_root: str | Path | None = None,
             overrides: dict | None = None) -> "StageConfig":
        raw, files = load_yaml(Path(config_path))
        if overrides:
            raw = deep_merge(raw, overrides)
        base_dir = Path(raw["base_dir"]).resolve()
        # a root given on the command line or in the environment is relative to the working directory,
        # one written in the config to base_dir
        root = data_root or os.environ.get("PROOFPILE_DATA_ROOT")
        if root:
            root_path = Path(root)
        elif raw.get("data_root"):
            root_path = base_dir / raw["data_root"]
        else:
            raise ConfigError(f"{config_path}: no data_root (set it in the config, --data-root or PROOFPILE_DATA_ROOT)")
        params = raw.get(stage)
        if params is None:
            params = {}
        if not isinstance(params, dict):
            raise ConfigError(f"{config_path}: section '{stage}' must be a mapping")
        executor = deep_merge(raw.get("executor") or {"kind": "local"}, params.get("executor") or {})
        return cls(stage=stage, data_root=root_path.resolve(), base_dir=base_dir, params=params,
                   executor=executor, raw=raw, files=files)

    # -- paths -------------------------------------------------------------------------------------------------
    def path(self, value: str | os.PathLike) -> str:
        """Resolve a path given in the config (relative to base_dir); URLs pass through."""
        value = str(value)
        if value.startswith(URL_SCHEMES) or os.path.isabs(value):
            return value
        return str(self.base_dir / value)

    def paths(self, key: str) -> list[str]:
        """A parameter holding one path or a list of them, resolved; absent is an empty list."""
        value = self.params.get(key) or []
        return [self.path(v) for v in ([value] if isinstance(value, (str, os.PathLike)) else value)]

    def param_path(self, key: str, default: str | None = None) -> str | None:
        value = self.params.get(key, default)
        return None if value is None else self.path(value)

    def out(self, *parts: str) -> str:
        """A path under the data root."""
        return str(self.data_root.joinpath(*parts))

    def stage_dir(self, stage: str | None = None) -> str:
        return self.out(stage or self.stage)

    def logs_dir(self, stage: str | None = None) -> str:
        return self.out("logs", stage or self.stage)

    def get(self, key: str, default=None):
        return self.params.get(key, default)
