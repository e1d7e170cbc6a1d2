"""Stage configs are checked before any work: a misspelt key, a wrong type or an out-of-range value stops the run
with a message naming the file, the key and what was expected (or the nearest valid key)."""

import subprocess
import sys
from pathlib import Path

import pytest

from proofpile.cli import main
from proofpile.config import ConfigError, StageConfig
from proofpile.stage import STAGES

PROJECT = Path(__file__).resolve().parents[1]

# stage -> (misspelt key, its nearest valid key), a wrong type, an out-of-range value: (yaml lines, expected message)
MISTAKES = {
    "web": [("  url_blocklst: filters/web/url-blocklist.txt\n", "url_blocklst: unknown key in {file} "
             "(did you mean url_blocklist?)"),
            ("  max_page_bytes: lots\n", "max_page_bytes: input should be a valid integer, unable to parse string "
             "as an integer, got 'lots' in {file}"),
            ("  mathscore: {threshold: 5}\n", "mathscore.threshold: input should be less than or equal to 1, got 5 "
             "in {file}")],
    "code": [("  filter_dir: filters/code\n", "filter_dir: unknown key in {file} (did you mean filters_dir?)"),
             ("  sources: proofpile/samples/code\n", "sources: input should be a valid list"),
             ("  sources: []\n", "sources: list should have at least 1 item after validation, not 0, got [] in {file}")],
    "arxiv": [("  min_char: 100\n", "min_char: unknown key in {file} (did you mean min_chars?)"),
              ("  min_chars: many\n", "min_chars: input should be a valid integer"),
              ("  min_chars: -1\n", "min_chars: input should be greater than or equal to 0, got -1 in {file}")],
    "proofsteps": [("  lean_infotrees: []\n", "lean_infotrees: unknown key in {file} (did you mean lean_infotree?)"),
                   ("  lean_infotree: 3\n", "lean_infotree: input should be a valid list, got 3 in {file}"),
                   ("  executor: {tasks: 0}\n", "executor.tasks: input should be greater than 0, got 0 in {file}")],
    "dedup": [("  num_bucket: 4\n", "num_bucket: unknown key in {file} (did you mean num_buckets?)"),
              ("  near: maybe\n", "near: input should be a valid boolean"),
              ("  verify_jaccard: 1.5\n", "verify_jaccard: input should be less than or equal to 1, got 1.5 in {file}")],
    "decontam": [("  reprot_n: 30\n", "reprot_n: unknown key in {file} (did you mean report_n?)"),
                 ("  n: thirteen\n", "n: input should be a valid integer"),
                 ("  splits: {validation: 2}\n", "splits.validation: input should be less than or equal to 1, got 2")],
    "tokenize": [("  shard_tokns: 1000\n", "shard_tokns: unknown key in {file} (did you mean shard_tokens?)"),
                 ("  pack: sometimes\n", "pack: input should be a valid boolean"),
                 ("  seq_len: 0\n", "seq_len: input should be greater than 0, got 0 in {file}")],
    "manifest": [("  mixture: manifests/demo.yaml\n", "mixture: unknown key in {file} (did you mean mixtures?)"),
                 ("  mixtures: 3\n", "mixtures: input should be a valid list, got 3 in {file}"),
                 ("  mixtures: []\n", "mixtures: list should have at least 1 item")],
    "report": [("  top_domain: 5\n", "top_domain: unknown key in {file} (did you mean top_domains?)"),
               ("  top_domains: many\n", "top_domains: input should be a valid integer"),
               ("  top_domains: -1\n", "top_domains: input should be greater than or equal to 0, got -1 in {file}")],
}


def test_every_stage_is_covered():
    assert set(MISTAKES) == set(STAGES)


@pytest.mark.parametrize("stage, lines, message",
                         [(s, lines, msg) for s, cases in MISTAKES.items() for lines, msg in cases],
                         ids=[f"{s}-{kind}" for s in MISTAKES for kind in ("misspelt", "type", "range")])
