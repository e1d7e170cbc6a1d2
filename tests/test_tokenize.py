import json
import os
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
import sentencepiece as spm
from datatrove.data import Document
from datatrove.pipeline.base import PipelineStep

from proofpile.config import ConfigError
from proofpile.contract import ContractWriter
from proofpile.tokens import shards
from proofpile.tokens.samples import tokenize_corpus, write_corpus
from proofpile.tokens.shards import STATS_FILE, ShardStream, finalize, open_shard, token_chunks
from proofpile.tokens.tokenizer import Encoder, package_file, resolve_tokenizer

MISTRAL = "package:mistral_common/data/tokenizer.model.v1"
LLAMA2 = "tokenizers/llama2-tokenizer.json"


def tokenized_folder(root: Path) -> Path:
    (folder,) = (root / "tokenized").iterdir()
    return folder


def rows_by_id(folder: Path) -> dict[str, list[int]]:
    out = {}
    for path in sorted(folder.glob("*/*/shard-*.arrow")):
        table = open_shard(path).to_pydict()
        out.update(zip(table["id"], table["input_ids"]))
    return out


# -- naming tokenizers -------------------------------------------------------------------------------------------
def test_package_notation_finds_the_mistral_model_without_a_network():
    info = resolve_tokenizer(MISTRAL)
    assert Path(info.path) == package_file(MISTRAL)
    assert info.path.endswith("mistral_common/data/tokenizer.model.v1")
    assert info.kind == "sentencepiece"
    assert info.id == f"mistral_common-tokenizer.model.v1-{info.sha256[:10]}"


def test_tokenizer_json_id_comes_from_name_and_content(shared_fixture, tmp_path):
    path = shared_fixture(LLAMA2)
    info = resolve_tokenizer(str(path))
    assert info.kind == "tokenizers" and info.id.startswith("llama2-tokenizer-")
    # same name, other content: another id, so outputs never mix
    changed = tmp_path / "llama2-tokenizer.json"
    changed.write_bytes(path.read_bytes().replace(b'"<unk>"', b'"<unk>" ', 1))
    assert resolve_tokenizer(str(changed)).id != info.id
    # relative paths resolve against base_dir
    assert resolve_tokenizer(path.name, base_dir=path.parent).path == str(path)


@pytest.mark.parametrize("spec, message", [
    ("package:no_such_package_xyz/tok.model", "not installed"),
    ("package:mistral_common/data/missing.model", "no file"),
    ("package:mistral_common", "expected package:"),
    ("acme/not-cached-tokenizer", "could not get"),  # a repo id: offline and not cached
    ("./missing-tokenizer.json", "not a Hub repo id"),
    ({"source": MISTRAL, "bos": "maybe"}, "bos must be"),
    ({"source": MISTRAL, "colour": "red"}, "unknown options"),
])
def test_bad_tokenizer_names_are_clear_errors(spec, message, tmp_path):
    with pytest.raises(ConfigError, match=message):
        resolve_tokenizer(spec, base_dir=tmp_path)


def test_hub_repo_is_read_from_the_local_cache_offline(shared_fixture, tmp_path):
    # the layout huggingface_hub downloads into; HF_HUB_OFFLINE=1 (conftest) means it must come from here
    snapshot = tmp_path / "hub" / "models--acme--llama-tok" / "snapshots" / ("0" * 40)
    snapshot.mkdir(parents=True)
    (snapshot / "tokenizer.json").symlink_to(shared_fixture(LLAMA2))
    (tmp_path / "hub" / "models--acme--llama-tok" / "refs").mkdir()
    (tmp_path / "hub" / "models--acme--llama-tok" / "refs" / "main").write_text("0" * 40)
    info = resolve_tokenizer({"source": "hf:acme/llama-tok", "cache_dir": str(tmp_path / "hub")})
    assert info.kind == "tokenizers" and info.name == "acme--llama-tok"
    assert info.sha256 == resolve_tokenizer(str(shared_fixture(LLAMA2))).sha256


# -- encoding ----------------------------------------------------------------------------------------------------
TEXTS = ["Let $x^2 = 4$; then $x = \\pm 2$.", "theorem foo : 1 + 1 = 2 := rfl", "∫₀¹ x dx = ½"]


def test_sentencepiece_documents_get_bos_and_eos():
    enc = Encoder(resolve_tokenizer(MISTRAL))
    sp = spm.SentencePieceProcessor(model_file=package_file(MISTRAL).as_posix())
    flat, lengths = enc.encode_batch(TEXTS)
    assert flat.dtype == np.uint16 and enc.vocab_size == 32000
    expected = [[sp.bos_id(), *sp.encode(t), sp.eos_id()] for t in TEXTS]
    assert lengths.tolist() == [len(e) for e in expected]
    assert flat.tolist() == sum(expected, [])


def test_tokenizers_json_bos_follows_its_post_processor(shared_fixture):
    from tokenizers import Tokenizer

    path = str(shared_fixture(LLAMA2))
    tok = Tokenizer.from_file(path)
    enc = Encoder(resolve_tokenizer(path))
    flat, _ = enc.encode_batch(TEXTS)
    eos = tok.token_to_id("</s>")
    # the llama2 post-processor prepends <s>: same as the tokenizer's own special tokens, plus EOS
    assert flat.tolist() == sum((tok.encode(t).ids + [eos] for t in TEXTS), [])
    assert enc.description()["bos_id"] == tok.token_to_id("<s>")
    no_bos = Encoder(resolve_tokenizer({"source": path, "bos": "false"}))
    assert no_bos.encode_batch(TEXTS)[0].tolist() == sum((tok.encode(t, add_special_tokens=False).ids + [eos]
                                                          for t in TEXTS), [])


def big_vocab_tokenizer(path: Path) -> Path:
    from tokenizers import Tokenizer, models, pre_tokenizers

    vocab = {"[UNK]": 0, "</s>": 1, **{f"w{i}": i + 2 for i in range(70_000)}}
    tok = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.save(str(path))
    return path


def test_vocabularies_over_65536_use_uint32(tmp_path):
    enc = Encoder(resolve_tokenizer(str(big_vocab_tokenizer(tmp_path / "big.json"))))
    flat, lengths = enc.encode_batch(["w69999 w1", "w3"])
    assert flat.dtype == np.uint32
    assert flat.tolist() == [70001, 3, 1, 5, 1] and lengths.tolist() == [3, 2]


@pytest.mark.parametrize("content, message", [
    (b"\x00\x01 not a model", "not a tokenizers JSON nor a SentencePiece model"),
    (b'{"version": "1.0", "model": 42}', "not a valid tokenizers JSON"),
])
def test_a_broken_tokenizer_file_is_a_clear_error(tmp_path, content, message):
    path = tmp_path / "broken.model"
    path.write_bytes(content)
    with pytest.raises(ConfigError, match=message):
        Encoder(resolve_tokenizer(str(path)))


def test_a_tokenizer_without_eos_needs_one_named(tmp_path):
    from tokenizers import Tokenizer, models

    path = tmp_path / "noeos.json"
    Tokenizer(models.WordLevel({"[UNK]": 0, "a": 1}, unk_token="[UNK]")).save(str(path))
    with pytest.raises(ConfigError, match="no EOS token"):
        Encoder(resolve_tokenizer(str(path)))
    assert Encoder(resolve_tokenizer({"source": str(path), "eos_token": "a"})).eos_id == 1


