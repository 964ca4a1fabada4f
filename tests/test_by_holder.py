"""Incremental builds by holder (dagster_project/lib/by_holder.py) give the marts of a build from scratch.

A generated book of four daily batches gets two hand-made ones: one moves a policy to another holder, surrenders a
policy back-dated by twenty months, re-sends rows unchanged and names another holder's relative as a use's
beneficiary; and one generated batch is held back and arrives last, older than the others (late, out of order).
Built one arrival at a time, every build after the first computes the touched holders only; the marts after the
last equal, table by table, those of one build of everything from scratch.
"""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import duckdb

from dagster_project.lib import by_holder, publish
from dagster_project.lib.quality import id_scan
from tests.conftest import query
from vipwh.cli import main
from vipwh.generate import generate_book
from vipwh.landing import write_batch

HOLDERS, SEED = 300, 5
# the tables compared: every published schema's, but the ones that describe the build rather than the book
_BUILD_RECORDS = {("marts", "build_info"), ("quality", "dq_check_results"), ("quality", "dq_batch_ledger")}


def _rows(batch: Path, file_name: str) -> list[dict]:
    with (batch / file_name).open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _tables(warehouse: Path) -> dict[str, list[tuple]]:
    names = query(
        warehouse,
        "select table_schema, table_name from information_schema.tables "
        "where table_schema in ('marts', 'quality', 'scenarios', 'intermediate', 'staging') "
        "and table_type = 'BASE TABLE' order by 1, 2",
    )
    state = {}
    for schema, table in names:
        if (schema, table) in _BUILD_RECORDS:
            continue
        state[f"{schema}.{table}"] = sorted(query(warehouse, f"select * from {schema}.{table}"), key=repr)
    return state


def _build(landing: Path, warehouse: Path, capsys) -> str:
    assert main(["build", "--landing", str(landing), "--warehouse", str(warehouse)]) == 0
    return capsys.readouterr().err  # the progress lines


def _changed_from(progress_lines: str) -> str:
    """The first day that changed, as the build by holder said it (ISO)."""
    prefix = "dbt: the facts can differ from "
    line = next(line for line in progress_lines.splitlines() if prefix in line)
    return line.split(prefix, 1)[1][:10]