def test_config_mistake_stops_the_run_before_any_work(tmp_path, capsys, stage, lines, message):
    config = tmp_path / f"{stage}.yaml"
    config.write_text(f"include: {PROJECT / 'pipelines' / f'{stage}.yaml'}\n{stage}:\n{lines}")
    root = tmp_path / "root"
    assert main([stage, "--config", str(config), "--data-root", str(root)]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"proofpile {stage}: error: ")
    assert message.format(file=config) in err
    assert not root.exists(), "nothing is written before the config is checked"


def test_a_key_set_in_an_included_file_names_that_file(tmp_path):
    (tmp_path / "common.yaml").write_text(f"base_dir: {PROJECT}\ndata_root: root\nexecutor: {{taks: 2}}\n")
    (tmp_path / "report.yaml").write_text("include: common.yaml\nreport: {}\n")
    with pytest.raises(ConfigError) as e:
        StageConfig.load("report", tmp_path / "report.yaml")
    assert str(e.value) == f"executor.taks: unknown key in {tmp_path / 'common.yaml'} (did you mean tasks?)"


def test_a_misspelt_section_or_top_level_key_is_an_error(tmp_path):
    (tmp_path / "report.yaml").write_text(f"base_dir: {PROJECT}\ndata_root: root\ntokenizr: x\n")
    with pytest.raises(ConfigError, match=r"tokenizr: unknown key in .*report.yaml \(did you mean tokenizer\?\)"):
        StageConfig.load("report", tmp_path / "report.yaml")
    (tmp_path / "report.yaml").write_text(f"base_dir: {PROJECT}\ndata_root: root\nreport: [1]\n")
    with pytest.raises(ConfigError, match="report: must be a mapping"):
        StageConfig.load("report", tmp_path / "report.yaml")


def test_paths_resolve_against_base_dir_and_are_the_stage_inputs(tmp_path):
    from proofpile.stage import inputs

    cfg = StageConfig.load("proofsteps", PROJECT / "pipelines" / "proofsteps.yaml", data_root=tmp_path)
    assert cfg.params.benchmark_lists == str(PROJECT / "filters" / "proofsteps")
    assert set(inputs(cfg)) == {str(PROJECT / p) for p in (
        "proofpile/samples/proofsteps/lean/Sample.Nat.proofstep.txt",
        "proofpile/samples/proofsteps/lean/Sample.Algebra.infotree.json",
        "proofpile/samples/proofsteps/isabelle", "filters/proofsteps", "filters/decontam/formal")}


def test_config_command_says_where_each_value_came_from(tmp_path):
    config = tmp_path / "web.yaml"
    config.write_text(f"include: {PROJECT / 'pipelines' / 'web.yaml'}\nweb:\n  quality: {{min_words: 10}}\n")
    out = subprocess.run([sys.executable, "-m", "proofpile.cli", "config", "web", "--config", str(config),
                          "--tasks", "3"], capture_output=True, text=True, check=True, cwd=PROJECT).stdout
    lines = {line.split(" = ")[0]: line for line in out.splitlines()}
    assert lines["web.quality.min_words"].endswith(f"# {config}")
    assert lines["web.warcs"].endswith("# pipelines/web.yaml")
    assert lines["web.quality.min_chars"].endswith("# default")
    assert lines["web.extract.main_content"].endswith("# default")
    assert lines["executor.tasks"].split("#")[0].strip() == "executor.tasks = 3"
    assert lines["executor.tasks"].endswith("# command line")
    assert lines["executor.workers"].endswith("# pipelines/common.yaml")


