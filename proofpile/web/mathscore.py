"""Train a MathScore fastText classifier: labelled jsonl ({"text", "label": "math"|"other"}) in, versioned .bin out.

    proofpile train-mathscore --input filters/web/mathscore-train.jsonl --output models/mathscore-v2.bin

Training and scoring see the text through one shared preparation, ``normalize``: each formula becomes ``__math__``
plus its TeX command names (what a bag of words can learn from math, whatever its letters), and prose is capped, so
34 formulas among long prose still weigh. Training is deterministic (one thread, a fixed seed, a fresh interpreter
per fit) and robust on small, perfectly separable sets, where fastText can diverge ("Encountered NaN"): it retries
with a lower learning rate and fewer epochs. Put the version in the file name (``-v1``, ``-v2``): model caches,
including datatrove's, are keyed by path, and a model only works with the ``normalize`` it was trained with.

The web stage uses ``web.mathscore.model`` when set: a local ``.bin``, or a Hub file as ``hf://owner/repo/file.bin``
(resolved with huggingface_hub, from its cache when offline). Unset, it uses the default model trained from the
files of ``web.mathscore.train`` together (``DEFAULT_TRAIN``: the generated set and real text, see
filters/web/README.md): trained once per machine into a content-addressed cache (``$PROOFPILE_CACHE``, else
``$XDG_CACHE_HOME/proofpile`` or ``~/.cache/proofpile``), keyed by the training data, the settings and the trainer,
and copied into ``<data_root>/models/``, so a fresh data root costs a copy, not a training.
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import json
import os
import random
import re
import subprocess
import sys
from pathlib import Path

import orjson

from proofpile import mathspans
from proofpile.atomic import atomic_write
from proofpile.cache import cache_dir, mark_used, prune
from proofpile.lazy_model import load_fasttext
from proofpile.scratch import scratch_folder, scratch_path

LABELS = ("math", "other")
FILTERS_DIR = Path(__file__).resolve().parents[2] / "filters" / "web"
# the default model's training data: generated pages, and real text (docstrings; sources in filters/web/README.md)
DEFAULT_TRAIN = ("filters/web/mathscore-train.jsonl", "filters/web/mathscore-real.jsonl")
DEFAULT_PARAMS = {"epoch": 25, "lr": 0.5, "dim": 16, "wordNgrams": 2, "minn": 0, "maxn": 0, "bucket": 1 << 16,
                  "minCount": 1, "loss": "softmax", "seed": 1234}
MAX_CHARS = 20_000  # MathScore reads the start of a document: enough to judge it, bounded cost
NORMALIZE_VERSION = 3  # part of the default model's training digest: a new preparation retrains
PROSE_WORDS = 300  # prose tokens kept; math tokens are all kept, so formulas among long prose still weigh
_TEX_TOKEN_RE = re.compile(r"\\[A-Za-z]+|[=^_<>+\-*/|!]")
# prose: words (digits folded to 0), one token per CJK character (a script without spaces), punctuation
_PROSE_TOKEN_RE = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af\uff00-\uffef]|[^\W_]+|[^\w\s]")
_CJK_RE = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af\uff00-\uffef]")
_GREEK_RE = re.compile(r"[\u0370-\u03ff]")
_LATIN_RE = re.compile(r"[a-z0-9\u00c0-\u024f]+")
_DIGIT_RE = re.compile(r"\d")


def _tex_tokens(tex: str, display: bool) -> list[str]:
    """A formula as a bag of words sees it: a marker, then its command names and operators (``\\frac``, ``^``,
    ``=``); its letters and numbers say little (``x`` is everywhere) and are left out."""
    return ["__display__" if display else "__math__", *(t.lower() for t in _TEX_TOKEN_RE.findall(tex))]


def _prose_token(word: str) -> str:
    if _CJK_RE.fullmatch(word):
        return "__cjk__"
    if _LATIN_RE.fullmatch(word):
        return _DIGIT_RE.sub("0", word)
    if _GREEK_RE.search(word):
        return "__greek__"  # α, β written as text: math-ish, whatever the word
    if word.isalnum():
        return "__script__"  # Cyrillic, Arabic, ...: one token per word of another script
    return word


# a language's words repeat, page after page: the short ones (bounded memory) are folded once
_short_prose_token = functools.lru_cache(maxsize=1 << 16)(_prose_token)


def normalize(text: str) -> str:
    """The text as the classifier sees it, in training and in prediction alike (the one shared preparation):
    each ``$...$`` formula becomes ``__math__`` (``__display__`` for ``$$...$$``) plus its TeX command names and
    operators; prose is lowercased and split into words and punctuation, digits folded to ``0``, words of other
    scripts folded to one token per script; only the first ``PROSE_WORDS`` prose tokens are kept, all the math.
    So ``Let $\\frac{a}{b} = 1$ be`` gives ``let __math__ \\frac = be``."""
    text = text[:MAX_CHARS]
    tokens, prose, pos = [], 0, 0

    def add_prose(chunk: str) -> None:
        nonlocal prose
        if prose >= PROSE_WORDS:
            return
        for word in _PROSE_TOKEN_RE.findall(chunk.lower()):
            if prose >= PROSE_WORDS:
                return
            tokens.append(_short_prose_token(word) if len(word) <= 24 else _prose_token(word))
            prose += 1

    for span in mathspans.find(text):  # math by the one definition the extractor uses too
        add_prose(text[pos:span.start])
        tokens += _tex_tokens(span.body, span.display)
        pos = span.end
    add_prose(text[pos:])
    return " ".join(tokens)


class TrainingError(ValueError):
    pass


def read_examples(path: str | Path) -> list[tuple[str, str]]:
    """(label, text) pairs from labelled jsonl; a bad line is a clear error naming the line."""
    examples = []
    with open(path, "rb") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                record = orjson.loads(line)
            except orjson.JSONDecodeError as e:
                raise TrainingError(f"{path}:{n}: not JSON ({e})") from None
            if not isinstance(record, dict) or not isinstance(record.get("text"), str):
                raise TrainingError(f"{path}:{n}: needs a string 'text'")
            if record.get("label") not in LABELS:
                raise TrainingError(f"{path}:{n}: label must be one of {LABELS}, got {record.get('label')!r}")
            text = normalize(record["text"])
            if text:
                examples.append((record["label"], text))
    for label in LABELS:
        if not any(lab == label for lab, _ in examples):
            raise TrainingError(f"{path}: no example labelled {label!r}")
    return examples


_FIT_SCRIPT = """
import json, sys
import fasttext
model = fasttext.train_supervised(input=sys.argv[1], thread=1, verbose=0, **json.loads(sys.argv[3]))
model.save_model(sys.argv[2])
# fastText's save ignores write errors (a full disk leaves a truncated file): loading it back is the check
fasttext.load_model(sys.argv[2])
"""


def _fit(train_file: str, output: str, params: dict) -> None:
    """Train one model in a fresh interpreter. fastText is deterministic (one thread, a seed) only for the first
    training in a process: later ones in the same process differ and often diverge, so each gets its own."""
    proc = subprocess.run([sys.executable, "-c", _FIT_SCRIPT, train_file, output, json.dumps(params)],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        lines = proc.stderr.strip().splitlines()
        raise RuntimeError(lines[-1] if lines else f"fastText training exited with {proc.returncode}")


def train(examples: list[tuple[str, str]], output: str | Path, params: dict | None = None, retries: int = 4):
    """Train and save a model; returns the fastText model. Retries a diverged run with lr/2 and 2/3 the epochs."""
    params = {**DEFAULT_PARAMS, **(params or {})}
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    with scratch_folder(output) as tmp:  # beside the model: a killed training's is removed by the next one
        train_file = os.path.join(tmp, "train.txt")
        with open(train_file, "w", encoding="utf-8") as f:
            for label, text in examples:
                f.write(f"__label__{label} {text}\n")
        tmp_out = scratch_path(output)
        last_error = None
        for _ in range(retries + 1):
            try:
                _fit(train_file, str(tmp_out), params)
            except RuntimeError as e:
                if "nan" not in str(e).lower():
                    raise TrainingError(f"fastText training failed: {e}") from None
                last_error = e
                params = {**params, "lr": params["lr"] / 2, "epoch": max(1, params["epoch"] * 2 // 3)}
                continue
            os.replace(tmp_out, output)
            return load_fasttext(str(output))
    raise TrainingError(f"fastText kept diverging (last: {last_error}); try a lower --lr or fewer --epoch")


def evaluate(model, examples: list[tuple[str, str]]) -> dict:
    correct = sum(model.predict(text)[0][0] == f"__label__{label}" for label, text in examples)
    return {"examples": len(examples), "accuracy": round(correct / len(examples), 4) if examples else None}


# -- the stage's model -----------------------------------------------------------------------------------------
def resolve_model(spec: str) -> str:
    """A local path for a model given as a path or ``hf://owner/repo/path/in/repo.bin`` (Hub cache when offline)."""
    if spec.startswith("hf://"):
        from huggingface_hub import hf_hub_download

        parts = spec.removeprefix("hf://").split("/")
        if len(parts) < 3:
            raise FileNotFoundError(f"{spec}: a Hub model is hf://owner/repo/file.bin")
        try:
            return hf_hub_download("/".join(parts[:2]), "/".join(parts[2:]))
        except Exception as e:  # offline and not cached, no such repo, ...
            raise FileNotFoundError(f"MathScore model {spec} is not available: {e}") from None
    if not os.path.isfile(spec):
        raise FileNotFoundError(f"MathScore model {spec} does not exist (train one with `proofpile train-mathscore`)")
    return spec