def _hand_made_batch(book: Path, landing: Path) -> dict[str, str]:
    """Batch 2026-11-24 with each kind of change, from the generated rows; what it changes."""
    first = book / "2026-11-20"
    policies, customers = _rows(first, "policies.csv"), _rows(first, "customers.csv")
    relatives, usage = _rows(first, "relatives.csv"), _rows(first, "service_usage.csv")
    in_force = [p for p in policies if p["status"] == "in_force" and p["effective_date"] < "2025-01-01"]
    moved_no = in_force[0]["policy_no"]
    surrendered = next(p for p in in_force if p["holder_id"] != in_force[0]["holder_id"] and p["coverage_no"] == "0")
    old_holder = in_force[0]["holder_id"]
    new_holder = next(c["holder_id"] for c in customers if c["holder_id"] not in (old_holder, surrendered["holder_id"]))
    moved = [{**p, "holder_id": new_holder} for p in policies if p["policy_no"] == moved_no]
    surrender_rows = [
        {**p, "status": "surrendered", "status_date": "2025-03-01"}
        for p in policies
        if p["policy_no"] == surrendered["policy_no"]
    ]
    txn = {
        "txn_id": "T999000000001",
        "policy_no": surrendered["policy_no"],
        "txn_type": "surrender",
        "effective_date": "2025-03-01",
        "recorded_at": "2026-11-24 09:30:00",
    }
    # a use by one holder naming another holder's relative as beneficiary (a reference between holders)
    relative = next(r for r in relatives if r["holder_id"] not in (old_holder, new_holder))
    borrower = next(c["holder_id"] for c in customers if c["holder_id"] not in (relative["holder_id"], old_holder))
    cross_use = {
        **usage[0],
        "usage_id": "U999000000001",
        "holder_id": borrower,
        "beneficiary_id": relative["relative_id"],
    }
    # a transaction re-sent under another policy (the core system corrected its policy number): a lapse leaves
    # its old policy, whose holder nothing else touches, and lapses a policy of another holder
    transactions = _rows(first, "policy_transactions.csv")
    holder_of = {p["policy_no"]: p["holder_id"] for p in policies}
    busy = {old_holder, new_holder, surrendered["holder_id"], relative["holder_id"], borrower}
    busy |= {row["holder_id"] for row in customers[:3] + usage[:5]}  # the re-sent rows' holders
    lapse = next(
        t
        for t in transactions
        if t["txn_type"] == "lapse" and t["coverage_no"] == "0" and holder_of.get(t["policy_no"]) not in busy
    )
    target = next(
        p for p in in_force if p["coverage_no"] == "0" and p["holder_id"] not in busy | {holder_of[lapse["policy_no"]]}
    )
    moved_txn = {**lapse, "policy_no": target["policy_no"], "recorded_at": "2026-11-24 10:00:00"}
    write_batch(
        landing,
        "2026-11-24",
        {
            "policies.csv": moved + surrender_rows,
            "policy_transactions.csv": [txn, moved_txn],
            "customers.csv": customers[:3],  # re-sent unchanged
            "service_usage.csv": [*usage[:5], cross_use],  # five re-sent unchanged, one new
        },
    )
    return {
        "old_holder": old_holder,
        "new_holder": new_holder,
        "surrendered_holder": surrendered["holder_id"],
        "borrower": borrower,
        "relative_holder": relative["holder_id"],
        "transaction_left_holder": holder_of[lapse["policy_no"]],
        "transaction_joined_holder": target["holder_id"],
    }


def _tombstones(warehouse: Path, tables: list[str]) -> dict[str, int]:
    """The deleted rows each table still stores (by_holder.dead_rows)."""
    import duckdb

    with duckdb.connect(str(warehouse), read_only=True) as con:
        return {table: by_holder.dead_rows(con, table) for table in tables}


def _columns_read(sql: str, schema: dict) -> dict[str, set[str]]:
    """Of each table the SQL reads, the columns it reads, by ``schema.table``.

    sqlglot qualifies every column and expands every star with ``schema`` (catalog → schema → table → column →
    type), then keeps of each CTE and subquery only the columns a query over it uses: a CTE's ``select *`` of a
    table reads what is used of it. A star it could not expand counts as ``*``.
    """
    import sqlglot
    from sqlglot import exp
    from sqlglot.optimizer.pushdown_projections import pushdown_projections
    from sqlglot.optimizer.qualify import qualify
    from sqlglot.optimizer.scope import traverse_scope

    tree = qualify(sqlglot.parse_one(sql, read="duckdb"), schema=schema, dialect="duckdb")
    read: dict[str, set[str]] = {}
    for scope in traverse_scope(pushdown_projections(tree)):
        tables = {name: source for name, source in scope.sources.items() if isinstance(source, exp.Table)}
        for column in scope.columns:
            if column.table in tables:
                read.setdefault(f"{tables[column.table].db}.{tables[column.table].name}", set()).add(column.name)
        if isinstance(scope.expression, exp.Select) and scope.expression.is_star:
            for table in tables.values():
                read.setdefault(f"{table.db}.{table.name}", set()).add("*")
    return read


def _warehouse_columns(warehouse: Path) -> dict:
    """The warehouse's columns as sqlglot takes a schema: catalog → schema → table → column → type."""
    schema: dict = {}
    for catalog, schema_name, table, column, data_type in query(
        warehouse,
        "select table_catalog, table_schema, table_name, column_name, data_type from information_schema.columns",
    ):
        schema.setdefault(catalog, {}).setdefault(schema_name, {}).setdefault(table, {})[column] = data_type
    return schema


