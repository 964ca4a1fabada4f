"""`vipwh sql --xlsx FILE` writes a workbook read back with openpyxl: Chinese intact, dates as Excel dates,
money as numbers; `--csv` stays plain UTF-8."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import duckdb
import pytest
from openpyxl import load_workbook

from dagster_project.lib.publish import publish
from vipwh.cli import main


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sql_export") / "warehouse.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("create schema marts")
        con.execute("""create table marts.members as select * from (values
            ('H1', '三星 star3', date '2026-06-30', cast(200000.50 as decimal(18, 2)), 2,
             timestamp '2026-07-01 08:30:00'),
            ('H2', '家人 family', null, cast(12000 as decimal(18, 2)), 0, null)
        ) as members(holder_id, tier, tier_since, rated_premium, uses, loaded_at)""")
        publish(con, path)
    return path


def test_xlsx_export_keeps_types_and_chinese(warehouse: Path, tmp_path: Path) -> None:
    out = tmp_path / "out" / "members.xlsx"
    assert (
        main(
            ["sql", "--warehouse", str(warehouse), "--xlsx", str(out), "select * from marts.members order by holder_id"]
        )
        == 0
    )
    sheet = load_workbook(out).active
    rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert rows[0] == ["holder_id", "tier", "tier_since", "rated_premium", "uses", "loaded_at"]
    assert rows[1] == ["H1", "三星 star3", datetime(2026, 6, 30), 200000.5, 2, datetime(2026, 7, 1, 8, 30)]
    assert rows[2] == ["H2", "家人 family", None, 12000, 0, None]
    first = sheet[2]
    assert first[2].is_date and first[2].number_format == "yyyy-mm-dd"
    assert first[3].data_type == "n" and first[3].number_format == "#,##0.00"
    assert first[4].data_type == "n"
    assert first[5].is_date


def test_csv_stays_plain_utf8(warehouse: Path, capsys) -> None:
    assert (
        main(
            [
                "sql",
                "--warehouse",
                str(warehouse),
                "--csv",
                "select holder_id, tier, tier_since, rated_premium from marts.members order by holder_id",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert out.splitlines() == [
        "holder_id,tier,tier_since,rated_premium",
        "H1,三星 star3,2026-06-30,200000.50",
        "H2,家人 family,,12000.00",
    ]
    assert not out.startswith("\ufeff")
