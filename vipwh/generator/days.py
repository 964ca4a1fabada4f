"""Vectorised calendar arithmetic on day numbers (days since 1970-01-01, int64)."""

from __future__ import annotations

from datetime import date

import numpy as np

DAY = 86_400  # seconds
NEVER = 10**6  # a day number far beyond any book (year 4707)
_EPOCH = date(1970, 1, 1)


def day_number(value: date) -> int:
    return (value - _EPOCH).days


def add_months(days: np.ndarray, months: np.ndarray | int) -> np.ndarray:
    """``days + months`` calendar months, clamped to the target month's last day (29 Feb + 1 y = 28 Feb)."""
    days = np.asarray(days, dtype=np.int64)
    months = np.broadcast_to(np.asarray(months, dtype=np.int64), days.shape)
    as_day = days.astype("datetime64[D]")
    month = as_day.astype("datetime64[M]")
    day_of_month = (as_day - month.astype("datetime64[D]")).astype(np.int64)
    target = month + months.astype("timedelta64[M]")
    target_first = target.astype("datetime64[D]").astype(np.int64)
    month_length = (target + 1).astype("datetime64[D]").astype(np.int64) - target_first
    return target_first + np.minimum(day_of_month, month_length - 1)


def ymd(days: np.ndarray) -> np.ndarray:
    """YYYYMMDD as an integer."""
    as_day = np.asarray(days, dtype=np.int64).astype("datetime64[D]")
    year = as_day.astype("datetime64[Y]").astype(np.int64) + 1970
    month = as_day.astype("datetime64[M]").astype(np.int64) % 12 + 1
    dom = (as_day - as_day.astype("datetime64[M]").astype("datetime64[D]")).astype(np.int64) + 1
    return year * 10_000 + month * 100 + dom
