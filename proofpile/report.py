"""What a data root holds and how it got there: the numbers behind ``proofpile report``.

Read from the data root (every source is optional; what is missing is said so in the report, never guessed):

- the final documents, ``<root>/decontam/<subset>/<split>/*.jsonl.zst`` (else ``dedup/``, else the document stages'
  folders): profiled by ``CorpusProfile`` -- a datatrove step, so it runs on the configured executor -- into
  documents and UTF-8 bytes per (subset, split, lang, source), and web documents' ``meta.url`` domains;
- tokens: ``<root>/tokenized/<tokenizer-id>/stats.json`` (``counts``: documents and tokens per subset, split and
  lang, see ``proofpile.tokens.shards``); and each ``<root>/manifests/<mixture>.json`` (summed where it lists
  shards or counts with ``tokens``/``documents``);
- the funnel: every ``<root>/logs/<stage>/**/stats.json`` written by datatrove (a JSON list with one
  ``{"name", "time_stats", "stats"}`` per step; a counter is a number or ``{"total": ...}``). Per step: documents
  in, kept and dropped, and the drop reasons (``dropped_<reason>`` counters, filters' ``dropped``). Where a
  logging dir has per-rank ``stats/NNNNN.json`` but no ``stats.json`` (a run still going or killed), the completed
  ranks are summed. Per subset (``subset_funnels``), one funnel from the input records of its document stages,
  through each step that drops documents, to what those stages wrote (their contract writers), what dedup and
  decontamination kept of it (their writers' per-subset outputs) and what was tokenized (the tokenize writer's
  ``documents_<subset>``/``tokens_<subset>``).
"""

from __future__ import annotations

import html
import json
from collections import Counter, defaultdict
from pathlib import Path
from urllib.parse import urlsplit

from datatrove.pipeline.base import PipelineStep

from proofpile.atomic import atomic_write
from proofpile.contract import ContractReader
from proofpile.names import SPLITS, SUBSETS
from proofpile.stages.dedup import UPSTREAM as DOCUMENT_STAGES  # the stages that write documents
from proofpile.stats import counter_total as _total
from proofpile.stats import load_steps as load_stats

PROFILE_DIR = ".profile"  # under reports/: one JSON per rank of the profiling pipeline
NONE = "—"


# -- profiling the documents (a datatrove step: runs per rank, writes its partial counts) -------------------------
class CorpusProfile(PipelineStep):
    """Counts documents and bytes per (subset, split, lang, source) and web domains; writes one JSON per rank."""

    name = "📊 Corpus profile"
    type = "📈 - STATS"

    def __init__(self, output_folder: str, max_domains: int = 10_000):
        super().__init__()
        self.output_folder = output_folder
        self.max_domains = max_domains

    def run(self, data, rank: int = 0, world_size: int = 1):
        groups: dict[tuple, list[int]] = defaultdict(lambda: [0, 0])
        domains: Counter = Counter()
        for doc in data:
            meta = doc.metadata
            key = (str(meta.get("subset") or "unknown"), str(meta.get("split") or _split_of(meta) or "none"),
                   str(meta.get("lang") or "unknown"), str(meta.get("source") or "unknown"))
            acc = groups[key]
            acc[0] += 1
            acc[1] += len(doc.text.encode("utf-8"))
            self.stat_update("documents")
            if meta.get("url") and key[0] == "open-web-math":
                domains[domain_of(meta["url"])] += 1
            yield doc
        record = {"groups": [[*key, n, size] for key, (n, size) in sorted(groups.items())],
                  "domains": dict(most_common(domains, self.max_domains))}
        atomic_write(Path(self.output_folder) / f"rank-{rank:05d}.json",
                     json.dumps(record, sort_keys=True).encode())


def _split_of(meta: dict) -> str | None:
    path = "/" + str(meta.get("file_path") or "")
    return next((s for s in SPLITS if f"/{s}/" in path), None)


class ProfileReader(ContractReader):
    """Contract shards, with the shard's path in ``meta.file_path`` so that a split folder counts when a document
    lacks ``meta.split``."""

    def read_file(self, filepath: str):
        for doc in super().read_file(filepath):
            doc.metadata.setdefault("file_path", filepath)
            yield doc


