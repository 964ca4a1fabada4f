"""Scenarios in the graph (docs/scenarios.md): a proposal is loaded as rule rows of its own ruleset, one dynamic
partition per scenario, and the dbt models tagged ``scenario`` rate every stored proposal beside the rulebooks in
force. A build re-rates them all; the job ``vipwh_scenario`` (what `vipwh scenario run` runs) stores one proposal,
rebuilds only the models tagged ``scenario`` (the rule staging, the rulings and entitlement tiers of every ruleset,
the scenario models) with their tests, and publishes.
"""

from datetime import date, datetime
from pathlib import Path

import dagster as dg
from pydantic import Field

from dagster_project.defs.resources import connect
from dagster_project.lib.warehouse import PROPOSAL_TABLES, proposal_table
from dagster_project.settings import Settings

SCENARIO_JOB = "vipwh_scenario"
SCENARIOS = dg.DynamicPartitionsDefinition(name="scenarios")
PROPOSAL_KEYS = [dg.AssetKey(proposal_table(table).split(".")) for table in PROPOSAL_TABLES]
# the dbt tag of the models a scenario run rebuilds (given in dbt_project.yml)
SCENARIO_TAG = "scenario"


class ProposalMismatch(ValueError):
    """The proposal file's id is not the partition (scenario) being materialized."""


class ProposalConfig(dg.Config):
    proposal_file: str = Field(description="The proposal YAML file (docs/scenarios.md); its id is the partition.")
    as_of: str = Field(default="", description="Day to rate the book on (YYYY-MM-DD); empty: the warehouse's as-of.")


@dg.multi_asset(
    name="proposal",
    specs=[
        dg.AssetSpec(
            key,
            group_name="scenarios",
            description=f"Every stored proposal's rows of {key.path[-1]} (one partition per scenario).",
        )
        for key in PROPOSAL_KEYS
    ],
    partitions_def=SCENARIOS,
)
def proposal(context: dg.AssetExecutionContext, config: ProposalConfig, settings: Settings):
    """Validate the proposal against the warehouse's rules and store it as rule rows of its own ruleset, replacing
    the scenario's earlier rows, in one transaction."""
    from vipwh.scenarios.proposal import Catalogue, load_proposal
    from vipwh.scenarios.store import proposal_rows, scenario_as_of, store

    scenario_id = context.partition_key
    with connect(settings) as con:
        catalogue = Catalogue.load(con)
        loaded = load_proposal(Path(config.proposal_file), catalogue)
        if loaded.id != scenario_id:
            raise ProposalMismatch(f"{config.proposal_file} is proposal {loaded.id}, not scenario {scenario_id}")
        as_of = scenario_as_of(con, catalogue, date.fromisoformat(config.as_of) if config.as_of else None)
        rows = proposal_rows(con, loaded, catalogue, as_of, Path(config.proposal_file).resolve(), datetime.now())
        counts = store(con, scenario_id, rows)
    context.log.info(f"stored scenario {scenario_id} as of {as_of}: {counts}")
    for key, table in zip(PROPOSAL_KEYS, PROPOSAL_TABLES, strict=True):
        yield dg.MaterializeResult(asset_key=key, metadata={"rows": counts[table], "as_of_date": str(as_of)})


def scenario_selection(snapshot_key: dg.AssetKey) -> dg.AssetSelection:
    """What a scenario run materializes: the proposal (the run's partition), the models tagged ``scenario`` with
    their tests, and the snapshot."""
    return (
        dg.AssetSelection.assets(*PROPOSAL_KEYS)
        | dg.AssetSelection.tag(SCENARIO_TAG, "")
        | dg.AssetSelection.assets(snapshot_key)
    )


def scenario_job(snapshot_key: dg.AssetKey):
    return dg.define_asset_job(
        SCENARIO_JOB,
        selection=scenario_selection(snapshot_key),
        executor_def=dg.in_process_executor,
        description="Store one proposal (the partition) as rule rows of its ruleset, re-rate every stored "
        "scenario (the dbt models tagged scenario, with their tests) and publish a snapshot.",
    )


@dg.sensor(
    minimum_interval_seconds=60,
    # running by default: it only lists partitions (never launches a run), so `make dev` shows every scenario
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Keeps the scenarios partitions equal to the scenarios stored in the warehouse (raw.proposal_runs), "
    "so the UI lists each stored scenario.",
)
def scenario_partitions(context: dg.SensorEvaluationContext, settings: Settings):
    import duckdb

    from vipwh.scenarios.store import stored_scenarios

    try:
        with duckdb.connect(str(settings.warehouse_file()), read_only=True) as con:
            stored = set(stored_scenarios(con))
    except (duckdb.IOException, duckdb.CatalogException) as exc:
        return dg.SkipReason(f"the warehouse cannot be read now: {exc}")
    known = set(context.instance.get_dynamic_partitions(SCENARIOS.name))
    if stored == known:
        return dg.SkipReason("the scenarios partitions are those stored")
    return dg.SensorResult(
        dynamic_partitions_requests=[
            *([SCENARIOS.build_add_request(sorted(stored - known))] if stored - known else []),
            *([SCENARIOS.build_delete_request(sorted(known - stored))] if known - stored else []),
        ]
    )
