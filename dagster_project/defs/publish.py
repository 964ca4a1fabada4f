"""Publish the marts as a read-only snapshot once every blocking check upstream has passed."""

from collections.abc import Sequence
from datetime import datetime

import dagster as dg

from dagster_project.defs.resources import Warehouse
from dagster_project.lib import publish as publish_lib

SNAPSHOT_KEY = dg.AssetKey(["publish", "snapshot"])


def build_publish_asset(mart_keys: Sequence[dg.AssetKey]) -> dg.AssetsDefinition:
    @dg.asset(key=SNAPSHOT_KEY, group_name="publish", deps=list(mart_keys),
              description="Consistent read-only snapshot of marts, rules and quality results (DuckDB file + "
                          "Parquet), swapped in atomically; readers (`vipwh sql`, dashboards) use only this.")
    def snapshot(context: dg.AssetExecutionContext, warehouse: Warehouse) -> dg.MaterializeResult:
        with warehouse.connect() as con:
            build_id = f"{datetime.now():%Y%m%dT%H%M%S}-{context.run.run_id[:8]}"
            path = publish_lib.publish(con, warehouse.warehouse_file(), build_id=build_id)
        return dg.MaterializeResult(metadata={"snapshot": str(path)})

    return snapshot
