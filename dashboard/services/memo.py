"""Heavy page reads kept until the clinic's data changes (the caseload review, a
couple's timeline, caseload flags).

A result is stored under the clinic's data version (db/engine.py moves it with every
committed clinical change), the database it came from, and a key that always names the
actor (their scope decides what the result holds: two users never share an entry) and
today's date (overdue days and "not on track" move with it). The version is read first
in the caller's transaction, so a stored result is at least as new as its version; the
next change makes every entry unreachable, and the oldest are dropped past MAX_ENTRIES.

What a hit returns is shared with every later hit: DataFrames come back as their own
(copy-on-write) objects, so a page that adds a column changes nothing stored; other
values are treated as read-only.
"""

from __future__ import annotations

import dataclasses
import functools
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from pathlib import Path
from typing import Any, TypeVar

import pandas as pd
from sqlalchemy import Engine
from sqlalchemy.orm import Session as DbSession

from db.engine import data_version

T = TypeVar("T")
MAX_ENTRIES = 256


def database_key(db: DbSession) -> str:
    """Which database a result belongs to: a file by its absolute path, an in-memory
    database by its engine (two of them never share results)."""
    bind = db.get_bind()
    engine = bind if isinstance(bind, Engine) else bind.engine
    url = engine.url
    if url.get_backend_name() == "sqlite":
        database = url.database or ""
        if database in ("", ":memory:") or database.startswith("file::memory:"):
            return f"sqlite-memory:{id(engine)}"
        return _file_key(database)
    return url.render_as_string(hide_password=True)


@functools.lru_cache(maxsize=64)
def _file_key(database: str) -> str:
    # Resolving walks the file system: once per path, not on every page read.
    return f"sqlite:{Path(database).resolve()}"


class VersionedCache:
    """A bounded, thread-shared map from (database, data version, key) to a result."""

    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self._lock = threading.Lock()
        self._entries: OrderedDict[tuple[Hashable, ...], Any] = OrderedDict()
        self._max = max_entries
        self._newest: dict[str, int] = {}  # per database: the newest version seen
        self.hits = 0
        self.misses = 0

    @staticmethod
    def version(db: DbSession) -> int | None:
        """The data version this transaction sees: read it before anything it caches."""
        return data_version(db)

    def get(
        self,
        db: DbSession,
        version: int | None,
        key: tuple[Hashable, ...],
        compute: Callable[[], T],
    ) -> T:
        """The stored result for `key` at `version` (from `version(db)`, read first in
        the transaction), or `compute()`'s. Without a version (a database before
        migration 0007) nothing is stored.
        """
        if version is None:
            return compute()
        database = database_key(db)
        full = (database, version, *key)
        with self._lock:
            if version > self._newest.get(database, version - 1):
                self._drop_older(database, version)
            if full in self._entries:
                self._entries.move_to_end(full)
                self.hits += 1
                return _own(self._entries[full])
            self.misses += 1
        value = compute()  # outside the lock: other pages do not wait for this one
        with self._lock:
            self._entries[full] = value
            self._entries.move_to_end(full)
            while len(self._entries) > self._max:
                self._entries.popitem(last=False)
        return _own(value)

    def _drop_older(self, database: str, version: int) -> None:
        """A change was committed: what was stored before it can never be asked for
        again (every new read sees the new version), so it goes at once."""
        self._newest[database] = version
        for stale in [k for k in self._entries if k[0] == database and k[1] < version]:
            del self._entries[stale]

    def __len__(self) -> int:
        return len(self._entries)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._newest.clear()
            self.hits = self.misses = 0


def _own(value: T) -> T:
    """The caller's own frames, in dataclasses too (shallow and copy-on-write: no data
    is copied)."""
    if isinstance(value, pd.DataFrame | pd.Series):
        return value.copy(deep=False)  # type: ignore[return-value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changed = {}
        for field in dataclasses.fields(value):
            if not field.init:
                continue
            part = getattr(value, field.name)
            own = _own(part)
            if own is not part:
                changed[field.name] = own
        return dataclasses.replace(value, **changed) if changed else value  # type: ignore[return-value]
    return value


PAGES = VersionedCache()