def most_common(counts: Counter, n: int) -> list[tuple[str, int]]:
    """The n largest counts, ties by name: Counter.most_common breaks ties by insertion order, which depends on how
    the documents were sharded."""
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:n]


def domain_of(url: str) -> str:
    try:
        host = (urlsplit(url).hostname or "").lower()
    except ValueError:
        return "(bad url)"
    return host[4:] if host.startswith("www.") else (host or "(no host)")


def merge_profiles(folder: str | Path) -> dict:
    groups: dict[tuple, list[int]] = defaultdict(lambda: [0, 0])
    domains: Counter = Counter()
    for path in sorted(Path(folder).glob("**/rank-*.json")):
        record = json.loads(path.read_text())
        for *key, n, size in record["groups"]:
            groups[tuple(key)][0] += n
            groups[tuple(key)][1] += size
        domains.update(record["domains"])
    return {"groups": groups, "domains": domains}


def documents_folder(root: Path) -> tuple[str, list[Path]]:
    """Where the final documents are: (what it is, folders to read)."""
    for name in ("decontam", "dedup"):
        if any((root / name).glob("**/*.jsonl.zst")):
            return name, [root / name]
    found = [root / s for s in DOCUMENT_STAGES if any((root / s).glob("**/*.jsonl.zst"))]
    return ("documents stages" if found else "nothing"), found


# -- tokens ---------------------------------------------------------------------------------------------------------
def read_json(path: Path):
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def tokenized_counts(root: Path) -> tuple[dict[str, dict[tuple, list[int]]], list[str]]:
    """{tokenizer id: {(subset, split, lang): [documents, tokens]}} from tokenized/*/stats.json, and notes."""
    out, notes = {}, []
    for stats_file in sorted((root / "tokenized").glob("*/stats.json")):
        data = read_json(stats_file)
        if not isinstance(data, dict) or not isinstance(data.get("counts"), list):
            notes.append(f"{stats_file.relative_to(root)}: unreadable or without `counts`; tokens not reported")
            continue
        counts: dict[tuple, list[int]] = defaultdict(lambda: [0, 0])
        for c in data["counts"]:
            if isinstance(c, dict):
                key = (str(c.get("subset")), str(c.get("split")), str(c.get("lang") or "unknown"))
                counts[key][0] += int(c.get("documents") or 0)
                counts[key][1] += int(c.get("tokens") or 0)
        out[stats_file.parent.name] = counts
    return out, notes


def manifest_summaries(root: Path) -> list[dict]:
    """Each resolved manifest's documents and tokens per subset and split, summed over its ``shards`` list (the
    manifest also carries per-component totals; summing those too would count every token twice)."""
    summaries = []
    for path in sorted((root / "manifests").glob("*.json")):
        data = read_json(path)
        rows: dict[tuple, list[int]] = defaultdict(lambda: [0, 0])
        for shard in (data or {}).get("shards", []) if isinstance(data, dict) else []:
            if isinstance(shard, dict) and isinstance(shard.get("tokens"), int):
                key = (str(shard.get("subset")), str(shard.get("split") or "all"))
                rows[key][0] += int(shard.get("documents") or 0)
                rows[key][1] += shard["tokens"]
        summaries.append({"name": path.stem, "file": str(path.relative_to(root)), "readable": data is not None,
                          "rows": dict(sorted(rows.items()))})
    return summaries


