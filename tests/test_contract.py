"""The document contract: malformed records are counted drops with a reason; the rest of the shard survives."""

import hashlib
import io

import orjson
import zstandard
from datatrove.data import Document

from proofpile.contract import ContractReader, ContractWriter, dumps, parse_record


def good(i):
    # hashes make the text incompressible enough that a shard spans several zstd blocks, like a real one
    text = f"text {i} " + hashlib.sha256(str(i).encode()).hexdigest() * 4
    return orjson.dumps({"id": f"doc-{i}", "text": text, "meta": {"subset": "arxiv", "source": "test"}}) + b"\n"


def write_zst(path, payload: bytes):
    path.write_bytes(zstandard.ZstdCompressor().compress(payload))


def read_all(folder):
    reader = ContractReader(str(folder))
    docs = list(reader.run(rank=0, world_size=1))
    return docs, dict(reader.stats.stats)


def test_parse_record_reasons():
    assert parse_record(good(1))[0].id == "doc-1"
    assert parse_record(b'{"id": "x"}\n') == (None, "missing_text")
    assert parse_record(b'{"id": "x", "text": ""}\n') == (None, "missing_text")
    assert parse_record(b'{"text": "t"}\n') == (None, "missing_id")
    assert parse_record(b'{"id": "x", "text": "t", "meta": [1]}\n') == (None, "bad_meta")
    assert parse_record(b'[1, 2]\n') == (None, "not_an_object")
    assert parse_record(b'{"id": "x", "text": \n') == (None, "bad_json")
    assert parse_record(b'{"id": "x", "text": "caf\xe9"}\n') == (None, "non_utf8")


def test_malformed_records_are_counted_and_the_rest_survives(tmp_path):
    payload = b"".join([
        good(0),
        b'{"id": "no-text", "meta": {}}\n',
        b"this is not json\n",
        b'{"id": "latin1", "text": "caf\xe9"}\n',
        good(1),
        b'{"id": "x", "text": "t", "meta": "a string"}\n',
        good(2),
    ])
    write_zst(tmp_path / "00000.jsonl.zst", payload)
    docs, stats = read_all(tmp_path)
    assert [d.id for d in docs] == ["doc-0", "doc-1", "doc-2"]
    assert docs[0].metadata == {"subset": "arxiv", "source": "test"}
    assert stats["dropped_missing_text"].total == 1
    assert stats["dropped_bad_json"].total == 1
    assert stats["dropped_non_utf8"].total == 1
    assert stats["dropped_bad_meta"].total == 1


def test_truncated_zstd_frame_keeps_complete_records(tmp_path):
    payload = b"".join(good(i) for i in range(2000))
    blob = zstandard.ZstdCompressor().compress(payload)
    (tmp_path / "00000.jsonl.zst").write_bytes(blob[: len(blob) // 2])
    write_zst(tmp_path / "00001.jsonl.zst", good(9999))
    docs, stats = read_all(tmp_path)
    ids = [d.id for d in docs]
    assert "doc-9999" in ids, "the next file must still be read"
    kept = [i for i in ids if i != "doc-9999"]
    assert 0 < len(kept) < 2000
    assert kept == [f"doc-{i}" for i in range(len(kept))], "kept records are the intact prefix, in order"
    truncated = sum(stats[k].total for k in ("dropped_truncated_file", "dropped_truncated_line") if k in stats)
    assert truncated >= 1


def test_writer_roundtrip_is_byte_identical(tmp_path):
    docs = [Document(text=f"$x^{i}$ is math", id=f"d{i}", metadata={"subset": "open-web-math", "n": i})
            for i in range(50)]
    for run in ("a", "b"):
        with ContractWriter(str(tmp_path / run)) as w:
            for d in docs:
                w.write(d, rank=0)
    a = (tmp_path / "a" / "00000.jsonl.zst").read_bytes()
    assert a == (tmp_path / "b" / "00000.jsonl.zst").read_bytes()
    lines = io.BytesIO(zstandard.ZstdDecompressor().decompressobj().decompress(a)).read().splitlines(keepends=True)
    assert lines[3] == dumps(docs[3])
    assert orjson.loads(lines[3]) == {"id": "d3", "text": "$x^3$ is math", "meta": {"subset": "open-web-math", "n": 3}}
    back, _ = read_all(tmp_path / "a")
    assert [(d.id, d.text, d.metadata) for d in back] == [(d.id, d.text, d.metadata) for d in docs]