def _facts_read_by_models_keeping_periods(warehouse: Path) -> dict[str, dict[str, set[str]]]:
    """Of each model calling ``changed_from``, the columns its SQL, as the warehouse's last build compiled it,
    reads of each fact ``by_holder.first_change`` follows."""
    import json

    results = json.loads((warehouse.parent / "logs" / "dbt_run_results.json").read_text(encoding="utf-8"))
    compiled = {result["unique_id"]: result.get("compiled_code") for result in results["results"]}
    schema = _warehouse_columns(warehouse)
    facts = by_holder.followed_columns()
    keeping = {
        node["name"]: uid
        for uid, node in _manifest()["nodes"].items()
        if by_holder.CHANGED_FROM_MACRO in node.get("raw_code", "")
    }
    read = {}
    for name, uid in keeping.items():
        assert compiled.get(uid), f"{name}: no compiled SQL in the last build's run results"
        columns_read = _columns_read(compiled[uid], schema)
        read[name] = {table: columns for table, columns in columns_read.items() if table in facts}
    return read


def test_the_columns_a_query_reads_are_found_through_its_ctes():
    """Worked by hand: the CTE selects every column, the query over it uses three (one only in its filter)."""
    schema = {
        "wh": {
            "marts": {
                "fct_benefit_usage": {
                    "holder_id": "VARCHAR",
                    "service_date": "DATE",
                    "vendor": "VARCHAR",
                    "cost_amount": "DECIMAL(18,2)",
                },
            }
        }
    }
    sql = """
        with usage as (select * from wh.marts.fct_benefit_usage),
        by_day as (select service_date, sum(cost_amount) as cost from usage where vendor <> 'x' group by 1)
        select * from by_day
    """
    assert _columns_read(sql, schema) == {"marts.fct_benefit_usage": {"service_date", "cost_amount", "vendor"}}


def _manifest() -> dict:
    import json

    from dagster_project import project

    return json.loads(project.ensure_dbt_manifest().read_text(encoding="utf-8"))


def _last_checks(warehouse: Path) -> list[tuple]:
    """The outcomes of the last build's checks, in the published snapshot (the build of marts.build_info)."""
    return sorted(
        query(
            publish.current_snapshot(warehouse),
            "select check_name, asset_key, severity, passed, failing_rows from quality.dq_check_results "
            "where build_id = (select build_id from marts.build_info)",
        )
    )


