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
  ranks are summed.
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
from proofpile.names import SPLITS
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
                  "domains": dict(domains.most_common(self.max_domains))}
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
    elif "WRITER" in kind:
        docs_in = kept = _total(stats.get("total"))
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
        "top_domains": profile["domains"].most_common(top_domains),
        "manifests": [{**m, "rows": [[*k, *v] for k, v in m["rows"].items()]} for m in manifest_summaries(root)],
        "funnels": funnels(root),
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


def text_table(head: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(str(x)) for x in col) for col in zip(head, *rows)] if rows else [len(h) for h in head]
    line = lambda cells: "  ".join(str(c).ljust(w) for c, w in zip(cells, widths)).rstrip()  # noqa: E731
    return "\n".join([line(head), line(["-" * w for w in widths]), *map(line, rows)])


def md_table(head: list[str], rows: list[list[str]]) -> str:
    esc = lambda c: str(c).replace("|", "\\|")  # noqa: E731
    out = ["| " + " | ".join(map(esc, head)) + " |", "|" + "|".join("---" for _ in head) + "|"]
    return "\n".join(out + ["| " + " | ".join(map(esc, r)) + " |" for r in rows])


def html_table(head: list[str], rows: list[list[str]]) -> str:
    th = "".join(f"<th>{html.escape(str(h))}</th>" for h in head)
    trs = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table><thead><tr>{th}</tr></thead><tbody>{trs}</tbody></table>"


def sections(report: dict) -> list[tuple[str, list[str], list[list[str]]]]:
    """(title, header, rows) of every table, in order: what the three renderings share."""
    out = [("Documents per subset", *count_table(report, "by_subset", ["subset"])),
           ("Per subset and split", *count_table(report, "by_subset_split", ["subset", "split"])),
           ("Per language", *count_table(report, "by_language", ["subset", "lang"])),
           ("Per source", *count_table(report, "by_source", ["subset", "source"], tokens=False))]
    for m in report["manifests"]:
        rows = [[r[0], r[1], _fmt(r[2]), _fmt(r[3])] for r in m["rows"]]
        out.append((f"Manifest {m['name']} ({m['file']})", ["subset", "split", "documents", "tokens"], rows))
    for f in report["funnels"]:
        title = f"Funnel: {f['stage']}" + (f" / {f['pipeline']}" if f["pipeline"] else "")
        out.append((title, FUNNEL_HEAD, funnel_rows(f)))
    if report["top_domains"]:
        out.append(("Top web domains (open-web-math)", ["domain", "documents"],
                    [[d, _fmt(n)] for d, n in report["top_domains"]]))
    return out


def render_text(report: dict) -> str:
    t = report["totals"]
    parts = [f"documents: {t['documents']:,} ({human_bytes(t['bytes'])}) read from {report['documents_from']}"]
    parts += [f"tokens ({tok}): {t[f'tokens:{tok}']:,}" for tok in report["tokenizers"]]
    parts += [f"note: {n}" for n in report["notes"]]
    for title, head, rows in sections(report):
        parts += ["", f"== {title} ==", text_table(head, rows) if rows else "(none)"]
    return "\n".join(parts) + "\n"


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
       "text-align:left}th{background:#f3f3f3}img{max-width:100%;border:1px solid #eee;margin:.5em 0}")


def render_html(report: dict, charts: list[tuple[str, str]]) -> str:
    t = report["totals"]
    facts = [f"documents: <b>{t['documents']:,}</b> ({human_bytes(t['bytes'])}), read from "
             f"<code>{html.escape(report['documents_from'])}</code>"]
    facts += [f"tokens ({html.escape(tok)}): <b>{t[f'tokens:{tok}']:,}</b>" for tok in report["tokenizers"]]
    facts += [f"note: {html.escape(n)}" for n in report["notes"]]
    body = ["<h1>Corpus report</h1>", "<ul>" + "".join(f"<li>{f}</li>" for f in facts) + "</ul>"]
    body += [f'<img src="{html.escape(name)}" alt="{html.escape(alt)}">' for name, alt in charts]
    for title, head, rows in sections(report):
        body += [f"<h2>{html.escape(title)}</h2>", html_table(head, rows) if rows else "<p>(none)</p>"]
    return ("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Corpus report</title>"
            f"<style>{CSS}</style></head><body>\n" + "\n".join(body) + "\n</body></html>\n")


def plain(step: str) -> str:
    """A step name without its type prefix and emoji (chart fonts lack them)."""
    name = step.split(": ", 1)[-1]
    return "".join(c for c in name if ord(c) < 0x2000).strip() or name


def draw_charts(report: dict, folder: Path) -> list[tuple[str, str]]:
    """PNG charts (matplotlib, Agg): documents/tokens per subset and split, drops per stage, top domains."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

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
        # the tokenizer id is long: it goes in the title, where it has the figure's width
        what, _, tokenizer = measure.partition(":")
        ax.set_ylabel(what)
        ax.set_title(f"{what} per subset and split" + (f"\n({tokenizer})" if tokenizer else ""), fontsize=10)
        ax.legend()
        save(fig, "subsets.png", f"{measure} per subset and split")
    for f in report["funnels"]:
        reasons = Counter()
        for s in f["steps"]:
            for reason, n in s["reasons"].items():
                reasons[f"{plain(s['step'])}: {reason}"] += n
            if s["dropped"] and not s["reasons"]:
                reasons[plain(s["step"])] += s["dropped"]
        if not reasons:
            continue
        top = reasons.most_common(15)[::-1]
        fig, ax = plt.subplots(figsize=(7, 0.8 + 0.3 * len(top)))
        ax.barh([k for k, _ in top], [v for _, v in top], color="#c0504d")
        name = f["stage"] + (f" / {f['pipeline']}" if f["pipeline"] else "")
        ax.set_title(f"documents dropped by reason: {name}")
        slug = "-".join(filter(None, [f["stage"], f["pipeline"].replace("/", "-")]))
        save(fig, f"funnel-{slug}.png", f"drops by reason in {name}")
    if report["top_domains"]:
        top = report["top_domains"][:20][::-1]
        fig, ax = plt.subplots(figsize=(7, 0.8 + 0.3 * len(top)))
        ax.barh([d for d, _ in top], [n for _, n in top])
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
