# s3emu: `make run` starts the server, `make test` runs the suite. Both set up .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CONFIG ?= config.example.toml
PYTEST_ARGS ?=
BENCH_ARGS ?=

.PHONY: help run test bench lint clean

help:  ## list targets
	@grep -E '^[a-z]+:.*##' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

run: $(STAMP)  ## start the server on 127.0.0.1:9000 with config.example.toml
	$(BIN)/s3emu serve --config $(CONFIG)

test: $(STAMP)  ## run the whole test suite
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: $(STAMP)  ## run the benchmark, write benchmarks/results/latest.md
	$(BIN)/python -m benchmarks.run $(BENCH_ARGS)

clean:  ## remove the virtualenv and local data
	rm -rf $(VENV) data .pytest_cache
