# espfleet: every entry point. `make help` lists them.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
WAREHOUSE ?= warehouse

.PHONY: help install run test soak lint fix sample bench clean

help: ## list the targets
	@grep -E '^[a-z]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

# uv installs the stack ~15x faster than pip here (4 s vs 57 s); pip is the fallback.
# Debian's python3 may lack ensurepip: then the venv is made without pip and the
# system pip installs uv into it. uv writes no bytecode unless asked, and CI sets
# PYTHONDONTWRITEBYTECODE, so without --compile-bytecode every process (each test's
# Prefect server and worker among them) compiled the stack from source again:
# `import prefect.server.api.server` took 8.3 s here without .pyc files, 4.1 s with them.
$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV) 2>/dev/null || $(PY) -m venv --without-pip $(VENV)
	if [ -x $(BIN)/pip ]; then $(BIN)/pip install -q uv; \
	else $(PY) -m pip --python $(BIN)/python install -q uv; fi || true
	if [ -x $(BIN)/uv ]; then $(BIN)/uv pip install -q --compile-bytecode --python $(BIN)/python -e '.[dev,dask]'; \
	else $(BIN)/python -m pip install -q -e '.[dev,dask]'; fi
	touch $(STAMP)

install: $(STAMP) ## create .venv and install espfleet with its dev tools

run: install ## run the nightly flow on data/sample into ./warehouse and print the failure rates
	$(BIN)/espfleet run --warehouse $(WAREHOUSE)

test: install ## run the test suite
	$(BIN)/python -m pytest -q -p no:cacheprovider

# The long versions of the reliability tests (issue #11): atheris on every parser
# (SOAK_RUNS inputs each; defects are listed, inputs kept in fuzz-artifacts/),
# then the kill -9 and full-disk runs (tests/flows/test_kill.py and
# test_disk_full.py, ESPFLEET_SOAK_KILLS kills).
SOAK_RUNS ?= 1000000
SOAK_KILLS ?= 20
soak: install ## long reliability runs: 1,000,000 fuzz inputs per parser, 20+ kill -9 runs
	$(BIN)/python -m tests.fuzz.soak --runs $(SOAK_RUNS)
	ESPFLEET_SOAK_KILLS=$(SOAK_KILLS) $(BIN)/python -m pytest -q -p no:cacheprovider tests/flows/test_kill.py tests/flows/test_disk_full.py

lint: install ## ruff (check + format), mypy over every package, sqlfluff on sql/
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy -p espfleet
	$(BIN)/sqlfluff lint sql/

fix: install ## let ruff and sqlfluff fix and format what they can
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .
	$(BIN)/sqlfluff fix -f sql/

sample: install ## regenerate the committed sample fleet in data/sample
	rm -rf data/sample
	$(BIN)/espfleet simulate --devices 40 --seed 7 --out data/sample

bench: install ## print the benchmark numbers
	for b in bench/bench_*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean: ## remove the venv, the warehouse and caches
	rm -rf $(VENV) $(WAREHOUSE) .prefect .pytest_cache .ruff_cache fuzz-artifacts fuzz-corpus soak-logs