# -- the stage ---------------------------------------------------------------------------------------------------
def test_stage_writes_arrow_shards_per_subset_and_split(tmp_path):
    root = tmp_path / "root"
    cfg = tokenize_corpus(root, {"shard_tokens": 2000})
    docs = write_corpus(tmp_path / "again")  # the same documents
    folder = tokenized_folder(root)
    info = resolve_tokenizer(MISTRAL)
    assert folder.name == info.id
    stats = json.loads((folder / STATS_FILE).read_text())
    # every document once, encoded as [BOS] text EOS
    sp = spm.SentencePieceProcessor(model_file=info.path)
    rows = rows_by_id(folder)
    assert sorted(rows) == sorted(docs)
    for doc_id in list(docs)[::17]:
        assert rows[doc_id] == [1, *sp.encode(docs[doc_id].text), 2]
    # the stats agree with the shards, per subset, split and lang
    for entry in stats["shards"]:
        table = open_shard(folder / entry["path"])
        assert (table.num_rows, sum(map(len, token_chunks(table))), (folder / entry["path"]).stat().st_size) == \
               (entry["rows"], entry["tokens"], entry["bytes"])
        assert set(table.column("subset").to_pylist()) == {entry["subset"]}
        assert set(table.column("split").to_pylist()) == {entry["split"]}
    by_key = {}
    for doc_id, doc in docs.items():
        key = (doc.metadata["subset"], doc.metadata["split"], doc.metadata["lang"])
        d, t = by_key.get(key, (0, 0))
        by_key[key] = (d + 1, t + len(rows[doc_id]))
    assert {(c["subset"], c["split"], c["lang"]): (c["documents"], c["tokens"]) for c in stats["counts"]} == by_key
    assert stats["totals"]["tokens"] == sum(len(r) for r in rows.values())
    assert stats["tokenizer"]["id"] == info.id and stats["tokenizer"]["dtype"] == "uint16"
    # shards are named shard-NNNNN in order, closed at the token budget; nothing half-written is left
    for subset_split in {(e["subset"], e["split"]) for e in stats["shards"]}:
        mine = [e for e in stats["shards"] if (e["subset"], e["split"]) == subset_split]
        assert [e["path"].rsplit("/", 1)[1] for e in mine] == [f"shard-{n:05d}.arrow" for n in range(len(mine))]
    longest = max(len(r) for r in rows.values())
    for rank in (0, 1):
        record = json.loads((folder / ".ranks" / f".rank-{rank:05d}.json").read_text())
        for key in {(p["subset"], p["split"]) for p in record["parts"]}:
            parts = [p for p in record["parts"] if (p["subset"], p["split"]) == key]
            # a rank's shard closes at the first document that brings it to the budget; only its last is short
            assert all(2000 <= p["tokens"] < 2000 + longest for p in parts[:-1])
            assert 0 < parts[-1]["tokens"] < 2000 + longest
    visible = {str(p.relative_to(folder)) for p in folder.rglob("*")
               if p.is_file() and not any(part.startswith(".") for part in p.relative_to(folder).parts)}
    assert visible == {e["path"] for e in stats["shards"]} | {STATS_FILE}
    assert not list(folder.rglob("*.tmp-*"))
    assert cfg.params.shard_tokens == 2000


def test_stage_is_deterministic(tmp_path):
    tokenize_corpus(tmp_path / "a", {"shard_tokens": 3000})
    tokenize_corpus(tmp_path / "b", {"shard_tokens": 3000})
    a, b = tokenized_folder(tmp_path / "a"), tokenized_folder(tmp_path / "b")
    files = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(b) for p in b.rglob("*") if p.is_file())
    for rel in files:
        assert (a / rel).read_bytes() == (b / rel).read_bytes(), rel


