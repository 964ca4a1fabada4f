# vipwh — two commands on a fresh machine:  `make demo`  and  `make test`.
# Each creates the virtual environment (.venv) when missing.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

DEMO_HOLDERS ?= 20000
DEMO_SEED    ?= 42
DEMO_BATCHES ?= 5
LANDING      ?= data/landing
WAREHOUSE    ?= data/warehouse.duckdb

.PHONY: demo demo-spark test lint lint-sql bench dev notebooks-html clean

# uv installs the same packages as pip, in a quarter of the time (docs/benchmarks.md, "The test suite").
# Bytecode is compiled once here: where PYTHONDONTWRITEBYTECODE is set (as on CI's machines) Python never
# caches it, and every `vipwh` process would compile Dagster, dbt and pandas again, about 7 s
# (docs/benchmarks.md, "A build with nothing new starts faster").
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet uv
	$(BIN)/uv pip install --quiet --compile-bytecode --python $(BIN)/python -e ".[dev,spark]"
	$(BIN)/python -m compileall -q vipwh dagster_project > /dev/null
	touch $(STAMP)

## demo: generate the demo book (20 000 holders, fixed seed), build the warehouse from it and run the
## example proposals of data/scenarios/ (so the dashboard's Scenarios page has content)
demo: $(STAMP)
	$(BIN)/vipwh generate --out $(LANDING) --holders $(DEMO_HOLDERS) --seed $(DEMO_SEED) --batches $(DEMO_BATCHES)
	$(BIN)/vipwh build --landing $(LANDING) --warehouse $(WAREHOUSE)
	for proposal in data/scenarios/*.yaml; do $(BIN)/vipwh scenario run $$proposal --warehouse $(WAREHOUSE) || exit 1; done

## demo-spark: the same demo book built with dbt on a local Spark (Java 17) into data/spark (docs/spark.md)
demo-spark: $(STAMP)
	test -d $(LANDING) || $(BIN)/vipwh generate --out $(LANDING) --holders $(DEMO_HOLDERS) --seed $(DEMO_SEED) --batches $(DEMO_BATCHES)
	$(BIN)/vipwh build --engine spark --landing $(LANDING) --warehouse data/spark

## test: lint, then every test
test: $(STAMP) lint
	$(BIN)/pytest -q -n 2 --dist loadfile --no-loadscope-reorder --durations=15

## lint: ruff (check and format); sqlfluff runs as a test beside the others (tests/test_lint_sql.py), or alone
## with `make lint-sql`
lint: $(STAMP)
	$(BIN)/ruff check vipwh dagster_project tests notebooks scripts
	$(BIN)/ruff format --check vipwh dagster_project tests notebooks scripts

## lint-sql: sqlfluff (.sqlfluff: dbt templater, DuckDB dialect) on dbt_project; needs no built warehouse,
## dbt's connection opens a throw-away DuckDB file
LINT_WAREHOUSE := $(or $(TMPDIR),/tmp)/vipwh-lint-sql.duckdb
lint-sql: $(STAMP)
	VIPWH_DBT_TARGET=duckdb VIPWH_WAREHOUSE=$(LINT_WAREHOUSE) $(BIN)/sqlfluff lint dbt_project --processes 2

## bench: time each stage for 100 000 holders (HOLDERS=1000000 for the large book)
HOLDERS ?= 100000
bench: $(STAMP)
	$(BIN)/vipwh bench --holders $(HOLDERS) --report docs/benchmarks.md

## dev: the Dagster UI on the demo warehouse
dev: $(STAMP)
	VIPWH_LANDING=$(LANDING) VIPWH_WAREHOUSE=$(WAREHOUSE) $(BIN)/dagster dev -m dagster_project.definitions

## notebooks-html: the notebooks run on the demo snapshot, as pages that render offline (data/notebooks/;
## view with `python -m http.server --directory data/notebooks 8001`)
notebooks-html: $(STAMP)
	VIPWH_WAREHOUSE=$(WAREHOUSE) PYTHONPATH=. $(BIN)/python -m vipwh.notebook_export notebooks/*.py --out data/notebooks

clean:
	rm -rf data/landing data/notebooks data/*.duckdb data/*.published data/spark data/logs dbt_project/target dbt_project/logs .dagster_home