def test_builds_by_holder_give_the_marts_of_a_build_from_scratch(tmp_path: Path, capsys, monkeypatch):
    book = tmp_path / "book"
    generate_book(book, holders=HOLDERS, seed=SEED, batches=4, workers=1)  # 2026-11-20 … 2026-11-23
    extra = tmp_path / "extra"
    changed = _hand_made_batch(book, extra)

    # incremental: 20, 21 and 23 whole; then 24 (hand-made); then 22, late
    landing, warehouse = tmp_path / "inc" / "landing", tmp_path / "inc" / "wh.duckdb"
    for name in ("2026-11-20", "2026-11-21", "2026-11-23"):
        shutil.copytree(book / name, landing / name)
    assert "dbt: every holder (no whole build is recorded" in _build(landing, warehouse, capsys)

    shutil.copytree(extra / "2026-11-24", landing / "2026-11-24")
    out = _build(landing, warehouse, capsys)
    assert "dbt: by holder (1 new batch(es), valuation date 2026-11-23 → 2026-11-24)" in out
    touched = {row[0] for row in query(warehouse, f"select holder_id from {by_holder.SCOPE_TABLE}")}
    # both holders of the moved policy and of the moved transaction, the surrendered, both of the use
    assert set(changed.values()) <= touched
    assert len(touched) < HOLDERS / 2  # not the whole book
    # the surrender back-dated to 2025-03-01 changes its holder's rated premium from that day at the latest
    assert _changed_from(out) <= "2025-03-01"

    # the merge kept the first pass's tables, the touched holders' rows it put in: the ID scan reads those of a merged
    # table (its last result passed after the first build), and publishing copies them
    with duckdb.connect(str(warehouse), read_only=True) as con:
        changed_rows = id_scan._changed_rows(con)
        assert changed_rows[("marts", "fct_policy_rating")] == "by_holder_marts.fct_policy_rating"
        assert changed_rows[("staging", "stg_core__policies")] == "by_holder_staging.stg_core__policies"
        for (schema, table), first_pass in changed_rows.items():
            names = [
                name
                for (name,) in con.execute(
                    "select column_name from information_schema.columns where table_schema = ? and table_name = ?",
                    [schema, table],
                ).fetchall()
            ]
            columns = ", ".join(f'"{name}"' for name in names)
            touched_rows = f"select {columns} from {schema}.{table} where {by_holder._row_scope(set(names))}"
            first_pass_rows = f"select {columns} from {first_pass}"
            # equal as multisets: EXCEPT ALL both ways
            for a, b in ((touched_rows, first_pass_rows), (first_pass_rows, touched_rows)):
                assert con.execute(f"select count(*) from ({a} except all {b})").fetchone()[0] == 0, table

    merged = ["marts.fct_policy_rating", "marts.fct_benefit_usage", "staging.stg_core__policies"]
    # a merged table keeps the rows it deleted as tombstones until they pass COMPACT_AT of its stored rows (here
    # the touched holders are a large share of the book: some tables were compacted already)
    assert any(_tombstones(warehouse, merged).values())

    shutil.copytree(book / "2026-11-22", landing / "2026-11-22")  # late, older than the valuation date
    # this merge compacts every table it touches (any tombstone passes a share of 0), and so does its publish
    monkeypatch.setattr(by_holder, "COMPACT_AT", 0.0)
    kept_out = _build(landing, warehouse, capsys)
    assert "dbt: by holder (1 new batch(es), valuation date 2026-11-24 → 2026-11-24)" in kept_out
    # the aggregates by period computed this build's periods from the first that changed, and kept the earlier ones
    # (the book starts years before): the comparison with a build from scratch below covers both
    first_month = query(warehouse, "select min(month) from marts.mart_tier_distribution_monthly")[0][0].isoformat()
    assert first_month < _changed_from(kept_out)[:7] + "-01" <= "2026-11-01"
    # and they read, of the facts, only the columns whose changes that day follows (by_holder.followed_columns), in
    # the SQL this build compiled
    read = _facts_read_by_models_keeping_periods(warehouse)
    assert set(read) == {"int_benefit__utilization", "mart_tier_distribution_monthly", "mart_member_exposure_monthly"}
    for model, facts in read.items():
        assert facts, f"{model} reads none of the facts"
        for table, columns in facts.items():
            assert columns <= set(by_holder.followed_columns()[table]), (model, table, columns)
    assert set(_tombstones(warehouse, merged).values()) == {0}
    snapshot = publish.current_snapshot(warehouse)
    assert set(_tombstones(snapshot, ["marts.fct_policy_rating", "marts.fct_benefit_usage"]).values()) == {0}

    # from scratch: every batch, one build
    scratch_landing, scratch = tmp_path / "scratch" / "landing", tmp_path / "scratch" / "wh.duckdb"
    for source in (book, extra):
        shutil.copytree(source, scratch_landing, dirs_exist_ok=True)
    _build(scratch_landing, scratch, capsys)

    incremental, from_scratch = _tables(warehouse), _tables(scratch)
    assert set(incremental) == set(from_scratch)
    assert {"marts.fct_policy_rating", "marts.fct_member_tier_history", "marts.dim_member"} <= set(incremental)
    # the changes reached the marts: the moved policy's slices are the new holder's, the surrender counts
    moved_to = query(
        scratch,
        "select distinct holder_id from marts.fct_policy_rating where policy_no in "
        "(select policy_no from staging.stg_core__policies where holder_id = ?)",
        [changed["new_holder"]],
    )
    assert (changed["new_holder"],) in moved_to
    for table, rows in from_scratch.items():
        assert incremental[table] == rows, table
    # the last build by holder kept the rules' tables as built, and judged every check a build from scratch judges,
    # with the same outcomes
    assert f"dbt: kept {len(by_holder.passes(_manifest())[1])} node(s) of the rules as built" in kept_out
    assert _last_checks(warehouse) == _last_checks(scratch)
    assert len(_last_checks(scratch)) > 200


