"""WAL checkpoints for the embedded SQLite, off the engine's hot path.

In WAL mode SQLite copies the log back into the database file (a checkpoint) from
inside whichever commit pushes the log past ``wal_autocheckpoint`` pages, and with
``synchronous=NORMAL`` that checkpoint is where the fsyncs happen. On the engine that
commit is a candle close: measured here, one close in ten took 15 ms instead of 1.5 ms,
and the checkpoints were 40% of all the time SQLite spent in a fill-heavy hour.

`WalCheckpointer` runs passive checkpoints from its own thread and connection instead, a
few times a second. A passive checkpoint never blocks a writer or a reader (it copies
only what no open snapshot still needs), and sqlite3 releases the GIL while it works, so
the copy and the fsyncs use the machine's other core while the engine keeps deciding.
Connections raise their own auto-checkpoint threshold (`WAL_AUTOCHECKPOINT_PAGES`) so a
commit checkpoints only as a backstop, e.g. in a process that runs no checkpointer.
"""

from __future__ import annotations

import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path

import structlog

log = structlog.get_logger(__name__)

#: A commit checkpoints by itself only past this many log pages (16 MiB of 4 KiB pages),
#: a backstop for processes without a `WalCheckpointer` (SQLite's default is 1,000).
WAL_AUTOCHECKPOINT_PAGES = 4000


@dataclass(slots=True)
class CheckpointStats:
    """What the checkpointer has done, for logs and tests."""

    runs: int = 0  # checkpoints that found log frames to copy
    frames: int = 0  # frames copied back into the database file
    errors: int = 0


class WalCheckpointer:
    """Passive WAL checkpoints of one SQLite file, every ``interval_s``, in a thread."""

    def __init__(self, path: Path, *, interval_s: float = 0.5) -> None:
        if interval_s <= 0:
            raise ValueError("interval_s must be positive")
        self.path = path
        self.interval_s = interval_s
        self.stats = CheckpointStats()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._backfilled = 0  # frames of the current log already copied back

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        if self.running:
            return
        self._stop.clear()
        self._thread = threading.Thread(
            target=self._loop, name=f"wal-checkpoint:{self.path.name}", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        """Stops the thread after one last checkpoint; safe to call more than once."""
        thread, self._thread = self._thread, None
        if thread is None:
            return
        self._stop.set()
        thread.join()

    def _loop(self) -> None:
        try:
            conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=True)
        except sqlite3.Error:
            self.stats.errors += 1
            log.exception("wal_checkpoint_connect_failed", path=str(self.path))
            return
        try:
            while not self._stop.wait(self.interval_s):
                self.checkpoint(conn)
            self.checkpoint(conn)  # what the last commits left, before the process ends
        finally:
            conn.close()

    def checkpoint(self, conn: sqlite3.Connection) -> None:
        """One passive checkpoint. A failure is logged and counted, and the next round
        tries again: a missed checkpoint only lets the log grow until the backstop."""
        try:
            row = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        except sqlite3.Error:
            self.stats.errors += 1
            log.exception("wal_checkpoint_failed", path=str(self.path))
            return
        if row is None:
            return
        _busy, log_frames, backfilled = (int(v) for v in row)
        if backfilled < self._backfilled or log_frames < self._backfilled:
            self._backfilled = 0  # the log was restarted from its beginning
        copied = backfilled - self._backfilled
        if copied > 0:
            self.stats.runs += 1
            self.stats.frames += copied
        self._backfilled = backfilled
