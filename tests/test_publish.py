"""proofpile publish: the staged folder loads with `datasets` for every config (offline), a dry run lists every file
with its size and the card, the token never shows, and a real upload + reload runs when the environment allows."""

import json
import os
import re
import uuid
from pathlib import Path

import pyarrow as pa
import pytest
import zstandard
from datatrove.data import Document

from proofpile import publish
from proofpile.cli import main as cli_main
from proofpile.contract import dumps

SECRET = "hf_" + "Zq7sEcReTtOkEnNeVeRpRiNtEd1234567"

DOCS = {  # (subset, split) -> shards of (id, meta): meta keys differ between shards on purpose
    ("arxiv", "train"): [[("a1", {"arxiv_id": "1707.08043", "yymm": "1707"})], [("a2", {"arxiv_id": "2101.1"})]],
    ("arxiv", "test"): [[("a3", {"arxiv_id": "2101.2", "yymm": "2101"})]],
    ("open-web-math", "train"): [[("w1", {"url": "https://x.org/1", "score": 0.9}), ("w2", {"url": "https://y"})]],
    ("open-web-math", "validation"): [[("w3", {"url": "https://x.org/3", "score": 1})]],
    ("algebraic-stack", "train"): [[("c1", {"repo": "r/a", "path": "A.lean", "lang": "lean"})],
                                   [("c2", {"repo": "r/b", "path": "b.py", "lang": "python", "license": "mit"})]],
    ("algebraic-stack", "validation"): [[("c3", {"repo": "r/c", "path": "C.thy", "lang": "isabelle"})]],
    ("algebraic-stack", "test"): [[("c4", {"repo": "r/d", "path": "d.m", "lang": "matlab"})]],
}


def build_root(root: Path) -> Path:
    for (subset, split), shards in DOCS.items():
        folder = root / "decontam" / subset / split
        folder.mkdir(parents=True)
        for n, shard in enumerate(shards):
            docs = [Document(text=f"text of {i}", id=i, metadata={"subset": subset, "source": "t", "split": split,
                                                                  **meta}) for i, meta in shard]
            data = b"".join(dumps(d) for d in docs)
            (folder / f"{n:05d}.jsonl.zst").write_bytes(zstandard.ZstdCompressor().compress(data))
    tok = root / "tokenized" / "tok-a"
    shards = (("algebraic-stack", "train", [[1, 5, 6, 2], [1, 7, 2]]), ("arxiv", "train", [[1, 9, 2]]))
    for subset, split, rows in shards:
        (tok / subset / split).mkdir(parents=True)
        table = pa.table({"input_ids": pa.array(rows, pa.list_(pa.uint16())),
                          "id": [f"{subset}-{i}" for i in range(len(rows))], "subset": [subset] * len(rows),
                          "split": [split] * len(rows), "lang": [None] * len(rows)})
        with pa.ipc.new_file(str(tok / subset / split / "shard-00000.arrow"), table.schema) as w:
            w.write_table(table)
    (tok / "stats.json").write_text(json.dumps({"totals": {"documents": 3, "tokens": 10, "shards": 2}}))
    return root


@pytest.fixture
def root(tmp_path):
    return build_root(tmp_path / "root")


def load_local(folder: Path, config: str):
    import datasets

    return datasets.load_dataset(str(folder), config, cache_dir=str(folder.parent / "hf-cache"))


