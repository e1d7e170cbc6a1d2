"""Readers: bad input is a counted drop, nothing outside a source root is read, git at a cutoff, The Stack's
parquet, licenses."""

import os
import subprocess
from pathlib import Path

import pytest
from test_code_helpers import PROJECT, code_config, outcomes

PROJECT_FILTERS = PROJECT / "filters" / "code"

MATH_PY = "import numpy as np\nprint(np.linalg.det(np.eye(3)))\n"


def _dir_source(path):
    return [{"kind": "dir", "path": str(path), "name": "t"}]


def test_bad_input_is_counted_never_read_outside(tmp_path, monkeypatch):
    src, outside = tmp_path / "src", tmp_path / "outside"
    src.mkdir(), outside.mkdir()
    (outside / "secret.py").write_text(MATH_PY + "# outside the root\n")
    (src / "ok.py").write_text(MATH_PY)
    (src / "binary.py").write_bytes(b"import numpy\x00\x01\x02")
    (src / "latin1.py").write_bytes("import numpy\n# caf\xe9\n".encode("latin-1"))
    (src / "empty.lean").write_text("  \n")
    with open(src / "huge.py", "wb") as f:  # a 2 GB sparse file
        f.truncate(2 * 1024**3)
    (src / "notebook.ipynb").write_text("{this is not json")
    (src / "not_nb.ipynb").write_text('{"cells": "nope"}')
    (src / "escape.py").symlink_to(outside / "secret.py")
    (src / "escape_dir").symlink_to(outside, target_is_directory=True)
    (src / "loop_a.py").symlink_to(src / "loop_b.py")
    (src / "loop_b.py").symlink_to(src / "loop_a.py")
    (src / "sub").mkdir()
    (src / "sub" / "self").symlink_to(src / "sub", target_is_directory=True)  # a directory loop
    (src / "inside.py").symlink_to(src / "ok.py")
    os.mkfifo(src / "fifo.py")

    opened, read_bytes = [], []
    real_open, real_read = os.open, os.read
    monkeypatch.setattr(os, "open", lambda p, *a, **k: (opened.append(os.fspath(p)), real_open(p, *a, **k))[1])
    monkeypatch.setattr(os, "read", lambda fd, n: (lambda b: (read_bytes.append(len(b)), b)[1])(real_read(fd, n)))

    result, stats, kept = outcomes(code_config(tmp_path, _dir_source(src)))
    assert result == {"ok.py": "kept", "notebook.ipynb": "jupyter_not_json", "not_nb.ipynb": "jupyter_not_nbformat"}
    assert stats["dropped_binary"] == 1
    assert stats["dropped_invalid_utf8"] == 1
    assert stats["dropped_empty"] == 1
    assert stats["dropped_too_large"] == 1
    assert stats["dropped_symlink_outside_root"] == 2
    assert stats["dropped_symlink_loop"] == 2  # loop_a.py <-> loop_b.py
    assert stats["dropped_symlink"] == 2  # inside.py (read at its real path instead), sub/self (a cycle: not walked)
    assert stats["dropped_special_file"] == 1
    assert all(os.path.realpath(p).startswith(str(src.resolve()) + os.sep) for p in opened)
    assert sum(read_bytes) < 1 << 20  # the 2 GB file was never read
    assert not any("outside the root" in d.text for d in kept)


def test_size_limit_reads_at_most_max_plus_one(tmp_path):
    from proofpile.code.readers import read_regular_file

    p = tmp_path / "x.py"
    p.write_bytes(b"a" * 101)
    assert read_regular_file(str(p), 101) == (b"a" * 101, None)
    assert read_regular_file(str(p), 100) == (None, "too_large")


def _git(repo, *args, date=None):
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@t", "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
    if date:
        env["GIT_AUTHOR_DATE"] = env["GIT_COMMITTER_DATE"] = date
    return subprocess.run(["git", "-C", str(repo), *args], env=env, check=True, capture_output=True,
                          text=True).stdout.strip()


@pytest.fixture
def git_repo(tmp_path):
    repo = tmp_path / "repo"
    repo.mkdir()
    _git(repo, "init", "-q", "-b", "main")
    (repo / "LICENSE").write_text("MIT License\n\nPermission is hereby granted, free of charge, to any person "
                                  "obtaining a copy\nTHE SOFTWARE IS PROVIDED \"AS IS\", WITHOUT WARRANTY OF ANY KIND\n")
    (repo / "solve.py").write_text(MATH_PY)
    (repo / "vendor").mkdir()
    (repo / "vendor" / "copy.py").write_text(MATH_PY)
    (repo / "link.py").symlink_to("/etc/passwd")
    (repo / "loop.py").symlink_to("loop.py")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "old", date="2022-06-01T12:00:00+00:00")
    old = _git(repo, "rev-parse", "HEAD")
    (repo / "solve.py").write_text(MATH_PY + "# changed after the cutoff\n")
    (repo / "new.lean").write_text("theorem t : 1 = 1 := rfl\n")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "new", date="2024-01-15T12:00:00+00:00")
    (repo / "untracked.py").write_text(MATH_PY + "# never committed\n")
    return repo, old