def test_a_build_by_holder_is_only_planned_for_added_batches():
    """What makes a build compute everything (docs/decisions.md, "Incremental builds by holder")."""

    class _Settings:
        def __init__(self, full_refresh=False, engine="duckdb"):
            self._full, self._engine = full_refresh, engine

        def full_refresh_asked(self):
            return self._full

        def engine_name(self):
            return self._engine

    import duckdb

    con = duckdb.connect()
    con.execute("create schema raw; create schema staging")
    con.execute(f"create table {by_holder.BUILT_INPUTS} (inputs varchar, built_at timestamp)")
    con.execute("create table staging.stg_rules__rulebooks (effective_from date, effective_until date)")
    con.execute("insert into staging.stg_rules__rulebooks values ('2026-01-01', '2027-07-01')")
    last = {
        "batches": [["2026-11-20", "a"], ["2026-11-21", "b"]],
        "as_of": "2026-11-21",
        "adopted_rulebooks": [],
        "scenarios": [],
        "engine": "duckdb",
        "dbt_target": "duckdb",
        "code": "c1",
    }
    by_holder.record(con, last)
    added = {**last, "batches": [*last["batches"], ["2026-11-22", "c"]], "as_of": "2026-11-22"}

    plan, why = by_holder.plan(con, _Settings(), added)
    assert plan is not None and plan.new_batches == ["2026-11-22"], why
    cases = {
        "code": ({**added, "code": "c2"}, _Settings()),
        "adopted rulebook": ({**added, "adopted_rulebooks": [["r", "2026-12-01", "t"]]}, _Settings()),
        "replaced batch": ({**added, "batches": [["2026-11-20", "z"], *added["batches"][1:]]}, _Settings()),
        "valuation date back": ({**added, "as_of": "2026-11-20"}, _Settings()),
        "into another year": ({**added, "as_of": "2027-01-02"}, _Settings()),
        "full refresh": (added, _Settings(full_refresh=True)),
        "spark": (added, _Settings(engine="spark")),
    }
    for case, (described, settings) in cases.items():
        assert by_holder.plan(con, settings, described)[0] is None, case
    # a rulebook starting between the two valuation dates re-rates everyone from its date
    con.execute("insert into staging.stg_rules__rulebooks values ('2026-11-22', null)")
    assert by_holder.plan(con, _Settings(), added)[0] is None
    # no whole build recorded (the last one failed, or none yet)
    by_holder.forget(con)
    assert by_holder.plan(con, _Settings(), added)[0] is None


def test_a_warning_on_a_by_holder_model_is_judged_whole():
    """A warning's failing rows are reported and may include untouched holders': it runs after the merge."""

    def node(kind: str, name: str, parents=(), tags=(), severity=None) -> tuple[str, dict]:
        config = {"severity": severity} if severity else {}
        uid = f"{kind}.vipwh.{name}"
        return uid, {
            "resource_type": kind,
            "name": name,
            "tags": list(tags),
            "config": config,
            "depends_on": {"nodes": list(parents)},
        }

    manifest = {
        "nodes": dict(
            [
                node("model", "facts", tags=[by_holder.TAG]),
                node("test", "an_error", parents=["model.vipwh.facts"], severity="ERROR"),
                node("test", "a_warning", parents=["model.vipwh.facts"], severity="warn"),
            ]
        )
    }
    stages = by_holder.passes(manifest)
    assert stages == {1: [], 2: ["facts", "an_error"], 3: ["a_warning"]}


