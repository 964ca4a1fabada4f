"""The dbt project as Dagster assets; dbt tests become asset checks, their outcomes recorded by the run."""

import importlib.metadata
import json
from collections.abc import Mapping, Sequence
from functools import cached_property
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, DbtProject, dbt_assets

from dagster_project import project
from dagster_project.defs.engine import RAW_PARQUET_KEY
from dagster_project.defs.resources import connect
from dagster_project.lib import by_holder, housekeeping, inputs, quality
from dagster_project.settings import DUCKDB, Settings
from vipwh import progress

BY_HOLDER_TARGET = ".by_holder_target"  # the by-holder pass's dbt target folder: <warehouse>.by_holder_target/


class DbtBuildFailed(Exception):
    """dbt build reported errors or failing tests of severity error."""


def _keep_run_results(invocations, settings: Settings) -> None:
    """Keep dbt's run_results.json beside the warehouse (logs/dbt_run_results.json) for the benchmark.

    A build by holder runs dbt twice: their results are kept as one file (the results of each, in order).
    """
    sources = [invocation.target_path / "run_results.json" for invocation in invocations]
    sources = [source for source in sources if source.exists()]
    if not sources:
        return
    combined = json.loads(sources[0].read_text(encoding="utf-8"))
    for source in sources[1:]:
        combined["results"] += json.loads(source.read_text(encoding="utf-8"))["results"]
    logs = settings.logs_dir()
    logs.mkdir(parents=True, exist_ok=True)
    (logs / "dbt_run_results.json").write_text(json.dumps(combined), encoding="utf-8")


def _failures(invocation) -> str:
    try:
        results = invocation.get_artifact("run_results.json")["results"]
    except Exception:  # noqa: BLE001 - a summary is best effort; the dbt log has the details
        return "dbt build failed (see the dbt log above)"
    bad = [
        f"{r['unique_id']}: {r['status']} {r.get('message') or ''}".strip()
        for r in results
        if r["status"] in ("error", "fail", "runtime error")
    ]
    return "dbt build failed:\n  " + "\n  ".join(bad[:20])


class VipwhDbtCliResource(DbtCliResource):
    """dagster-dbt's dbt CLI resource, without two costs of each invocation that vipwh does not use.

    Before it starts dbt, ``DbtCliResource.cli`` runs ``dbt --version`` in a subprocess and builds a dbt adapter
    in this process, about 11 s of CPU per build (docs/benchmarks.md). The adapter only serves row counts and
    column metadata (``fetch_row_counts``, ``fetch_column_metadata``), which vipwh does not fetch; and when the
    executable is this environment's own dbt, its version is the installed dbt-core's.
    """

    @cached_property
    def _cli_version(self):
        if Path(self.dbt_executable) == project.OWN_DBT:
            from packaging import version

            return version.parse(importlib.metadata.version("dbt-core"))
        return super()._cli_version  # another dbt: ask it

    def _initialize_dbt_core_adapter(self, args: Sequence[str]):
        return None  # no adapter: the invocation then fetches no row counts or column metadata (none asked)


class VipwhTranslator(DagsterDbtTranslator):
    """Asset keys are ``[schema, name]`` (raw/…, staging/…, marts/…); groups follow the schema.

    Models that read the raw sources also depend on ``engine/raw_parquet`` (the Spark hand-off).
    """

    def get_asset_spec(self, manifest: Mapping[str, Any], unique_id: str, project) -> dg.AssetSpec:
        spec = super().get_asset_spec(manifest, unique_id, project)
        props = self.get_resource_props(manifest, unique_id)
        reads_raw = any(
            node.startswith("source.") and manifest["sources"][node]["source_name"] == "raw"
            for node in props.get("depends_on", {}).get("nodes", [])
        )
        if reads_raw:
            spec = spec.replace_attributes(deps=[*spec.deps, dg.AssetDep(RAW_PARQUET_KEY)])
        return spec

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            return dg.AssetKey([dbt_resource_props["source_name"], dbt_resource_props["name"]])
        schema = dbt_resource_props.get("config", {}).get("schema") or "main"
        return dg.AssetKey([schema, dbt_resource_props["name"]])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        return dbt_resource_props.get("config", {}).get("schema") or "transform"


dbt_project = DbtProject(project_dir=project.DBT_PROJECT_DIR, profiles_dir=project.DBT_PROJECT_DIR)