def test_packing_cuts_the_document_stream_into_fixed_rows(tmp_path):
    tokenize_corpus(tmp_path / "plain", {"shard_tokens": 10**9}, tasks=1)
    tokenize_corpus(tmp_path / "packed", {"shard_tokens": 10**9, "pack": True, "seq_len": 64}, tasks=1)
    plain, packed = tokenized_folder(tmp_path / "plain"), tokenized_folder(tmp_path / "packed")
    for path in sorted(plain.glob("*/*/shard-*.arrow")):
        docs = open_shard(path)
        rows = open_shard(packed / path.relative_to(plain))
        lengths = [len(r) for r in rows.column("input_ids").to_pylist()]
        assert set(lengths[:-1]) == {64} and 0 < lengths[-1] <= 64
        assert np.array_equal(np.concatenate(token_chunks(docs)), np.concatenate(token_chunks(rows)))
        # a row is named after the document it starts in
        assert rows.column("id")[0].as_py() == docs.column("id")[0].as_py()
    # with a shard budget: every shard but the last of a subset and split holds whole rows up to the budget
    tokenize_corpus(tmp_path / "sharded", {"shard_tokens": 1000, "pack": True, "seq_len": 64}, tasks=1)
    sharded = tokenized_folder(tmp_path / "sharded")
    for path in sorted(plain.glob("*/*/shard-*.arrow")):
        parts = sorted(sharded.glob(f"{path.parent.relative_to(plain)}/shard-*.arrow"))
        lengths = [len(r) for p in parts for r in open_shard(p).column("input_ids").to_pylist()]
        assert set(lengths[:-1]) == {64}
        assert all(open_shard(p).num_rows == 16 for p in parts[:-1])  # 16 x 64 = 1024 >= 1000
        assert np.array_equal(np.concatenate(token_chunks(open_shard(path))),
                              np.concatenate([c for p in parts for c in token_chunks(open_shard(p))]))
    stats = json.loads((packed / STATS_FILE).read_text())
    assert stats["seq_len"] == 64
    assert stats["totals"] == json.loads((plain / STATS_FILE).read_text())["totals"]
    assert sum(e["documents"] for e in stats["shards"]) == stats["totals"]["documents"]


def test_documents_without_subset_or_split_are_counted_drops(tmp_path):
    root = tmp_path / "root"
    write_corpus(root, {"train": 3})
    bad = [Document(text="x = 1", id="no-split", metadata={"subset": "arxiv"}),
           Document(text="y = 2", id="odd-subset", metadata={"subset": "general", "split": "train"})]
    with ContractWriter(str(root / "decontam" / "arxiv" / "train"), output_filename="${rank}-bad.jsonl.zst") as w:
        for doc in bad:
            w.write(doc, rank=0)
    tokenize_corpus(root, per_split={"train": 3})
    stats = json.loads((tokenized_folder(root) / STATS_FILE).read_text())
    assert stats["dropped"] == {"dropped_unknown_split": 1, "dropped_unknown_subset": 1}
    assert stats["totals"]["documents"] == 9
    # general-domain data is kept when asked for
    tokenize_corpus(root, {"extra_subsets": ["general"]}, per_split={"train": 3})
    stats = json.loads((tokenized_folder(root) / STATS_FILE).read_text())
    assert stats["dropped"] == {"dropped_unknown_split": 1}
    assert [e["path"] for e in stats["shards"] if e["subset"] == "general"] == ["general/train/shard-00000.arrow"]


def test_uint32_shards_from_a_big_vocabulary(tmp_path):
    tok = big_vocab_tokenizer(tmp_path / "big.json")
    tokenize_corpus(tmp_path / "root", {"tokenizer": str(tok)}, tasks=1)
    folder = tokenized_folder(tmp_path / "root")
    table = open_shard(next(folder.glob("arxiv/train/shard-*.arrow")))
    assert table.schema.field("input_ids").type == pa.list_(pa.uint32())


# -- atomic shards, finalize -------------------------------------------------------------------------------------
def test_a_killed_writer_leaves_only_finished_shards(tmp_path, monkeypatch):
    monkeypatch.setattr(shards, "BATCH_TOKENS", 20)  # write record batches early, as with big data
    stream = ShardStream(tmp_path, "arxiv", "train", rank=3, dtype=np.uint16, shard_tokens=100)
    for i in range(30):
        stream.add(np.arange(9, dtype=np.uint16), f"d{i}", None)
    # killed here: two shards are finished, the third is being written
    finished = sorted(p.name for p in (tmp_path / "arxiv" / "train").iterdir() if not p.name.startswith("."))
    assert finished == ["part-00003-00000.arrow", "part-00003-00001.arrow"]
    assert [p.name.startswith(".") for p in (tmp_path / "arxiv" / "train").iterdir()].count(True) == 1
    for name in finished:
        assert open_shard(tmp_path / "arxiv" / "train" / name).num_rows == 12  # 12 x 9 = 108 >= 100 tokens
    stream.abort()
    assert not [p for p in (tmp_path / "arxiv" / "train").iterdir() if p.name.startswith(".")]