def test_the_rules_nodes_are_kept_as_built_and_their_tests_still_run():
    """Seeds, and models reading only seeds, adopted rulebooks and stored proposals, without the valuation date."""

    def node(kind: str, name: str, parents=(), tags=(), code="select 1", macros=()) -> tuple[str, dict]:
        uid = f"{kind}.vipwh.{name}"
        depends = {"nodes": list(parents), "macros": list(macros)}
        return uid, {
            "resource_type": kind,
            "name": name,
            "tags": list(tags),
            "config": {},
            "depends_on": depends,
            "raw_code": code,
        }

    def source(name: str) -> tuple[str, dict]:
        return f"source.vipwh.raw.{name}", {"source_name": "raw", "name": name}

    manifest = {
        "sources": dict([source("adopted_tier_thresholds"), source("proposal_runs"), source("customers")]),
        "macros": {
            "macro.vipwh.as_of_date": {"depends_on": {"macros": []}},
            "macro.vipwh.age_on": {"depends_on": {"macros": ["macro.vipwh.as_of_date"]}},
            "macro.dbt.date_spine": {"depends_on": {"macros": []}, "macro_sql": "{% macro date_spine() %}"},
            "macro.vipwh.by_var": {"depends_on": {"macros": []}, "macro_sql": "{{ var('x', 1) }}"},
        },
        "nodes": dict(
            [
                node("seed", "tier_thresholds"),
                node(
                    "model",
                    "stg_thresholds",
                    ["seed.vipwh.tier_thresholds", "source.vipwh.raw.adopted_tier_thresholds"],
                ),
                node("model", "dim_thresholds", ["model.vipwh.stg_thresholds"]),
                node("model", "runs", ["source.vipwh.raw.proposal_runs"], macros=["macro.dbt.date_spine"]),
                node("model", "spine", macros=["macro.dbt.date_spine"]),
                # not kept: the valuation date (through a macro), a var (in its code or a macro's), a holder's
                # extract, a model downstream
                node("model", "dated", ["model.vipwh.stg_thresholds"], macros=["macro.vipwh.age_on"]),
                node("model", "varied", ["seed.vipwh.tier_thresholds"], code="select {{ var('x') }}"),
                node("model", "by_macro", ["seed.vipwh.tier_thresholds"], macros=["macro.vipwh.by_var"]),
                node("model", "stg_customers", ["source.vipwh.raw.customers"], tags=[by_holder.TAG]),
                node("model", "members", ["model.vipwh.stg_customers", "model.vipwh.dim_thresholds"]),
                node("model", "counts", ["source.vipwh.raw.customers", "seed.vipwh.tier_thresholds"]),
                node("test", "unique_dim_thresholds", ["model.vipwh.dim_thresholds"]),
                node("test", "relationships_members", ["model.vipwh.members", "model.vipwh.dim_thresholds"]),
            ]
        ),
    }
    stages = by_holder.passes(manifest)
    assert sorted(stages[1]) == ["dim_thresholds", "runs", "spine", "stg_thresholds", "tier_thresholds"]
    assert stages[2] == ["stg_customers"]
    assert sorted(stages[3]) == [
        "by_macro",
        "counts",
        "dated",
        "members",
        "relationships_members",
        "unique_dim_thresholds",
        "varied",
    ]


