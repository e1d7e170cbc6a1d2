"""Stage configs: a YAML file per stage, checked against the stage's typed model before any work.

A stage's config is a YAML file (``pipelines/<stage>.yaml``) with a section named after the stage, optionally
``include``-ing shared files (``pipelines/common.yaml``: data root, executor, tokenizer). Included files are merged
first, the including file wins, dictionaries merge key by key.

Each stage module declares ``Config``, a subclass of :class:`Section` (pydantic): its keys, their types, ranges and
defaults, written once there. Unknown keys, wrong types and out-of-range values stop the run with a message naming
the key, the file that set it, what was expected and the nearest valid key. To add a key, add a field to the stage's
``Config`` (or to a nested ``Section``); a path the stage reads is typed :data:`ConfigPath`, which resolves it
against ``base_dir`` and makes it one of the stage's inputs (a change to the file reruns the stage).

Relative paths in a config resolve against ``base_dir`` (set in ``common.yaml`` to the project root), so configs
say ``filters/web/math-markers.txt`` rather than ``../filters/...``. URLs (``http://``, ``s3://``, ``hf://``) are left
as they are.
"""

from __future__ import annotations

import copy
import dataclasses
import difflib
import glob
import os
import re
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PositiveInt,
    ValidationError,
    ValidationInfo,
)

from proofpile.names import STAGES

URL_SCHEMES = ("http://", "https://", "s3://", "gs://", "hf://", "file://")
DEFAULT = "default"
COMMAND_LINE = "command line"
# top-level keys of a config file besides the stage sections
COMMON_KEYS = ("base_dir", "data_root", "executor", "tokenizer")


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


def is_url(path: str) -> bool:
    return str(path).startswith(URL_SCHEMES)


def _split_glob(path: str) -> tuple[str, str]:
    parts = path.split("/")
    i = next(i for i, p in enumerate(parts) if glob.has_magic(p))
    return "/".join(parts[:i]) or ".", "/".join(parts[i:])


def folder_and_glob(path: str, folder_glob: str | None = None) -> tuple[str, str | None]:
    """A datatrove reader's (data folder, glob pattern) for a configured input: ``dir/sub/*.warc.gz`` ->
    (``dir/sub``, ``*.warc.gz``); a file -> (its folder, its name); a folder -> (itself, ``folder_glob``).
    A local input that does not exist is a ConfigError."""
    path = str(path)
    if glob.has_magic(path):
        folder, pattern = _split_glob(path)
        if "://" not in folder and not os.path.isdir(folder):
            raise ConfigError(f"input not found: no folder {folder}")
        return folder, pattern
    if "://" not in path and not os.path.exists(path):
        raise ConfigError(f"input not found: {path}")
    if os.path.isfile(path):
        return os.path.dirname(path) or ".", os.path.basename(path)
    return path, folder_glob


# -- typed fields ----------------------------------------------------------------------------------------------
class _PathMarker:
    """Marks a field as a path the stage reads (resolved against base_dir; one of the stage's inputs)."""

    def __repr__(self) -> str:
        return "ConfigPath"


IS_PATH = _PathMarker()


def _resolve_path(value: str, info: ValidationInfo) -> str:
    base_dir = (info.context or {}).get("base_dir")
    if base_dir is None or is_url(value) or os.path.isabs(value):
        return value
    return str(Path(base_dir) / value)


def _as_str_path(value: Any) -> Any:
    return os.fspath(value) if isinstance(value, os.PathLike) else value


# A path (file, folder or glob) relative to base_dir, or a URL: resolved when the config is loaded.
ConfigPath = Annotated[str, IS_PATH, BeforeValidator(_as_str_path), AfterValidator(_resolve_path)]
Fraction = Annotated[float, Field(ge=0, le=1)]


class Section(BaseModel):
    """A mapping in a stage config: unknown keys are errors, defaults are validated (so default paths resolve)."""

    model_config = ConfigDict(extra="forbid", validate_default=True)
    # top-level keys of common.yaml (COMMON_KEYS) this section takes when it does not set them itself
    shared_keys: ClassVar[tuple[str, ...]] = ()


def section(default: dict | None = None) -> Any:
    """The default of a nested :class:`Section` field: validated like a written one (its paths resolve)."""
    return Field(default_factory=lambda: dict(default or {}), validate_default=True)


ExecutorKind = Literal["local", "spark", "ray", "slurm"]
EXECUTOR_KINDS = typing.get_args(ExecutorKind)