# -- the funnel -------------------------------------------------------------------------------------------------
def step_funnel(step: dict) -> dict:
    """One step's documents in / kept / dropped (None where its counters do not say) and drop reasons."""
    name, stats = str(step.get("name", "?")), step.get("stats") or {}
    reasons = {k[len("dropped_"):]: int(_total(v)) for k, v in stats.items() if k.startswith("dropped_")}
    kind = name.split(":", 1)[0] if ":" in name else ""  # "📖 - READER", "🔻 - FILTER", ...; type, not name
    docs_in = kept = dropped = None
    if "FILTER" in kind or "forwarded" in stats:
        docs_in, kept, dropped = _total(stats.get("total")), _total(stats.get("forwarded")), _total(
            stats.get("dropped"))
    elif "READER" in kind:
        kept = _total(stats.get("documents"))
        dropped = sum(reasons.values())
        docs_in = kept + dropped
    elif "WRITER" in kind:  # datatrove's writers count "total"; the Arrow shard writer counts "documents"
        docs_in = kept = _total(stats["total"] if "total" in stats else stats.get("documents"))
        dropped = 0
    elif reasons:
        dropped = sum(reasons.values())
        for key in ("total", "documents", "seen"):
            if key in stats:
                docs_in = _total(stats[key])
                kept = docs_in - dropped
                break
    as_int = lambda x: None if x is None else int(x)  # noqa: E731
    return {"step": name, "in": as_int(docs_in), "kept": as_int(kept), "dropped": as_int(dropped),
            "reasons": dict(sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0])))}


def funnels(root: Path) -> list[dict]:
    out = []
    logs = root / "logs"
    for stats_dir in sorted({p.parent for p in logs.glob("*/**/stats.json")} |
                            {p.parent.parent for p in logs.glob("*/**/stats/*.json")}):
        steps = load_stats(stats_dir)
        if not steps:
            continue
        rel = stats_dir.relative_to(logs)
        stage, pipeline = rel.parts[0], "/".join(rel.parts[1:])
        if stage == "report":  # our own profiling pass is not part of how the corpus was made
            continue
        out.append({"stage": stage, "pipeline": pipeline, "steps": [step_funnel(s) for s in steps]})
    return out


# -- one funnel per subset: input records -> documents -> tokens -------------------------------------------------
# the document stages and the subset each one makes (each reader module states its own; the report only maps)
SOURCE_STAGES = {"web": "open-web-math", "code": "algebraic-stack", "proofsteps": "algebraic-stack", "arxiv": "arxiv"}
CONTRACT_WRITER = "Contract writer"  # the writer of every stage's final documents (intermediate writers differ)
TOP_REASONS = 3  # drop reasons named per funnel step; the rest are summed as "other"


def _stage_runs(root: Path, stage: str) -> list[list[dict]]:
    """A stage's pipelines' steps, in the order they ran (stats.json written last first)."""
    base = root / "logs" / stage
    dirs = {p.parent for p in base.glob("**/stats.json")} | {p.parent.parent for p in base.glob("**/stats/*.json")}
    dirs = {d for d in dirs if d.name != "stats"}
    order = sorted(dirs, key=lambda d: ((d / "stats.json").stat().st_mtime_ns if (d / "stats.json").exists()
                                        else 0, str(d)))
    return [steps for d in order if (steps := load_stats(d))]


def _contract_written(runs: list[list[dict]]) -> tuple[int, Counter]:
    """Documents the stage's contract writers wrote: in all, and per first folder of the output name (subset)."""
    total, per_folder = 0, Counter()
    for steps in runs:
        for step in steps:
            if str(step.get("name", "")).endswith(CONTRACT_WRITER):
                stats = step.get("stats") or {}
                total += int(_total(stats.get("total")))
                for key, value in stats.items():
                    if "/" in key and key.endswith(".jsonl.zst"):
                        per_folder[key.split("/", 1)[0]] += int(_total(value))
    return total, per_folder


def reasons_text(reasons: dict[str, int], top: int = TOP_REASONS) -> str:
    items = sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0]))
    top = len(items) if len(items) <= top + 1 else top  # "other" stands for two reasons or more
    shown = [f"{k} {v:,}" for k, v in items[:top]]
    rest = items[top:]
    if rest:
        shown.append(f"other {sum(v for _, v in rest):,} ({len(rest)} reasons)")
    return ", ".join(shown)