def test_cli_config_error_has_no_traceback(tmp_path):
    config = tmp_path / "dedup.yaml"
    config.write_text(f"include: {PROJECT / 'pipelines' / 'dedup.yaml'}\ndedup: {{verify_jacard: 0.5}}\n")
    run = subprocess.run([sys.executable, "-m", "proofpile.cli", "dedup", "--config", str(config), "--data-root",
                          str(tmp_path / "root")], capture_output=True, text=True, cwd=PROJECT)
    assert run.returncode == 1
    assert run.stderr == (f"proofpile dedup: error: verify_jacard: unknown key in {config} "
                          "(did you mean verify_jaccard?)\n")


@pytest.mark.parametrize("stage", STAGES)
def test_the_full_rebuild_configs_are_valid(stage, tmp_path):
    cfg = StageConfig.load(stage, PROJECT / "pipelines" / "proof-pile-2" / f"{stage}.yaml", data_root=tmp_path)
    assert cfg.executor.kind == "spark" and cfg.executor.tasks == 2000


def test_only_tokenize_takes_the_shared_tokenizer(tmp_path):
    loaded = {s: StageConfig.load(s, PROJECT / "pipelines" / f"{s}.yaml", data_root=tmp_path) for s in STAGES}
    assert [s for s, cfg in loaded.items() if "tokenizer" in cfg.params.model_dump()] == ["tokenize"]
    assert loaded["tokenize"].params.tokenizer == "package:mistral_common/data/tokenizer.model.v1"


@pytest.mark.parametrize("stage, section, message", [
    ("decontam", {"benchmarks": 5}, "benchmarks: input should be a valid string or a valid list, got 5 in command line"),
    ("decontam", {"splits": {"per_subset": {"arxiv": {"tset": 0.1}}}},
     "splits.per_subset.arxiv.tset: unknown key in command line (did you mean test?)"),
    ("decontam", {"splits": {"validation": 0.6, "test": 0.6}}, "validation 0.6 + test 0.6 is more than 1"),
    ("web", {"warcs": None}, "web: set either `warcs` (local WARC files, a glob) or `paths_file` + `base_url`"),
    ("code", {"sources": [{"kind": "git"}]}, "sources.0: a source needs a kind (dir, git or parquet) and a path"),
    ("tokenize", {"extra_subsets": ["General Web"]}, "extra_subsets.0: 'General Web' is not a plain lowercase name"),
])
def test_nested_union_and_whole_section_mistakes_name_their_key(stage, section, message, tmp_path):
    with pytest.raises(ConfigError) as e:
        StageConfig.load(stage, PROJECT / "pipelines" / f"{stage}.yaml", data_root=tmp_path,
                         overrides={stage: section})
    assert message in str(e.value)


def test_all_names_the_stage_whose_config_is_wrong(tmp_path):
    configs = tmp_path / "pipelines"
    configs.mkdir()
    for stage in STAGES:
        (configs / f"{stage}.yaml").write_text(f"include: {PROJECT / 'pipelines' / f'{stage}.yaml'}\n")
    (configs / "code.yaml").write_text(f"include: {PROJECT / 'pipelines' / 'code.yaml'}\ncode: {{min_linez: 1}}\n")
    run = subprocess.run([sys.executable, "-m", "proofpile.cli", "all", "--config-dir", str(configs),
                          "--data-root", str(tmp_path / "root")], capture_output=True, text=True, cwd=PROJECT)
    assert run.returncode == 1
    # checked before any stage ran: nothing was built
    assert run.stderr.startswith("proofpile code: error: min_linez: unknown key"), run.stderr
    assert not (tmp_path / "root" / "markers").exists()


def test_mathscore_training_data_may_be_one_file_or_a_list(tmp_path):
    (tmp_path / "mine.jsonl").write_text("")
    config = tmp_path / "web.yaml"
    config.write_text(f"include: {PROJECT / 'pipelines' / 'web.yaml'}\nweb: {{mathscore: {{train: {tmp_path / 'mine.jsonl'}}}}}\n")
    cfg = StageConfig.load("web", config, data_root=tmp_path / "root")
    assert cfg.params.mathscore.train == [str(tmp_path / "mine.jsonl")]