def test_finalize_needs_every_rank_and_can_be_rerun(tmp_path):
    root = tmp_path / "root"
    tokenize_corpus(root, {"shard_tokens": 3000})
    folder = tokenized_folder(root)
    stats = json.loads((folder / STATS_FILE).read_text())
    # a run killed half-way through renaming: one shard still has its part name
    ranks = [json.loads((folder / ".ranks" / f".rank-{r:05d}.json").read_text()) for r in range(2)]
    part = ranks[1]["parts"][0]
    first_of_rank1 = [e for e in stats["shards"] if (e["subset"], e["split"]) == (part["subset"], part["split"])]
    n_rank0 = sum(1 for p in ranks[0]["parts"] if (p["subset"], p["split"]) == (part["subset"], part["split"]))
    os.replace(folder / first_of_rank1[n_rank0]["path"], folder / part["part"])
    (folder / STATS_FILE).unlink()
    assert finalize(folder, 2, stats["tokenizer"], None, 3000) == stats
    with pytest.raises(RuntimeError, match="rank 2 of 3 did not finish"):
        finalize(folder, 3, stats["tokenizer"], None, 3000)


class FailOnRank(PipelineStep):
    """Stands in for a kill: rank ``rank`` dies after ``after`` documents."""

    name = "💥 fail"

    def __init__(self, rank: int, after: int):
        super().__init__()
        self.fail_rank, self.after = rank, after

    def run(self, data, rank: int = 0, world_size: int = 1):
        for n, doc in enumerate(data):
            if rank == self.fail_rank and n == self.after:
                raise RuntimeError("killed")
            yield doc


def test_a_killed_rank_reruns_to_the_same_shards(tmp_path):
    from datatrove.executor import LocalPipelineExecutor

    from proofpile.contract import ContractReader
    from proofpile.tokens.steps import ArrowShardWriter, TokenizeDocuments

    write_corpus(tmp_path)
    info = resolve_tokenizer(MISTRAL)
    description = Encoder(info).description()

    def run(out, logs, fail):
        steps = [ContractReader(str(tmp_path / "decontam"), glob_pattern="*/*/*.jsonl.zst"),
                 TokenizeDocuments(info), *([FailOnRank(1, 40)] if fail else []),
                 ArrowShardWriter(str(out), description, shard_tokens=1500)]
        LocalPipelineExecutor(steps, tasks=2, workers=1, logging_dir=str(logs)).run()
        return finalize(out, 2, description, None, 1500)

    clean = run(tmp_path / "clean", tmp_path / "clean-logs", fail=False)
    with pytest.raises(RuntimeError, match="killed"):
        run(tmp_path / "out", tmp_path / "logs", fail=True)
    out = tmp_path / "out"
    # rank 1 wrote some finished parts before dying, and no record: nothing can be finalized from it
    assert list(out.glob("*/*/part-00001-*.arrow"))
    with pytest.raises(RuntimeError, match="rank 1 of 2 did not finish"):
        finalize(out, 2, description, None, 1500)
    # the rerun skips the finished rank 0, redoes rank 1 and ends with what an uninterrupted run writes
    assert run(out, tmp_path / "logs", fail=False) == clean
    for entry in clean["shards"]:
        assert (out / entry["path"]).read_bytes() == (tmp_path / "clean" / entry["path"]).read_bytes()
    assert not list(out.rglob("part-*")) and not list(out.rglob(".*.tmp-*"))


@pytest.mark.slow
def test_worker_processes_write_what_one_process_writes(tmp_path):
    # forkserver workers: the steps must pickle, and the shard layout depends on tasks, not workers
    tokenize_corpus(tmp_path / "one", {"shard_tokens": 3000}, tasks=2, workers=1)
    tokenize_corpus(tmp_path / "two", {"shard_tokens": 3000}, tasks=2, workers=2)
    a, b = tokenized_folder(tmp_path / "one"), tokenized_folder(tmp_path / "two")
    assert (a / STATS_FILE).read_bytes() == (b / STATS_FILE).read_bytes()
    for path in a.glob("*/*/shard-*.arrow"):
        assert path.read_bytes() == (b / path.relative_to(a)).read_bytes()
