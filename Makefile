# emi-tui: `make run` opens the wizard, `make test` runs every test.
# Both do all set-up first (Debian packages and a virtualenv in .venv).
VENV ?= .venv
PY := $(VENV)/bin/python
PYTEST_ARGS ?=

.PHONY: run test setup system venv screenshots bench man clean

run: setup
	$(VENV)/bin/emi-tui $(ARGS)

# Two workers: the real builds, boots and fault injections run in order on one
# (they share a session's cache and artifacts), everything else on the other.
test: setup
	$(PY) -m pytest -n 2 --dist loadgroup $(PYTEST_ARGS)

setup: system venv

system:
	@sh scripts/install-system-tools.sh

venv: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	touch $@

screenshots: setup
	$(PY) scripts/make_screenshots.py

bench: setup
	$(PY) benchmarks/run.py $(BENCH)

# The manual page, from the parser and the README: `man -l emi-tui.1` reads it here.
man: venv
	$(PY) scripts/make_manpage.py README.md > emi-tui.1

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache emi-tui.1
