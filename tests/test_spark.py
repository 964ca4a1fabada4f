"""Issue 8: the Spark engine's own errors.

That Spark gives the same marts as DuckDB is tested in test_e2e_rules.py, on the one Spark build of the
suite: a combined book (the hand-worked holders and a generated book with dirty rows, late back-dated
events and several batches) built once per engine; every mart Spark wrote as Parquet under
`<dir>/marts.db/<table>/` must equal DuckDB's table: the same columns in the same order with the same
types, and the same multiset of rows (EXCEPT ALL both ways, so duplicates count).
"""

from __future__ import annotations

from pathlib import Path

from vipwh.cli import main


def test_spark_needs_a_directory_as_warehouse(tmp_path: Path, capsys):
    (tmp_path / "landing").mkdir()
    warehouse_file = tmp_path / "wh.duckdb"
    warehouse_file.write_bytes(b"")
    code = main(
        [
            "build",
            "--engine",
            "spark",
            "--landing",
            str(tmp_path / "landing"),
            "--warehouse",
            str(warehouse_file),
            "--quiet",
        ]
    )
    assert code == 1
    assert "takes a directory as --warehouse" in capsys.readouterr().err
