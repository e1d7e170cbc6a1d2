"""RedPajama's arXiv jsonl as input: ids and provenance kept, bad lines and damaged files counted."""

import gzip

import orjson
import zstandard

from proofpile.arxiv.readers import RedPajamaArxivReader


def record(arxiv_id, text="\\section{A}\nSome text.", **meta):
    return orjson.dumps({"text": text, "meta": {"arxiv_id": arxiv_id, **meta}}) + b"\n"


def test_redpajama_records_and_drops(tmp_path):
    lines = [
        record("2103.00001", yymm="2103", url="https://arxiv.org/abs/2103.00001", timestamp="2021-03-01T00:00:00"),
        record("math/0601001"),
        b"{not json\n",
        b"[1, 2]\n",
        orjson.dumps({"text": "no id", "meta": {}}) + b"\n",
        orjson.dumps({"text": "", "meta": {"arxiv_id": "2103.00002"}}) + b"\n",
        b"\n",
    ]
    (tmp_path / "arxiv_0.jsonl").write_bytes(b"".join(lines))
    good = record("2103.00003", version="v2")
    (tmp_path / "arxiv_1.jsonl.gz").write_bytes(gzip.compress(good + record("2103.00004"), mtime=0)[:-12])
    (tmp_path / "arxiv_2.jsonl.zst").write_bytes(zstandard.ZstdCompressor().compress(good))
    reader = RedPajamaArxivReader(str(tmp_path))
    docs = list(reader.run(rank=0, world_size=1))
    ids = [d.id for d in docs]
    assert ids == ["2103.00001", "math/0601001", "2103.00003v2", "2103.00003v2"]
    first = docs[0].metadata
    assert first == {"subset": "arxiv", "source": "redpajama-arxiv", "arxiv_id": "2103.00001", "yymm": "2103",
                     "source_file": "arxiv_0.jsonl", "url": "https://arxiv.org/abs/2103.00001",
                     "timestamp": "2021-03-01T00:00:00"}
    assert docs[1].metadata["yymm"] == "0601"  # derived from an old-style id
    stats = {k: v.total for k, v in reader.stats.stats.items()}
    assert stats["dropped_bad_json"] == 1
    assert stats["dropped_missing_id_or_text"] == 3
    assert stats["dropped_truncated_file"] == 1
