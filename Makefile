# reelsmith: `make serve` installs everything and starts the embedded server;
# `make test` installs the test dependencies and runs the whole suite.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install serve test bench lint clean

$(VENV)/.installed: pyproject.toml
	@$(PYTHON) -m venv $(VENV) || { echo "python3 -m venv failed: install python3-venv (apt-get install python3-venv)"; exit 1; }
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	@touch $@

install: $(VENV)/.installed

serve: install
	$(VENV)/bin/reelsmith serve --host $(HOST) --port $(PORT)

test: install
	$(PY) -m pytest -q

bench: install
	$(PY) bench/api.py

lint: install
	$(PY) -m ruff check reelsmith tests bench

clean:
	rm -rf $(VENV) data .pytest_cache
