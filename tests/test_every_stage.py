"""Every stage, end to end on the demo inputs: what is kept does not depend on sharding, nor outputs on where the
data root is.

The demo inputs plus four RedPajama arXiv files holding an exact and a near duplicate pair (different ids), laid
out so that reading order and rank order disagree: with one task the files are read a, b, c, d; with three, d is in
rank 0 and c in rank 2. Whatever decides which copy stays must not see that.
"""

import json
import subprocess
import sys
from pathlib import Path

import pytest
import zstandard
from conftest import PROJECT

DOCUMENT_FOLDERS = ("web", "code", "arxiv", "proofsteps", "dedup", "decontam")
NOT_OUTPUTS = ("logs", "markers", "locks")  # how a run went, not what it made
# datatrove's exact and MinHash dedup keep the copy with the smallest (rank, position): dedup/ and what is made
# from it depend on the number of tasks until dedup keeps the smallest id (proofpile/dedup, the `scale` branch)

# four unrelated papers (a 5-gram shingle set shares little with another's)
BODIES = {
    "groups": "Let $G$ be a finite group of order $n$ and let $H$ be a subgroup of $G$. By Lagrange's theorem the "
              "order of $H$ divides $n$, so the index $[G:H] = n/|H|$ is an integer. The cosets $gH$ partition $G$ "
              "into classes of equal size, every element satisfies $g^n = e$, and groups of prime order are cyclic.",
    "series": "A power series $\\sum_k a_k z^k$ converges absolutely inside its disc of convergence, whose radius "
              "is $1/\\limsup |a_k|^{1/k}$ by the Cauchy--Hadamard formula. Inside the disc it may be "
              "differentiated term by term, which makes analytic functions infinitely differentiable there.",
    "graphs": "A tree on $v$ vertices has exactly $v - 1$ edges, and adding any edge to it creates one cycle. "
              "Kirchhoff's matrix tree theorem counts the spanning trees of a graph as any cofactor of its "
              "Laplacian, which gives Cayley's formula $v^{v-2}$ for the complete graph on $v$ vertices.",
    "primes": "Euclid showed that there are infinitely many primes: if $p_1, \\dots, p_k$ were all of them, "
              "$p_1 \\cdots p_k + 1$ would have a prime factor outside the list. The prime number theorem refines "
              "this: the number of primes up to $x$ is asymptotic to $x / \\log x$, as Hadamard and de la "
              "Vallee Poussin proved in 1896 with complex analysis.",
}


def paper(arxiv_id: str, body: str, ending: str = ".") -> bytes:
    text = f"\\section{{Introduction}}\n{BODIES[body]}\n\\section{{Discussion}}\n{BODIES[body]}{ending}\n"
    record = {"text": text, "meta": {"arxiv_id": arxiv_id, "yymm": "2301", "language": "en"}}
    return (json.dumps(record) + "\n").encode()


@pytest.fixture(scope="module")
def pipelines(tmp_path_factory) -> Path:
    base = tmp_path_factory.mktemp("every-stage")
    extra = base / "redpajama"
    extra.mkdir()
    (extra / "a.jsonl").write_bytes(paper("2301.10010", "graphs"))
    (extra / "b.jsonl").write_bytes(paper("2301.10020", "primes"))
    # an exact pair (groups) and a near pair (series: one word differs); the smaller ids are read last
    (extra / "c.jsonl").write_bytes(paper("2301.10003", "groups") + paper("2301.10005", "series"))
    (extra / "d.jsonl").write_bytes(paper("2301.10001", "groups") + paper("2301.10002", "series", " Indeed."))
    configs = base / "pipelines"
    configs.mkdir()
    for stage in ("web", "code", "arxiv", "proofsteps", "dedup", "decontam", "tokenize", "manifest", "report"):
        text = f"include: {PROJECT}/pipelines/{stage}.yaml\n"
        if stage == "arxiv":
            text += f"arxiv:\n  redpajama:\n    - proofpile/samples/arxiv/redpajama-arxiv.jsonl\n    - {extra}\n"
        (configs / f"{stage}.yaml").write_text(text)
    return configs


def run_all(configs: Path, root: Path, tasks: int) -> Path:
    result = subprocess.run([sys.executable, "-m", "proofpile.cli", "all", "--config-dir", str(configs),
                             "--data-root", str(root), "--tasks", str(tasks)],
                            capture_output=True, text=True, cwd=PROJECT, timeout=1800)
    assert result.returncode == 0, result.stderr[-5000:]
    return root


@pytest.fixture(scope="module")
def roots(pipelines, tmp_path_factory):
    base = tmp_path_factory.mktemp("roots")
    return {"1": run_all(pipelines, base / "one-task", 1),
            "3": run_all(pipelines, base / "three-tasks", 3),
            "3 elsewhere": run_all(pipelines, base / "elsewhere" / "deeper" / "root", 3)}


def documents(folder: Path) -> dict[str, str]:
    """id -> text of every document under a folder (ids are unique within a stage's outputs)."""
    docs = {}
    for shard in sorted(folder.rglob("*.jsonl.zst")):
        data = zstandard.ZstdDecompressor().decompressobj().decompress(shard.read_bytes())
        for line in data.splitlines():
            record = json.loads(line)
            assert record["id"] not in docs, f"{record['id']} twice in {folder}"
            docs[record["id"]] = record["text"]
    return docs


def outputs(root: Path) -> dict[str, bytes]:
    return {str(f.relative_to(root)): f.read_bytes() for f in sorted(root.rglob("*"))
            if f.is_file() and f.relative_to(root).parts[0] not in NOT_OUTPUTS}


@pytest.mark.parametrize("folder", DOCUMENT_FOLDERS)
def test_documents_kept_do_not_depend_on_the_number_of_tasks(roots, folder):
    one, three = documents(roots["1"] / folder), documents(roots["3"] / folder)
    assert one, f"no documents in {folder}"
    assert sorted(one) == sorted(three)
    assert one == three


def test_duplicates_keep_the_same_copy_whatever_the_sharding(roots):
    for root in (roots["1"], roots["3"]):
        kept = {i for i in documents(root / "dedup") if i.startswith("2301.100")}
        assert kept == {"2301.10010", "2301.10020", "2301.10001", "2301.10002"}


def test_summaries_and_report_do_not_depend_on_the_number_of_tasks(roots):
    """Every output besides the shards (dedup's summary, decontam's report, the corpus report with its token
    counts and funnels) is the same; tokenized/ and manifests/ list shards, and hidden folders hold per-rank
    intermediates (reports/.profile/), which are laid out per rank."""
    def summaries(root):
        return {k: v for k, v in outputs(root).items() if not k.endswith(".jsonl.zst")
                and k.split("/")[0] not in ("tokenized", "manifests") and "/." not in f"/{k}"}

    one, three = summaries(roots["1"]), summaries(roots["3"])
    assert "reports/report.json" in one and any(k.startswith("dedup/") for k in one)
    assert sorted(one) == sorted(three)
    assert [k for k in one if one[k] != three[k]] == []


def test_two_data_roots_give_byte_identical_outputs(roots):
    here, there = outputs(roots["3"]), outputs(roots["3 elsewhere"])
    assert sorted(here) == sorted(there)
    assert {stage.split("/")[0] for stage in here} >= {*DOCUMENT_FOLDERS, "tokenized", "manifests", "reports"}
    different = [name for name in here if here[name] != there[name]]
    assert different == []
    assert str(roots["3"]).encode() not in here["reports/report.json"]
