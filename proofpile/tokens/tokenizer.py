"""Which tokenizer, under which name, and how to encode with it.

A config names a tokenizer by one string (or a mapping with ``source`` and options)::

    tokenizer: package:mistral_common/data/tokenizer.model.v1      # a file inside an installed Python package
    tokenizer: ../shared/fixtures/tokenizers/llama2-tokenizer.json # a HF `tokenizers` file (relative to base_dir)
    tokenizer: models/spm.model                                    # a SentencePiece model
    tokenizer: hf:meta-llama/Llama-2-7b-hf                         # a Hub repo (also bare ``org/name``)
    tokenizer: {source: ..., name: my-tok, bos: auto, eos_token: "</s>", revision: ..., cache_dir: ...}

``package:<pkg>/<path>`` finds the package without importing it, so the demo's default (the Llama-style 32k
SentencePiece model shipped inside the ``mistral-common`` wheel) works offline on a fresh machine. A Hub repo is
fetched once through ``huggingface_hub`` into its cache (``tokenizer.json``, else ``tokenizer.model``) and read from
there afterwards, also with ``HF_HUB_OFFLINE=1``; if it is not cached offline, that is a clear ``ConfigError``.

The file's kind is read from its bytes (a ``tokenizers`` file is JSON, a SentencePiece model is protobuf), not its
name. Its identity is ``<name>-<first 10 hex of the file's sha256>``: outputs of different tokenizers -- or of two
versions of one -- never share a folder.

Every document is encoded without the tokenizer's own special tokens and framed explicitly as
``[BOS] tokens EOS``: EOS always, BOS when the tokenizer wants it (``bos: auto``: a ``tokenizers`` file whose
post-processor prepends a token; a SentencePiece model that has a BOS piece, the Llama convention).
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import re
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from proofpile.config import ConfigError

PACKAGE_PREFIX = "package:"
HUB_PREFIX = "hf:"
EOS_CANDIDATES = ("</s>", "<|endoftext|>", "<|end_of_text|>", "<eos>", "<|eos|>", "<|im_end|>")
_GENERIC_NAMES = ("tokenizer.json", "tokenizer.model")
_REPO_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")


@dataclass(frozen=True)
class TokenizerInfo:
    """A resolved tokenizer: where its file is and what it is called. Pickles (it is only strings)."""

    source: str  # as written in the config
    path: str  # the local file
    kind: str  # "tokenizers" | "sentencepiece"
    name: str
    sha256: str
    bos: str = "auto"  # auto | true | false
    eos_token: str | None = None

    @property
    def id(self) -> str:
        return f"{self.name}-{self.sha256[:10]}"

    def identity(self) -> dict:
        """What the stats and manifests record about the tokenizer."""
        return {"id": self.id, "name": self.name, "source": self.source, "kind": self.kind, "sha256": self.sha256}

    def to_dict(self) -> dict:
        return asdict(self)


def _sanitize(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-.") or "tokenizer"


def package_file(spec: str) -> Path:
    """``package:<pkg>/<path>`` -> the file inside the installed package (the package is not imported)."""
    rest = spec[len(PACKAGE_PREFIX):].lstrip("/")
    package, _, rel = rest.partition("/")
    if not package or not rel:
        raise ConfigError(f"tokenizer {spec!r}: expected package:<package>/<path inside it>")
    found = importlib.util.find_spec(package)
    if found is None or not found.submodule_search_locations:
        raise ConfigError(f"tokenizer {spec!r}: package {package!r} is not installed")
    path = Path(list(found.submodule_search_locations)[0]) / rel
    if not path.is_file():
        raise ConfigError(f"tokenizer {spec!r}: no file {rel!r} in package {package!r} ({path})")
    return path


def hub_file(repo_id: str, revision: str | None = None, cache_dir: str | None = None) -> Path:
    """The tokenizer file of a Hub repo, downloaded once into the huggingface_hub cache."""
    from huggingface_hub import hf_hub_download
    from huggingface_hub.errors import EntryNotFoundError, LocalEntryNotFoundError

    errors = []
    for filename in _GENERIC_NAMES:
        try:
            return Path(hf_hub_download(repo_id, filename, revision=revision, cache_dir=cache_dir))
        except EntryNotFoundError as e:  # the repo has no such file: try the next kind
            errors.append(f"{filename}: {type(e).__name__}")
        except LocalEntryNotFoundError as e:  # offline (or unreachable) and not in the cache
            errors.append(f"{filename}: not in the local cache ({type(e).__name__})")
        except Exception as e:  # noqa: BLE001 - a bad repo id, no network, no access: all end in one clear error
            errors.append(f"{filename}: {type(e).__name__}: {e}")
    raise ConfigError(f"tokenizer hf:{repo_id}: could not get tokenizer.json or tokenizer.model "
                      f"({'; '.join(errors)}); download it once with network access, or name a local file")


def file_kind(path: Path) -> str:
    with open(path, "rb") as f:
        head = f.read(64).lstrip()
    return "tokenizers" if head.startswith(b"{") else "sentencepiece"


def sha256_file(path: str | os.PathLike) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def resolve_tokenizer(spec, base_dir: str | os.PathLike | None = None) -> TokenizerInfo:
    """A config value (string or mapping) -> TokenizerInfo. Raises ConfigError with the reason."""
    options = dict(spec) if isinstance(spec, dict) else {"source": spec}
    source = options.pop("source", None)
    if not isinstance(source, str) or not source:
        raise ConfigError(f"tokenizer: expected a path, package:<pkg>/<file> or a Hub repo id, got {spec!r}")
    name = options.pop("name", None)
    bos = str(options.pop("bos", "auto")).lower()
    if bos not in ("auto", "true", "false"):
        raise ConfigError(f"tokenizer.bos must be auto, true or false, got {bos!r}")
    eos_token = options.pop("eos_token", None)
    revision, cache_dir = options.pop("revision", None), options.pop("cache_dir", None)
    if options:
        raise ConfigError(f"tokenizer: unknown options {sorted(options)}")

    local = Path(source) if os.path.isabs(source) or base_dir is None else Path(base_dir) / source
    if source.startswith(PACKAGE_PREFIX):
        path = package_file(source)
        default_name = f"{source[len(PACKAGE_PREFIX):].lstrip('/').split('/')[0]}-{path.name}"
    elif not source.startswith(HUB_PREFIX) and local.is_file():
        path = local
        default_name = f"{path.parent.name}-{path.stem}" if path.name in _GENERIC_NAMES else path.stem
    else:
        repo_id = source[len(HUB_PREFIX):] if source.startswith(HUB_PREFIX) else source
        if not _REPO_ID.match(repo_id):
            raise ConfigError(f"tokenizer {source!r}: no such file ({local}) and not a Hub repo id (org/name)")
        path = hub_file(repo_id, revision, cache_dir)
        default_name = repo_id.replace("/", "--")
    return TokenizerInfo(source=source, path=str(path), kind=file_kind(path), name=_sanitize(name or default_name),
                         sha256=sha256_file(path), bos=bos, eos_token=eos_token)


@contextmanager
def rayon_env(threads: int):
    """The environment ``tokenizers`` reads to size its thread pool, for the duration of a rank's work."""
    saved = {k: os.environ.get(k) for k in ("RAYON_NUM_THREADS", "TOKENIZERS_PARALLELISM")}
    os.environ["RAYON_NUM_THREADS"] = str(max(1, threads))
    os.environ["TOKENIZERS_PARALLELISM"] = "true" if threads > 1 else "false"
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


