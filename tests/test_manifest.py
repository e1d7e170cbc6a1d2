import hashlib
import json
import shutil
from pathlib import Path

import pyarrow as pa
import pytest
import yaml

from proofpile import cli
from proofpile.config import ConfigError
from proofpile.manifest import ManifestError, load_mixture, resolve
from proofpile.tokens.samples import tokenize_corpus
from proofpile.tokens.shards import STATS_FILE

PROJECT = Path(__file__).resolve().parents[1]
MIXTURE = {"name": "t", "split": "train", "seq_len": 64, "seed": 0,
           "components": {"arxiv": {"weight": 2}, "open-web-math": {"weight": 4}, "algebraic-stack": {"weight": 1}}}


@pytest.fixture(scope="module")
def tokenized(tmp_path_factory):
    root = tmp_path_factory.mktemp("manifest") / "root"
    tokenize_corpus(root, {"shard_tokens": 4000})
    return root


@pytest.fixture
def root(tokenized, tmp_path):
    """A copy of the tokenized data root that a test may damage."""
    shutil.copytree(tokenized, tmp_path / "root", symlinks=True)
    return tmp_path / "root"


def folder_of(root: Path) -> Path:
    (folder,) = (root / "tokenized").iterdir()
    return folder


def stats_of(root: Path) -> dict:
    return json.loads((folder_of(root) / STATS_FILE).read_text())


def run_manifest_cli(root: Path, capsys) -> tuple[int, str]:
    code = cli.main(["manifest", "--config", str(PROJECT / "pipelines" / "manifest.yaml"), "--data-root", str(root)])
    return code, capsys.readouterr().err


