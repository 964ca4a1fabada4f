"""The great-expectations adapter: validate a small pandas frame against GX 1.x expectations."""

from __future__ import annotations

import functools
import logging
import warnings
from typing import Any

import pandas as pd


def gx_module() -> Any:
    """great_expectations, imported on first use (it imports pyspark when present, which warns about pandas 3)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import great_expectations as gx
    return gx


@functools.cache
def _frame_batch_definition() -> Any:
    """One ephemeral GX context per process, progress bars off, with a pandas whole-frame batch definition."""
    gx = gx_module()
    from great_expectations.data_context.types.base import ProgressBarsConfig

    logging.getLogger("great_expectations").setLevel(logging.ERROR)
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
    return (
        context.data_sources.add_pandas("vipwh_quality")
        .add_dataframe_asset("check_frame")
        .add_batch_definition_whole_dataframe("whole_frame")
    )


def validate_frame(frame: pd.DataFrame, expectations: list, suite_name: str = "suite") -> list[dict[str, Any]]:
    """Validate a pandas frame against great-expectations expectations in an ephemeral context.

    Returns one dict per expectation: type, column, success, unexpected_count, unexpected_index_list
    (None for table-level expectations), observed value and error (when the expectation raised).
    """
    gx = gx_module()
    batch = _frame_batch_definition().get_batch(batch_parameters={"dataframe": frame.reset_index(drop=True)})
    suite = gx.ExpectationSuite(name=suite_name)
    for expectation in expectations:
        suite.add_expectation(expectation)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        validation = batch.validate(suite, result_format="COMPLETE")
    outcomes = []
    for result in validation.results:
        config = result.expectation_config
        kwargs = config.kwargs if config is not None else {}
        details = result.result or {}
        error = ""
        if result.exception_info and result.exception_info.get("raised_exception"):
            error = str(result.exception_info.get("exception_message") or "expectation raised")
        outcomes.append(
            {
                "type": config.type if config is not None else "?",
                "column": kwargs.get("column")
                or ",".join(str(kwargs[key]) for key in ("column_A", "column_B", "column_list") if key in kwargs)
                or "table",
                "success": bool(result.success) and not error,
                "unexpected_count": details.get("unexpected_count"),
                "unexpected_index_list": details.get("unexpected_index_list"),
                "observed": details.get("observed_value"),
                "error": error,
            }
        )
    return outcomes
