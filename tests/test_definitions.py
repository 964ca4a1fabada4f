"""The Dagster definitions load, and `vipwh build` runs the job end to end on a hand-made book."""

from __future__ import annotations

import os
from pathlib import Path

import dagster as dg
import duckdb

from dagster_project.lib.publish import current_snapshot
from tests.conftest import query
from vipwh.cli import main
from vipwh.contract import EXTRACT_FILES
from vipwh.landing import write_batch


def test_definitions_load_with_every_raw_asset():
    from dagster_project.project import ensure_dbt_manifest

    ensure_dbt_manifest()
    from dagster_project.definitions import BUILD_JOB, defs

    keys = {key.to_user_string() for key in defs.resolve_all_asset_keys()}
    for extract in EXTRACT_FILES:
        assert f"raw/{extract.table}" in keys
    assert {"ingest/landing_batches", "raw/batches", "staging/stg_core__policies"} <= keys
    assert isinstance(defs.resolve_job_def(BUILD_JOB), dg.JobDefinition)


def test_the_scenarios_are_in_the_graph_as_partitions_of_the_proposal_and_models_of_dbt():
    # issue 15, item 3: the proposal is an asset (one dynamic partition per scenario), the scenario models are
    # dbt assets of every build, and the scenario job stores one proposal and rebuilds only what rates it
    from dagster_project.definitions import BUILD_JOB, SCENARIO_JOB, defs
    from dagster_project.defs.publish import SNAPSHOT_KEY
    from dagster_project.defs.scenarios import PROPOSAL_KEYS, SCENARIOS, scenario_selection

    graph = defs.resolve_asset_graph()
    keys = {key.to_user_string() for key in defs.resolve_all_asset_keys()}
    outputs = {"scenario_runs", "scenario_tier_distribution", "scenario_tier_migration", "scenario_member_changes"}
    assert {f"scenarios/{name}" for name in outputs | {"scenario_benefit_cost"}} <= keys
    assert {"raw/proposal_rulebooks", "raw/proposal_runs", "intermediate/int_scenario__member_ratings"} <= keys
    for key in PROPOSAL_KEYS:
        assert graph.get(key).partitions_def == SCENARIOS
    # the rating chain's own lookup reads the proposal's rule rows: proposal -> staging -> rulings -> ratings
    rulings = dg.AssetKey(["intermediate", "int_rating__coverage_rulings"])
    assert dg.AssetKey(["staging", "stg_rules__rating_coefficients"]) in graph.get(rulings).parent_keys
    ratings = graph.get(dg.AssetKey(["intermediate", "int_scenario__member_ratings"]))
    assert rulings in ratings.parent_keys

    build = defs.resolve_job_def(BUILD_JOB)
    assert not set(PROPOSAL_KEYS) & set(build.asset_layer.selected_asset_keys)
    assert dg.AssetKey(["scenarios", "scenario_runs"]) in build.asset_layer.selected_asset_keys
    selected = {key.to_user_string() for key in scenario_selection(SNAPSHOT_KEY).resolve(graph)}
    assert defs.resolve_job_def(SCENARIO_JOB).partitions_def == SCENARIOS
    assert "intermediate/int_rating__coverage_rulings" in selected and "publish/snapshot" in selected
    # the baseline is read, never rebuilt, by a scenario run
    assert not {"marts/fct_policy_rating", "intermediate/int_rating__slices", "marts/dim_member"} & selected


