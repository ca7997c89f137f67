"""A second database connection that holds a row lock, as another person's long transaction would."""
from __future__ import annotations

import time

from sqlalchemy import create_engine, text


class RowLock:
    """Hold the write lock on one row (PostgreSQL: that row; SQLite: the whole file) until released."""

    def __init__(self, url: str):
        self.engine = create_engine(url)
        self.connection = None
        self.pid = None

    @property
    def postgres(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    def hold(self, table: str, row_id: int) -> RowLock:
        self.connection = self.engine.connect()
        if self.postgres:
            self.pid = self.connection.execute(text("SELECT pg_backend_pid()")).scalar()
        # A write that changes nothing: it takes the same lock a real update would.
        self.connection.execute(text(f"UPDATE {table} SET id = id WHERE id = :id"), {"id": row_id})
        return self

    def wait_for_waiters(self, count: int, timeout: float = 10.0) -> None:
        """Return once `count` other backends queue behind this lock (PostgreSQL only).

        The first waiter waits for this transaction, the next ones wait for the first waiter's
        tuple lock, so the queue is followed from this connection outwards."""
        deadline = time.monotonic() + timeout
        with self.engine.connect() as probe:
            while True:
                blocked_by = dict(probe.execute(text(
                    "SELECT pid, pg_blocking_pids(pid) FROM pg_stat_activity "
                    "WHERE wait_event_type = 'Lock'")).all())
                queue = {self.pid}
                while grown := {pid for pid, blockers in blocked_by.items()
                                if pid not in queue and queue.intersection(blockers)}:
                    queue |= grown
                waiting = len(queue) - 1
                if waiting >= count:
                    return
                if time.monotonic() > deadline:
                    raise AssertionError(f"only {waiting} of {count} requests reached the lock")
                probe.rollback()  # a fresh snapshot of pg_stat_activity on the next round
                time.sleep(0.02)

    def release(self) -> None:
        if self.connection is not None:
            self.connection.rollback()
            self.connection.close()
            self.connection = None
        self.engine.dispose()

    def __enter__(self) -> RowLock:
        return self

    def __exit__(self, *exc) -> None:
        self.release()