def _training_digest(train_files: list[str], params: dict) -> str:
    """What determines the default model's bytes: the data, the settings, the text preparation and the trainer."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        trainer = version("fasttext-numpy2-wheel")
    except PackageNotFoundError:
        trainer = "unknown"
    data = b"".join(hashlib.sha256(Path(f).read_bytes()).digest() for f in train_files)  # order matters, as in training
    key = (data + json.dumps(params, sort_keys=True).encode()
           + f"normalize-v{NORMALIZE_VERSION}".encode() + f"fasttext-{trainer}".encode() + _FIT_SCRIPT.encode())
    return hashlib.sha256(key).hexdigest()


def default_train_files() -> list[str]:
    """``DEFAULT_TRAIN`` as paths in this checkout."""
    return [str(FILTERS_DIR.parents[1] / f) for f in DEFAULT_TRAIN]


def ensure_default_model(train_files: str | list[str], output: str | Path, params: dict | None = None) -> str:
    """``output`` trained from the examples of ``train_files`` (one or more labelled jsonl files, in order) with
    ``params``: kept if it was trained from the same data and
    settings (recorded in ``<output>.json``), else copied from the cache, else trained into the cache first (when
    the cache cannot be written, straight into ``output``). Deterministic, so two fresh machines build the same
    file."""
    output = Path(output)
    train_files = [train_files] if isinstance(train_files, (str, os.PathLike)) else list(train_files)
    params = {**DEFAULT_PARAMS, **(params or {})}
    digest = _training_digest(train_files, params)
    sidecar = output.with_name(output.name + ".json")
    if output.exists() and sidecar.exists():
        try:
            if json.loads(sidecar.read_text()).get("sha256") == digest:
                return str(output)
        except ValueError:
            pass
    cached = cache_dir() / "mathscore" / f"{digest}.bin"
    cached_info = cached.with_name(cached.name + ".json")
    mark_used(cached, cached_info)  # before they are looked at: another process pruning meanwhile leaves them alone
    if not (cached.exists() and cached_info.exists()):
        try:
            cached.parent.mkdir(parents=True, exist_ok=True)
            target = cached
        except OSError:  # no writable cache: train for this data root only
            target = output
        examples = [example for f in train_files for example in read_examples(f)]
        if len(train_files) > 1:  # interleaved: fastText reads in order as its learning rate decays
            random.Random(0).shuffle(examples)
        model = train(examples, target, params)
        info = {"sha256": digest, "train": [os.path.basename(f) for f in train_files], "params": params,
                **evaluate(model, examples)}
        info_text = json.dumps(info, indent=1, sort_keys=True) + "\n"
        if target == output:
            atomic_write(sidecar, info_text)
            return str(output)
        atomic_write(cached_info, info_text.encode())  # written last: a model without it is retrained
    prune(cached.parent)  # models of other training data or parameters, unused for a month
    output.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(output, cached.read_bytes())
    atomic_write(sidecar, cached_info.read_bytes())
    return str(output)


# -- CLI -------------------------------------------------------------------------------------------------------
def configure_parser(p: argparse.ArgumentParser) -> None:
    p.add_argument("--input", required=True, help="labelled jsonl: {\"text\": ..., \"label\": \"math\"|\"other\"}")
    p.add_argument("--output", required=True, help="model file to write, versioned: models/mathscore-v2.bin")
    p.add_argument("--epoch", type=int, default=DEFAULT_PARAMS["epoch"])
    p.add_argument("--lr", type=float, default=DEFAULT_PARAMS["lr"])
    p.add_argument("--dim", type=int, default=DEFAULT_PARAMS["dim"])
    p.add_argument("--word-ngrams", type=int, default=DEFAULT_PARAMS["wordNgrams"])
    p.add_argument("--seed", type=int, default=DEFAULT_PARAMS["seed"])
    p.add_argument("--validation", help="optional labelled jsonl to report accuracy on")


def main(args) -> int:
    import sys

    if not re.search(r"v\d+", Path(args.output).stem):
        print(f"train-mathscore: warning: {args.output} has no version (-v1) in its name; caches key models by "
              f"path", file=sys.stderr)
    try:
        examples = read_examples(args.input)
        params = {"epoch": args.epoch, "lr": args.lr, "dim": args.dim, "wordNgrams": args.word_ngrams,
                  "seed": args.seed}
        model = train(examples, args.output, params)
        report = {"output": str(args.output), "train": evaluate(model, examples)}
        if args.validation:
            report["validation"] = evaluate(model, read_examples(args.validation))
    except (TrainingError, OSError) as e:
        print(f"train-mathscore: error: {e}", file=sys.stderr)
        return 1
    print(json.dumps(report))
    return 0