class ExecutorConfig(Section):
    """``executor:`` in common.yaml, overridden key by key by a stage section's ``executor:``."""

    kind: ExecutorKind = "local"
    tasks: PositiveInt = 1  # datatrove ranks; fixes how outputs are sharded
    workers: PositiveInt | None = None  # ranks run at once; default min(tasks, 2)
    progress: bool = False  # readers show file and document progress bars
    start_method: Literal["fork", "spawn", "forkserver"] = "forkserver"
    spark: dict[str, Any] = {}  # SparkPipelineExecutor options (master, conf, app_name)
    ray: dict[str, Any] = {}  # RayPipelineExecutor options
    slurm: dict[str, Any] = {}  # SlurmPipelineExecutor options (partition and time required)

    @property
    def ranks_at_once(self) -> int:
        return self.workers or min(self.tasks, 2)

    def options(self) -> dict[str, Any]:
        """The options of the configured kind's executor."""
        return dict(getattr(self, self.kind, None) or {})


# -- reading YAML with provenance ------------------------------------------------------------------------------
def deep_merge(base: dict, over: dict) -> dict:
    out = copy.deepcopy(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


Origins = dict[tuple, str]


def _origins(data: dict, where: str, prefix: tuple = ()) -> Origins:
    out = {}
    for key, value in data.items():
        out[prefix + (key,)] = where
        if isinstance(value, dict):
            out.update(_origins(value, where, prefix + (key,)))
    return out


def _merge_origins(base: Origins, over: dict, where: str) -> Origins:
    """Where each key's value comes from after ``deep_merge(.., over)``: a key ``over`` sets to a non-mapping
    replaces everything the earlier files said below it."""
    out = dict(base)
    for path, place in _origins(over, where).items():
        value = over
        for part in path:
            value = value[part]
        if not isinstance(value, dict):
            for p in [p for p in out if len(p) > len(path) and p[:len(path)] == path]:
                del out[p]
        out[path] = place
    return out


def shown_path(path: str | os.PathLike) -> str:
    """A path as the user can type it: relative to the working directory when under it."""
    path = os.path.abspath(path)
    relative = os.path.relpath(path)
    return path if relative.startswith("..") else relative


def load_yaml(path: Path, _seen: tuple[Path, ...] = ()) -> tuple[dict, list[Path], Origins]:
    """Load a YAML file with its includes. Returns the merged mapping, every file read (for fingerprints) and
    which file set each key."""
    path = path.resolve()
    if path in _seen:
        raise ConfigError(f"include cycle: {' -> '.join(map(str, _seen + (path,)))}")
    if not path.is_file():
        raise ConfigError(f"config file not found: {path}")
    try:
        with open(path) as f:
            data = yaml.safe_load(f) or {}
    except yaml.YAMLError as e:
        raise ConfigError(f"{shown_path(path)} is not valid YAML: {e}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{shown_path(path)}: a config must be a mapping, got {type(data).__name__}")
    includes = data.pop("include", []) or []
    if isinstance(includes, str):
        includes = [includes]
    merged: dict = {}
    files: list[Path] = []
    origins: Origins = {}
    for inc in includes:
        sub, sub_files, sub_origins = load_yaml(path.parent / inc, _seen + (path,))
        origins = _merge_origins(origins, sub, "")  # replaced below by the included files' own origins
        origins.update(sub_origins)
        merged = deep_merge(merged, sub)
        files += sub_files
    if data.get("base_dir") is not None:
        data["base_dir"] = str((path.parent / data["base_dir"]).resolve())
    elif "base_dir" not in merged:
        data["base_dir"] = str(path.parent)
    else:
        data.pop("base_dir", None)
    origins = _merge_origins(origins, data, shown_path(path))
    return deep_merge(merged, data), files + [path], origins


# -- errors -----------------------------------------------------------------------------------------------------
def _model_of(tp: Any) -> type | None:
    """The Section (or dataclass) a field's type holds, through Optional, Annotated and lists."""
    if isinstance(tp, type) and (issubclass(tp, BaseModel) or dataclasses.is_dataclass(tp)):
        return tp
    for arg in typing.get_args(tp):
        found = _model_of(arg)
        if found is not None:
            return found
    return None


def _field_types(model: type) -> dict[str, Any]:
    if issubclass(model, BaseModel):
        return {name: f.annotation for name, f in model.model_fields.items()}
    return typing.get_type_hints(model)


def known_keys(model: type, loc: tuple) -> list[str]:
    """The keys valid in the mapping at ``loc`` of ``model``."""
    for part in loc:
        fields = _field_types(model)
        if part not in fields:
            continue  # a list index or a dict key
        model = _model_of(fields[part])
        if model is None:
            return []
    return list(_field_types(model))


def _where(origins: Origins, path: tuple, fallback: str) -> str:
    for n in range(len(path), 0, -1):
        if origins.get(path[:n]):
            return origins[path[:n]]
    return fallback


_UNION_TAG = re.compile(r"^(str|int|float|bool|none|[a-z-]+\[.*\])$")


def _format_errors(error: ValidationError, model: type, prefix: tuple, origins: Origins, fallback: str,
                   key_prefix: str) -> str:
    """One line per problem: ``key: what is wrong in <file> (what was expected / did you mean ...?)``. The
    alternatives of a union (``a path or a list``) make one line."""
    lines: dict[tuple, list[str]] = {}
    for e in error.errors(include_url=False):
        # pydantic names the member of a union it tried (``list[dict[any,any]]``) in the location: not a key
        loc = tuple(p for p in e["loc"] if isinstance(p, int) or not _UNION_TAG.match(p) or
                    p in known_keys(model, ()))
        key = ".".join(str(p) for p in (key_prefix, *loc) if p != "")
        where = _where(origins, prefix + loc, fallback)
        if e["type"] in ("extra_forbidden", "unexpected_keyword_argument"):
            known = known_keys(model, loc[:-1])
            near = difflib.get_close_matches(str(loc[-1]), known, n=1, cutoff=0.6)
            hint = f"did you mean {near[0]}?" if near else f"known keys: {', '.join(known)}"
            lines.setdefault((f"{key}: unknown key in {where} ({hint})",), [])
        elif e["type"] == "missing":
            lines.setdefault((f"{key}: required key missing in {where}",), [])
        else:
            msg = e["msg"].removeprefix("Value error, ")
            got = f", got {e['input']!r}" if loc else ""
            lines.setdefault((f"{key or prefix[0]}: ", f"{got} in {where}"), []).append(msg[0].lower() + msg[1:])
    return "\n".join(line[0] if len(line) == 1 else
                     line[0] + " or ".join([msgs[0]] + [m.removeprefix("input should be ") for m in msgs[1:]]) + line[1]
                     for line, msgs in lines.items())


def validate(model: type[BaseModel], data: dict, context: dict, prefix: tuple, origins: Origins, fallback: str,
             key_prefix: str = "") -> BaseModel:
    try:
        return model.model_validate(data, context=context)
    except ValidationError as e:
        raise ConfigError(_format_errors(e, model, prefix, origins, fallback, key_prefix)) from None


# -- a stage's config --------------------------------------------------------------------------------------------
def _is_path_type(tp: Any) -> bool:
    if typing.get_origin(tp) is Annotated and any(m is IS_PATH for m in tp.__metadata__):
        return True
    return any(_is_path_type(a) for a in typing.get_args(tp))


def path_fields(model: BaseModel) -> list[str]:
    """Every path in a validated model's path-typed fields (nested sections and lists included)."""
    out: list[str] = []
    for name, f in type(model).model_fields.items():
        value = getattr(model, name)
        items = value if isinstance(value, (list, tuple)) else [value]
        for item in items:
            if isinstance(item, BaseModel):
                out += path_fields(item)
            elif isinstance(item, str) and (IS_PATH in f.metadata or _is_path_type(f.annotation)):
                out.append(item)
    return out


def common_config(config_path: str | Path, data_root: str | Path | None = None,
                  overrides: dict | None = None) -> tuple[dict, list[Path], Origins, Path, Path]:
    """A config file read with its includes: (merged mapping, files, origins, base_dir, data_root)."""
    raw, files, origins = load_yaml(Path(config_path))
    if overrides:
        origins = _merge_origins(origins, overrides, COMMAND_LINE)
        raw = deep_merge(raw, overrides)
    base_dir = Path(raw["base_dir"]).resolve()
    # a root given on the command line or in the environment is relative to the working directory,
    # one written in the config to base_dir
    root = data_root or os.environ.get("PROOFPILE_DATA_ROOT")
    if root:
        root_path = Path(root)
        origins = {**origins, ("data_root",): COMMAND_LINE if data_root else "PROOFPILE_DATA_ROOT"}
    elif raw.get("data_root"):
        root_path = base_dir / raw["data_root"]
    else:
        raise ConfigError(f"{shown_path(Path(config_path))}: no data_root (set it in the config, --data-root or "
                          "PROOFPILE_DATA_ROOT)")
    return raw, files, origins, base_dir, root_path.resolve()


@dataclass
class StageConfig:
    """What one stage needs: where things are, how to execute, and its own parameters (``params``: an instance of
    the stage module's ``Config``)."""

    stage: str
    data_root: Path
    base_dir: Path
    params: BaseModel
    executor: ExecutorConfig
    files: list[Path] = field(default_factory=list)
    origins: Origins = field(default_factory=dict)

    @classmethod
    def load(cls, stage: str, config_path: str | Path, data_root: str | Path | None = None,
             overrides: dict | None = None) -> "StageConfig":
        from proofpile import stage as stage_mod

        model = stage_mod.stage_module(stage).Config
        raw, files, origins, base_dir, root = common_config(config_path, data_root, overrides)
        shown = shown_path(Path(config_path))
        known_top = set(COMMON_KEYS) | set(STAGES) | {stage}
        for key in raw:
            if key not in known_top:
                near = difflib.get_close_matches(str(key), sorted(known_top), n=1, cutoff=0.6)
                hint = f"did you mean {near[0]}?" if near else f"known keys: {', '.join(sorted(known_top))}"
                raise ConfigError(f"{key}: unknown key in {_where(origins, (key,), shown)} ({hint})")
        section_data = raw.get(stage)
        if section_data is None:
            section_data = {}
        if not isinstance(section_data, dict):
            raise ConfigError(f"{stage}: must be a mapping of the stage's keys in {_where(origins, (stage,), shown)}")
        section_data = dict(section_data)
        stage_executor = section_data.pop("executor", None) or {}
        for key in model.shared_keys:  # a top-level value the stage takes unless its section sets its own
            if section_data.get(key) is None and raw.get(key) is not None:
                section_data[key] = raw[key]
                origins = {**origins, (stage, key): _where(origins, (key,), shown)}
        executor_origins = {("executor",) + k[2:]: v for k, v in origins.items() if k[:2] == (stage, "executor")}
        executor = validate(ExecutorConfig, deep_merge(raw.get("executor") or {}, stage_executor), {},
                            ("executor",), {**origins, **executor_origins}, shown, "executor")
        params = validate(model, section_data, {"base_dir": base_dir}, (stage,), origins, shown)
        return cls(stage=stage, data_root=root, base_dir=base_dir, params=params, executor=executor,
                   files=files, origins={**origins, **executor_origins})

    # -- where each value came from (``proofpile config <stage>``) ---------------------------------------------
    def resolved(self) -> list[tuple[str, Any, str]]:
        """(key, value, where it came from) for every leaf of the resolved config."""
        rows = [(key, str(getattr(self, key)), self.origins.get((key,), DEFAULT)) for key in ("data_root", "base_dir")]

        def walk(model: BaseModel, path: tuple, prefix: tuple):
            for name in type(model).model_fields:
                value = getattr(model, name)
                if isinstance(value, BaseModel):
                    walk(value, path + (name,), prefix + (name,))
                    continue
                if dataclasses.is_dataclass(value):
                    value = dataclasses.asdict(value)
                if isinstance(value, dict) and value and name not in ("spark", "ray", "slurm"):
                    for k, v in value.items():
                        rows.append((".".join(prefix + (name, k)), v, self.origins.get(path + (name, k), DEFAULT)))
                    continue
                if isinstance(value, list):
                    value = [v.model_dump(exclude_none=True) if isinstance(v, BaseModel) else v for v in value]
                rows.append((".".join(prefix + (name,)), value, self.origins.get(path + (name,), DEFAULT)))

        walk(self.executor, ("executor",), ("executor",))
        walk(self.params, (self.stage,), (self.stage,))
        return rows

    # -- paths -------------------------------------------------------------------------------------------------
    def path(self, value: str | os.PathLike) -> str:
        """Resolve a path given in the config (relative to base_dir); URLs pass through."""
        value = str(value)
        if is_url(value) or os.path.isabs(value):
            return value
        return str(self.base_dir / value)

    def input_paths(self) -> list[str]:
        """The local files and folders the stage's path-typed fields name (a glob: its folder)."""
        out = []
        for path in path_fields(self.params):
            if is_url(path):
                continue
            out.append(_split_glob(path)[0] if glob.has_magic(path) else path)
        return out

    def out(self, *parts: str) -> str:
        """A path under the data root."""
        return str(self.data_root.joinpath(*parts))

    def stage_dir(self, stage: str | None = None) -> str:
        return self.out(stage or self.stage)

    def logs_dir(self, stage: str | None = None) -> str:
        return self.out("logs", stage or self.stage)