def test_vipwh_build_twice_changes_nothing(tmp_path: Path, capsys, monkeypatch):
    landing, warehouse = tmp_path / "landing", tmp_path / "wh.duckdb"
    # a file with one row quarantined of two fails the quarantine-rate check (50 % > 1 %) once one row counts
    monkeypatch.setenv("VIPWH_QUARANTINE_MIN_ROWS", "1")
    write_batch(
        landing,
        "2026-01-05",
        {
            "customers.csv": [
                dict(
                    holder_id="H1",
                    gender="M",
                    birth_date="1970-01-01",
                    province="上海市",
                    city="上海市",
                    id_number="310101197001010015",
                ),
                dict(holder_id="", gender="M"),
            ],
        },
    )
    assert main(["build", "--landing", str(landing), "--warehouse", str(warehouse), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "batches loaded now: 1" in out and "customers.csv" in out
    first = query(warehouse, "select * from staging.stg_core__customers")
    snapshot = current_snapshot(warehouse)
    built = query(snapshot, "select build_id, built_at from marts.build_info")

    # nothing new (the same batch, valuation date, engine and code): the published snapshot answers it
    assert main(["build", "--landing", str(landing), "--warehouse", str(warehouse), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "batches loaded now: 0" in out
    assert "  nothing new since the build that published the current snapshot" in out, out
    assert f"  still published: {snapshot}" in out.splitlines()
    assert current_snapshot(warehouse) == snapshot
    assert query(snapshot, "select build_id, built_at from marts.build_info") == built
    # the raw layer's check judged these very rows under these thresholds in the published build: its result
    # stands, failure included, and is recorded for this run too
    quarantine = """select build_id, passed, failing_rows, message from quality.dq_check_results
                    where check_name = 'quarantine_rate' order by checked_at"""
    (first_build, *judged), (second_build, *stood) = query(warehouse, quarantine)
    assert first_build == built[0][0] and second_build != first_build
    assert judged[:2] == [False, 1] and stood[:2] == [False, 1]
    assert stood[2] == f"nothing new since build {first_build}: its result stands. {judged[2]}"

    # a table and a view of models the project no longer has (a warehouse built by an earlier version: dbt
    # never drops them), beside what Python writes into the same schemas
    with duckdb.connect(str(warehouse)) as con:
        con.execute("create table staging.stg_core__reference_quarantine as select 1 as stale")
        con.execute("create view marts.mart_retired as select 1 as stale")

    # asked to, it computes everything again, and publishes the same rows
    assert main(["build", "--landing", str(landing), "--warehouse", str(warehouse), "--full-refresh", "--quiet"]) == 0
    assert "nothing new" not in capsys.readouterr().out
    *_, (_, *judged_again) = query(warehouse, quarantine)
    assert judged_again == judged  # judged anew: the same rows, the same outcome
    retired = """select table_schema || '.' || table_name from information_schema.tables
                 where table_name in
                     ('stg_core__reference_quarantine', 'mart_retired', 'build_info', 'dq_check_results')
                 order by 1"""
    again = current_snapshot(warehouse)
    assert query(warehouse, retired) == [("marts.build_info",), ("quality.dq_check_results",)]
    assert query(again, retired) == [("marts.build_info",), ("quality.dq_check_results",)]
    assert again != snapshot and query(again, "select build_id from marts.build_info") != [(built[0][0],)]
    assert query(warehouse, "select * from staging.stg_core__customers") == first
    assert query(warehouse, "select count(*) from raw.customers") == [(1,)]
    assert query(warehouse, "select count(*) from raw.quarantine") == [(1,)]


def test_vipwh_build_reports_a_rejected_batch(tmp_path: Path, capsys):
    landing, warehouse = tmp_path / "landing", tmp_path / "wh.duckdb"
    folder = write_batch(landing, "2026-01-05", {"customers.csv": [dict(holder_id="H1", gender="M")]})
    (folder / "customers.csv").write_bytes(b"holder_id,gender\nH1,F\n")
    assert main(["build", "--landing", str(landing), "--warehouse", str(warehouse), "--quiet"]) == 3
    err = capsys.readouterr().err
    assert "REJECTED batch 2026-01-05: customers.csv: sha256 is" in err


def test_sensor_requests_a_build_once_per_new_complete_batch(tmp_path: Path):
    from dagster_project.defs.automation import new_batch_sensor
    from dagster_project.settings import Settings

    resources = {"settings": Settings(landing=str(tmp_path / "landing"))}
    assert isinstance(new_batch_sensor(dg.build_sensor_context(resources=resources)), dg.SkipReason)
    folder = write_batch(tmp_path / "landing", "2026-01-05", {"customers.csv": [dict(holder_id="H1")]})
    (folder / "_manifest.json").rename(folder / "manifest.later")  # not complete yet
    assert isinstance(new_batch_sensor(dg.build_sensor_context(resources=resources)), dg.SkipReason)
    (folder / "manifest.later").rename(folder / "_manifest.json")
    context = dg.build_sensor_context(resources=resources)
    request = new_batch_sensor(context)
    assert isinstance(request, dg.RunRequest) and request.run_key.startswith("2026-01-05:")
    assert isinstance(
        new_batch_sensor(dg.build_sensor_context(cursor=context.cursor, resources=resources)), dg.SkipReason
    )


def test_dbt_goes_on_after_a_model_spills_to_the_temp_directory(tmp_path: Path, monkeypatch):
    """dbt-duckdb opens a cursor per model; a profile's `settings` are SET again on each, and DuckDB refuses
    to set temp_directory once a query has spilled there (a 10 000 000-holder build failed so, its first
    spill stopping every later model). The profile's limits are the connection's options, set once: after a
    query spills, the next cursor opens."""
    from dbt.adapters.duckdb.credentials import DuckDBCredentials
    from dbt.adapters.duckdb.environments import create
    from dbt.config.profile import read_profile
    from dbt.config.renderer import ProfileRenderer
    from dbt_common.context import set_invocation_context

    from dagster_project import project

    spill = tmp_path / "spill"
    monkeypatch.setenv("VIPWH_DUCKDB_MEMORY_LIMIT", "200MB")
    monkeypatch.setenv("VIPWH_DUCKDB_TEMP_DIRECTORY", str(spill))
    monkeypatch.setenv("VIPWH_WAREHOUSE", str(tmp_path / "wh.duckdb"))
    set_invocation_context(os.environ)  # dbt's env_var reads the invocation's environment
    profile = read_profile(str(project.DBT_PROJECT_DIR))["vipwh"]["outputs"]["duckdb"]
    output = ProfileRenderer({}).render_data(profile)  # rendered as dbt renders it
    creds = DuckDBCredentials(
        path=output["path"], settings=output.get("settings"), config_options=output.get("config_options")
    )
    environment = create(creds)
    first = environment.handle()
    cursor = first.cursor()
    cursor.execute("create table t as select range as a, md5(cast(range as varchar)) as b from range(6000000)")
    cursor.execute("select count(distinct b), max(a) from (select * from t order by b)").fetchall()
    assert any(spill.iterdir())  # the sort spilled
    second = environment.handle()  # the next model's cursor
    assert second.cursor().execute("select current_setting('temp_directory')").fetchone() == (str(spill),)
    first.close()
    second.close()
