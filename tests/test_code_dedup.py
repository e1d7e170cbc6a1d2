"""The code stage's exact dedup, step by step: the copy kept is the smallest id whatever the number of ranks; the
kept records reach the shard byte for byte as ContractWriter writes documents; a damaged partition is counted
drops, never a crash."""

import random
from collections import Counter, deque

import orjson
import pytest
import zstandard
from datatrove.data import Document

from proofpile.code.dedup import (
    KEYS,
    RECORDS,
    ExactDedupWithinLanguage,
    LanguageStats,
    PartitionByContent,
    PartitionWriter,
)
from proofpile.contract import ContractReader, ContractWriter


def corpus() -> list[Document]:
    """30 contents in 1 to 4 copies each, ids not in reading order; one text also in a second language; one file
    read twice (same id and text)."""
    docs = []
    for i in range(30):
        text = f"import numpy as np\n# π ≈ {i}\nx = np.pi * {i}\n" * (1 + i % 5)
        for copy in range(1 + i % 4):
            repo = f"r{(i * 7 + copy * 13) % 10}"
            docs.append(Document(text=text, id=f"{repo}:m{i:02d}/{copy}.py", metadata={
                "lang": "Python", "subset": "algebraic-stack", "source": "dir", "repo": repo, "path": f"m{i:02d}/x.py",
                "stars": copy}))  # an undeclared key: meta.extra
    docs.append(Document(text=docs[0].text, id="r0:agda/x.agda", metadata={"lang": "Agda",
                                                                           "subset": "algebraic-stack"}))
    docs.append(Document(text=docs[5].text, id=docs[5].id, metadata=dict(docs[5].metadata)))
    random.Random(0).shuffle(docs)
    return docs


def expected(docs) -> dict[tuple, str]:
    """(lang, text): the smallest id among the copies."""
    keep = {}
    for d in docs:
        key = (d.metadata["lang"], d.text)
        keep[key] = min(keep.get(key, d.id), d.id)
    return keep


def partition(docs, folder, ranks: int) -> None:
    """The filter pipeline's end on ``ranks`` ranks, documents sharded as a reader shards files."""
    for rank in range(ranks):
        steps = [PartitionByContent(ranks), PartitionWriter(str(folder))]
        data = iter([Document(d.text, d.id, metadata=dict(d.metadata)) for d in docs[rank::ranks]])
        for step in steps:
            data = step(data, rank=rank, world_size=ranks)
        deque(data, maxlen=0)


def dedup(folder, out, ranks: int) -> dict:
    """The dedup pipeline on ``ranks`` ranks: its steps' counters, summed over ranks."""
    stats = {}
    for rank in range(ranks):
        steps = [ExactDedupWithinLanguage(str(folder)), LanguageStats(), ContractWriter(str(out))]
        data = None
        for step in steps:
            data = step(data, rank=rank, world_size=ranks)
        deque(data, maxlen=0)
        for step in steps:
            for label, value in step.stats.stats.items():
                stats[label] = stats.get(label, 0) + value.total
    return stats


def _shard_lines(out) -> list[bytes]:
    lines = []
    for path in sorted(out.glob("*.jsonl.zst")):
        lines += zstandard.ZstdDecompressor().stream_reader(path.open("rb")).read().splitlines()
    return lines


def read(out) -> list[Document]:
    reader = ContractReader(str(out))
    return [d for f in sorted(reader.data_folder.list_files(glob_pattern="*.jsonl.zst")) for d in reader.read_file(f)]