def build_dbt_assets() -> dg.AssetsDefinition:
    @dbt_assets(manifest=dbt_project.manifest_path, dagster_dbt_translator=VipwhTranslator(), name="vipwh_dbt")
    def vipwh_dbt(context: dg.AssetExecutionContext, dbt: VipwhDbtCliResource, settings: Settings):
        with connect(settings) as con:
            # a run of the whole dbt step with nothing new (a subset picked in the UI is always built)
            whole = not context.is_subset
            described = inputs.describe(con, settings)
            last = inputs.unchanged(con, settings, described) if whole else None
            if last:
                # nothing new: no output, so the checks on these assets, build_info and publish are skipped
                progress.say(f"dbt: nothing new since build {last['build_id']}: its snapshot stays published")
                context.log.info(f"inputs unchanged since build {last['build_id']} ({last['snapshot']}): skipped")
                return
            plan, why = by_holder.plan(con, settings, described) if whole else (None, "a subset of the models")
            inputs.forget(con)  # the tables change now: they answer no published snapshot until this build's
            by_holder.forget(con)  # nor the inputs they were built from, until this step succeeds
        # Unit tests check the models' logic, not the data: they run in CI (tests/test_dbt_unit.py), not here.
        base = ["build", "--exclude-resource-type", "unit_test"]
        as_of = settings.as_of_date()
        dbt_vars = {"as_of_date": as_of.isoformat()} if as_of else {}
        outcomes: list = []
        if plan is None:
            progress.say(f"dbt: every holder ({why})")
            # vars only when given: identical command-line vars let dbt reuse the last build's partial parse
            args = base + (["--vars", json.dumps(dbt_vars)] if dbt_vars else [])
            invocation = yield from _invoke(context, dbt, settings, args, outcomes)
            invocations = [invocation]
        else:
            invocations = yield from _by_holder(context, dbt, settings, plan, why, base, dbt_vars, outcomes)
        _keep_run_results(invocations, settings)
        # the last parse of each kind, for the next build to start from (the by-holder pass's var renames every schema)
        by_holder_parses = [i for i in invocations if i.target_path.name.endswith(BY_HOLDER_TARGET)]
        main_parses = [i for i in invocations if not i.target_path.name.endswith(BY_HOLDER_TARGET)]
        if main_parses:
            project.keep_partial_parse(main_parses[-1].target_path)
        if by_holder_parses:
            project.keep_partial_parse(by_holder_parses[-1].target_path, project.BY_HOLDER_PARSE)
        project.prune_invocation_targets()  # a week of them is kept
        succeeded = all(invocation.is_successful() for invocation in invocations)
        dropped = []
        with connect(settings) as con:
            quality.record_results(con, context.run.run_id, outcomes)
            if succeeded and whole and plan is None and settings.engine_name() == DUCKDB:
                dropped = housekeeping.drop_retired_relations(con, invocations[0].get_artifact("manifest.json"))
            if succeeded and whole:
                by_holder.record(con, described)
        if not succeeded:
            raise DbtBuildFailed(_failures(next(i for i in invocations if not i.is_successful())))
        if dropped:
            progress.say(f"dbt: dropped {len(dropped)} relation(s) of models the project no longer has")
            context.log.info(f"dropped relations of retired models: {', '.join(dropped)}")

    return vipwh_dbt


def _invoke(context, dbt: VipwhDbtCliResource, settings: Settings, args: list[str], outcomes: list, **kwargs):
    """Run one dbt invocation, yielding its events (asset outputs, check results); returns the invocation."""
    with settings.dbt_environment_applied():
        invocation = dbt.cli(args, context=context, raise_on_error=False, **kwargs)
    done = 0
    for event in invocation.stream():
        if isinstance(event, dg.Output | dg.AssetMaterialization):
            done += 1
            progress.say(f"dbt: built {getattr(event, 'output_name', None) or event.asset_key} ({done})")
        elif isinstance(event, dg.AssetCheckResult):
            outcomes.append(quality.from_evaluation(event))
            if not event.passed:
                progress.say(f"dbt: check {event.check_name} FAILED on {'/'.join(event.asset_key.path)}")
        yield event
    return invocation


def _collected(events: list, run):
    """Run ``run`` (an ``_invoke``), keeping its events in ``events`` instead of yielding them; its invocation."""
    try:
        while True:
            events.append(next(run))
    except StopIteration as done:
        return done.value


