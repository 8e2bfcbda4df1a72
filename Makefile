# Each target creates .venv if missing and installs what it needs.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check -q
SPHINX := $(PY) -m sphinx -W --keep-going -b html docs docs/_build/html

.PHONY: demo test lint bench docs clean

$(VENV)/bin/activate:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed-core: pyproject.toml | $(VENV)/bin/activate
	$(PIP) install -e .
	touch $@

# The dask extra too, so that the dask tests run rather than skip.
$(VENV)/.installed-test: pyproject.toml | $(VENV)/bin/activate
	$(PIP) install -e ".[test,dask]"
	touch $@

$(VENV)/.installed-docs: pyproject.toml | $(VENV)/bin/activate
	$(PIP) install -e ".[docs]"
	touch $@

demo: $(VENV)/.installed-core
	$(PY) examples/demo_digits.py

# The docs are built (warnings as errors) before the suite, so that pytest's
# summary stays the last thing CI reads. The gallery runs every example (the
# build fails on an example's error; removing its checksums makes it run all
# of them, not only those edited since the last build), and pytest checks
# that record rather than running each example a second time.
test: $(VENV)/.installed-test $(VENV)/.installed-docs
	rm -f docs/auto_examples/*.py.md5
	$(SPHINX) -q
	SKVAE_GALLERY=docs/auto_examples $(PY) -m pytest

lint: $(VENV)/.installed-test
	$(PIP) install ruff
	$(PY) -m ruff check skvae tests examples benchmarks

$(VENV)/.installed-bench: pyproject.toml | $(VENV)/bin/activate
	$(PIP) install -e ".[bench]"
	touch $@

# Each benchmark prints a table and writes benchmarks/results/NAME.json.
# PyTorch is an optional reference: pip install torch==2.13.0 (CPU build).
bench: $(VENV)/.installed-bench
	cd benchmarks && ../$(PY) bench_throughput.py
	cd benchmarks && ../$(PY) bench_quality.py
	cd benchmarks && ../$(PY) bench_inference.py
	cd benchmarks && ../$(PY) bench_anomaly.py
	cd benchmarks && ../$(PY) bench_anomaly_heldout.py
	cd benchmarks && ../$(PY) bench_variants.py
	cd benchmarks && ../$(PY) bench_vqvae.py
	cd benchmarks && ../$(PY) bench_dask.py
	cd benchmarks && ../$(PY) bench_semisupervised.py
	cd benchmarks && ../$(PY) bench_tables.py
	cd benchmarks && ../$(PY) bench_impute.py
	cd benchmarks && ../$(PY) bench_wide.py

# Sphinx with warnings as errors; the gallery runs every example.
docs: $(VENV)/.installed-docs
	$(SPHINX)

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
	rm -rf docs/_build docs/auto_examples docs/generated docs/sg_execution_times.rst
