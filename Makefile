# The two commands a fresh machine needs: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 8402

.PHONY: demo test install install-test clean bench

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

## make test: install with test extras and run the whole suite
test: install-test
	$(BIN)/python -m pytest -q

## make bench: loopback probe throughput, ours vs a bare Scrapy spider (bench/README.md)
bench: install
	$(BIN)/python bench/probe.py --n 5000 --repeat 3

clean:
	rm -rf $(VENV) public data/catalog.db data/demo .pytest_cache