def test_git_repo_as_of_cutoff(tmp_path, git_repo):
    repo, old = git_repo
    cfg = code_config(tmp_path, [{"kind": "git", "path": str(repo), "name": "me/repo"}], cutoff="2023-04-01")
    result, stats, kept = outcomes(cfg)
    assert result == {"solve.py": "kept"}  # new.lean came after the cutoff; vendor/ skipped; untracked unseen
    doc = kept[0]
    assert doc.text == MATH_PY
    assert doc.id == f"me/repo@{old}:solve.py"
    assert doc.metadata == {"subset": "algebraic-stack", "source": "git", "repo": "me/repo", "commit": old,
                            "path": "solve.py", "license": "MIT", "lang": "Python"}
    assert stats["dropped_symlink"] == 2  # link.py (outside), loop.py: symlinks are never followed in git
    assert stats["dropped_vendored_dir"] == 1
    # after the later commit's date everything committed is there
    cfg = code_config(tmp_path, [{"kind": "git", "path": str(repo), "name": "me/repo"}], cutoff="2025-01-01")
    result, _, _ = outcomes(cfg)
    assert result == {"solve.py": "kept", "new.lean": "kept"}
    # before the first commit there is nothing
    cfg = code_config(tmp_path, [{"kind": "git", "path": str(repo)}], cutoff="2020-01-01")
    result, stats, _ = outcomes(cfg)
    assert result == {} and stats["dropped_git_no_commit_before_cutoff"] == 1


def test_git_folder_of_repos_shards_by_file(tmp_path, git_repo):
    repo, _ = git_repo
    cfg = code_config(tmp_path, [{"kind": "git", "path": str(repo.parent)}], cutoff="2025-01-01")
    ranks = [outcomes(cfg, rank, 2)[0] for rank in (0, 1)]
    assert set(ranks[0]).isdisjoint(ranks[1])
    assert set(ranks[0]) | set(ranks[1]) == {"solve.py", "new.lean"}


