"""Token counts, the funnel of every stage and charts -> reports/ (Markdown, HTML, PNG).

Profiles the final documents (``decontam/``, else ``dedup/``, else the document stages) on the configured executor,
reads token counts from ``tokenized/<tokenizer-id>/stats.json`` and ``manifests/*.json`` and every stage's datatrove
``logs/<stage>/**/stats.json``, then writes ``reports/report.md``, ``report.html`` (with PNG charts) and
``report.json``, and prints a short summary (records -> documents -> tokens per subset) ending with the paths of the
report and the manifests (``report.md`` and ``report.html`` have the tables). What each number is read from:
``proofpile.report``. Config
(``pipelines/report.yaml``, section ``report``)::

    top_domains: 25     # web domains listed (from meta.url of open-web-math documents)
"""

import json
from pathlib import Path

from pydantic import NonNegativeInt

from proofpile.config import Section, StageConfig, shown_path
from proofpile.report import (
    PROFILE_DIR,
    CorpusProfile,
    ProfileReader,
    collect,
    documents_folder,
    summary_lines,
    write_report,
)
from proofpile.stage import run_pipeline

UPSTREAM = ("manifest",)
OUTPUTS = ("reports",)
LIBRARIES = ("matplotlib",)


class Config(Section):
    top_domains: NonNegativeInt = 25  # web domains listed (from meta.url of open-web-math documents)


def run(cfg: StageConfig) -> None:
    reports = Path(cfg.stage_dir("reports"))
    profile = reports / PROFILE_DIR
    _, folders = documents_folder(cfg.data_root)
    for i, folder in enumerate(folders):
        # one pipeline per documents folder; its ranks write rank-NNNNN.json under their own sub-folder
        run_pipeline(cfg, [ProfileReader(str(folder), glob_pattern="**/*.jsonl.zst"),
                           CorpusProfile(str(profile / f"{i:02d}-{folder.name}"))], name=f"profile-{folder.name}")
    report = collect(cfg.data_root, profile, top_domains=cfg.params.top_domains)
    write_report(report, reports)


def terminal_lines(cfg: StageConfig) -> list[str]:
    """Records -> documents -> tokens per subset, then the paths of the report and the manifests."""
    reports = Path(cfg.stage_dir("reports"))
    report = json.loads((reports / "report.json").read_text())
    manifests = sorted(Path(cfg.out("manifests")).glob("*.json"))
    return summary_lines(report, [f"report:    {shown_path(reports / 'report.html')}"] +
                         [f"manifest:  {shown_path(m)}" for m in manifests])
