# The two commands of the README: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
CORES ?= all
STAMP := $(VENV)/.seedsig-installed

.PHONY: install demo test test-fast lint format clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Install the project with the exact versions CI uses (re-runs when the pins change).
$(STAMP): pyproject.toml requirements/ci.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c requirements/ci.txt -e '.[dev,slurm]'
	touch $(STAMP)

install: $(STAMP)

## make demo: install, then run the whole pipeline on the built-in example cohort.
demo: install
	PATH="$(abspath $(BIN)):$$PATH" $(BIN)/snakemake --cores $(CORES)
	@echo "Report: $(abspath results/report.html)"

## make test: install, then the full test suite.
test: install
	PATH="$(abspath $(BIN)):$$PATH" $(BIN)/python -m pytest

## make test-fast: the unit tests only (tests/unit, no Snakemake runs; about a minute): the development loop.
test-fast: install
	PATH="$(abspath $(BIN)):$$PATH" $(BIN)/python -m pytest tests/unit -m "not slow" -q

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/snakemake --lint
	$(BIN)/snakefmt --check Snakefile workflow/Snakefile workflow/rules

clean:
	rm -rf results resources .snakemake
