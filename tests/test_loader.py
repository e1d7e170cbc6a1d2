import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from proofpile.loader import MixtureLoader, integer_weights, swrr_step
from proofpile.manifest import manifest_bytes, resolve
from proofpile.tokens.samples import tokenize_corpus
from proofpile.tokens.shards import open_shard, token_chunks

SEQ_LEN = 16
MIXTURE = {"name": "loader-test", "split": "train", "seq_len": SEQ_LEN, "seed": 7,
           "components": {"arxiv": {"weight": 2}, "open-web-math": {"weight": 4}, "algebraic-stack": {"weight": 1}}}


@pytest.fixture(scope="module")
def manifest_path(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("loader") / "root"
    tokenize_corpus(root, {"shard_tokens": 5000}, per_split={"train": 30, "validation": 3})
    (tid,) = [p.name for p in (root / "tokenized").iterdir()]
    path = root / "manifests" / "loader-test.json"
    path.parent.mkdir()
    path.write_bytes(manifest_bytes(resolve(MIXTURE, root, tid)))
    return path


def component_stream(manifest_path: Path, component: str, split: str = "train") -> np.ndarray:
    m = json.loads(manifest_path.read_text())
    root = manifest_path.parent.parent
    shards = [s for s in m["shards"] if s["component"] == component and s["split"] == split]
    return np.concatenate([c for s in shards for c in token_chunks(open_shard(root / s["path"]))])


# -- the schedule ------------------------------------------------------------------------------------------------
def test_integer_weights_are_exact_proportions():
    assert integer_weights([2 / 7, 4 / 7, 1 / 7]) == [2, 4, 1]
    assert integer_weights([0.5, 0.25, 0.25]) == [2, 1, 1]
    assert integer_weights([3, 3]) == [1, 1]


def test_proportions_hold_over_10000_sequences_and_in_every_window(manifest_path):
    loader = MixtureLoader(manifest_path, max_steps=10_000)
    picks = [s.component for s in loader.samples()]
    assert len(picks) == 10_000
    counts = Counter(picks)
    weights = json.loads(manifest_path.read_text())["components"]
    for name, c in weights.items():
        assert abs(counts[name] / 10_000 - c["weight"]) < 0.01, (name, counts)
        # not just on average: every window of 70 steps is within 2 of its share, every period of 7 exact
        hits = np.cumsum([p == name for p in picks])
        window = hits[70:] - hits[:-70]
        assert np.abs(window - 70 * c["weight"]).max() <= 2
    assert [Counter(picks[i:i + 7]) for i in range(0, 70, 7)] == \
           [{"open-web-math": 4, "arxiv": 2, "algebraic-stack": 1}] * 10


def test_swrr_for_uneven_weights_stays_within_one_of_its_share():
    weights = integer_weights([0.62, 0.27, 0.11])
    credit, picks = [0, 0, 0], []
    for _ in range(5000):
        picks.append(swrr_step(credit, weights, sum(weights)))
    for i, w in enumerate(weights):
        hits = np.cumsum([p == i for p in picks])
        assert np.abs(hits - np.arange(1, 5001) * w / sum(weights)).max() < 1.01


# -- the sequences -----------------------------------------------------------------------------------------------
def component_documents(manifest_path: Path, component: str, split: str = "train") -> list[np.ndarray]:
    """A component's documents (Arrow rows) in manifest order, read with pyarrow alone."""
    m = json.loads(manifest_path.read_text())
    root = manifest_path.parent.parent
    shards = [s for s in m["shards"] if s["component"] == component and s["split"] == split]
    rows = []
    for s in shards:
        with pa.memory_map(str(root / s["path"])) as f:
            ids = pa.ipc.open_file(f).read_all().column("input_ids").to_pylist()
        rows += [np.array(r, dtype=np.uint16) for r in ids]
    return rows


def test_sequences_are_slices_of_each_epochs_shuffled_documents(manifest_path):
    m = json.loads(manifest_path.read_text())
    loader = MixtureLoader(manifest_path, max_steps=7 * m["components"]["algebraic-stack"]["sequences"] + 7)
    docs = {n: component_documents(manifest_path, n) for n in MIXTURE["components"]}
    epochs = set()
    for s in loader.samples():
        comp = next(c for c in loader.components if c.name == s.component)
        order, _, _ = comp.epoch(s.epoch)
        assert sorted(order.tolist()) == list(range(len(docs[s.component])))  # every document once per epoch
        stream = np.concatenate([docs[s.component][d] for d in order])
        assert s.input_ids.shape == (SEQ_LEN,) and s.input_ids.dtype == np.uint16
        assert np.array_equal(s.input_ids, stream[s.index * SEQ_LEN:(s.index + 1) * SEQ_LEN])
        epochs.add((s.component, s.epoch))
    code = next(c for c in loader.components if c.name == "algebraic-stack")
    assert ("algebraic-stack", 1) in epochs and code.epoch(0)[0].tolist() != code.epoch(1)[0].tolist()  # reshuffled
    assert code.epoch(0)[0].tolist() != sorted(code.epoch(0)[0].tolist())  # documents, not only sequences


def test_each_epoch_visits_every_sequence_once_in_a_seeded_order(manifest_path):
    m = json.loads(manifest_path.read_text())
    n = m["components"]["algebraic-stack"]["sequences"]
    steps = 7 * n * 2  # algebraic-stack (weight 1/7) runs exactly two epochs
    seen = [(s.epoch, s.index) for s in MixtureLoader(manifest_path, max_steps=steps).samples()
            if s.component == "algebraic-stack"]
    assert sorted(i for e, i in seen if e == 0) == list(range(n)) == sorted(i for e, i in seen if e == 1)
    assert [i for e, i in seen if e == 0] != [i for e, i in seen if e == 1]  # reshuffled per epoch
    other_seed = [(s.epoch, s.index) for s in MixtureLoader(manifest_path, max_steps=steps, seed=8).samples()
                  if s.component == "algebraic-stack"]
    assert other_seed != seen
    again = [(s.epoch, s.index) for s in MixtureLoader(manifest_path, max_steps=steps).samples()
             if s.component == "algebraic-stack"]
    assert again == seen


def test_ranks_together_read_each_sequence_once(manifest_path):
    m = json.loads(manifest_path.read_text())
    steps = 7 * m["components"]["algebraic-stack"]["sequences"]  # one epoch of algebraic-stack
    single = [(s.step, s.component, s.epoch, s.index) for s in MixtureLoader(manifest_path, max_steps=steps).samples()]
    for world in (2, 3, 7):
        ranks = [[(s.step, s.component, s.epoch, s.index)
                  for s in MixtureLoader(manifest_path, rank=r, world_size=world, max_steps=steps).samples()]
                 for r in range(world)]
        union = sorted(x for rank in ranks for x in rank)
        assert union == single  # no overlap, nothing missing
        # every round of `world` steps gives each rank exactly one: lockstep
        for r, rank in enumerate(ranks):
            assert [x[0] // world for x in rank] == list(range(steps // world)) + ([steps // world] if any(
                x[0] // world == steps // world for x in rank) else [])
        # and not always the same slot of the 7-step schedule period
        assert all(len({x[0] % 7 for x in rank}) > 1 for rank in ranks)
        assert [len(MixtureLoader(manifest_path, rank=r, world_size=world, max_steps=steps)) for r in range(world)] \
               == [len(rank) for rank in ranks]
    epoch0 = [(c, i) for _, c, e, i in single if e == 0 and c == "algebraic-stack"]
    assert len(epoch0) == len(set(epoch0)) == m["components"]["algebraic-stack"]["sequences"]


@pytest.mark.parametrize("rank, world, n", [(0, 1, 1), (0, 1, 137), (1, 3, 50), (2, 4, 0), (6, 7, 33)])
def test_resume_continues_with_exactly_the_next_sequence(manifest_path, rank, world, n):
    nonstop = [x.copy() for x in MixtureLoader(manifest_path, rank=rank, world_size=world, max_steps=900)]
    first = MixtureLoader(manifest_path, rank=rank, world_size=world, max_steps=900)
    it = iter(first)
    head = [next(it) for _ in range(n)]
    state = json.loads(json.dumps(first.state_dict()))  # what a checkpoint would store
    resumed = MixtureLoader(manifest_path, rank=rank, world_size=world, max_steps=900)
    resumed.load_state_dict(state)
    assert len(resumed) == len(nonstop) - n
    rest = list(resumed)
    assert len(head) + len(rest) == len(nonstop)
    assert all(np.array_equal(a, b) for a, b in zip(head + rest, nonstop))


def test_a_state_from_another_setup_is_refused(manifest_path):
    state = MixtureLoader(manifest_path).state_dict()
    for other in (dict(seed=1), dict(rank=1, world_size=2), dict(seq_len=32)):
        with pytest.raises(ValueError, match="loader state is for"):
            MixtureLoader(manifest_path, **other).load_state_dict(state)


def test_budget_ends_the_stream_and_validation_split_works(manifest_path):
    m = json.loads(manifest_path.read_text())
    m["budget_tokens"] = 100 * SEQ_LEN
    loader = MixtureLoader(m, data_root=manifest_path.parent.parent)
    assert len(loader) == 100 and len(list(loader)) == 100
    with pytest.raises(TypeError):
        len(MixtureLoader(manifest_path))
    val = MixtureLoader(manifest_path, split="validation", max_steps=20)
    assert {s.component for s in val.samples()} == set(MIXTURE["components"])


def test_a_changed_shard_is_noticed(manifest_path, tmp_path):
    m = json.loads(manifest_path.read_text())
    m["shards"] = [dict(s, bytes=s["bytes"] + 1) for s in m["shards"]]
    with pytest.raises(RuntimeError, match="the manifest says"):
        next(iter(MixtureLoader(m, data_root=manifest_path.parent.parent)))
    m = json.loads(manifest_path.read_text())
    m["shards"] = [dict(s, sha256="0" * 64) for s in m["shards"]]
    assert len(next(iter(MixtureLoader(m, data_root=manifest_path.parent.parent)))) == SEQ_LEN
    with pytest.raises(RuntimeError, match="sha256 differs"):
        next(iter(MixtureLoader(m, data_root=manifest_path.parent.parent, verify=True)))


# -- the shards as other libraries see them ----------------------------------------------------------------------
def test_shards_load_unchanged_with_pyarrow_polars_and_datasets(manifest_path):
    import datasets
    import polars as pl

    m = json.loads(manifest_path.read_text())
    shard = next(s for s in m["shards"] if s["component"] == "arxiv")
    path = manifest_path.parent.parent / shard["path"]
    with pa.memory_map(str(path)) as f:
        reader = pa.ipc.open_file(f)  # the random-access format: a footer listing the record batches
        assert reader.num_record_batches >= 1
        table = reader.read_all()
    assert table.num_rows == shard["rows"]
    assert table.schema.field("input_ids").type == pa.list_(pa.uint16())
    ids = table.column("input_ids").to_pylist()
    frame = pl.scan_ipc(path).collect()  # lazily: the footer says where each batch is
    assert frame.height == shard["rows"] and frame["input_ids"].dtype == pl.List(pl.UInt16)
    assert frame["input_ids"].to_list() == ids and frame["id"].to_list() == table.column("id").to_pylist()
    ds = datasets.Dataset(open_shard(path))
    assert ds.num_rows == shard["rows"] and ds["input_ids"][:] == ids
    assert ds.features["input_ids"].feature.dtype == "uint16"
    loaded = datasets.load_dataset("arrow", data_files={"train": [str(path)]}, split="train",
                                   cache_dir=str(manifest_path.parent / "hf-cache"))
    assert loaded["id"][:] == table.column("id").to_pylist() and loaded["input_ids"][:] == ids


def test_the_token_folder_scans_as_one_dataset_with_pyarrow_and_polars(manifest_path):
    import polars as pl
    import pyarrow.dataset as pds

    m = json.loads(manifest_path.read_text())
    root = manifest_path.parent.parent
    folder = root / "tokenized" / m["tokenizer"]["id"]
    paths = sorted(str(root / s["path"]) for s in m["shards"])
    dataset = pds.dataset(str(folder), format="arrow", exclude_invalid_files=False,
                          partitioning=None, ignore_prefixes=[".", "_", "stats.json"])
    assert sorted(dataset.files) == paths
    assert dataset.count_rows() == sum(s["rows"] for s in m["shards"])
    by_subset = dataset.to_table(columns=["subset"], filter=pds.field("split") == "train").column("subset")
    expected = Counter()
    for s in m["shards"]:
        if s["split"] == "train":
            expected[s["subset"]] += s["rows"]
    assert Counter(by_subset.to_pylist()) == expected
    lazy = (pl.scan_ipc(f"{folder}/*/*/shard-*.arrow").filter(pl.col("subset") == "arxiv")
            .select(pl.col("input_ids").list.len().sum()).collect())
    assert lazy.item() == sum(s["tokens"] for s in m["shards"] if s["subset"] == "arxiv")


# -- torch -------------------------------------------------------------------------------------------------------
def test_proofpile_does_not_import_torch():
    code = "import sys, proofpile.loader, proofpile.manifest, proofpile.stages.tokenize; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_torch_dataset_yields_the_loaders_sequences_as_uint16_batches(manifest_path):
    torch = pytest.importorskip("torch")
    from proofpile.loader import TorchMixtureDataset

    ds = TorchMixtureDataset(manifest_path, batch_size=4, max_steps=22)
    batches = list(torch.utils.data.DataLoader(ds, batch_size=None))
    assert [b.shape for b in batches] == [(4, SEQ_LEN)] * 5 + [(2, SEQ_LEN)]
    assert batches[0].dtype == torch.uint16  # 2 bytes a token between processes, not int64's 8
    expected = np.stack(list(MixtureLoader(manifest_path, max_steps=22)))
    assert np.array_equal(torch.cat(batches).numpy(), expected)
    # with workers: the same batches in the same order, so each is the schedule's window (exact 4:2:1 per 7)
    for workers in (2, 3):
        again = list(torch.utils.data.DataLoader(TorchMixtureDataset(manifest_path, batch_size=4, max_steps=22),
                                                 batch_size=None, num_workers=workers))
        assert np.array_equal(torch.cat(again).numpy(), expected)


def test_stateful_dataloader_resumes_mid_epoch_under_two_workers(manifest_path):
    torch = pytest.importorskip("torch")
    stateful = pytest.importorskip("torchdata.stateful_dataloader")
    from proofpile.loader import TorchMixtureDataset

    def loader():
        ds = TorchMixtureDataset(manifest_path, batch_size=4, max_steps=160, seed=3)
        return stateful.StatefulDataLoader(ds, batch_size=None, num_workers=2)

    nonstop = [b.clone() for b in loader()]
    assert len(nonstop) == 40
    first = loader()
    it = iter(first)
    head = [next(it).clone() for _ in range(13)]  # an odd count: the two workers are at different batches
    state = first.state_dict()
    workers = state["_snapshot"]["_worker_snapshots"]
    assert {w["dataset_state"]["next_batch"] for w in workers.values()} == {13, 14}  # per-worker state
    del it, first
    resumed = loader()
    resumed.load_state_dict(state)
    rest = [b.clone() for b in resumed]
    assert len(head) + len(rest) == len(nonstop)
    assert all(torch.equal(a, b) for a, b in zip(head + rest, nonstop))
    # the mid-epoch point is real: algebraic-stack (1 in 7 steps) is inside its first epoch at batch 13
    m = json.loads(manifest_path.read_text())
    assert 13 * 4 // 7 < m["components"]["algebraic-stack"]["sequences"]
    # and a batch count alone resumes with another number of workers
    other = stateful.StatefulDataLoader(TorchMixtureDataset(manifest_path, batch_size=4, max_steps=160, seed=3,
                                                            start_batch=13), batch_size=None, num_workers=3)
    assert all(torch.equal(a, b) for a, b in zip(list(other), nonstop[13:]))
