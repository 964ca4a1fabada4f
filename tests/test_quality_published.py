"""What must be reported is published (issue 14 part 6): the rating issues, the orphan / quarantine summary
and the batch ledger, read from the published snapshot of a hand-made book built by `vipwh build`.

The book, worked out by hand from RULES.md §3 and CONTRACT.md §1:

* batch 2026-11-20: customers H1 and a row without holder_id (quarantined: "missing holder_id");
  policies P1 (H1, in force), P2 (H1, snapshot status `surrendered` on 2025-06-01 with no surrender in the
  log: an implied event, RULES §3) and P8 (holder H9, no such customer: an orphan); new business of P1, P2.
* batch 2026-11-21: customer H1 again (a changed city), nothing quarantined.
"""

from __future__ import annotations

from datetime import date

import pytest

from dagster_project.lib.publish import connect_snapshot
from tests.test_e2e_rules import _customer, _new_business, _policy
from vipwh.cli import main
from vipwh.landing import write_batch


@pytest.fixture(scope="module")
def snapshot_rows(tmp_path_factory) -> dict[str, list[tuple]]:
    root = tmp_path_factory.mktemp("published")
    landing, warehouse = root / "landing", root / "wh.duckdb"
    write_batch(
        landing,
        "2026-11-20",
        {
            "customers.csv": [_customer("H1"), {**_customer("H2"), "holder_id": ""}],
            "policies.csv": [
                _policy("P1", "H1", "whole_life", "annual", 20, "20000.00", "2024-03-01", "2024-03-15"),
                _policy(
                    "P2",
                    "H1",
                    "whole_life",
                    "annual",
                    10,
                    "10000.00",
                    "2024-03-01",
                    "2024-03-15",
                    status="surrendered",
                    status_date="2025-06-01",
                ),
                _policy("P8", "H9", "whole_life", "annual", 10, "10000.00", "2024-03-01", "2024-03-15"),
            ],
            "policy_transactions.csv": [
                _new_business("T1", "P1", "20000.00", "2024-03-01"),
                _new_business("T2", "P2", "10000.00", "2024-03-01"),
            ],
        },
    )
    write_batch(landing, "2026-11-21", {"customers.csv": [{**_customer("H1"), "city": "苏州市"}]})
    assert main(["build", "--landing", str(landing), "--warehouse", str(warehouse), "--quiet"]) == 0
    with connect_snapshot(warehouse) as con:
        return {
            "issues": con.execute(
                """select issue_id, issue_code, holder_id, policy_no, coverage_no, txn_id, issue_date
                   from quality.dq_rating_issues order by issue_id"""
            ).fetchall(),
            "summary": con.execute(
                """select summary_id, kind, extract_date, file_name, reason, rows_left_out
                   from quality.dq_quarantine_summary order by summary_id"""
            ).fetchall(),
            "ledger": con.execute(
                """select extract_date, status, files, rows_in_files, rows_loaded, rows_quarantined,
                          loaded_at is not null
                   from quality.dq_batch_ledger order by extract_date"""
            ).fetchall(),
            "summary_columns": [
                row[0]
                for row in con.execute(
                    """select column_name from information_schema.columns
                   where table_schema = 'quality' and table_name = 'dq_quarantine_summary'"""
                ).fetchall()
            ],
        }


def test_the_implied_event_is_a_published_rating_issue(snapshot_rows):
    implied = [row for row in snapshot_rows["issues"] if row[1] == "implied_status_event"]
    assert [row[1:] for row in implied] == [
        ("implied_status_event", "H1", "P2", 0, None, date(2025, 6, 1)),
    ]


def test_the_orphan_and_the_quarantined_row_are_summarised(snapshot_rows):
    assert snapshot_rows["summary"] == [
        (
            "orphan/2026-11-20/policies.csv/holder_id H9 is not a known customer",
            "orphan",
            date(2026, 11, 20),
            "policies.csv",
            "holder_id H9 is not a known customer",
            1,
        ),
        (
            "quarantined/2026-11-20/customers.csv/missing holder_id",
            "quarantined",
            date(2026, 11, 20),
            "customers.csv",
            "missing holder_id",
            1,
        ),
    ]
    assert "raw_record" not in snapshot_rows["summary_columns"]  # may hold personal data


def test_the_batch_ledger_is_published(snapshot_rows):
    # 2026-11-20: customers 2 rows (1 loaded, 1 quarantined), policies 3, transactions 2; 2026-11-21: 1 customer
    assert snapshot_rows["ledger"] == [
        (date(2026, 11, 20), "loaded", 3, 7, 6, 1, True),
        (date(2026, 11, 21), "loaded", 1, 1, 1, 0, True),
    ]