def test_stack_parquet_shard(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    folder = tmp_path / "stack" / "data" / "python"
    folder.mkdir(parents=True)
    rows = {
        "hexsha": ["a" * 40, "b" * 40, "c" * 40, "d" * 40],
        "content": [MATH_PY, "print('hello')\n", "\\section{Intro}\nText.\n", "import scipy\n\x00"],
        "max_stars_repo_path": ["src/det.py", "hello.py", "paper/intro.tex", "bin.py"],
        "max_stars_repo_name": ["alice/linalg", "bob/hello", "carol/notes", "dan/bin"],
        "max_stars_repo_head_hexsha": ["1" * 40, "2" * 40, "3" * 40, "4" * 40],
        "max_stars_repo_licenses": [["MIT"], ["Apache-2.0"], [], ["BSD-3-Clause", "MIT"]],
        "lang": ["Python", "Python", "TeX", "Python"],
    }
    pq.write_table(pa.table(rows), folder / "train-00000.parquet", row_group_size=2)
    cfg = code_config(tmp_path, [{"kind": "parquet", "path": str(tmp_path / "stack")}])
    result, stats, kept = outcomes(cfg)
    assert result == {"src/det.py": "kept", "hello.py": "python_no_math_import", "paper/intro.tex": "tex_not_english"}
    assert stats["dropped_binary"] == 1
    assert kept[0].id == f"alice/linalg@{'1' * 40}:src/det.py"
    assert kept[0].metadata == {"subset": "algebraic-stack", "source": "parquet", "repo": "alice/linalg",
                                "path": "src/det.py", "commit": "1" * 40, "license": "MIT", "lang": "Python"}
    # two row groups: one per rank
    r0, r1 = (outcomes(cfg, rank, 2)[0] for rank in (0, 1))
    assert set(r0) == {"src/det.py", "hello.py"} and set(r1) == {"paper/intro.tex"}


def test_license_detection(tmp_path):
    from test_code_helpers import PROJECT

    from proofpile.code.licenses import LicenseDetector

    det = LicenseDetector(PROJECT / "filters/code/licenses.yaml")
    assert det.is_license_file("LICENSE") and det.is_license_file("COPYING.txt") and det.is_license_file("License.md")
    assert not det.is_license_file("licenses.py") and not det.is_license_file("README")
    assert det.identify("GNU GENERAL PUBLIC LICENSE\n   Version 3, 29 June 2007") == "GPL-3.0"
    assert det.identify("GNU LESSER GENERAL PUBLIC LICENSE\nVersion 2.1, February 1999") == "LGPL-2.1"
    assert det.identify("Apache License\n Version 2.0, January 2004") == "Apache-2.0"
    assert det.identify("Redistribution and use in source and binary forms ... Neither the name of") == "BSD-3-Clause"
    assert det.identify("All rights reserved by me.") == "NOASSERTION"
    # GPLv3 names the Affero license (section 13) and the Lesser one (its end): neither is its title
    gpl3 = ("GNU GENERAL PUBLIC LICENSE\n Version 3, 29 June 2007\n ... 13. Use with the GNU Affero General Public "
            "License.\n ... under version 3 of the GNU Affero General Public License into a single combined work ...\n"
            "use the GNU Lesser General Public License instead of this License.")
    assert det.identify(gpl3) == "GPL-3.0"
    assert det.identify("GNU AFFERO GENERAL PUBLIC LICENSE\n Version 3, 19 November 2007") == "AGPL-3.0"
    assert det.identify("under the terms of the GNU Affero General Public License as published by the Free Software "
                        "Foundation, either version 3 of the License") == "AGPL-3.0"
    # MPL-2.0 lists GNU licenses as its Secondary Licenses
    assert det.identify("Mozilla Public License Version 2.0 ... the GNU Affero General Public License, Version 3.0, "
                        "or any later versions") == "MPL-2.0"


@pytest.mark.parametrize("name,spdx", [("GPL-3", "GPL-3.0"), ("GPL-2", "GPL-2.0"), ("LGPL-3", "LGPL-3.0"),
                                       ("LGPL-2.1", "LGPL-2.1"), ("Apache-2.0", "Apache-2.0"), ("MPL-2.0", "MPL-2.0")])
def test_full_license_texts_of_the_system(name, spdx):
    from test_code_helpers import PROJECT

    from proofpile.code.licenses import LicenseDetector

    path = Path("/usr/share/common-licenses") / name
    if not path.exists():
        pytest.skip(f"{path} not on this system (Debian's base-files ships it)")
    assert LicenseDetector(PROJECT / "filters/code/licenses.yaml").identify(path.read_text()) == spdx


def test_nested_license_wins(tmp_path):
    src = tmp_path / "src"
    (src / "sub").mkdir(parents=True)
    (src / "LICENSE").write_text("Apache License Version 2.0")
    (src / "sub" / "COPYING").write_text("GNU GENERAL PUBLIC LICENSE Version 2, June 1991")
    (src / "a.py").write_text(MATH_PY)
    (src / "sub" / "b.py").write_text(MATH_PY + "# b\n")
    _, _, kept = outcomes(code_config(tmp_path, _dir_source(src)))
    assert {d.metadata["path"]: d.metadata["license"] for d in kept} == {"a.py": "Apache-2.0", "sub/b.py": "GPL-2.0"}


def test_unknown_source_kind_is_a_clear_error(tmp_path):
    from proofpile.config import ConfigError

    with pytest.raises(ConfigError, match="sources.0.kind: input should be 'dir', 'git' or 'parquet'"):
        code_config(tmp_path, [{"kind": "ftp", "path": str(tmp_path)}])


def test_missing_source_is_a_config_error(tmp_path):
    from proofpile.config import ConfigError
    from proofpile.stages.code import filter_steps

    with pytest.raises(ConfigError, match="not found"):
        filter_steps(code_config(tmp_path, [{"kind": "dir", "path": str(tmp_path / "nope")}]))


def test_non_utf8_file_name_is_counted(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "ok.py").write_text(MATH_PY)
    with open(os.path.join(os.fsencode(src), b"caf\xe9.py"), "w") as f:
        f.write(MATH_PY + "# other\n")
    result, stats, _ = outcomes(code_config(tmp_path, _dir_source(src)))
    assert result == {"ok.py": "kept"} and stats["dropped_invalid_path"] == 1


def _stack_shard(folder, n=2):
    import pyarrow as pa
    import pyarrow.parquet as pq

    folder.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.table({"content": [MATH_PY + f"# {i}\n" for i in range(n)],
                             "path": [f"f{i}.py" for i in range(n)], "lang": ["Python"] * n}),
                   folder / "train-00000-of-00001.parquet")