@pytest.mark.parametrize("ranks", [1, 2, 3])
def test_one_copy_kept_the_smallest_id_whatever_the_ranks(tmp_path, ranks):
    docs = corpus()
    keep = expected(docs)
    partition(docs, tmp_path / "parts", ranks)
    stats = dedup(tmp_path / "parts", tmp_path / "out", ranks)
    kept = read(tmp_path / "out")
    assert sorted(d.id for d in kept) == sorted(keep.values())  # no duplicate survives; the smallest id does
    assert len(keep) == 31 and len(docs) == 75
    by_id = {d.id: d for d in docs}
    assert all((d.text, d.metadata) == (by_id[d.id].text, by_id[d.id].metadata) for d in kept)
    python = [d for d in kept if d.metadata["lang"] == "Python"]
    assert stats["lang/Python/files"] == len(python) == 30
    assert stats["lang/Python/bytes"] == sum(len(d.text.encode()) for d in python)  # UTF-8 bytes, not characters
    assert stats["lang/Python/duplicates"] == stats["dropped_duplicate"] == len(docs) - len(keep)
    assert stats["lang/Agda/files"] == 1 and "lang/Agda/duplicates" not in stats
    assert stats["doc_len"] == sum(len(d.text) for d in kept) and stats["total"] == len(kept)
    assert "dropped_damaged_partition" not in stats


def test_kept_records_are_written_as_contract_writer_writes_documents(tmp_path):
    """The lines copied from partitions make the same shard, byte for byte, as the kept documents written anew."""
    partition(corpus(), tmp_path / "parts", 2)
    dedup(tmp_path / "parts", tmp_path / "out", 2)
    for rank in range(2):
        name = f"{rank:05d}.jsonl.zst"
        kept = list(ContractReader(str(tmp_path / "out")).read_file(name))
        with ContractWriter(str(tmp_path / "anew")) as writer:
            for doc in kept:
                writer.write(doc, rank=rank)
        assert kept and (tmp_path / "out" / name).read_bytes() == (tmp_path / "anew" / name).read_bytes()


def _records(folder) -> list[tuple[str, str, str]]:
    """(lang, text, id) of a partition's records, in file order."""
    reader = ContractReader(str(folder), glob_pattern="*" + RECORDS)
    return [(d.metadata["lang"], d.text, d.id) for d in reader.read_file("00000" + RECORDS)]


def _cut_inside_line(path, line: int) -> None:
    data = path.read_bytes()
    at = sum(len(x) for x in data.splitlines(keepends=True)[:line]) + 5
    path.write_bytes(data[:at])


def _garble_line(path, line: int) -> None:
    lines = path.read_bytes().splitlines(keepends=True)
    lines[line] = b'["not", "a key"]\n'
    path.write_bytes(b"".join(lines))


def _change_in_place(path, line: int) -> None:
    """One character of a record's text changed, the line's length kept: still JSON, still its key's id."""
    lines = path.read_bytes().splitlines(keepends=True)
    at = lines[line].index(b'"text":"') + 8
    lines[line] = lines[line][:at] + (b"#" if lines[line][at:at + 1] != b"#" else b"%") + lines[line][at + 1:]
    path.write_bytes(b"".join(lines))


def _key_past_the_end(path, line: int) -> None:
    lines = path.read_bytes().splitlines(keepends=True)
    key = orjson.loads(lines[line])
    key[6] = 2**64 - 1  # its length
    lines[line] = orjson.dumps(key) + b"\n"
    path.write_bytes(b"".join(lines))


@pytest.mark.parametrize("damage, lost", [
    ("record 7 changed in place", [7]),
    ("key 7 past the end", [7]),
    ("records cut inside record 40", range(40, 75)),
    ("keys cut inside key 40", range(40, 75)),
    ("key 7 garbled", [7]),
    ("keys missing", range(75)),
])
def test_damaged_partition_is_counted_and_the_rest_is_kept(tmp_path, damage, lost):
    docs = corpus()
    partition(docs, tmp_path / "parts", 1)
    bucket = tmp_path / "parts" / "00000"
    records = _records(bucket)
    assert len(records) == len(docs)
    if damage.startswith("records cut"):
        _cut_inside_line(bucket / ("00000" + RECORDS), 40)
    elif damage.startswith("keys cut"):
        _cut_inside_line(bucket / ("00000" + KEYS), 40)
    elif damage == "key 7 garbled":
        _garble_line(bucket / ("00000" + KEYS), 7)
    elif damage == "record 7 changed in place":
        _change_in_place(bucket / ("00000" + RECORDS), 7)
    elif damage == "key 7 past the end":
        _key_past_the_end(bucket / ("00000" + KEYS), 7)
    else:
        (bucket / ("00000" + KEYS)).unlink()
    stats = dedup(tmp_path / "parts", tmp_path / "out", 1)
    left = [Document(text, doc_id, metadata={"lang": lang}) for i, (lang, text, doc_id) in enumerate(records)
            if i not in lost]
    assert sorted(d.id for d in read(tmp_path / "out")) == sorted(expected(left).values())
    assert stats["dropped_damaged_partition"] == len(lost)
    assert all(isinstance(orjson.loads(line), dict) for line in _shard_lines(tmp_path / "out"))
    assert stats.get("dropped_duplicate", 0) == len(left) - len(expected(left))


