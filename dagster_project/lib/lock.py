"""One writer at a time: an ``fcntl.flock`` lock file beside the warehouse, holding the holder's pid, start and
kind (``build`` or ``scenario run``), which the refusal names.

``<warehouse>.lock`` is locked (exclusive, non-blocking) for the whole of a build. The lock is re-entrant
within a process: ``vipwh build`` takes it before it starts the Dagster job, and the job's first step
takes it again (a no-op then), so a run started by ``dagster job execute`` is covered too (that process
holds it until it exits). The kernel releases a flock when its holder dies, so a killed build never
leaves a stale lock; the file itself stays (its content is informational).
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

_HELD: dict[str, int] = {}  # lock path -> file descriptor, for locks this process holds


class BuildRunning(RuntimeError):
    """Another process holds the warehouse's lock (a build or a scenario run: ``kind``)."""

    def __init__(self, path: Path, holder: str):
        self.path = path
        pid, _, rest = holder.strip().partition(" ")
        since, _, kind = rest.partition(" ")
        self.pid = pid or "?"
        self.since = since[11:19] if len(since) >= 19 else (since or "?")
        self.kind = kind.strip() or "build or scenario run"  # a holder that wrote no kind
        super().__init__(
            f"a {self.kind} is running (pid {self.pid}, since {self.since}) on this warehouse "
            f"(lock {path}); try again when it has finished"
        )


def lock_path(warehouse: Path) -> Path:
    return warehouse.with_name(warehouse.name + ".lock")


def acquire(warehouse: Path, kind: str = "build") -> bool:
    """Take the warehouse's lock; False when this process already held it. Raises ``BuildRunning``."""
    path = lock_path(Path(warehouse).resolve())
    if str(path) in _HELD:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.pread(fd, 200, 0).decode("utf-8", errors="replace")
        os.close(fd)
        raise BuildRunning(path, holder) from None
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()} {datetime.now().isoformat(timespec='seconds')} {kind}\n".encode(), 0)
    _HELD[str(path)] = fd
    return True


def release(warehouse: Path) -> None:
    fd = _HELD.pop(str(lock_path(Path(warehouse).resolve())), None)
    if fd is None:
        return
    try:
        os.ftruncate(fd, 0)
        fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


@contextmanager
def held(warehouse: Path, kind: str = "build") -> Iterator[None]:
    """``with held(warehouse):`` — the lock for the block (released only if this block took it)."""
    took = acquire(warehouse, kind)
    try:
        yield
    finally:
        if took:
            release(warehouse)
