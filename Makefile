# The two commands of the README: `make demo` starts the main job, `make test` installs and runs every check.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: install browser demo test

$(BIN)/atsbridge: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

install: $(BIN)/atsbridge

# Browser tests drive Debian's Chromium (never a downloaded browser).
browser:
	@command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium >/dev/null)

# `make demo DEMO_ARGS="--port 8001 --emulator-port 8766"`: other ports (or --size, --data-dir).
demo: install
	$(BIN)/atsbridge demo $(DEMO_ARGS)

# Three test processes on two cores: many tests wait on an emulator or API subprocess, and a third process fills
# that idle time (every test makes its own store, ports and directories, so they run side by side).
test: install browser
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy
	$(BIN)/pytest -q -n 3