def test_every_node_runs_in_one_pass_and_a_test_reading_an_aggregate_runs_whole():
    manifest = _manifest()
    stages = by_holder.passes(manifest)
    built = [node["name"] for node in manifest["nodes"].values() if node["resource_type"] in ("model", "seed", "test")]
    assert sorted(stages[1] + stages[2] + stages[3]) == sorted(built)  # each once
    # kept as built: the seeds and the rules' models (their tests run in the last pass)
    seeds = [node["name"] for node in manifest["nodes"].values() if node["resource_type"] == "seed"]
    assert set(seeds) | {"stg_rules__rulebooks", "stg_rules__entitlements", "dim_service"} <= set(stages[1])
    assert {"unique_dim_service_service_code", "dim_member", "dq_batch_ledger"}.isdisjoint(stages[1])
    assert {"stg_core__service_usage", "int_rating__slices", "fct_benefit_usage", "dim_member"} <= set(stages[2])
    assert {"mart_member_entitlements"} <= set(stages[2])
    assert {"mart_benefit_utilization", "dq_batch_ledger"} <= set(stages[3])
    # judged on the touched holders' rows: a test of by-holder models (with rules); whole: one reading an aggregate
    assert {"tier_codes", "assert_benefit_usage_keeps_every_use"} <= set(stages[2])
    assert {"assert_benefit_utilization_sums_to_usage", "batch_reconciliation"} <= set(stages[3])


def _histories(con, old: dict[str, list[tuple]], new: dict[str, list[tuple]]) -> None:
    """The last build's rows (warehouse) and this build's (first pass) of the facts ``first_change`` reads."""
    shapes = {
        "fct_member_tier_history": "holder_id varchar, valid_from date, valid_to date, tier_code varchar, "
        "tier_rank integer, reason varchar",
        "fct_member_rated_premium_history": "holder_id varchar, valid_from date, valid_to date, "
        "rated_premium decimal(18, 2)",
        "fct_benefit_usage": "usage_id varchar, holder_id varchar, service_date date, entitlement_year integer, "
        "service_code varchar, tier_code_at_service varchar, consumed_quantity integer, is_compliant boolean, "
        "cost_amount decimal(18, 2), vendor varchar",
    }
    for schema, rows_of in (("marts", old), ("by_holder_marts", new)):
        con.execute(f"create schema if not exists {schema}")
        for table, shape in shapes.items():
            con.execute(f"create or replace table {schema}.{table} ({shape})")
            for row in rows_of.get(table, []):
                con.execute(f"insert into {schema}.{table} values ({', '.join('?' for _ in row)})", list(row))