def test_staged_folder_loads_every_config_with_datasets(root, tmp_path):
    plan = publish.make_plan(root, "org/pp2-test", "both")
    staging = publish.stage(plan, tmp_path / "staged")
    names = [c["config_name"] for c in plan.configs]
    assert names == ["default", "arxiv", "open-web-math", "algebraic-stack"]
    expected = {}
    for (subset, split), shards in DOCS.items():
        expected.setdefault(subset, {})[split] = sorted(i for shard in shards for i, _ in shard)
    for subset in ("arxiv", "open-web-math", "algebraic-stack"):
        ds = load_local(staging, subset)
        assert {split: sorted(ds[split]["id"]) for split in ds} == expected[subset]
    code = load_local(staging, "algebraic-stack")
    row = {r["id"]: r for r in code["train"]}["c2"]
    assert row["meta"]["license"] == "mit" and row["meta"]["lang"] == "python"
    assert {r["id"]: r for r in code["train"]}["c1"]["meta"]["license"] == "", "a missing string loads as empty"
    default = load_local(staging, "default")
    assert sorted(default["train"]["id"]) == ["a1", "a2", "c1", "c2", "w1", "w2"]
    assert sorted(default) == ["test", "train", "validation"]
    # the token shards beside the documents load with data_files=, as the card says
    assert "data_files={'train': 'tokenized/tok-a/algebraic-stack/train/*.arrow'}" in plan.card
    import datasets

    tokens = datasets.load_dataset(str(staging), data_files={"train": "tokenized/tok-a/algebraic-stack/train/*.arrow"},
                                   cache_dir=str(tmp_path / "hf-cache"))
    assert tokens["train"]["input_ids"] == [[1, 5, 6, 2], [1, 7, 2]]
    # staged files are the data root's files (hard links), named in Proof-Pile-2's layout
    staged = staging / "algebraic-stack" / "train" / "algebraic-stack-train-00001.jsonl.zst"
    assert os.path.samefile(staged, root / "decontam" / "algebraic-stack" / "train" / "00001.jsonl.zst")


def test_arrow_only_repo_loads_by_config(root, tmp_path):
    plan = publish.make_plan(root, "org/pp2-tokens", "arrow")
    assert [c["config_name"] for c in plan.configs] == ["arxiv-tok-a", "algebraic-stack-tok-a"]
    staging = publish.stage(plan, tmp_path / "staged")
    assert load_local(staging, "algebraic-stack-tok-a")["train"]["input_ids"] == [[1, 5, 6, 2], [1, 7, 2]]
    assert load_local(staging, "arxiv-tok-a")["train"]["id"] == ["arxiv-0"]


def test_restaging_drops_stale_files(root, tmp_path):
    staging = publish.stage(publish.make_plan(root, "org/x", "both"), tmp_path / "staged")
    assert (staging / "tokenized" / "tok-a" / "stats.json").exists()
    publish.stage(publish.make_plan(root, "org/x", "documents"), staging)
    assert not (staging / "tokenized" / "tok-a" / "stats.json").exists()


def test_dry_run_lists_every_file_with_size_and_the_card(root, capsys, monkeypatch):
    monkeypatch.setenv("HF_TOKEN", SECRET)
    code = cli_main(["publish", "--repo-id", "org/pp2-test", "--data-root", str(root), "--what", "both",
                     "--dry-run"])
    out = capsys.readouterr()
    assert code == 0, out.err
    plan = publish.make_plan(root, "org/pp2-test", "both")
    for f in plan.files:
        line = next(line for line in out.out.splitlines() if f" {f.path_in_repo} " in line)
        assert f"{f.size:,} B" in line
    assert "README.md" in out.out and "config_name: algebraic-stack" in out.out and "---" in out.out
    assert "- config_name: default" in out.out
    assert not (root / "publish").exists(), "a dry run stages nothing"
    assert SECRET not in out.out + out.err


def test_upload_uses_token_without_showing_it(root, capsys, monkeypatch, caplog):
    calls = []

    class FakeApi:
        def __init__(self, token=None):
            calls.append(("token", token))

        def create_repo(self, repo_id, **kw):
            calls.append(("create_repo", repo_id, kw))

        def upload_large_folder(self, **kw):
            calls.append(("upload_large_folder", kw))
            raise RuntimeError(f"HTTP 403 for {kw['repo_id']} (token {SECRET} lacks write access)")

    import huggingface_hub

    monkeypatch.setattr(huggingface_hub, "HfApi", FakeApi)
    monkeypatch.setenv("HF_TOKEN", SECRET)
    code = cli_main(["publish", "--repo-id", "org/pp2-test", "--data-root", str(root)])
    out = capsys.readouterr()
    assert code == 1 and "upload failed" in out.err and "resume" in out.err
    assert calls[0] == ("token", SECRET)
    assert calls[1][1] == "org/pp2-test" and calls[1][2]["repo_type"] == "dataset"
    staged = Path(calls[2][1]["folder_path"])
    assert staged == root / "publish" / "org--pp2-test" and (staged / "README.md").exists()
    logs = "".join(p.read_text(errors="replace") for p in root.rglob("*.log")) + caplog.text
    assert SECRET not in out.out + out.err + logs


