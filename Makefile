# reelsmith: `make serve` installs everything and starts the embedded server;
# `make test` installs the test dependencies and runs the whole suite.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000

# What the Video Translation engines run, from Debian's packages: espeak-ng speaks, Apertium
# translates (English-Spanish, English-Catalan, English-Esperanto; French, Portuguese and Italian
# through Spanish), and the fonts draw captions in Latin, Greek, Cyrillic and CJK scripts.
SYSTEM_PACKAGES := espeak-ng apertium apertium-eng-spa apertium-eng-cat apertium-eo-en apertium-fr-es \
	apertium-es-pt apertium-spa-ita fonts-dejavu-core fonts-noto-cjk
# For the tests only: Chromium, the browser the web console's tests drive (Playwright cannot
# download its own here). Target-specific, so `make serve` does not install a browser.
test console-screenshots: SYSTEM_PACKAGES += chromium

# Kokoro-82M's voices (style tables) are in the npm package kokoro-js: `npm pack` fetches its
# tarball from the npm registry, its sha256 is checked, and voices/*.bin are unpacked where the
# server looks for them by default (each file's sha256 is checked again before use).
KOKORO_JS_VERSION := 1.2.1
KOKORO_JS := kokoro-js-$(KOKORO_JS_VERSION)
KOKORO_JS_SHA256 := 1f0d0383ef0349af0bd9440d81dc12abbea3a5392eb645283eda876f537f5860
KOKORO_SHARE := $(VENV)/share/reelsmith
KOKORO_VOICES := $(KOKORO_SHARE)/$(KOKORO_JS)/voices

.PHONY: install system-packages serve test console-screenshots bench lint clean

$(VENV)/.installed: pyproject.toml
	@$(PYTHON) -m venv $(VENV) || { echo "python3 -m venv failed: install python3-venv (apt-get install python3-venv)"; exit 1; }
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	@touch $@

$(KOKORO_VOICES)/.unpacked: | $(VENV)/.installed
	@command -v npm >/dev/null 2>&1 || { echo "npm is missing: it fetches Kokoro's voices (the npm package $(KOKORO_JS)). Install npm (Debian/Ubuntu: sudo apt-get install npm; or Node.js from https://nodejs.org) and run make again."; exit 1; }
	@rm -rf $(KOKORO_SHARE)/download && mkdir -p $(KOKORO_SHARE)/download
	cd $(KOKORO_SHARE)/download && npm pack --silent kokoro-js@$(KOKORO_JS_VERSION) >/dev/null
	@echo "$(KOKORO_JS_SHA256)  $(KOKORO_SHARE)/download/$(KOKORO_JS).tgz" | sha256sum --check --status || { echo "$(KOKORO_JS).tgz from npm does not have the expected sha256: not installed"; exit 1; }
	@rm -rf $(KOKORO_VOICES) && mkdir -p $(KOKORO_VOICES)
	tar -xzf $(KOKORO_SHARE)/download/$(KOKORO_JS).tgz -C $(KOKORO_VOICES) --strip-components=2 package/voices
	@rm -rf $(KOKORO_SHARE)/download
	@touch $@

install: $(VENV)/.installed $(KOKORO_VOICES)/.unpacked

# The model-backed engines' libraries (torch's CPU build, diffusers...): the suite tests those
# engines on tiny random weights; `make serve` does without them.
$(VENV)/.models-installed: $(VENV)/.installed
	$(PY) -m pip install --quiet -e '.[test,models]'
	@touch $@

system-packages:
	@missing="$$(for package in $(SYSTEM_PACKAGES); do dpkg -s $$package >/dev/null 2>&1 || echo $$package; done)"; \
	if [ -n "$$missing" ]; then \
		echo "installing Debian packages:" $$missing; \
		sudo=""; [ "$$(id -u)" = 0 ] || sudo=sudo; \
		$$sudo apt-get update -q >/dev/null && \
		DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -q $$missing >/dev/null; \
	fi

serve: install system-packages
	$(VENV)/bin/reelsmith serve --host $(HOST) --port $(PORT)

# The service-core suite, run a second time in the scale-out mode: PostgreSQL and Celery on
# Redis at 127.0.0.1 (skipped, saying so, where they are not running).
SCALEOUT_SUITE := tests/core/test_smoke.py tests/core/test_auth.py tests/core/test_envelope.py tests/core/test_concurrency.py \
	tests/core/test_files.py tests/core/test_admin_api.py tests/core/test_webhooks.py tests/core/test_worker_recovery.py \
	tests/core/test_cli.py tests/core/test_serve.py tests/core/test_media_fetch.py tests/image2video/test_image2video_api.py \
	tests/character_swap/test_character_swap_api.py tests/video_translation/test_translation_api.py tests/core/test_akool_clients.py \
	tests/core/test_rate_limits.py tests/core/test_webhook_fairness.py tests/core/test_metrics.py \
	tests/console/test_task_list.py

test: install system-packages $(VENV)/.models-installed
	$(PY) -m pytest -q
	REELSMITH_TEST_SCALEOUT=1 $(PY) -m pytest -q $(SCALEOUT_SUITE)

# The console's pages photographed into docs/console/ (a test run otherwise writes them to a
# scratch folder, leaving the tree as it was).
console-screenshots: install system-packages $(VENV)/.models-installed
	CONSOLE_SCREENSHOTS_DIR=docs/console $(PY) -m pytest -q tests/console/test_console.py

bench: install
	$(PY) bench/api.py

lint: install $(VENV)/.models-installed
	$(PY) -m ruff check reelsmith tests bench
	$(VENV)/bin/lint-imports
	$(PY) -m mypy

clean:
	rm -rf $(VENV) data .pytest_cache
