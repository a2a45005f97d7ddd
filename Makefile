# The two commands a user needs: `make run` and `make test`. Everything else
# here is what they are made of, plus `make dev` (the Dagster UI) and
# `make bench SCALE=<orders>`.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON      ?= python3.11
UV_VERSION  := 0.13.8
TOOLS       := .tools
UV          := $(TOOLS)/uv/bin/uv
VENV        := .venv
BIN         := $(VENV)/bin
SCALE       ?= 1000000
DEV_PORT    ?= 3000

# The knobs users set (RAW_DATA_DIR, AS_OF_DATE, DUCKDB_PATH, PUBLISH_PATH,
# DBT_TARGET) reach every step as they are: make passes on variables from the
# environment and the command line (`make run AS_OF_DATE=2026-10-31`).
export DAGSTER_HOME         := $(CURDIR)/dagster_home
export DAGSTER_TELEMETRY_DISABLED := 1
export DO_NOT_TRACK         := 1
export PYTENSOR_FLAGS       := compiledir=$(CURDIR)/.cache/pytensor
export UV_PYTHON_DOWNLOADS  := never
# Install every package's bytecode with it: where PYTHONDONTWRITEBYTECODE is
# set (as on this project's machines) each dbt, Dagster and PyMC process would
# otherwise compile its imports from source again, seconds per process.
export UV_COMPILE_BYTECODE  := 1
export UV_PROJECT_ENVIRONMENT := $(CURDIR)/$(VENV)
# The dg CLI compares the active environment with the project's: this is it.
export VIRTUAL_ENV          := $(CURDIR)/$(VENV)

DBT := $(BIN)/dbt
DG  := $(BIN)/dg
DBT_FLAGS := --profiles-dir $(CURDIR) --project-dir $(CURDIR)

.PHONY: help install install-spark run test test-spark lint fmt dev bench manifest clean bi bi-install bi-screenshots

help:
	@echo "make run    install, build the whole pipeline on demo data (or RAW_DATA_DIR), print a summary"
	@echo "make test   install and run every test (pytest + dbt build on fixtures)"
	@echo "make dev    open the Dagster UI on http://127.0.0.1:$(DEV_PORT)"
	@echo "make bench  SCALE=<orders>: generate, build and time everything at that size"
	@echo "make lint   ruff (Python) and sqlfluff (dbt SQL); part of make test"
	@echo "make fmt    apply ruff's and sqlfluff's fixes"
	@echo "make bi     Superset dashboards over the published marts on http://127.0.0.1:$(BI_PORT) (prints the login)"

# --- install -----------------------------------------------------------------
# uv (pinned) lives in its own small venv so `uv sync` never removes itself;
# the project venv is created from uv.lock exactly (--frozen).
$(UV):
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "Python 3.11 is required"' 2>/dev/null \
	  || { echo "Python 3.11 not found as '$(PYTHON)'; set PYTHON=/path/to/python3.11"; exit 1; }
	$(PYTHON) -m venv $(TOOLS)/uv
	$(TOOLS)/uv/bin/python -m pip install --quiet "uv==$(UV_VERSION)"

# Once the spark group is installed, every later sync keeps it (a plain
# `uv sync` would remove it whenever pyproject.toml or uv.lock changed).
$(VENV)/.installed: $(UV) pyproject.toml uv.lock
	$(UV) sync --frozen $(if $(wildcard $(VENV)/.installed-spark),--group spark) --python $(PYTHON)
	@touch $@

# The Spark target's packages (pyspark, dbt-spark) are the `spark` dependency
# group: synced on top of the base install when DBT_TARGET=spark and for
# `make test` / `make test-spark`.
$(VENV)/.installed-spark: $(VENV)/.installed
	$(UV) sync --frozen --group spark --python $(PYTHON)
	@touch $@

install-spark: $(VENV)/.installed-spark

install: $(VENV)/.installed $(if $(filter spark,$(DBT_TARGET)),$(VENV)/.installed-spark)

# --- the dbt manifest, built ahead of time for a production deployment -------
# (the dg CLI, so `make run` and `make dev`, parses the project by itself)
manifest: install
	$(DBT) parse $(DBT_FLAGS) --quiet

