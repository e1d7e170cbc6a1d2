"""The document contract: malformed records are counted drops with a reason; the rest of the shard survives."""

import hashlib
import io

import orjson
import zstandard
from datatrove.data import Document

from proofpile.contract import (
    EXTRA,
    META_FIELDS,
    ContractReader,
    ContractWriter,
    dumps,
    parse_record,
    plain_meta,
    typed_meta,
)


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
    meta = orjson.loads(lines[3])["meta"]
    assert list(meta) == [*META_FIELDS, EXTRA]  # every declared key, in one order; the undeclared one in extra
    assert meta["subset"] == "open-web-math" and meta["extra"] == '{"n":3}' and meta["url"] == ""
    back, _ = read_all(tmp_path / "a")
    assert [(d.id, d.text, d.metadata) for d in back] == [(d.id, d.text, d.metadata) for d in docs]


def test_meta_schema_types_every_field_and_reads_back_what_was_written():
    metadata = {"subset": "open-web-math", "url": "https://x.org/a", "warc_offset": 12.0, "math_score": 1,
                "math_sources": {"mathjax": 2, "katex": 1}, "duplicate_count": -1, "steps": "three",
                "lang": "", "vendor_flag": True, "perplexity": float("nan"), "theorems": ["a", "b"]}
    meta = typed_meta(metadata)
    assert set(meta) == set(META_FIELDS) | {EXTRA}
    for key, kind in META_FIELDS.items():  # one JSON type per field, whatever the document had
        assert type(meta[key]) is {"string": str, "int": int, "float": float, "json": str}[kind], key
    assert meta["warc_offset"] == 12 and meta["math_score"] == 1.0 and meta["math_sources"] == \
        '{"katex":1,"mathjax":2}'
    assert meta["arxiv_id"] == "" and meta["index"] == -1 and meta["lang_score"] == -1.0
    # a real -1, a mistyped value, a NaN and an undeclared key are kept in extra, not coerced or lost
    assert orjson.loads(meta[EXTRA]) == {"duplicate_count": -1, "steps": "three", "vendor_flag": True,
                                         "perplexity": None}
    back = plain_meta(orjson.loads(orjson.dumps(meta)))
    assert back == {k: v for k, v in metadata.items() if k not in ("lang", "perplexity")} | {"perplexity": None}


def test_meta_written_by_something_else_passes_unchanged():
    foreign = {"subset": "arxiv", "url": "", "n": -1}
    assert plain_meta(foreign) == foreign


def test_every_shard_of_a_folder_loads_with_datasets_and_polars_as_it_is(tmp_path):
    """Shards of different subsets, each lacking the others' fields: one schema for the folder."""
    import datasets
    import polars as pl

    shards = {"algebraic-stack/train": [{"subset": "algebraic-stack", "repo": "a/b", "path": "x.lean", "steps": 3}],
              "arxiv/train": [{"subset": "arxiv", "arxiv_id": "2301.00001", "yymm": "2301"}],
              "open-web-math/train": [{"subset": "open-web-math", "url": "https://m.org/", "warc_offset": 7,
                                       "math_score": 0.9, "math_sources": {"mathjax": 1}}]}
    for folder, metas in shards.items():
        with ContractWriter(str(tmp_path / folder)) as w:
            for i, m in enumerate(metas):
                w.write(Document(text="$x$", id=f"{folder}/{i}", metadata=m), rank=0)
    files = sorted(str(p) for p in tmp_path.rglob("*.jsonl.zst"))
    ds = datasets.load_dataset("json", data_files=files, split="train", cache_dir=str(tmp_path / ".hf"))
    assert ds.num_rows == 3 and ds.features["meta"]["warc_offset"].dtype == "int64"
    assert [r["meta"]["url"] for r in ds] == ["", "", "https://m.org/"]
    frame = pl.scan_ndjson(files).collect()
    assert frame.height == 3 and frame.schema["meta"].to_schema()["math_score"] == pl.Float64

