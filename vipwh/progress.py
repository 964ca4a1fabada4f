"""Progress lines for long stages, printed to stderr when the CLI asks for them (``enable()``)."""

from __future__ import annotations

import sys
import time

_START = time.monotonic()
_enabled = False


def enable(on: bool = True) -> None:
    global _enabled
    _enabled = on


def enabled() -> bool:
    return _enabled


def say(message: str) -> None:
    """One progress line with the seconds since the process started."""
    if _enabled:
        print(f"[{time.monotonic() - _START:7.1f}s] {message}", file=sys.stderr, flush=True)