def subset_funnels(root: Path) -> list[dict]:
    """Per subset: input records, then what each dropping step leaves, what its stages wrote, after dedup, after
    decontamination, and what was tokenized (with its tokens). Steps that merge documents without a drop (e.g. proof
    steps assembled into files) show as the difference between the last step and "written"."""
    root = Path(root)
    dedup = _contract_written(_stage_runs(root, "dedup"))[1]
    decontam = _contract_written(_stage_runs(root, "decontam"))[1]
    tokenized: dict[str, int] = {}
    for steps in _stage_runs(root, "tokenize"):
        for step in steps:
            for key, value in (step.get("stats") or {}).items():
                if key.startswith(("documents_", "tokens_")):
                    tokenized[key] = tokenized.get(key, 0) + int(_total(value))
    out = []
    for subset in SUBSETS:
        stages = [st for st, sub in SOURCE_STAGES.items() if sub == subset]
        inputs, written, steps_out, ran = 0, 0, [], False
        for stage in stages:
            runs = _stage_runs(root, stage)
            ran = ran or bool(runs)
            written += _contract_written(runs)[0]
            for steps in runs:
                for i, step in enumerate(steps):
                    f = step_funnel(step)
                    name = str(step.get("name", ""))
                    if "READER" in name.split(":", 1)[0]:
                        stats = step.get("stats") or {}
                        read = _total(stats["documents"]) if "documents" in stats else (
                            _total((steps[i + 1].get("stats") or {}).get("total")) if i + 1 < len(steps) else 0)
                        inputs += int(read) + (f["dropped"] or 0)
                    if f["dropped"]:
                        steps_out.append({"step": f"{stage}: {plain(name)}", "dropped": f["dropped"],
                                          "reasons": f["reasons"]})
        if not ran:
            continue
        rows, left = [{"step": "input records", "documents": inputs, "dropped": None, "reasons": {}}], inputs
        for step in steps_out:
            left -= step["dropped"]
            rows.append({**step, "documents": left})
        rows.append({"step": f"written by {', '.join(stages)}", "documents": written, "dropped": None, "reasons": {}})
        for label, counts in (("after dedup", dedup), ("after decontamination", decontam)):
            if subset in counts:
                rows.append({"step": label, "documents": counts[subset], "dropped": None, "reasons": {}})
        if f"documents_{subset}" in tokenized:
            rows.append({"step": "tokenized", "documents": tokenized[f"documents_{subset}"], "dropped": None,
                         "reasons": {}})
        out.append({"subset": subset, "rows": rows, "tokens": tokenized.get(f"tokens_{subset}")})
    return out


# -- the whole report -------------------------------------------------------------------------------------------
def collect(root: Path, profile_folder: Path | None = None, top_domains: int = 25) -> dict:
    root = Path(root)
    profile = merge_profiles(profile_folder) if profile_folder else {"groups": {}, "domains": Counter()}
    source, _ = documents_folder(root)
    tokens, notes = tokenized_counts(root)
    if not tokens:
        notes.append("no tokenized/<tokenizer>/stats.json: token counts are not reported")
    tok_ids = sorted(tokens)

    def table(dims: tuple[int, ...], token_dims: tuple[int, ...] | None) -> list[dict]:
        rows: dict[tuple, dict] = {}
        for key, (n, size) in profile["groups"].items():
            k = tuple(key[i] for i in dims)
            row = rows.setdefault(k, {"documents": 0, "bytes": 0})
            row["documents"] += n
            row["bytes"] += size
        for tok, counts in tokens.items():
            for key, (_, t) in counts.items():
                if token_dims is None:
                    continue
                k = tuple(key[i] for i in token_dims)
                rows.setdefault(k, {"documents": 0, "bytes": 0})
                rows[k][f"tokens:{tok}"] = rows[k].get(f"tokens:{tok}", 0) + t
        return [{"key": list(k), **v} for k, v in sorted(rows.items())]

    groups = profile["groups"]
    return {
        "documents_from": source,  # paths are relative to the data root: two roots give the same report
        "tokenizers": tok_ids,
        "notes": notes,
        "totals": {"documents": sum(v[0] for v in groups.values()), "bytes": sum(v[1] for v in groups.values()),
                   **{f"tokens:{t}": sum(v[1] for v in tokens[t].values()) for t in tok_ids}},
        # key dims: 0 subset, 1 split, 2 lang, 3 source (tokens are known per subset, split and lang, not source)
        "by_subset": table((0,), (0,)),
        "by_subset_split": table((0, 1), (0, 1)),
        "by_language": table((0, 2), (0, 2)),
        "by_source": table((0, 3), None),
        "top_domains": most_common(profile["domains"], top_domains),
        "manifests": [{**m, "rows": [[*k, *v] for k, v in m["rows"].items()]} for m in manifest_summaries(root)],
        "funnels": funnels(root),
        "subset_funnels": subset_funnels(root),
    }