@pytest.mark.parametrize("keys_kept", [0, 20, 1 << 16])
def test_second_pass_from_the_keys_kept_is_the_second_pass_that_reads_them_again(tmp_path, monkeypatch, keys_kept):
    """An undamaged partition's keys kept from the first pass (up to a number of them) give the second pass the
    records, stats and shard it gets reading them again: partitions of 3 ranks, one of them damaged."""
    from proofpile.code import dedup as dedup_module

    docs = corpus()
    partition(docs, tmp_path / "parts", 3)
    _change_in_place(tmp_path / "parts" / "00001" / ("00002" + RECORDS), 3)
    results = []
    for kept in (keys_kept, 0):
        monkeypatch.setattr(dedup_module, "_KEYS_KEPT", kept)
        out = tmp_path / f"out{kept}-{len(results)}"
        stats = dedup(tmp_path / "parts", out, 3)
        results.append((stats, list(stats), [bytes(line) for line in _shard_lines(out)]))
    assert results[0] == results[1]
    assert results[0][0]["dropped_damaged_partition"] == 1


def test_a_record_changed_after_the_first_pass_is_counted_as_damaged(tmp_path):
    from datatrove.io import get_datafolder

    docs = corpus()
    partition(docs, tmp_path / "parts", 1)
    step = ExactDedupWithinLanguage(str(tmp_path / "parts"))
    folder, name = get_datafolder(str(tmp_path / "parts")), "00000/00000"
    keys = [key for key, _ in step._whole_records(folder, name, Counter())]
    _change_in_place(tmp_path / "parts" / "00000" / ("00000" + RECORDS), 4)
    dropped = Counter()
    records = [(key, bytes(line)) for key, line in step._records_of(folder, name, keys, dropped)]
    assert [key for key, _ in records] == keys[:4] + keys[5:]
    assert dropped == Counter({"dropped_damaged_partition": 1})
    assert all(orjson.loads(line)["id"] == key.id for key, line in records)


def test_partitions_of_a_rerun_replace_the_first(tmp_path):
    """A filter rank run again (killed, then resumed) rewrites its partitions: nothing is read twice."""
    docs = corpus()
    partition(docs, tmp_path / "parts", 1)
    first = {p.name: p.read_bytes() for p in (tmp_path / "parts" / "00000").iterdir()}
    partition(docs, tmp_path / "parts", 1)
    assert {p.name: p.read_bytes() for p in (tmp_path / "parts" / "00000").iterdir()} == first


def test_documents_the_contract_refuses_are_counted_drops(tmp_path):
    docs = corpus()[:6] + [Document("", "r0:empty.py", metadata={"lang": "Python"}),
                           Document("x = 1\n", "", metadata={"lang": "Python"})]
    steps = [PartitionByContent(1), PartitionWriter(str(tmp_path / "parts"))]
    data = iter(docs)
    for step in steps:
        data = step(data, rank=0, world_size=1)
    deque(data, maxlen=0)
    writer = {k: v.total for k, v in steps[1].stats.stats.items()}
    assert writer == {"total": 6, "dropped_missing_text": 1, "dropped_missing_id": 1}
    dedup(tmp_path / "parts", tmp_path / "out", 1)
    assert sorted(d.id for d in read(tmp_path / "out")) == sorted(expected(docs[:6]).values())
