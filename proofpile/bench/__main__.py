"""Run every benchmark module in proofpile.bench and write the figures as JSON."""

from __future__ import annotations

import argparse
import importlib
import json
import pkgutil
import sys
import tempfile
import traceback
from pathlib import Path

import proofpile.bench as bench


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m proofpile.bench", description=__doc__)
    parser.add_argument("--out", default="bench/results.json")
    parser.add_argument("--only", nargs="*", help="module names to run (default: all)")
    parser.add_argument("--skip", nargs="*", default=[], help="module names not to run (e.g. scale: minutes)")
    args = parser.parse_args(argv)
    figures, failed = [], []
    names = sorted(m.name for m in pkgutil.iter_modules(bench.__path__) if not m.name.startswith("_"))
    for name in names:
        if (args.only and name not in args.only) or name in args.skip:
            continue
        print(f"[bench] {name} ...", flush=True)
        try:
            module = importlib.import_module(f"proofpile.bench.{name}")
            with tempfile.TemporaryDirectory(prefix=f"proofpile-bench-{name}-") as work:
                got = module.run(Path(work))
        except Exception:
            traceback.print_exc()
            failed.append(name)
            continue
        for fig in got:
            missing = [k for k in bench.FIGURE_KEYS if k not in fig]
            if missing:
                raise ValueError(f"benchmark {name} returned a figure without {missing}: {fig}")
            print(f"  {fig['name']}: {fig['value']} {fig['unit']} (vs {fig['baseline']})", flush=True)
        figures += got
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(figures, indent=2) + "\n")
    print(f"[bench] {len(figures)} figures -> {out}" + (f"; FAILED: {', '.join(failed)}" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
