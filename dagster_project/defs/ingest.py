"""Ingestion assets: verify landing batches, load one raw table per extract file, publish the ledger."""

from datetime import datetime

import dagster as dg

from dagster_project import project
from dagster_project.defs.resources import connect
from dagster_project.lib import batches, housekeeping, id_hash, load, lock
from dagster_project.settings import Settings
from vipwh import progress
from vipwh.contract import EXTRACT_FILES, ExtractFile

GROUP = "ingest"
LANDING_KEY = dg.AssetKey(["ingest", "landing_batches"])
LEDGER_KEY = dg.AssetKey(["raw", "batches"])


def id_key(settings: Settings) -> bytes:
    """The key national IDs are hashed with: the operator's, or the demo key for a generated book only."""
    landing = settings.landing_dir()
    return id_hash.resolve_key(settings.id_key_bytes(), batches.scan(landing).manifests, landing)


@dg.asset(
    key=LANDING_KEY,
    group_name=GROUP,
    description="Judges every entry of the landing by name, then verifies every complete batch not yet "
    "loaded (manifest, files, sha256): pending, or rejected whole with the reason.",
)
def landing_batches(context: dg.AssetExecutionContext, settings: Settings) -> dg.MaterializeResult:
    # one writer at a time: held until this process ends (or, under `vipwh build`, until the build ends)
    lock.acquire(settings.warehouse_file())
    key = id_key(settings)  # refuses before the warehouse is touched when no key may be used
    removed = housekeeping.clean_published(settings.warehouse_file())
    removed += housekeeping.prune_dbt_targets(project.DBT_PROJECT_DIR / "target")
    if removed:
        context.log.info(f"removed leftovers of earlier builds: {', '.join(removed)}")
    with connect(settings) as con:
        load.check_key(con, key)
        outcomes = load.register(con, settings.landing_dir(), datetime.now(), build_id=context.run.run_id, key=key)
        pending = [b.label for b in load.pending_batches(con)]
    for outcome in outcomes:
        if outcome.status in ("rejected", "refused"):
            context.log.error(outcome.message)
        elif outcome.message:
            context.log.info(outcome.message)
    return dg.MaterializeResult(
        metadata={
            "pending_batches": dg.MetadataValue.json(pending),
            "outcomes": dg.MetadataValue.json({o.extract_date: o.status for o in outcomes}),
            "rejected": dg.MetadataValue.json([o.message for o in outcomes if o.status in ("rejected", "refused")]),
        }
    )


def _raw_asset(extract: ExtractFile) -> dg.AssetsDefinition:
    @dg.asset(
        key=dg.AssetKey(["raw", extract.table]),
        group_name=GROUP,
        deps=[LANDING_KEY],
        description=f"Append-only history of {extract.name} rows of every loaded batch, typed; "
        "bad rows go to raw.quarantine with their reason.",
    )
    def _load(context: dg.AssetExecutionContext, settings: Settings) -> dg.MaterializeResult:
        results = []
        key = id_key(settings)
        with connect(settings) as con:
            for batch in load.pending_batches(con):
                result = load.load_file(con, batch, extract, key, datetime.now(), build_id=context.run.run_id)
                if result is None:
                    continue
                results.append(result)
                progress.say(
                    f"ingest: {result.extract_date} {extract.name}: {result.rows_loaded} loaded, "
                    f"{result.rows_quarantined} quarantined"
                )
                if result.problem:
                    context.log.error(f"batch {result.extract_date}: {result.problem}")
                if result.note:
                    context.log.warning(f"batch {result.extract_date}: {result.note}")
        return dg.MaterializeResult(
            metadata={
                "batches": len(results),
                "rows_in_file": sum(r.rows_in_file for r in results),
                "rows_loaded": sum(r.rows_loaded for r in results),
                "rows_quarantined": sum(r.rows_quarantined for r in results),
            }
        )

    return _load


raw_assets = [_raw_asset(extract) for extract in EXTRACT_FILES]


@dg.asset(
    key=LEDGER_KEY,
    group_name=GROUP,
    deps=[a.key for a in raw_assets],
    description="Ledger of batches: a pending batch whose every file reconciles "
    "(rows in file = loaded + quarantined = manifest) becomes loaded, else it is wiped.",
)
def batch_ledger(context: dg.AssetExecutionContext, settings: Settings) -> dg.MaterializeResult:
    with connect(settings) as con:
        outcomes = load.finalize(con, datetime.now(), build_id=context.run.run_id)
        loaded_total = con.execute("select count(*) from raw.batches where status = 'loaded'").fetchone()[0]
    for outcome in outcomes:
        if outcome.status == "rejected":
            context.log.error(outcome.message)
    return dg.MaterializeResult(
        metadata={
            "loaded_now": sum(o.status == "loaded" for o in outcomes),
            "rejected_now": sum(o.status == "rejected" for o in outcomes),
            "batches_loaded_total": loaded_total,
        }
    )


assets = [landing_batches, *raw_assets, batch_ledger]
