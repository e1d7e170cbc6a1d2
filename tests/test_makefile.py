"""`make all` is incremental: a finished run does nothing; touching one stage's config reruns it and what is
downstream of it, nothing else."""

import json
import os
import re
import shutil
import subprocess

import pytest
from conftest import PROJECT

from proofpile.loader import MixtureLoader

pytestmark = pytest.mark.slow
STAGE_CMD = re.compile(r"bin/proofpile (\w+) --config ")


def stages_make_would_run(make):
    out = subprocess.run(make + ["-n", "all"], capture_output=True, text=True, check=True).stdout
    return [m.group(1) for m in STAGE_CMD.finditer(out)]


def test_make_all_redoes_only_what_changed(tmp_path):
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    configs = tmp_path / "pipelines"
    shutil.copytree(PROJECT / "pipelines", configs)
    # the copied configs still resolve inputs against the project, but touching them leaves the repo alone
    common = configs / "common.yaml"
    common.write_text(common.read_text().replace("base_dir: ..", f"base_dir: {PROJECT}"))
    # the code stage reads a copy of its samples, so the test can add a file to them
    code_samples = tmp_path / "code-samples"
    shutil.copytree(PROJECT / "proofpile" / "samples" / "code", code_samples)
    code_cfg = configs / "code.yaml"
    code_cfg.write_text(code_cfg.read_text().replace("path: proofpile/samples/code", f"path: {code_samples}"))
    root = tmp_path / "root"
    make = ["make", "--no-print-directory", "-C", str(PROJECT), f"CONFIG={configs}", f"ROOT={root}"]

    subprocess.run(make + ["all"], check=True, capture_output=True, text=True)
    assert (root / "markers" / "report.json").exists()
    # what the README promises a trainer: the demo manifest streams sequences of every component
    loader = MixtureLoader(root / "manifests" / "demo.json", max_steps=14)
    samples = list(loader.samples())
    assert {s.component for s in samples} == {"arxiv", "open-web-math", "algebraic-stack"}
    assert all(len(s.input_ids) == loader.seq_len for s in samples)
    assert stages_make_would_run(make) == [], "a finished run must leave make nothing to do"

    markers = {p.stem: p.stat().st_mtime_ns for p in (root / "markers").glob("*.json")}
    newest = max(markers.values()) + 1_000_000_000
    os.utime(configs / "code.yaml", ns=(newest, newest))
    assert stages_make_would_run(make) == ["code", "dedup", "decontam", "tokenize", "manifest", "report"]

    subprocess.run(make + ["all"], check=True, capture_output=True, text=True)
    after = {p.stem: p.stat().st_mtime_ns for p in (root / "markers").glob("*.json")}
    rerun = sorted(s for s in after if after[s] != markers[s])
    assert rerun == sorted(["code", "dedup", "decontam", "tokenize", "manifest", "report"])
    assert stages_make_would_run(make) == []

    # a new file in an input folder is an input too
    (code_samples / "python" / "added_later.py").write_text("import numpy as np\nprint(np.linalg.eigvals([[2.0]]))\n")
    assert stages_make_would_run(make) == ["code", "dedup", "decontam", "tokenize", "manifest", "report"]
    subprocess.run(make + ["all"], check=True, capture_output=True, text=True)

    # the tokenizer belongs to tokenize, manifest and report: changing it reruns those three only, and the earlier
    # tokenizer's shards stay next to the new ones
    def marker_bytes():
        return {p.stem: p.read_bytes() for p in (root / "markers").glob("*.json")}

    def rerun_after(change) -> list[str]:
        before = marker_bytes()
        change()
        subprocess.run(make + ["all"], check=True, capture_output=True, text=True)
        after = marker_bytes()
        return sorted(s for s in after if after[s] != before[s])

    def manifest_tokenizer():
        return json.loads((root / "manifests" / "demo.json").read_text())["tokenizer"]["id"]

    first = manifest_tokenizer()
    v2 = "package:mistral_common/data/mistral_instruct_tokenizer_240216.model.v2"
    assert rerun_after(lambda: common.write_text(common.read_text().replace(
        "tokenizer: package:mistral_common/data/tokenizer.model.v1", f"tokenizer: {v2}"))) == \
        ["manifest", "report", "tokenize"]
    second = manifest_tokenizer()
    assert second != first and second.startswith("mistral_common-mistral_instruct_tokenizer_240216.model.v2-")
    assert {p.name for p in (root / "tokenized").iterdir()} == {first, second}
    assert list((root / "tokenized" / first).glob("*/*/shard-*.arrow")), "the earlier tokenizer's shards stay"
    # set in tokenize.yaml, as its comment invites, the manifest stage resolves the same tokenizer
    tokenize_cfg = configs / "tokenize.yaml"
    v3 = "package:mistral_common/data/mistral_instruct_tokenizer_240323.model.v3"
    assert rerun_after(lambda: tokenize_cfg.write_text(tokenize_cfg.read_text() + f"  tokenizer: {v3}\n")) == \
        ["manifest", "report", "tokenize"]
    third = manifest_tokenizer()
    assert third.startswith("mistral_common-mistral_instruct_tokenizer_240323.model.v3-")
    assert {p.name for p in (root / "tokenized").iterdir()} == {first, second, third}
    assert stages_make_would_run(make) == []
