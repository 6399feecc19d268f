# Two commands for a new user: `make demo` and `make test`. Each creates .venv on a fresh machine.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
BENCH_VENV := .venv-bench

.PHONY: demo test test-gpu lint bench stress system-deps clean docs out-of-core

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[viz,train,scipy,numexpr,numba,dask,dev]'
	touch $(STAMP)

# Graphviz's `dot` program renders graph pictures; install it from Debian's packages when missing and allowed.
system-deps:
	@command -v dot >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq graphviz >/dev/null) \
	      || echo "note: could not install graphviz; pictures will not render"; \
	  else echo "note: install Graphviz (apt-get install graphviz) to render pictures"; fi; }

demo: $(STAMP) system-deps
	$(VENV)/bin/chainrule demo

# The suite starts its own dask.distributed LocalCluster (two worker processes) where it needs one.
test: $(STAMP) system-deps
	$(PY) -m pytest -n 2 -m "not stress and not gpu and not docs"

# On a machine with an NVIDIA GPU: CuPy arrays through the same tests of the array-API path.
test-gpu: $(STAMP)
	$(PY) -m pip install -q -e '.[cupy]'
	$(PY) -m pytest -m gpu

# Issue 17's example: a logistic regression on 10^7 x 20 lazily generated rows on a LocalCluster.
out-of-core: $(STAMP)
	$(PY) examples/out_of_core_logistic_regression.py

stress: $(STAMP)
	$(PY) -m pytest -m stress

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests bench examples

$(BENCH_VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/pip install -q --upgrade pip
	$(BENCH_VENV)/bin/pip install -q -e '.[train,scipy,numexpr,numba,dask]' torch==2.13.0 autograd jax jaxlib threadpoolctl
	touch $@

bench: $(BENCH_VENV)/.installed
	$(BENCH_VENV)/bin/python -m bench

# The documentation site: tutorials executed, API pages generated; any warning, broken
# cross-reference or raising cell fails the build.
$(VENV)/.docs-installed: $(STAMP)
	$(PY) -m pip install -q -e '.[viz,train,scipy,docs]'
	touch $@

docs: $(VENV)/.docs-installed system-deps
	rm -rf docs/api/generated
	$(VENV)/bin/sphinx-build -b html -W --keep-going -n -q docs docs/_build/html
	$(PY) -m pytest -q -p no:cacheprovider -m docs tests/test_docs.py
	@echo "docs: open docs/_build/html/index.html"

clean:
	rm -rf $(VENV) $(BENCH_VENV) demo-output runs