def test_the_first_day_that_changed_is_where_a_touched_holder_s_facts_first_differ():
    """Worked by hand: the last valuation date 2026-11-23, so at the latest 2026-11-24."""
    from datetime import date

    d = date.fromisoformat
    con = duckdb.connect()
    con.execute("create schema by_holder")
    con.execute(f"create table {by_holder.SCOPE_TABLE} as select unnest(['H1', 'H2', 'H3', 'H4']) as holder_id")
    con.execute(f"create table {by_holder.POLICY_SCOPE_TABLE} (policy_no varchar)")
    tier = "fct_member_tier_history"
    premium = "fct_member_rated_premium_history"
    usage = "fct_benefit_usage"
    old = {
        tier: [
            ("H1", d("2024-01-01"), None, "S2", 2, "start"),
            # one tier in two intervals (another reason), one in the new build: the same tier every day
            ("H2", d("2023-03-01"), d("2025-01-01"), "S1", 1, "start"),
            ("H2", d("2025-01-01"), None, "S1", 1, "top-up"),
            ("H9", d("2020-01-01"), None, "S5", 5, "start"),  # not touched: its rows are not compared
        ],
        premium: [("H3", d("2022-01-01"), None, 5000)],
        usage: [
            ("U1", "H1", d("2025-01-01"), 2025, "A01", "S2", 1, True, 80, "V1"),  # re-sent unchanged
            ("U2", "H1", d("2026-03-15"), 2026, "A01", "S2", 1, True, 80, "V1"),
        ],
    }
    new = {
        tier: [
            # H1 moves up on 2026-05-10, its first interval now ends there
            ("H1", d("2024-01-01"), d("2026-05-10"), "S2", 2, "start"),
            ("H1", d("2026-05-10"), None, "S3", 3, "top-up"),
            ("H2", d("2023-03-01"), None, "S1", 1, "start"),
        ],
        # H3's rated premium rises on 2026-02-01
        premium: [("H3", d("2022-01-01"), d("2026-02-01"), 5000), ("H3", d("2026-02-01"), None, 8000)],
        usage: [
            ("U1", "H1", d("2025-01-01"), 2025, "A01", "S2", 1, True, 80, "V2"),  # another vendor: not read
            ("U2", "H1", d("2026-03-15"), 2026, "A01", "S3", 1, True, 80, "V1"),  # restated at another tier
        ],
    }
    cases = [
        ("every change", old, new, "2026-02-01"),
        ("no premium change", old, {**new, premium: old[premium]}, "2026-03-15"),
        ("nor a use restated", old, {**new, premium: old[premium], usage: old[usage]}, "2026-05-10"),
        ("only H2's intervals redrawn", old, {**old, tier: [*old[tier][:1], *new[tier][2:]]}, "2026-11-24"),
        (
            "only a use's vendor, which no aggregate reads",
            old,
            {**old, tier: old[tier][:3], usage: [new[usage][0], old[usage][1]]},  # H9 is not touched
            "2026-11-24",
        ),
        # a gap: the old build had H1 out of the programme from 2025-06-01, the new one a month later
        (
            "a gap moved",
            {tier: [("H1", d("2024-01-01"), d("2025-06-01"), "S1", 1, "x")]},
            {tier: [("H1", d("2024-01-01"), d("2025-07-01"), "S1", 1, "x")]},
            "2025-06-01",
        ),
        # a holder new to the programme, and one whose only use was removed
        ("a new holder", {}, {tier: [("H4", d("2026-10-02"), None, "S1", 1, "x")]}, "2026-10-02"),
        (
            "a use removed",
            {usage: [("U3", "H4", d("2026-07-07"), 2026, "B02", "S1", 1, False, 0, "V1")]},
            {},
            "2026-07-07",
        ),
        # two intervals at one tier covering the same day (the multiset counts): one gone
        (
            "a duplicate gone",
            {tier: [("H1", d("2024-01-01"), None, "S1", 1, "x"), ("H1", d("2024-02-01"), None, "S1", 1, "y")]},
            {tier: [("H1", d("2024-01-01"), None, "S1", 1, "x")]},
            "2024-02-01",
        ),
    ]
    for case, old_rows, new_rows, expected in cases:
        _histories(con, old_rows, new_rows)
        assert by_holder.first_change(con, d("2026-11-23")) == d(expected), case


def test_a_model_keeping_periods_reads_no_fact_whose_first_change_is_not_followed():
    """``changed_from`` follows the tier and rated-premium histories and the uses only: a model calling it that reads
    another by-holder model (or one built after them) is refused, whatever it does with it."""

    def model(name: str, parents=(), tags=(), code="select 1") -> tuple[str, dict]:
        return f"model.vipwh.{name}", {
            "resource_type": "model",
            "name": name,
            "tags": list(tags),
            "config": {"schema": "marts"},
            "schema": "marts",
            "alias": name,
            "raw_code": code,
            "depends_on": {"nodes": list(parents), "macros": []},
        }

    keeps = "{% set month_from = changed_from('month') %} select 1"
    raw = "source.vipwh.raw.policies"
    sources = {raw: {"source_name": "raw", "name": "policies"}}
    facts = [
        model("fct_member_tier_history", parents=[raw], tags=[by_holder.TAG]),
        model("dim_member", parents=[raw], tags=[by_holder.TAG]),
    ]
    tiers, members = "model.vipwh.fct_member_tier_history", "model.vipwh.dim_member"
    allowed = model("by_month", parents=[tiers], code=keeps)
    refused = model("by_month_too", parents=[tiers, members], code=keeps)
    assert "by_month" in by_holder.passes({"nodes": dict([*facts, allowed]), "sources": sources})[3]
    try:
        by_holder.passes({"nodes": dict([*facts, refused]), "sources": sources})
    except ValueError as refusal:
        assert "by_month_too keeps the periods before by_holder.changed_from but reads dim_member" in str(refusal)
    else:
        raise AssertionError("a model keeping periods read dim_member")
