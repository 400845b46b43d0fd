# The two commands a fresh machine needs: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 8402

.PHONY: demo test test-fast install install-test clean bench bench-build bench-catalog system-deps

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# Re-install only when the package definition changes.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(VENV)/.installed $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

## make demo: start the local x402 fleet, crawl it, build the site, serve it on http://127.0.0.1:$(PORT)
demo: install
	$(BIN)/x402-index demo --port $(PORT)

# Debian packages the tests need, installed when missing (as root with apt-get, else through
# passwordless sudo): chromium for the browser tests (never a downloaded browser), postgresql's server
# binaries for the throwaway PostgreSQL cluster, redis-server for the distributed crawl's tests.
system-deps:
	@MISSING=""; \
	command -v chromium >/dev/null 2>&1 || MISSING="$$MISSING chromium"; \
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1 || MISSING="$$MISSING postgresql"; \
	command -v redis-server >/dev/null 2>&1 || [ -x /usr/bin/redis-server ] || MISSING="$$MISSING redis-server"; \
	if [ -z "$$MISSING" ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ]; then SUDO=""; \
	elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then SUDO="sudo -n"; \
	else echo "missing Debian packages:$$MISSING; apt-get needs root: run 'apt-get install$$MISSING' as root" >&2; exit 1; fi; \
	echo "installing Debian packages for the tests:$$MISSING"; \
	$$SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	$$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$MISSING >/dev/null

## make test: install with test extras (chromium, postgresql) and run the whole suite
test: install-test system-deps
	PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 $(BIN)/python -m pytest -q

## make test-fast: the edit-test loop, without the end-to-end, browser, PostgreSQL and slow property tests (make test runs all)
test-fast: install-test
	PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 $(BIN)/python -m pytest -q -m "not e2e and not browser and not postgres and not slow"

## make bench: loopback probe throughput, ours vs a bare Scrapy spider (bench/README.md)
bench: install
	$(BIN)/python bench/probe.py --n 5000 --repeat 3

## make bench-build: site build time for 100,000 synthetic records: full, incremental, pagefind, rebuild with all changed
bench-build: install
	$(BIN)/python bench/build.py

## make bench-catalog: the catalog stage (build_records) over a SQLite store of 20,000 synthetic resources
bench-catalog: install
	$(BIN)/python bench/catalog.py

clean:
	rm -rf $(VENV) public data/catalog.db data/demo .pytest_cache