def _in_graph_order(context, events: list) -> list:
    """The events with the outputs in the order of the asset graph (Dagster's rule for a multi-asset), checks last.

    A build by holder builds the rules' models after the by-holder models that read them (they are the same as
    at the last build); Dagster accepts a multi-asset's outputs only upstream first.
    """
    keys = context.assets_def.keys_by_output_name
    deps = context.assets_def.asset_deps
    depth: dict = {}

    def depth_of(key) -> int:
        if key not in depth:
            depth[key] = 0  # a cycle cannot occur (dbt's graph); guards the recursion
            depth[key] = 1 + max((depth_of(dep) for dep in deps.get(key, ()) if dep in deps), default=-1)
        return depth[key]

    outputs = [event for event in events if isinstance(event, dg.Output)]
    others = [event for event in events if not isinstance(event, dg.Output)]
    outputs.sort(key=lambda event: depth_of(keys[event.output_name]))
    return outputs + others


def _by_holder(context, dbt, settings: Settings, plan, why: str, base, dbt_vars: dict, outcomes: list):
    """The two passes of a build by holder (dagster_project/lib/by_holder.py); returns the invocations.

    Their events are yielded at the end, in the order of the asset graph (``_in_graph_order``).
    """
    events: list = []
    try:
        return _two_passes(context, dbt, settings, plan, why, base, dbt_vars, outcomes, events)
    finally:
        yield from _in_graph_order(context, events)


def _two_passes(context, dbt, settings: Settings, plan, why: str, base, dbt_vars: dict, outcomes: list, events):
    manifest = json.loads(Path(dbt_project.manifest_path).read_text(encoding="utf-8"))
    stages = by_holder.passes(manifest)
    progress.say(f"dbt: by holder ({why})")
    with connect(settings) as con:
        count = by_holder.touched(con, plan)
        progress.say(f"dbt: {count} touched holder(s)")
        context.log.info(f"by holder: {count} touched holders ({why})")
        by_holder.prepare(con, manifest)
    # its own target folder, beside the warehouse: its own partial parse (the var renames every schema); the first
    # build by holder of a warehouse starts from the last such parse of any warehouse
    target = settings.warehouse_file().with_name(settings.warehouse_file().name + BY_HOLDER_TARGET)
    project.start_from_kept_parse(target, project.BY_HOLDER_PARSE)
    holders = _collected(
        events,
        _invoke(
            context,
            dbt,
            settings,
            [*base, "--vars", json.dumps({**dbt_vars, "by_holder": True}), *by_holder.exclusions(stages, 2)],
            outcomes,
            target_path=target,
        ),
    )
    if not holders.is_successful():
        return [holders]
    with connect(settings) as con:
        # its first pass's tables stay (the rows that changed); the first day that changed, for the second pass
        merged = by_holder.merge(con, manifest, plan)
        changed_from = con.execute(f"select changed_from from {by_holder.CHANGED_FROM_TABLE}").fetchone()[0]
    rows = sum(inserted for _, _, inserted in merged)
    progress.say(f"dbt: merged {rows} row(s) of {count} holder(s) into {len(merged)} table(s)")
    progress.say(f"dbt: the facts can differ from {changed_from}: the aggregates by period keep the periods before")
    vars_ = ["--vars", json.dumps(dbt_vars)] if dbt_vars else []
    try:
        rest = _collected(
            events, _invoke(context, dbt, settings, [*base, *vars_, *by_holder.exclusions(stages, 3)], outcomes)
        )
    finally:
        with connect(settings) as con:
            by_holder.forget_changed_from(con)
    if rest.is_successful():
        events.extend(_kept_outputs(context, manifest, stages[1]))
        progress.say(f"dbt: kept {len(stages[1])} node(s) of the rules as built (the same rules and code)")
    return [holders, rest]


def _kept_outputs(context, manifest: dict, names: list[str]) -> list[dg.Output]:
    """The outputs of the rules' nodes a build by holder keeps as built (``by_holder.passes``, pass 1).

    Their tables are current (the plan requires the rules and code of the last build): the assets are reported
    as part of this build, so that the assets downstream of them run; their tests ran in the second pass.
    """
    translator = VipwhTranslator()
    wanted = set(names)
    outputs = []
    for node in manifest["nodes"].values():
        if node["resource_type"] in ("model", "seed") and node["name"] in wanted:
            key = translator.get_asset_key(node)
            outputs.append(
                dg.Output(
                    None,
                    output_name=context.assets_def.get_output_name_for_asset_key(key),
                    metadata={"kept": "as built: the rules and code are those of the last build"},
                )
            )
    return outputs
