"""arXiv archives are untrusted: every tar attack is refused and counted, bombs stop at the caps, damaged archives
are counted drops, and nothing is ever written to disk."""

import gzip
import io
import os
import tarfile
import zlib
from collections import Counter

import pytest

from proofpile.arxiv.archive import ArchiveError, BoundedGunzip, Limits, iter_bulk_tar, open_paper
from proofpile.arxiv.readers import ArxivSourceReader, parse_arxiv_name

MAIN = rb"""\documentclass{article}
\begin{document}
\section{Intro}
Safe text. \input{sections/intro}
\end{document}
"""
SECRET = b"TOP-SECRET-CONTENT"


def member(name, data=b"", kind=tarfile.REGTYPE, linkname="", size=None):
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = linkname
    info.mtime = 0
    info.size = len(data) if size is None else size
    return info, data


def make_tar(members, fmt=tarfile.GNU_FORMAT) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt) as tar:
        for info, data in members:
            tar.addfile(info, io.BytesIO(data) if info.isreg() else None)
    return buf.getvalue()


def gz(data: bytes) -> bytes:
    return gzip.compress(data, mtime=0)


def paper_with(*extra) -> bytes:
    return gz(make_tar([member("main.tex", MAIN), *extra]))


ATTACKS = {
    "absolute_path": member("/tmp/proofpile-evil.tex", SECRET),
    "parent_path": member("../../proofpile-evil.tex", SECRET),
    "parent_path_nested": member("sections/../../proofpile-evil.tex", SECRET),
    "symlink": member("sections/intro.tex", kind=tarfile.SYMTYPE, linkname="/etc/passwd"),
    "hardlink": member("sections/intro.tex", kind=tarfile.LNKTYPE, linkname="/etc/passwd"),
    "hardlink_parent": member("sections/intro.tex", kind=tarfile.LNKTYPE, linkname="../main.tex"),
    "device": member("sections/intro.tex", kind=tarfile.CHRTYPE),
    "block_device": member("dev.tex", kind=tarfile.BLKTYPE),
    "fifo": member("fifo.tex", kind=tarfile.FIFOTYPE),
}
EXPECTED_REASON = {"parent_path_nested": "parent_path", "hardlink_parent": "hardlink", "block_device": "device", "fifo": "device"}


