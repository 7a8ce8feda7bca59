"""What an admin publishes (clinic norms, expected courses), kept per process and
checked at every read against the newest stored row.

A published version is read by every page load, so it is built once per database and
reused while a cheap stamp (the newest row's id and time, one indexed look-up) stays the
same; another process or replica that publishes moves the stamp, and the next read here
rebuilds. Before any version is published the stamp carries the data version: the
labelled defaults count what the clinic has so far.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

from sqlalchemy import text
from sqlalchemy.orm import Session as DbSession

from dashboard.services.memo import database_key

T = TypeVar("T")
# A stamp says which version a built value is: a tuple, with None in it when the reading
# transaction has written (what it sees is newer than any stamp), and then nothing is kept.
Stamp = tuple[Hashable, ...]


class PublishedCache(Generic[T]):
    """The current published value per database, rebuilt when its stamp changes.

    `stamp(db)` is the cheap check made at every warm read; `load(db)` reads the rows
    and returns the value with the stamp it stands for. One rebuild per database at a
    time: page loads that find it stale together wait for the first one instead of each
    reading the rows.
    """

    def __init__(
        self, stamp: Callable[[DbSession], Stamp], load: Callable[[DbSession], tuple[Stamp, T]]
    ) -> None:
        self._stamp = stamp
        self._load_value = load
        self._lock = threading.Lock()
        self._key_locks: dict[str, threading.Lock] = {}
        self._entries: dict[str, tuple[Stamp, T]] = {}

    def get(self, db: DbSession) -> T:
        key = database_key(db)
        with self._lock:
            cached = key in self._entries
        if not cached:  # a cold read: the rows themselves say which version they are
            return self._load(db, key)
        found = self._hit(key, self._stamp(db))
        return found if found is not None else self._load(db, key)

    def _load(self, db: DbSession, key: str) -> T:
        with self._lock:
            key_lock = self._key_locks.setdefault(key, threading.Lock())
        with key_lock:  # one rebuild per database at a time
            stamp, value = self._load_value(db)
            if None in stamp:  # this transaction wrote: keep nothing
                return value
            with self._lock:
                self._entries[key] = (stamp, value)
            return value

    def _hit(self, key: str, stamp: Stamp) -> T | None:
        with self._lock:
            hit = self._entries.get(key)
        return hit[1] if hit is not None and hit[0] == stamp else None

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


def first_version_turn(db: DbSession, key: int) -> None:
    """Wait for any other transaction that is publishing a v1 under `key`.

    Two saves that reach a minimum together would both insert v1, and the second would
    fail the user's save on the unique version. SQLite's write transactions already run
    one at a time; PostgreSQL's do not, so the second waits here (a transaction-scoped
    advisory lock) until the first commits, and then finds v1. Call it in the write
    transaction, only while no version exists, and look for v1 again after it.
    """
    if db.get_bind().dialect.name == "postgresql":
        db.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})
