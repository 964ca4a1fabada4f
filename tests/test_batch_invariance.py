"""The marts do not depend on how the book was cut into batches, nor on the order batches arrive in.

The same generated book (same seed, same history) is delivered once as a single batch, and once as four
daily batches loaded newest first, one ingest per arrival; every mart must hold the same rows.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.conftest import ingest, query
from vipwh.cli import main
from vipwh.generate import generate_book

HOLDERS, SEED = 400, 11


def _marts(warehouse: Path) -> dict[str, list[tuple]]:
    tables = [
        r[0]
        for r in query(
            warehouse,
            # build_info describes the build (run id, time, batches loaded), not the book
            "select table_name from information_schema.tables where table_schema = 'marts' "
            "and table_name <> 'build_info' order by 1",
        )
    ]
    state = {}
    for table in tables:
        columns = [
            r[0]
            for r in query(
                warehouse,
                "select column_name from information_schema.columns "
                "where table_schema = 'marts' and table_name = ? "
                "order by ordinal_position",
                [table],
            )
        ]
        # the extract a row came from is the one thing that legitimately differs between deliveries
        kept = [c for c in columns if c not in ("extract_date", "loaded_at")]
        state[table] = sorted(query(warehouse, f"select {', '.join(kept)} from marts.{table}"), key=repr)
    return state


def test_one_batch_or_four_in_reverse_order_give_the_same_marts(tmp_path: Path):
    one, four = tmp_path / "one", tmp_path / "four"
    generate_book(one / "landing", holders=HOLDERS, seed=SEED, batches=1, workers=1)
    generate_book(four / "book", holders=HOLDERS, seed=SEED, batches=4, workers=1)

    assert main(["build", "--landing", str(one / "landing"), "--warehouse", str(one / "wh.duckdb"), "--quiet"]) == 0

    landing = four / "landing"
    for batch in sorted((four / "book").iterdir(), reverse=True):  # newest first, one arrival at a time
        shutil.copytree(batch, landing / batch.name)
        ingest(landing, four / "wh.duckdb")
    assert main(["build", "--landing", str(landing), "--warehouse", str(four / "wh.duckdb"), "--quiet"]) == 0

    marts_one, marts_four = _marts(one / "wh.duckdb"), _marts(four / "wh.duckdb")
    assert set(marts_one) >= {"fct_policy_rating", "fct_member_tier_history", "fct_benefit_usage", "dim_member"}
    assert sum(len(rows) for rows in marts_one.values()) > 1000  # a book with something in it
    for table in marts_one:
        assert marts_one[table] == marts_four[table], table
