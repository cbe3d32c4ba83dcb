# make run   : set up .venv and run the main job (every agent, from the shipped checkpoints, on every built-in suite; report)
# make quick : the same, --quick (fewer tasks and suites)
# make test  : set up .venv and run the tests (the default run excludes tests marked slow)
# make bench : throughput benchmarks against the peers (build them with ../shared/tools/peers-venv.sh)
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PEERS ?= .venv-peers
# maze-dataset 1.4.2 imports only with muutils 0.8.12; --no-deps keeps jupyter out of the venv.
MAZE_DATASET := maze-dataset==1.4.2 muutils==0.8.12 zanj==0.6.0 jaxtyping==0.3.11 wadler-lindig typing_extensions
RUN_OUT ?= runs/default
WORKERS ?= $(shell nproc 2>/dev/null || echo 1)
BENCH_PY := $(if $(wildcard $(PEERS)/bin/python),$(PEERS)/bin/python,$(BIN)/python)

.PHONY: setup run quick test test-all bench lint clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# torch first: the pinned CPU wheel; a bare `torch` would pull gigabytes of CUDA packages.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e ".[test]"
	$(BIN)/pip install -q --no-deps $(MAZE_DATASET)
	touch $@

setup: $(VENV)/.installed

run: setup
	$(BIN)/mazebench run --workers $(WORKERS) --out $(RUN_OUT)

quick: setup
	$(BIN)/mazebench run --quick --workers $(WORKERS) --out $(RUN_OUT)-quick

# pytest exits 5 when it collects no test: that is not a failure. -rs prints why a test skipped
# (without chromium: the browser tests, with what to install).
test: setup
	$(BIN)/python -m pytest -n 2 -q -rs; rc=$$?; if [ $$rc -eq 5 ]; then rc=0; fi; exit $$rc

test-all: setup
	$(BIN)/python -m pytest -n 2 -q -m "slow or not slow"

bench: setup
	@for f in benchmarks/bench_*.py; do echo "== $$f"; $(BENCH_PY) $$f || exit 1; done

lint: setup
	$(BIN)/pip install -q ruff
	$(BIN)/ruff check maze_env agents train tests benchmarks

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache
