"""The decontamination report: per benchmark and subset, documents checked, items matched, documents removed or
reported, the most-matched items with their spans, and the Llemma paper's 30-gram overlap (JSON and Markdown).

Built by streaming the steps' hit files (one JSON line per flagged (document, item) pair) and the filters' stats:
its memory grows with the number of benchmark items, never with the number of documents. Every hit line is also
copied, in rank order, to ``decontam/flagged.jsonl``: the record of each removal (item, benchmark, matched span).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import orjson

TOP_ITEMS = 20  # most-matched items listed per benchmark


def _rows(stats: dict[str, float], prefix: str) -> dict[tuple[str, str], int]:
    out = {}
    for key, value in stats.items():
        if key.startswith(prefix):
            subset, bench = key[len(prefix):].rsplit("/", 1)
            out[(bench, subset)] = int(value)
    return out


def build_report(hit_files: list[Path], flagged_out, stats: dict[str, float], benchmarks: dict, params: dict,
                 paraphrase_stats: dict[str, float] | None = None) -> dict:
    """Streams ``hit_files`` (copying each line to the open binary file ``flagged_out``) into the report."""
    checked = {k.removeprefix("checked/"): int(v) for k, v in stats.items() if k.startswith("checked/")}
    items: dict[tuple[str, str], set] = {}
    docs: dict[tuple[str, str, str], int] = Counter()  # (bench, subset, action) -> documents
    top: dict[str, Counter] = {}
    spans: dict[tuple[str, int], dict] = {}
    overlap_items: dict[tuple[str, str], set] = {}
    for path in hit_files:
        last = None
        with open(path, "rb") as f:
            for line in f:
                flagged_out.write(line)
                hit = orjson.loads(line)
                bench, subset, item = hit["benchmark"], hit["subset"], hit["item"]
                if any(k.startswith("overlap_") and v for k, v in hit.items()):
                    overlap_items.setdefault((bench, subset), set()).add(item)
                if not hit.get("action"):
                    continue
                tier = hit.get("tier", "ngram")
                items.setdefault((bench, subset), set()).add(item)
                top.setdefault(bench, Counter())[item] += 1
                spans.setdefault((bench, item), {"span": hit.get("span"), "doc_id": hit["doc_id"], "tier": tier})
                key = (hit["doc_id"], bench, subset, tier)
                if key != last:
                    docs[(bench, subset, hit["action"], tier)] += 1
                last = key
    overlap_docs = _rows(stats, "llemma30/")
    rows = []
    for bench in benchmarks:
        if bench.startswith("_"):
            continue
        for subset in sorted(checked):
            rows.append({
                "benchmark": bench, "subset": subset, "documents_checked": checked[subset],
                "items_matched": len(items.get((bench, subset), ())),
                "documents_removed": docs[(bench, subset, "drop", "ngram")],
                "documents_reported": docs[(bench, subset, "report", "ngram")],
                "paraphrase_removed": docs[(bench, subset, "drop", "paraphrase")],
                "paraphrase_reported": docs[(bench, subset, "report", "paraphrase")],
                f"documents_overlap_{params.get('report_n')}gram": overlap_docs.get((bench, subset), 0),
                f"items_overlap_{params.get('report_n')}gram": len(overlap_items.get((bench, subset), ())),
            })
    most = {bench: [{"item": item, "documents": count, **spans[(bench, item)]}
                    for item, count in sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP_ITEMS]]
            for bench, counter in sorted(top.items())}
    return {
        "params": params,
        "benchmarks": benchmarks,
        "documents_checked": sum(checked.values()),
        "documents_removed": int(sum(v for k, v in stats.items() if k.startswith("dropped_"))
                                 + sum(v for k, v in (paraphrase_stats or {}).items() if k.startswith("dropped_"))),
        "removed_by_reason": {k.removeprefix("dropped_"): int(v) for k, v in
                              sorted({**stats, **(paraphrase_stats or {})}.items()) if k.startswith("dropped_")},
        "table": rows,
        "most_matched_items": most,
    }


def markdown(report: dict) -> str:
    rn = report["params"].get("report_n")
    lines = [
        "# Decontamination report", "",
        f"{report['documents_checked']} documents checked; {report['documents_removed']} removed. A document is "
        f"flagged for an item when it holds at least {report['params'].get('min_share')} of the item's "
        f"{report['params'].get('n')}-grams (words, TeX-normalised) or a run of "
        f"{report['params'].get('min_match_words')} matching words; the {rn}-gram columns are the Llemma paper's "
        "overlap check (reported, never acted on). Every flagged document is listed in `flagged.jsonl`.", "",
        f"| benchmark | subset | documents checked | items matched | removed | reported | paraphrase removed "
        f"| paraphrase reported | documents with a {rn}-gram overlap | items with a {rn}-gram overlap |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in report["table"]:
        lines.append(f"| {r['benchmark']} | {r['subset']} | {r['documents_checked']} | {r['items_matched']} | "
                     f"{r['documents_removed']} | {r['documents_reported']} | {r['paraphrase_removed']} | "
                     f"{r['paraphrase_reported']} | {r[f'documents_overlap_{rn}gram']} | "
                     f"{r[f'items_overlap_{rn}gram']} |")
    for bench, top in report["most_matched_items"].items():
        lines += ["", f"## Most-matched {bench} items", "",
                  "An n-gram span is the matched words as that tier compares them: lower case, TeX spacing and the "
                  "braces after `^`/`_` removed.", ""]
        for x in top:
            span = (x.get("span") or "").replace("\n", " ").replace("|", "\\|")[:160]
            lines.append(f"- {bench} #{x['item']}: {x['documents']} document(s), e.g. `{x['doc_id']}` "
                         f"({x['tier']}): \"{span}\"")
    if not report["most_matched_items"]:
        lines += ["", "No document matched a benchmark item."]
    return "\n".join(lines) + "\n"
