"""The decontamination report: which benchmark items hit which documents (JSON, and a short Markdown)."""

from __future__ import annotations

from collections import defaultdict

MD_ITEMS = 30  # items listed in the Markdown



def _by_item(hits: list[dict]) -> list[dict]:
    items = defaultdict(list)
    for h in hits:
        items[(h["benchmark"], h["item"])].append({"doc_id": h["doc_id"], "subset": h["subset"], "ngram": h["ngram"]})
    return [{"benchmark": b, "item": i, "documents": sorted(docs, key=lambda d: (d["subset"] or "", d["doc_id"]))}
            for (b, i), docs in sorted(items.items())]


def build_report(hits: list[dict], n: int, report_n: int | None, benchmarks: dict, filter_stats: dict) -> dict:
    removal = [h for h in hits if h["n"] == n]
    removed_docs = {(h["subset"], h["doc_id"]) for h in removal}
    report = {
        "n": n,
        "report_n": report_n,
        "benchmarks": benchmarks,
        "documents_checked": filter_stats.get("total", 0),
        "documents_removed": len(removed_docs),
        "removed_by_reason": {k.removeprefix("dropped_"): v for k, v in sorted(filter_stats.items())
                              if k.startswith("dropped_")},
        f"hits_{n}gram": _by_item(removal),
    }
    if report_n and report_n != n:
        report[f"hits_{report_n}gram"] = _by_item([h for h in hits if h["n"] == report_n])
    return report


def markdown(report: dict) -> str:
    n, rn = report["n"], report["report_n"] or report["n"]
    hits_n, hits_rn = report[f"hits_{n}gram"], report[f"hits_{rn}gram"]
    lines = [
        "# Decontamination report", "",
        f"{report['documents_checked']} documents checked; {report['documents_removed']} removed for sharing a "
        f"{n}-gram (normalised words) with a benchmark item.", "",
        f"| benchmark | items | items hit ({n}-gram) | items hit ({rn}-gram) | documents hit ({rn}-gram) |",
        "|---|---:|---:|---:|---:|",
    ]
    for bench, info in report["benchmarks"].items():
        hit_n = [x for x in hits_n if x["benchmark"] == bench]
        hit_rn = [x for x in hits_rn if x["benchmark"] == bench]
        docs_rn = {(d["subset"], d["doc_id"]) for x in hit_rn for d in x["documents"]}
        lines.append(f"| {bench} | {info['items']} | {len(hit_n)} | {len(hit_rn)} | {len(docs_rn)} |")
    lines += ["", f"## Items sharing a {rn}-gram with a document", ""]
    if not hits_rn:
        lines.append("None.")
    for x in hits_rn[:MD_ITEMS]:
        docs = ", ".join(f"`{d['doc_id']}` ({d['subset']})" for d in x["documents"][:5])
        more = f" and {len(x['documents']) - 5} more" if len(x["documents"]) > 5 else ""
        lines.append(f"- {x['benchmark']} #{x['item']}: {docs}{more} -- \"{x['documents'][0]['ngram'][:120]}\"")
    if len(hits_rn) > MD_ITEMS:
        lines.append(f"- ... {len(hits_rn) - MD_ITEMS} more items in report.json")
    removed: dict[tuple, list[str]] = {}
    for x in hits_n:
        for d in x["documents"]:
            removed.setdefault((d["subset"] or "", d["doc_id"]), []).append(f"{x['benchmark']} #{x['item']}")
    lines += ["", f"## Documents removed ({n}-gram)", ""]
    if not removed:
        lines.append("None.")
    for (subset, doc_id), items in sorted(removed.items())[:MD_ITEMS]:
        lines.append(f"- `{doc_id}` ({subset}): {', '.join(items[:5])}" + (" ..." if len(items) > 5 else ""))
    if len(removed) > MD_ITEMS:
        lines.append(f"- ... {len(removed) - MD_ITEMS} more documents in report.json")
    return "\n".join(lines) + "\n"