def test_bad_repo_id_and_missing_documents_are_clear_errors(tmp_path, capsys):
    assert cli_main(["publish", "--repo-id", "no-slash", "--data-root", str(tmp_path), "--dry-run"]) == 2
    assert cli_main(["publish", "--repo-id", "org/x", "--data-root", str(tmp_path), "--dry-run"]) == 1
    assert "run the decontam stage" in capsys.readouterr().err


@pytest.mark.skipif(not (os.environ.get("HF_TOKEN") and os.environ.get("PROOFPILE_TEST_REPO_ID")),
                    reason="needs HF_TOKEN and PROOFPILE_TEST_REPO_ID (a dataset repo you may write) and the Hub")
def test_real_upload_and_reload(root, tmp_path, monkeypatch, capsys):
    import datasets
    import huggingface_hub.constants

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(datasets.config, "HF_HUB_OFFLINE", False)
    monkeypatch.delenv("HF_HUB_OFFLINE")
    repo_id = os.environ["PROOFPILE_TEST_REPO_ID"]
    # a fresh revision per run so reruns do not depend on what an earlier run left
    assert cli_main(["publish", "--repo-id", repo_id, "--data-root", str(root), "--what", "both", "--private"]) == 0
    out = capsys.readouterr()
    assert os.environ["HF_TOKEN"] not in out.out + out.err
    ds = datasets.load_dataset(repo_id, "algebraic-stack", cache_dir=str(tmp_path / f"cache-{uuid.uuid4().hex}"),
                               download_mode="force_redownload")
    assert sorted(ds["train"]["id"]) == ["c1", "c2"]


# -- the card as the Hub sees it -------------------------------------------------------------------------------------
HUB_SIZE_CATEGORIES = {"n<1K", "1K<n<10K", "10K<n<100K", "100K<n<1M", "1M<n<10M", "10M<n<100M", "100M<n<1B",
                       "1B<n<10B", "10B<n<100B", "100B<n<1T", "n>1T", "other"}


def staged_card(root, tmp_path, what="both"):
    from huggingface_hub import DatasetCard

    staging = publish.stage(publish.make_plan(root, "org/pp2-test", what), tmp_path / f"staged-{what}")
    return DatasetCard.load(staging / "README.md", repo_type="dataset", ignore_metadata_errors=False)


@pytest.mark.parametrize("what", ["both", "arrow"])
def test_card_metadata_follows_the_hubs_rules(root, tmp_path, what):
    """What the Hub's YAML validation checks (huggingface_hub DatasetCardData): `license: other` needs
    license_name and license_link; size_categories from its list; languages as ISO 639 codes or "code"."""
    card = staged_card(root, tmp_path, what)
    data = card.data
    assert data.license == "other" and re.fullmatch(r"[a-z0-9][a-z0-9.-]*", data.license_name)
    assert data.license_link.startswith("https://huggingface.co/datasets/org/pp2-test/") and "## Licenses" in card.text
    assert data.size_categories == ["n<1K"] and set(data.size_categories) <= HUB_SIZE_CATEGORIES
    assert data.language == ["code", "en"] and all(re.fullmatch(r"[a-z]{2,3}|code", x) for x in data.language)
    assert "code" in data.tags and "latex" in data.tags
    # the languages per config: code for algebraic-stack, English (as LaTeX) for the others
    assert re.search(r"\| algebraic-stack(-tok-a)? \| code \|", card.text)
    assert re.search(r"\| arxiv(-tok-a)? \| en \| English papers as LaTeX source \|", card.text)
    # and datasets reads the configs from it
    from datasets.utils.metadata import MetadataConfigs

    names = set(MetadataConfigs.from_dataset_card_data(data))
    assert names == ({"default", "arxiv", "open-web-math", "algebraic-stack"} if what == "both" else
                     {"arxiv-tok-a", "algebraic-stack-tok-a"})


def test_size_category_bounds():
    assert [publish.size_category(n) for n in (0, 999, 1000, 54_000_000, 10**12)] == \
           ["n<1K", "n<1K", "1K<n<10K", "10M<n<100M", "n>1T"]


def test_the_hub_validates_the_card(root, tmp_path):
    """The Hub's own validation (POST /api/validate-yaml): needs the network, so it runs only when online."""
    if os.environ.get("HF_HUB_OFFLINE") == "1":
        pytest.skip("HF_HUB_OFFLINE=1: the Hub's card validation is an online API")
    card = staged_card(root, tmp_path)
    card.validate(repo_type="dataset")