# --- the two commands ----------------------------------------------------------
# orchestration.run launches the Dagster job (`dg launch`) and, if the input or
# configuration is refused, prints the reason as the last lines (no stack trace after it).
# Daily builds are incremental (only new raw files are staged); `make run FULL_REFRESH=1`
# lands and stages everything again (orchestration/incremental.py says when that is automatic).
run: install
	$(BIN)/python -m orchestration.run
	$(BIN)/python -m orchestration.summary

# pytest on both cores (pytest-xdist, a module per worker; see tests/conftest.py); TEST_WORKERS=0 runs in one process
TEST_WORKERS ?= 2
# Every test, the Spark build of the fixture included (it needs the spark group; Java 17).
# The dbt unit tests on Spark (marker spark_unit, under 2 min over the Spark test build) included.
test: install install-spark lint bi-install
	$(DG) check defs
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder --durations=30

# Only the Spark tests: the Dagster job on Spark over the test fixture against a DuckDB build
# (tests/test_spark_build.py), the dbt unit tests on Spark, and CDNOW fitted through the
# Spark CLV step (README, "Past one machine").
test-spark: install-spark
	$(BIN)/python -m pytest tests/test_spark_build.py tests/test_spark_clv_cdnow.py -m "spark or spark_unit" -q --durations=5

# --- lint: ruff for Python, sqlfluff (dbt templater, DuckDB dialect) for SQL --
# sqlfluff's dbt templater compiles the project: it gets a throwaway database.
# Settings: [tool.ruff] in pyproject.toml, .sqlfluff and .sqlfluffignore.
LINT_DUCKDB := $(CURDIR)/target/lint/lint.duckdb
SQL_PATHS   := models tests/dbt

lint: install
	$(BIN)/ruff check .
	@mkdir -p $(dir $(LINT_DUCKDB))
	DUCKDB_PATH=$(LINT_DUCKDB) $(BIN)/sqlfluff lint $(SQL_PATHS) --processes 1 --disable-progress-bar

fmt: install
	$(BIN)/ruff check --fix .
	@mkdir -p $(dir $(LINT_DUCKDB))
	DUCKDB_PATH=$(LINT_DUCKDB) $(BIN)/sqlfluff fix $(SQL_PATHS) --processes 1 --disable-progress-bar

dev: install
	$(DG) dev --host 127.0.0.1 --port $(DEV_PORT)

# DAYS=n: a full build, then n daily incremental builds (orchestration/bench_incremental.py);
# BENCH_ARGS: --shape orders-only, --make-run (see orchestration/bench.py)
bench: install
	$(if $(DAYS),$(BIN)/python -m orchestration.bench_incremental --scale $(SCALE) --days $(DAYS),$(BIN)/python -m orchestration.bench --scale $(SCALE) $(BENCH_ARGS))

clean:
	rm -rf target logs .pytest_cache

# --- BI: Apache Superset over the published marts --------------------------------
# Superset 6.1 pins older pandas/SQLAlchemy than dbt and Dagster, so it has its
# own environment, built from superset/uv.lock exactly. `make bi` builds the
# demo pipeline first if nothing is published yet, imports the dashboards from
# superset/dashboards/*.yml and serves them on 127.0.0.1:$(BI_PORT).
SUPERSET_VENV := superset/.venv
BI_PORT       ?= 8088
PUBLISHED     = $$($(BIN)/python -c 'from orchestration import settings; print(settings.publish_path())')

$(SUPERSET_VENV)/.installed: $(UV) superset/pyproject.toml superset/uv.lock
	cd superset && UV_PROJECT_ENVIRONMENT=$(CURDIR)/$(SUPERSET_VENV) ../$(UV) sync --frozen --python $(PYTHON)
	@touch $@

bi-install: $(SUPERSET_VENV)/.installed

bi: install bi-install
	@test -f "$(PUBLISHED)" || $(MAKE) run
	PUBLISH_PATH="$(PUBLISHED)" $(SUPERSET_VENV)/bin/python superset/bootstrap.py serve --port $(BI_PORT)

# Regenerate the README's dashboard screenshots (docs/dashboards/*.png) from the
# demo build: starts Superset on BI_PORT, renders every dashboard in headless
# Chromium (/usr/bin/chromium), stops Superset.
bi-screenshots: install bi-install
	@test -f "$(PUBLISHED)" || $(MAKE) run
	PUBLISH_PATH="$(PUBLISHED)" $(BIN)/python superset/render.py --serve --port $(BI_PORT) --out docs/dashboards
