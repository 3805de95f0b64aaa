# Two entry points for a fresh machine: `make build` and `make test`.
# Both create .venv (Python 3.11+) and install the pinned dependencies when missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DIST ?= dist
# e.g. BUILD_FLAGS=--disabled: ship every search and rule disabled.
BUILD_FLAGS ?=

.PHONY: build test lint validate golden coverage changelog bench clean venv

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is required")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=24"
	# Editable: sigma-cli sees sigma/pipelines/dac through the namespace packages that
	# pyproject.toml declares (no deprecated compat mode).
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	@touch $(STAMP)

venv: $(STAMP)

validate: $(STAMP)
	$(BIN)/dac validate

build: $(STAMP)
	$(BIN)/dac build --out $(DIST) $(BUILD_FLAGS)

test: $(STAMP)
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# Regenerate the golden SPL/EQL files after an intended query change; review the diff.
golden: $(STAMP)
	$(BIN)/python -m converters.golden

# After a rule or coverage plan change: copy the generated coverage table into the README.
coverage: $(STAMP)
	$(BIN)/python -m converters.readme_coverage

# After a rule change: rewrite the current release's rule lists in CHANGELOG.md.
changelog: $(STAMP)
	$(BIN)/python -m converters.changelog

# The dac hunt benchmark (about 15 minutes on 2 cores): 250k and 1M mixed events, a heavy
# group, 100k alerts, each against orjson decode-only and the simple way; dac build against
# sigma convert. E.g. BENCH_FLAGS="--sizes 250000,1000000,4000000" adds 4M; --events N: one size.
BENCH_FLAGS ?=
bench: $(STAMP)
	$(BIN)/python bench/hunt_bench.py $(BENCH_FLAGS)

clean:
	rm -rf $(DIST) .pytest_cache .mypy_cache .ruff_cache