# -- resolving ---------------------------------------------------------------------------------------------------
def test_manifest_lists_every_shard_with_checksums_and_counts(root):
    stats = stats_of(root)
    m = resolve(dict(MIXTURE, budget_tokens=70_000), root, folder_of(root).name)
    assert len(m["shards"]) == len(stats["shards"])
    for shard in m["shards"]:
        path = root / shard["path"]
        assert not Path(shard["path"]).is_absolute() and path.is_file()
        assert shard["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
        entry = next(e for e in stats["shards"] if folder_of(root) / e["path"] == path)
        assert {k: shard[k] for k in ("rows", "documents", "tokens", "bytes", "subset", "split")} == \
               {k: entry[k] for k in ("rows", "documents", "tokens", "bytes", "subset", "split")}
        assert shard["tokenizer"] == stats["tokenizer"]["id"] == m["tokenizer"]["id"]
    comps = m["components"]
    assert {n: c["weight"] for n, c in comps.items()} == pytest.approx(
        {"arxiv": 2 / 7, "open-web-math": 4 / 7, "algebraic-stack": 1 / 7})
    for name, c in comps.items():
        train = [e for e in stats["shards"] if e["subset"] == name and e["split"] == "train"]
        assert c["tokens"] == sum(e["tokens"] for e in train) and c["documents"] == sum(e["documents"] for e in train)
        assert c["sampled_tokens"] == round(70_000 * c["weight"])
        assert c["epochs"] == pytest.approx(70_000 * c["weight"] / c["tokens"])
        assert c["sequences"] == c["tokens"] // 64


def test_epochs_set_the_budget(root):
    tid = folder_of(root).name
    total = sum(c["tokens"] for c in resolve(MIXTURE, root, tid)["components"].values())
    assert resolve(MIXTURE, root, tid)["budget_tokens"] is None
    assert resolve(dict(MIXTURE, epochs=2), root, tid)["budget_tokens"] == 2 * total
    anchored = resolve(dict(MIXTURE, epochs={"arxiv": 3}), root, tid)
    assert anchored["components"]["arxiv"]["epochs"] == pytest.approx(3)
    with pytest.raises(ConfigError):
        resolve(dict(MIXTURE, epochs={"nope": 3}), root, tid)


def test_optional_components_may_be_absent_required_ones_may_not(root, tmp_path):
    tid = folder_of(root).name
    general = {"weight": 1, "subset": "general", "root": str(tmp_path / "nowhere"), "optional": True}
    m = resolve(dict(MIXTURE, components={**MIXTURE["components"], "general": general}), root, tid)
    assert [x["component"] for x in m["left_out"]] == ["general"] and "general" not in m["components"]
    assert sum(c["weight"] for c in m["components"].values()) == pytest.approx(1)
    with pytest.raises(ManifestError, match="component 'general': no shards of subset 'general'"):
        resolve(dict(MIXTURE, components={**MIXTURE["components"], "general": dict(general, optional=False)}),
                root, tid)


def test_general_data_from_another_root_joins_the_mixture(root, tmp_path):
    other = tmp_path / "general"
    shutil.copytree(folder_of(root) / "arxiv", other / "tokenized" / folder_of(root).name / "general")
    stats = stats_of(root)
    stats["shards"] = [dict(e, subset="general", path=e["path"].replace("arxiv/", "general/", 1))
                       for e in stats["shards"] if e["subset"] == "arxiv"]
    (other / "tokenized" / folder_of(root).name / STATS_FILE).write_text(json.dumps(stats))
    general = {"weight": 1, "subset": "general", "root": str(other)}
    m = resolve(dict(MIXTURE, components={**MIXTURE["components"], "general": general}), root, folder_of(root).name)
    assert m["components"]["general"]["weight"] == pytest.approx(1 / 8)
    paths = [s["path"] for s in m["shards"] if s["component"] == "general"]
    assert paths and all(Path(p).is_absolute() for p in paths)  # outside the data root: absolute


# -- refusing ----------------------------------------------------------------------------------------------------
def damage_truncate_13_bytes(path: Path):
    path.write_bytes(path.read_bytes()[:13])


def damage_empty(path: Path):
    path.write_bytes(b"")


def read_in_memory(path: Path) -> pa.Table:
    # not memory-mapped: rewriting a file under a live memory map is a bus error
    return pa.ipc.open_file(pa.BufferReader(path.read_bytes())).read_all()


def damage_drop_rows(path: Path):
    """A well-formed Arrow file holding fewer rows than were written: the slicing-bug case."""
    table = read_in_memory(path)
    half = table.slice(0, table.num_rows // 2)
    with pa.OSFile(str(path), "wb") as sink, pa.ipc.new_file(sink, table.schema) as writer:
        writer.write_table(half)


def damage_cut_mid_batch(path: Path):
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def damage_delete(path: Path):
    path.unlink()


@pytest.mark.parametrize("damage", [damage_truncate_13_bytes, damage_empty, damage_drop_rows, damage_cut_mid_batch,
                                    damage_delete])
def test_refuses_a_damaged_shard_with_a_clear_error(root, damage, capsys):
    stats = stats_of(root)
    victim = folder_of(root) / next(e["path"] for e in stats["shards"] if e["subset"] == "algebraic-stack")
    damage(victim)
    code, err = run_manifest_cli(root, capsys)
    assert code != 0
    assert "refusing to write the manifest" in err and str(victim) in err
    assert not (root / "manifests").exists() or not list((root / "manifests").iterdir())


def test_refuses_a_shard_the_stats_do_not_list(root, capsys):
    stray = folder_of(root) / "arxiv" / "train" / "shard-99999.arrow"
    shutil.copy(next((folder_of(root) / "arxiv" / "train").glob("shard-*.arrow")), stray)
    code, err = run_manifest_cli(root, capsys)
    assert code != 0 and "shard-99999.arrow: on disk but not in" in err


def test_refuses_token_ids_outside_the_vocabulary(root, tmp_path):
    stats = stats_of(root)
    entry = next(e for e in stats["shards"] if e["subset"] == "arxiv")
    path = folder_of(root) / entry["path"]
    table = read_in_memory(path)
    ids = table.column("input_ids").combine_chunks()
    values = ids.flatten().to_numpy().copy()
    values[0] = 40000  # the vocabulary has 32,000
    bad = table.set_column(0, "input_ids", pa.ListArray.from_arrays(ids.offsets, pa.array(values)))
    with pa.OSFile(str(path), "wb") as sink, pa.ipc.new_file(sink, table.schema) as writer:
        writer.write_table(bad.cast(table.schema))
    with pytest.raises(ManifestError, match="outside the vocabulary"):
        resolve(MIXTURE, root, folder_of(root).name)


# -- the stage and the mixture files -----------------------------------------------------------------------------
def test_stage_writes_the_configured_mixtures_deterministically(root, tokenized, tmp_path, capsys):
    code, err = run_manifest_cli(root, capsys)
    assert code == 0, err
    demo = json.loads((root / "manifests" / "demo.json").read_text())
    llemma = json.loads((root / "manifests" / "llemma.json").read_text())
    assert demo["format"] == llemma["format"] == "proofpile-manifest/1"
    assert demo["mixture"] == "manifests/demo.yaml" and demo["seq_len"] == 128
    assert llemma["budget_tokens"] == 200_000_000_000 and llemma["seq_len"] == 4096
    other = tmp_path / "other"
    shutil.copytree(tokenized, other, symlinks=True)
    assert run_manifest_cli(other, capsys)[0] == 0
    assert (other / "manifests" / "demo.json").read_bytes() == (root / "manifests" / "demo.json").read_bytes()


def test_llemma_mixture_is_2_4_1():
    mixture = load_mixture(PROJECT / "manifests" / "llemma.yaml")
    weights = {n: c["weight"] for n, c in mixture["components"].items()}
    assert weights == {"arxiv": 2, "open-web-math": 4, "algebraic-stack": 1}
    assert mixture["seq_len"] == 4096 and mixture["split"] == "train"


@pytest.mark.parametrize("path", sorted((PROJECT / "manifests").glob("*.yaml")), ids=lambda p: p.name)
def test_every_mixture_file_loads(path):
    mixture = load_mixture(path)
    assert mixture["name"] == path.stem
    assert all(c["weight"] >= 0 for c in mixture["components"].values())


@pytest.mark.parametrize("text, message", [
    ("components: {}", "needs a `components` mapping"),
    ("components: {arxiv: {weight: -1}}", "weight >= 0"),
    ("components: {arxiv: {weight: 1, colour: red}}", "unknown keys"),
    ("budget_tokens: 10\nepochs: 1\ncomponents: {arxiv: 1}", "not both"),
])
def test_bad_mixture_files_are_config_errors(tmp_path, text, message):
    path = tmp_path / "m.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message):
        load_mixture(path)
    assert yaml.safe_load(text) is not None


def test_small_components_warn_and_empty_splits_refuse(root):
    tid = folder_of(root).name
    m = resolve(dict(MIXTURE, seq_len=10**6), root, tid)
    assert len(m["warnings"]) == 3 and "fewer than one sequence of 1000000" in m["warnings"][0]
    assert resolve(MIXTURE, root, tid)["warnings"] == []
    with pytest.raises(ManifestError, match="component 'arxiv': no holdout tokens to sample"):
        resolve(dict(MIXTURE, split="holdout"), root, tid)