class Encoder:
    """Batch-encodes texts into one flat token array with ``[BOS] ... EOS`` around every document.

    ``threads`` is SentencePiece's ``num_threads``. ``tokenizers`` sizes its rayon pool from the environment at its
    first parallel call in a process (see ``rayon_env``).
    """

    def __init__(self, info: TokenizerInfo, threads: int = 1):
        self.info = info
        self.threads = max(1, int(threads))
        if info.kind == "tokenizers":
            self._init_tokenizers()
        else:
            self._init_sentencepiece()
        if self.eos_id is None:
            raise ConfigError(f"tokenizer {info.source!r}: no EOS token found (tried {', '.join(EOS_CANDIDATES)}); "
                              f"name it with tokenizer.eos_token")
        want_bos = self._post_bos is not None if info.bos == "auto" else info.bos == "true"
        if want_bos and self.bos_id is None:
            raise ConfigError(f"tokenizer {info.source!r}: bos is on but the tokenizer has no BOS token")
        self.prefix = (self.bos_id,) if want_bos else ()
        self.suffix = (self.eos_id,)
        self.dtype = np.dtype(np.uint16) if self.vocab_size <= 1 << 16 else np.dtype(np.uint32)

    # -- tokenizers ------------------------------------------------------------------------------------------
    def _init_tokenizers(self):
        from tokenizers import Tokenizer

        try:
            tok = Tokenizer.from_file(self.info.path)
        except Exception as e:  # tokenizers raises its own untyped errors for a bad file
            raise ConfigError(f"tokenizer {self.info.source!r}: not a valid tokenizers JSON ({e})") from None
        self.vocab_size = tok.get_vocab_size(with_added_tokens=True)
        eos = [self.info.eos_token] if self.info.eos_token else EOS_CANDIDATES
        self.eos_id = next((tok.token_to_id(t) for t in eos if tok.token_to_id(t) is not None), None)
        with_special = tok.encode("a", add_special_tokens=True).ids
        plain = tok.encode("a", add_special_tokens=False).ids
        self._post_bos = with_special[0] if len(with_special) > len(plain) and with_special[1:1 + len(plain)] == plain \
            else None
        self.bos_id = self._post_bos if self._post_bos is not None else tok.token_to_id("<s>")
        encode = getattr(tok, "encode_batch_fast", tok.encode_batch)  # no offsets: what we do not need, we skip
        self._encode = lambda texts: encode(texts, add_special_tokens=False)
        self._ids = lambda encoding: encoding.ids

    # -- sentencepiece ---------------------------------------------------------------------------------------
    def _init_sentencepiece(self):
        import sentencepiece as spm

        try:
            sp = spm.SentencePieceProcessor(model_file=self.info.path)
        except (RuntimeError, OSError) as e:
            raise ConfigError(f"tokenizer {self.info.source!r}: not a tokenizers JSON nor a SentencePiece model ({e})")
        self.vocab_size = sp.vocab_size()
        if self.info.eos_token:
            piece = sp.piece_to_id(self.info.eos_token)
            self.eos_id = piece if piece != sp.unk_id() else None
        else:
            self.eos_id = sp.eos_id() if sp.eos_id() >= 0 else None
        self.bos_id = sp.bos_id() if sp.bos_id() >= 0 else None
        self._post_bos = self.bos_id
        threads = self.threads
        self._encode = lambda texts: sp.encode(texts, num_threads=threads)
        self._ids = lambda ids: ids

    # -- encoding --------------------------------------------------------------------------------------------
    def encode_batch(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """Texts -> (flat tokens of every framed document, per-document token counts)."""
        return self.frame(self.encode(texts))

    def encode(self, texts: list[str]):
        """The native half of ``encode_batch``: the tokenizer's own result for each text. ``tokenizers`` and
        SentencePiece run it without the GIL, so Python work (``frame`` of the previous batch, reading the next)
        overlaps it."""
        return self._encode(texts)

    def frame(self, encoded) -> tuple[np.ndarray, np.ndarray]:
        """The Python half of ``encode_batch``: ``encode``'s result -> (flat framed tokens, per-document counts).

        ``tokenizers`` hands out a document's ids as a list of Python ints only when asked: they are asked for one
        document at a time and copied into the flat array, so a batch's million int objects are never alive at
        once -- held together they fragmented the allocator's arenas, and a rank's resident memory crept up with
        the length of its run."""
        lengths = np.fromiter(map(len, encoded), dtype=np.int64, count=len(encoded))
        lengths += len(self.prefix) + len(self.suffix)
        flat = np.empty(int(lengths.sum()), dtype=self.dtype)
        head, eos = len(self.prefix), self.suffix[0]
        end = 0
        for item, n in zip(encoded, lengths.tolist()):
            start, end = end, end + n
            flat[start:start + head] = self.prefix
            flat[start + head:end - 1] = self._ids(item)
            flat[end - 1] = eos
        return flat, lengths

    def description(self) -> dict:
        return {**self.info.identity(), "vocab_size": self.vocab_size, "dtype": self.dtype.name,
                "bos_id": self.prefix[0] if self.prefix else None, "eos_id": self.eos_id}