# -- rendering --------------------------------------------------------------------------------------------------
def human_bytes(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if abs(n) < 1000 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return str(n)


def _fmt(value) -> str:
    if value is None:
        return NONE
    return f"{value:,}" if isinstance(value, int) else str(value)


def count_table(report: dict, section: str, headers: list[str], tokens: bool = True):
    """(header, rows); token columns only where the tokenize stage counts them (not per source)."""
    tokenizers = report["tokenizers"] if tokens else []
    tok_cols = [f"tokens:{t}" for t in tokenizers]
    head = headers + ["documents", "bytes"] + [f"tokens ({t})" for t in tokenizers]
    rows = [[*r["key"], _fmt(r["documents"]), human_bytes(r["bytes"])] + [_fmt(r.get(c)) for c in tok_cols]
            for r in report[section]]
    return head, rows


def funnel_rows(funnel: dict) -> list[list[str]]:
    return [[s["step"], _fmt(s["in"]), _fmt(s["kept"]), _fmt(s["dropped"]),
             ", ".join(f"{k}: {v:,}" for k, v in s["reasons"].items()) or NONE] for s in funnel["steps"]]


FUNNEL_HEAD = ["step", "in", "kept", "dropped", "drop reasons"]
SUBSET_FUNNEL_HEAD = ["step", "documents left", "dropped", "drop reasons"]


def md_table(head: list[str], rows: list[list[str]]) -> str:
    esc = lambda c: str(c).replace("|", "\\|")  # noqa: E731
    out = ["| " + " | ".join(map(esc, head)) + " |", "|" + "|".join("---" for _ in head) + "|"]
    return "\n".join(out + ["| " + " | ".join(map(esc, r)) + " |" for r in rows])


def html_table(head: list[str], rows: list[list[str]]) -> str:
    th = "".join(f"<th>{html.escape(str(h))}</th>" for h in head)
    trs = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table><thead><tr>{th}</tr></thead><tbody>{trs}</tbody></table>"


def sections(report: dict) -> list[tuple[str, list[str], list[list[str]]]]:
    """(title, header, rows) of every table, in order: what the renderings share."""
    out = [("Documents per subset", *count_table(report, "by_subset", ["subset"])),
           ("Per subset and split", *count_table(report, "by_subset_split", ["subset", "split"])),
           ("Per language", *count_table(report, "by_language", ["subset", "lang"])),
           ("Per source", *count_table(report, "by_source", ["subset", "source"], tokens=False))]
    for m in report["manifests"]:
        rows = [[r[0], r[1], _fmt(r[2]), _fmt(r[3])] for r in m["rows"]]
        out.append((f"Manifest {m['name']} ({m['file']})", ["subset", "split", "documents", "tokens"], rows))
    for f in report.get("subset_funnels", []):
        tokens = f" -> {f['tokens']:,} tokens" if f["tokens"] is not None else ""
        out.append((f"Funnel of {f['subset']}: input records to documents{tokens}", SUBSET_FUNNEL_HEAD,
                    [[r["step"], _fmt(r["documents"]), _fmt(r["dropped"]), reasons_text(r["reasons"]) or NONE]
                     for r in f["rows"]]))
    for f in report["funnels"]:
        title = f"Steps of {f['stage']}" + (f" / {f['pipeline']}" if f["pipeline"] else "")
        out.append((title, FUNNEL_HEAD, funnel_rows(f)))
    if report["top_domains"]:
        out.append(("Top web domains (open-web-math)", ["domain", "documents"],
                    [[d, _fmt(n)] for d, n in report["top_domains"]]))
    return out


def render_markdown(report: dict, charts: list[tuple[str, str]]) -> str:
    t = report["totals"]
    parts = ["# Corpus report", "",
             f"- documents: **{t['documents']:,}** ({human_bytes(t['bytes'])}), read from `{report['documents_from']}`"]
    parts += [f"- tokens ({tok}): **{t[f'tokens:{tok}']:,}**" for tok in report["tokenizers"]]
    parts += [f"- note: {n}" for n in report["notes"]]
    for title, head, rows in sections(report):
        parts += ["", f"## {title}", "", md_table(head, rows) if rows else "(none)"]
    if charts:
        parts += ["", "## Charts", ""] + [f"![{alt}]({name})" for name, alt in charts]
    return "\n".join(parts) + "\n"


CSS = ("body{font-family:system-ui,sans-serif;max-width:70em;margin:2em auto;padding:0 1em;color:#222}"
       "table{border-collapse:collapse;margin:.5em 0 1.5em}td,th{border:1px solid #ccc;padding:.25em .6em;"
       "text-align:left}th{background:#f3f3f3}img{max-width:100%;border:1px solid #eee;margin:.5em 0}"
       ".funnel .row{display:flex;align-items:center;gap:.5em;margin:2px 0}.funnel .label{flex:0 0 22em;"
       "font-size:.9em}.funnel .bar{display:inline-block;height:1em;min-width:1px}.funnel .stage{background:#4f81bd}"
       ".funnel .drop{background:#c0504d}.funnel .n{font-size:.85em;white-space:nowrap}")


def render_html(report: dict, charts: list[tuple[str, str]]) -> str:
    t = report["totals"]
    facts = [f"documents: <b>{t['documents']:,}</b> ({human_bytes(t['bytes'])}), read from "
             f"<code>{html.escape(report['documents_from'])}</code>"]
    facts += [f"tokens ({html.escape(tok)}): <b>{t[f'tokens:{tok}']:,}</b>" for tok in report["tokenizers"]]
    facts += [f"note: {html.escape(n)}" for n in report["notes"]]
    body = ["<h1>Corpus report</h1>", "<ul>" + "".join(f"<li>{f}</li>" for f in facts) + "</ul>"]
    body += [html_funnel(f) for f in report.get("subset_funnels", [])]
    body += [f'<img src="{html.escape(name)}" alt="{html.escape(alt)}">' for name, alt in charts]
    for title, head, rows in sections(report):
        body += [f"<h2>{html.escape(title)}</h2>", html_table(head, rows) if rows else "<p>(none)</p>"]
    return ("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Corpus report</title>"
            f"<style>{CSS}</style></head><body>\n" + "\n".join(body) + "\n</body></html>\n")


def html_funnel(funnel: dict) -> str:
    """A stepped funnel in plain HTML: one bar per step, as wide as the documents it leaves."""
    rows = funnel["rows"]
    top = max([r["documents"] for r in rows] + [1])
    tokens = f", {funnel['tokens']:,} tokens" if funnel["tokens"] is not None else ""
    out = [f"<h2>Funnel of {html.escape(funnel['subset'])}: {rows[0]['documents']:,} input records &rarr; "
           f"{rows[-1]['documents']:,} documents{tokens}</h2>", '<div class="funnel">']
    for r in rows:
        width = 100 * r["documents"] / top
        cls = "drop" if r["dropped"] is not None else "stage"
        note = f" &minus;{r['dropped']:,}: {html.escape(reasons_text(r['reasons']))}" if r["dropped"] else ""
        out.append(f'<div class="row"><span class="label">{html.escape(r["step"])}</span>'
                   f'<span class="bar {cls}" style="width:{width:.1f}%"></span>'
                   f'<span class="n">{r["documents"]:,}{note}</span></div>')
    return "\n".join(out + ["</div>"])


def summary_lines(report: dict, paths: list[str]) -> list[str]:
    """The few lines the report stage prints: per subset records -> documents -> tokens, then where to look."""
    out = []
    for f in report.get("subset_funnels", []):
        rows = f["rows"]
        tokens = f", {f['tokens']:,} tokens" if f["tokens"] is not None else ""
        out.append(f"  {f['subset']:<16} {rows[0]['documents']:>8,} input records -> {rows[-1]['documents']:,} "
                   f"documents{tokens}")
    return out + paths


def plain(step: str) -> str:
    """A step name without its type prefix and emoji (chart fonts lack them)."""
    name = step.split(": ", 1)[-1]
    return "".join(c for c in name if ord(c) < 0x2000).strip() or name


def draw_charts(report: dict, folder: Path) -> list[tuple[str, str]]:
    """PNG charts (matplotlib, Agg): documents/tokens per subset and split, drops per stage, top domains."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    charts = []

    def save(fig, name, alt):
        fig.tight_layout()
        fig.savefig(folder / name, dpi=100, metadata={"Software": None})
        plt.close(fig)
        charts.append((name, alt))

    rows = report["by_subset_split"]
    if rows:
        tok = f"tokens:{report['tokenizers'][0]}" if report["tokenizers"] else None
        measure = tok if tok and any(r.get(tok) for r in rows) else "documents"
        subsets = sorted({r["key"][0] for r in rows})
        splits = sorted({r["key"][1] for r in rows}, key=lambda s: (SPLITS + (s,)).index(s))
        fig, ax = plt.subplots(figsize=(7, 3.5))
        bottom = [0.0] * len(subsets)
        for split in splits:
            values = [next((r.get(measure) or 0 for r in rows if r["key"] == [s, split]), 0) for s in subsets]
            ax.bar(subsets, values, bottom=bottom, label=split)
            bottom = [b + v for b, v in zip(bottom, values)]
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        # the tokenizer id is long: it goes in the title, where it has the figure's width
        what, _, tokenizer = measure.partition(":")
        ax.set_ylabel(what)
        ax.set_title(f"{what} per subset and split" + (f"\n({tokenizer})" if tokenizer else ""), fontsize=10)
        ax.legend()
        save(fig, "subsets.png", f"{measure} per subset and split")
    for f in report.get("subset_funnels", []):
        rows = f["rows"][::-1]  # the first step on top
        fig, ax = plt.subplots(figsize=(8, 1.2 + 0.34 * len(rows)))
        values = [r["documents"] for r in rows]
        colors = ["#4f81bd" if r["dropped"] is None else "#c0504d" for r in rows]
        ax.barh(range(len(rows)), values, color=colors)
        ax.set_yticks(range(len(rows)), [r["step"] for r in rows], fontsize=8)
        for y, r in enumerate(rows):
            note = f" {r['documents']:,}" + (f"  (-{r['dropped']:,}: {reasons_text(r['reasons'], 2)})"
                                              if r["dropped"] else "")
            ax.text(r["documents"], y, note, va="center", fontsize=7)
        ax.set_xlim(0, max(values + [1]) * 1.9)  # room for the notes
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlabel("documents")
        tokens = f", {f['tokens']:,} tokens" if f["tokens"] is not None else ""
        ax.set_title(f"{f['subset']}: {values[-1]:,} input records -> {values[0]:,} documents{tokens}", fontsize=10)
        save(fig, f"funnel-{f['subset']}.png", f"funnel of {f['subset']}: input records to tokens")
    if report["top_domains"]:
        top = report["top_domains"][:20][::-1]
        fig, ax = plt.subplots(figsize=(7, 0.8 + 0.3 * len(top)))
        ax.barh([d for d, _ in top], [n for _, n in top])
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_title("top web domains (documents)")
        save(fig, "domains.png", "top web domains")
    return charts


def write_report(report: dict, folder: Path) -> list[Path]:
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    charts = draw_charts(report, folder)
    (folder / "report.json").write_text(json.dumps(report, indent=1, sort_keys=True) + "\n")
    (folder / "report.md").write_text(render_markdown(report, charts))
    (folder / "report.html").write_text(render_html(report, charts))
    return [folder / "report.md", folder / "report.html", folder / "report.json"] + [folder / n for n, _ in charts]
