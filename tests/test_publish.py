"""Readers use a published snapshot: never half-built, never blocking or blocked by a build."""

from __future__ import annotations

from pathlib import Path

from dagster_project.lib.publish import connect_snapshot, current_snapshot
from vipwh.cli import main
from vipwh.landing import write_batch


def _customer(holder_id: str, city: str) -> dict:
    return dict(
        holder_id=holder_id,
        gender="F",
        birth_date="1985-05-05",
        province="广东省",
        city=city,
        id_number="440101198505050021",
    )


def test_sql_reads_the_snapshot_while_a_reader_holds_the_previous_one(tmp_path: Path, capsys):
    landing, warehouse = tmp_path / "landing", tmp_path / "wh.duckdb"
    assert main(["sql", "--warehouse", str(warehouse), "select 1"]) == 2  # no warehouse yet
    assert capsys.readouterr().err.strip() == f"vipwh sql: no warehouse at {warehouse}"

    write_batch(landing, "2026-02-01", {"customers.csv": [_customer("H1", "广州市")]})
    assert main(["build", "--landing", str(landing), "--warehouse", str(warehouse), "--quiet"]) == 0
    first = current_snapshot(warehouse)
    reader = connect_snapshot(warehouse)  # an analyst keeps a session open on the snapshot
    assert reader.execute("select count(*) from rules.services").fetchone() == (22,)

    write_batch(landing, "2026-02-02", {"customers.csv": [_customer("H2", "深圳市")]})
    assert main(["build", "--landing", str(landing), "--warehouse", str(warehouse), "--quiet"]) == 0
    assert current_snapshot(warehouse) != first  # the build was not blocked and published anew
    assert reader.execute("select count(*) from rules.services").fetchone() == (22,)  # old session still fine
    reader.close()

    capsys.readouterr()
    assert (
        main(
            [
                "sql",
                "--warehouse",
                str(warehouse),
                "--csv",
                "select service_code, waiting_days from rules.services where waiting_days > 0 order by 1",
            ]
        )
        == 0
    )
    assert capsys.readouterr().out.splitlines() == [
        "service_code,waiting_days",
        "critical_illness_green,30",
        "mdt_consult,30",
        "proton_green,30",
        "second_opinion,30",
    ]
    parquet = sorted(p.name for p in (warehouse.with_name("wh.published")).rglob("services.parquet"))
    assert parquet == ["services.parquet", "services.parquet"]  # the two snapshots kept
