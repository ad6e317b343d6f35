# The two commands: `make demo` and `make test`. Each creates .venv and installs on first
# use; the stamp file is keyed on pyproject.toml, so later runs skip the install.
PYTHON ?= python3
# The suite runs in this many processes (pytest-xdist): most of its time is spent waiting on servers and
# subprocesses, so two workers keep two cores busy. TEST_WORKERS=0 runs it in this process.
TEST_WORKERS ?= 2
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell sha1sum pyproject.toml | cut -c1-12)

export HF_HUB_OFFLINE := 1

.PHONY: demo test install lint clean

install: $(STAMP)

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "LearnLake needs Python 3.11 or newer: set PYTHON=python3.11")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@rm -f $(VENV)/.installed-*
	@touch $@

demo: $(STAMP)
	$(BIN)/learnlake demo

test: $(STAMP)
	$(BIN)/lint-imports
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadgroup --no-loadscope-reorder

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports

clean:
	rm -rf .learnlake dbt_project/target dbt_project/logs
