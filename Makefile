# s3emu: `make run` starts the server, `make test` runs the suite, `make lint` checks the code.
# Each sets up .venv first: `run` with the runtime dependencies only, the others with the test
# and development extras.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
RUN_STAMP := $(VENV)/.installed-run
TEST_STAMP := $(VENV)/.installed-test
BENCH_STAMP := $(VENV)/.installed-bench
CONFIG ?= config.example.toml
PORT ?=
DATA ?=
ARGS ?=
PYTEST_ARGS ?=
BENCH_ARGS ?=
# s3emu as of this revision is measured in the same run: the figures to beat (empty: none)
BENCH_BASELINE ?= 2d9b492

.PHONY: help run test bench lint clean

help:  ## list targets
	@grep -E '^[a-z]+:.*##' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(RUN_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(TEST_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test,dev]'
	touch $@ $(RUN_STAMP)

# the benchmark measures s3emu as installed with the `fast` extra (uvloop)
$(BENCH_STAMP): $(TEST_STAMP)
	$(BIN)/python -m pip install --quiet -e '.[test,dev,fast]'
	touch $@

run: $(RUN_STAMP)  ## start the server on 127.0.0.1:9000 with config.example.toml (PORT=, DATA=, ARGS=)
	$(BIN)/s3emu serve --config $(CONFIG) $(if $(PORT),--port $(PORT)) $(if $(DATA),--data-dir $(DATA)) $(ARGS)

test: $(TEST_STAMP)  ## run the whole test suite
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(TEST_STAMP)  ## ruff over the code and tests, mypy over the package
	$(BIN)/ruff check s3emu tests benchmarks
	$(BIN)/mypy

bench: $(BENCH_STAMP)  ## run the benchmark, write benchmarks/results/latest.md
	$(BIN)/python -m benchmarks.run $(if $(BENCH_BASELINE),--baseline $(BENCH_BASELINE)) $(BENCH_ARGS)

clean:  ## remove the virtualenv and local data
	rm -rf $(VENV) data .pytest_cache .mypy_cache .ruff_cache
