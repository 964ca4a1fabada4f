"""Progress lines for long stages, printed to stderr when the CLI asks for them (VIPWH_PROGRESS=1)."""

from __future__ import annotations

import os
import sys
import time

_START = time.monotonic()


def enabled() -> bool:
    return os.environ.get("VIPWH_PROGRESS", "") == "1"


def say(message: str) -> None:
    """One progress line with the seconds since the process started."""
    if enabled():
        print(f"[{time.monotonic() - _START:7.1f}s] {message}", file=sys.stderr, flush=True)