def test_hub_source_offline_uses_the_cache_or_fails_clearly(tmp_path, monkeypatch):
    import huggingface_hub

    from proofpile.config import ConfigError
    from proofpile.stage import inputs
    from proofpile.stages.code import filter_steps

    source = [{"kind": "parquet", "hub": "bigcode/the-stack-smol", "data_dir": "data/python"}]
    cfg = code_config(tmp_path, source)
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty-cache"))
    assert inputs(cfg) == [str(PROJECT_FILTERS), str(PROJECT_FILTERS.parent / "decontam" / "formal")]  # never the Hub
    with pytest.raises(ConfigError, match="cannot get bigcode/the-stack-smol/data/python from the Hub"):
        filter_steps(cfg)  # offline and not cached
    # a cached snapshot (what snapshot_download returns offline) is read like a local folder
    snapshot = tmp_path / "snapshot"
    _stack_shard(snapshot / "data" / "python")
    calls = []
    monkeypatch.setattr(huggingface_hub, "snapshot_download", lambda **kw: (calls.append(kw), str(snapshot))[1])
    result, _, kept = outcomes(cfg)
    assert result == {"f0.py": "kept", "f1.py": "kept"}
    assert calls[0]["repo_id"] == "bigcode/the-stack-smol" and calls[0]["allow_patterns"] == ["data/python/*.parquet"]
    assert kept[0].id.startswith("bigcode/the-stack-smol:") and kept[0].metadata["source"] == "parquet"


def test_empty_git_repo_is_counted(tmp_path):
    repo = tmp_path / "empty"
    repo.mkdir()
    _git(repo, "init", "-q")
    result, stats, _ = outcomes(code_config(tmp_path, [{"kind": "git", "path": str(repo)}]))
    assert result == {} and stats["dropped_git_unreadable_repo"] == 1


def test_a_directory_swapped_for_a_symlink_after_listing_is_not_read_outside(tmp_path):
    """The listing is done before the reads: a directory replaced by a symlink in between is resolved again (one
    pointing outside the root is a counted drop, one inside is read), and so is every file below it."""
    import shutil

    from proofpile.code.readers import CodeReader

    src, outside = tmp_path / "src", tmp_path / "outside"
    for d in (src / "a" / "deep" / "er", src / "b" / "deep", src / "c", outside / "deep"):
        d.mkdir(parents=True)
    for f in (src / "a" / "deep" / "er" / "x.py", src / "b" / "deep" / "y.py", src / "c" / "z.py",
              outside / "deep" / "y.py"):
        f.write_text(MATH_PY)
    reader = CodeReader(_dir_source(src), languages=PROJECT_FILTERS / "languages.yaml",
                        vendored_dirs=PROJECT_FILTERS / "vendored-dirs.txt", licenses=PROJECT_FILTERS / "licenses.yaml")
    items = list(reader.list_dir(0, _dir_source(src)[0], True))
    shutil.rmtree(src / "b")
    (src / "b").symlink_to(outside, target_is_directory=True)  # b/deep/y.py is now outside
    shutil.rmtree(src / "a")
    (src / "a").symlink_to(src / "c", target_is_directory=True)  # inside: a/deep/er/x.py is gone, no escape
    (src / "c" / "deep" / "er").mkdir(parents=True)
    (src / "c" / "deep" / "er" / "x.py").write_text(MATH_PY)
    docs = {d.metadata["path"]: d for d in reader.read_dir_files(_dir_source(src)[0], items, [])}
    assert "b/deep/y.py" not in docs and reader.stats["dropped_symlink_outside_root"].total == 1
    assert docs["a/deep/er/x.py"].text == MATH_PY and docs["c/z.py"].text == MATH_PY


def test_a_larger_read_cap_applies_to_its_extension_only(tmp_path):
    from proofpile.code.readers import CodeReader

    for name in ("a.ipynb", "B.IPYNB", "c.py", "d.ipynb.py"):
        (tmp_path / name).write_text("x" * 500)
    reader = CodeReader(_dir_source(tmp_path), languages=PROJECT_FILTERS / "languages.yaml",
                        vendored_dirs=PROJECT_FILTERS / "vendored-dirs.txt", licenses=PROJECT_FILTERS / "licenses.yaml",
                        max_bytes=100, max_bytes_by_ext={"ipynb": 1000})
    assert sorted(d.metadata["path"] for d in reader.run(None, 0, 1)) == ["B.IPYNB", "a.ipynb"]
    assert reader.stats["dropped_too_large"].total == 2