@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_each_tar_attack_is_refused_and_counted(attack, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    skipped = Counter()
    paper = open_paper(paper_with(ATTACKS[attack]), Limits(), skipped)
    assert skipped == Counter({EXPECTED_REASON.get(attack, attack): 1})
    # the attacker's member is not among the readable files, and nothing was written anywhere we can see
    assert list(paper.files) == ["main.tex"]
    assert all(SECRET not in data for data in paper.files.values())
    assert list(tmp_path.iterdir()) == []
    assert not os.path.exists("/tmp/proofpile-evil.tex")


def test_attacks_in_a_bulk_tar_are_refused_and_counted(tmp_path):
    bulk = make_tar([
        member("2301/2301.00001.gz", paper_with()),
        member("/abs/2301.00002.gz", paper_with()),
        member("../2301.00003.gz", paper_with()),
        member("2301/2301.00004.gz", kind=tarfile.SYMTYPE, linkname="/etc/shadow"),
        member("2301/2301.00005.gz", kind=tarfile.LNKTYPE, linkname="2301/2301.00001.gz"),
        member("2301/2301.00006.gz", kind=tarfile.CHRTYPE),
    ])
    skipped = Counter()
    papers = list(iter_bulk_tar(io.BytesIO(bulk), Limits(), skipped))
    assert [name for name, _ in papers] == ["2301/2301.00001.gz"]
    assert skipped == Counter(absolute_path=1, parent_path=1, symlink=1, hardlink=1, device=1)


def test_input_cannot_reach_outside_the_paper(tmp_path):
    secret = tmp_path / "secret.tex"
    secret.write_bytes(SECRET)
    main = (b"\\documentclass{article}\\begin{document}\\section{A}\n\\input{/etc/hostname}\n"
            b"\\input{" + str(secret).encode() + b"}\n\\input{../secret}\n\\include{../../secret.tex}\nend\n"
            b"\\end{document}\n")
    reader = ArxivSourceReader(str(tmp_path))
    bulk = tmp_path / "arXiv_src_2301_001.tar"
    bulk.write_bytes(make_tar([member("2301/2301.00007.gz", gz(make_tar([member("main.tex", main)])))]))
    docs = list(reader.run(rank=0, world_size=1))
    assert len(docs) == 1 and SECRET.decode() not in docs[0].text
    assert reader.stats.stats["input_missing"].total == 4


def test_gzip_bomb_stops_at_the_cap():
    bomb = gz(bytes(64 << 20))  # 64 MiB of zeros in ~64 KiB
    assert len(bomb) < 200_000
    with pytest.raises(ArchiveError) as e:
        open_paper(bomb, Limits(max_paper_bytes=1 << 20, max_file_bytes=1 << 20))
    assert e.value.reason == "too_large"
    # the stream itself never hands out more than the cap
    stream = BoundedGunzip(bomb, limit=4 << 20)
    got = 0
    with pytest.raises(ArchiveError):
        while chunk := stream.read(1 << 16):
            got += len(chunk)
    assert got <= 4 << 20


def test_gunzip_stream_skips_forward_within_the_cap_and_never_back():
    data = bytes(range(256)) * 4096  # 1 MiB
    stream = BoundedGunzip(gz(data), limit=len(data))
    assert stream.read(10) == data[:10]
    assert stream.seek(700_000) == 700_000 and stream.read(5) == data[700_000:700_005]
    with pytest.raises(OSError):
        stream.seek(10)
    assert stream.seek(5 << 20) == len(data) and stream.read(1) == b""  # past the end, as a file
    with pytest.raises(ArchiveError) as e:
        BoundedGunzip(gz(data), limit=len(data) - 1).seek(len(data))  # skipped bytes count against the cap
    assert e.value.reason == "too_large"


def test_concatenated_members_read_in_pieces_are_not_garbled():
    # the first member ends inside a call whose input was the previous call's unconsumed tail: what follows it must
    # be read once (zlib leaves it in both unused_data and unconsumed_tail)
    first = b"".join(b"line %d of the first member\n" % i for i in range(2600))[:66187]
    second = bytes(range(256)) * 300
    stream = BoundedGunzip(gz(first) + gz(second), limit=1 << 20)
    pieces = []
    while piece := stream.read(1 << 16):
        pieces.append(piece)
    assert b"".join(pieces) == first + second


def test_tar_bomb_inside_gzip_stops_at_the_cap():
    big = make_tar([member("main.tex", MAIN), member("data.bin", bytes(8 << 20))])
    with pytest.raises(ArchiveError) as e:
        open_paper(gz(big), Limits(max_paper_bytes=2 << 20))
    assert e.value.reason == "too_large"


def test_too_many_members():
    members = [member("main.tex", MAIN)] + [member(f"f{i}.tex", b"x") for i in range(60)]
    with pytest.raises(ArchiveError) as e:
        open_paper(gz(make_tar(members)), Limits(max_members=50))
    assert e.value.reason == "too_many_members"
    with pytest.raises(ArchiveError) as e:
        list(iter_bulk_tar(io.BytesIO(make_tar([member(f"{i}.gz", b"x") for i in range(20)])),
                           Limits(max_papers=10), Counter()))
    assert e.value.reason == "too_many_members"


def test_oversized_member_is_skipped_not_read():
    skipped = Counter()
    paper = open_paper(paper_with(member("huge.tex", b"a" * 3000)), Limits(max_file_bytes=2000), skipped)
    assert skipped == Counter(large_file=1) and "huge.tex" not in paper.files


def test_single_tex_is_detected_by_content_and_bounded():
    paper = open_paper(gz(MAIN), Limits())
    assert paper.kind == "tex" and paper.files == {"main.tex": MAIN}
    with pytest.raises(ArchiveError) as e:
        open_paper(gz(b"%" + b"a" * 5000), Limits(max_file_bytes=1000))
    assert e.value.reason == "too_large"


def test_v7_tar_without_magic_is_still_a_tar():
    paper = open_paper(gz(make_tar([member("main.tex", MAIN)], fmt=tarfile.USTAR_FORMAT)), Limits())
    assert paper.kind == "tar"
    raw = bytearray(make_tar([member("main.tex", MAIN)], fmt=tarfile.USTAR_FORMAT))
    raw[257:265] = bytes(8)  # drop the ustar magic and version, as a v7 header has none
    raw[148:156] = b"%06o\0 " % (sum(raw[:148]) + 8 * 32 + sum(raw[156:512]))
    assert open_paper(gz(bytes(raw)), Limits()).kind == "tar"


def test_pdf_only_and_garbage():
    with pytest.raises(ArchiveError) as e:
        open_paper(gz(b"%PDF-1.4\n..."), Limits())
    assert e.value.reason == "pdf_only"
    with pytest.raises(ArchiveError) as e:
        open_paper(b"%PDF-1.5 raw", Limits())
    assert e.value.reason == "pdf_only"
    with pytest.raises(ArchiveError) as e:
        open_paper(b"not a gzip at all", Limits())
    assert e.value.reason == "bad_gzip"
    corrupt = bytearray(gz(MAIN * 50))
    corrupt[20:40] = b"\xff" * 20
    with pytest.raises(ArchiveError) as e:
        open_paper(bytes(corrupt), Limits())
    assert e.value.reason in ("bad_gzip", "truncated")


def test_truncated_gzip_is_a_counted_drop():
    data = paper_with(member("sections/intro.tex", b"more text " * 500))
    with pytest.raises(ArchiveError) as e:
        open_paper(data[: len(data) // 2], Limits())
    assert e.value.reason == "truncated"


def test_concatenated_gzip_members_are_one_stream():
    data = gz(MAIN[:40]) + gz(MAIN[40:])
    assert open_paper(data, Limits()).files["main.tex"] == MAIN


def test_reader_counts_every_drop_and_keeps_the_rest(tmp_path):
    good = paper_with(member("sections/intro.tex", b"Included text.\n"))
    truncated = paper_with(member("sections/intro.tex", b"more text " * 500))
    bulk = make_tar([
        member("2301/2301.00001.gz", good),
        member("2301/2301.00002.pdf", b"%PDF-1.4"),
        member("2301/2301.00003.gz", truncated[: len(truncated) // 2]),
        member("2301/2301.00004.gz", gz(bytes(4 << 20))),
        member("2301/2301.00005.gz", gz(b"no latex here, just words")),
        member("2301/README", b"x"),
    ])
    (tmp_path / "arXiv_src_2301_001.tar").write_bytes(bulk)
    (tmp_path / "math0601001v2.gz").write_bytes(good)
    (tmp_path / "2301.00006.pdf").write_bytes(b"%PDF-1.4")
    reader = ArxivSourceReader(str(tmp_path), limits=Limits(max_paper_bytes=1 << 20))
    docs = {d.id: d for d in reader.run(rank=0, world_size=1)}
    assert sorted(docs) == ["2301.00001", "math/0601001v2"]
    assert "Included text." in docs["2301.00001"].text
    meta = docs["math/0601001v2"].metadata
    assert meta["arxiv_id"] == "math/0601001" and meta["yymm"] == "0601" and meta["version"] == "v2"
    assert meta["subset"] == "arxiv" and meta["source_file"] == "math0601001v2.gz"
    assert docs["2301.00001"].metadata["source_file"] == "arXiv_src_2301_001.tar:2301/2301.00001.gz"
    stats = {k: v.total for k, v in reader.stats.stats.items()}
    assert stats["dropped_pdf_only"] == 2
    assert stats["dropped_truncated"] == 1
    assert stats["dropped_too_large"] == 1
    assert stats["dropped_no_main_file"] == 1
    assert stats["skipped_member_not_a_paper"] == 1


def test_truncated_bulk_tar_keeps_the_papers_before_the_damage(tmp_path):
    bulk = make_tar([member("2301/2301.00001.gz", paper_with()),
                     member("2301/2301.00002.gz", paper_with(member("pad.tex", os.urandom(20000))))])
    (tmp_path / "arXiv_src_2301_002.tar").write_bytes(bulk[:len(bulk) - 15000])
    reader = ArxivSourceReader(str(tmp_path))
    docs = list(reader.run(rank=0, world_size=1))
    assert [d.id for d in docs] == ["2301.00001"]
    assert reader.stats.stats["dropped_archive_truncated"].total == 1


def test_limits_from_config_reject_unknown_keys():
    assert Limits.from_config({"max_members": "10"}).max_members == 10
    with pytest.raises(ValueError):
        Limits.from_config({"max_membres": 10})


def test_arxiv_names():
    assert parse_arxiv_name("2301/2301.00001.gz") == {"arxiv_id": "2301.00001", "yymm": "2301"}
    assert parse_arxiv_name("1707.08043v3.gz") == {"arxiv_id": "1707.08043", "yymm": "1707", "version": "v3"}
    assert parse_arxiv_name("hep-th9901001.gz") == {"arxiv_id": "hep-th/9901001", "yymm": "9901"}
    assert parse_arxiv_name("notes.gz") == {}


def test_zlib_decompression_is_bounded_per_call():
    # the guarantee the bomb defence rests on: max_length bounds one call's output
    d = zlib.decompressobj(wbits=47)
    out = d.decompress(gz(bytes(1 << 20)), 1000)
    assert len(out) == 1000


def test_readme_hints_are_kept_with_the_sources():
    paper = open_paper(paper_with(member("00README.json", b'{"sources": []}'), member("fig.eps", b"%!PS")), Limits())
    assert sorted(paper.files) == ["00README.json", "main.tex"]


def test_postscript_only_is_a_counted_drop():
    with pytest.raises(ArchiveError) as e:
        open_paper(gz(b"%!PS-Adobe-2.0\n%%Title: paper.dvi\n"), Limits())
    assert e.value.reason == "postscript_only"


def test_trailing_padding_after_gzip_is_ignored_like_gunzip_does():
    assert open_paper(gz(MAIN) + bytes(512), Limits()).files["main.tex"] == MAIN
    assert open_paper(gz(MAIN) + b"garbage", Limits()).files["main.tex"] == MAIN


def test_compressed_bulk_tars_are_not_streamed(tmp_path):
    # a .tar.gz is one paper (gzipped tar of its sources), never a bulk tar to stream through without bound
    (tmp_path / "2301.00009.tar.gz").write_bytes(paper_with())
    docs = list(ArxivSourceReader(str(tmp_path)).run(rank=0, world_size=1))
    assert [d.id for d in docs] == ["2301.00009"]
    assert docs[0].metadata["source_kind"] == "tar"
    bulk_gz = gz(make_tar([member("2301/2301.00001.gz", paper_with())]))
    with pytest.raises(ArchiveError):
        list(iter_bulk_tar(io.BytesIO(bulk_gz), Limits(), Counter()))
