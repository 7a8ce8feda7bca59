"""Heavy page reads kept until what they show changes (the caseload review, My
caseload with its flags, a couple's record and timeline).

A result is stored under the versions of what its view shows (db/scopes.py), read first
in the caller's transaction with one query: the clinic-wide version (users, links,
published norms: anything not one couple's record) and the view's scopes. A counselor's
caseload depends on 'caseload:<them>', a supervisor's review or caseload on
'group:<them>', an admin's on 'clinic' (`reader_scope`), a couple's record and timeline
on 'couple:<id>'. A save on a couple moves that couple, its counselor's caseload, its
supervisors' groups and 'clinic' (db/engine.py, at commit), so a counselor whose couples
did not change keeps their cached caseload while colleagues save. Only once the clinic
has published norms and an expected course, though: before that their labels count the
whole clinic ('12 of 30 intakes'), so every save moves the clinic-wide version. The demo
clinic (60 couples, fewer than the 100 with a course that v1 of the expected course
needs) is such a clinic; the 15k-session bench clinic is not.

The key always names the actor (their scope decides what the result holds: two users
never share an entry) and today's date where the view depends on it (overdue days, "not
on track"). The versions are read first, so a stored result is at least as new as them.
An entry is used only at exactly the versions it was built at; one that a newer version
makes stale goes as soon as any read sees that version, and the oldest are dropped past
MAX_ENTRIES.

What a hit returns is shared with every later hit: DataFrames come back as their own
(copy-on-write) objects, so a page that adds a column changes nothing stored; other
values are treated as read-only.

Statistics (for bench/bench_load.py): every read counts a hit or a miss per view kind
(the key's first part, e.g. "caseload", "timeline", "caseload_review") and user id (the
key's second part when it is an int, else null). When the environment variable
BONDLINE_CACHE_STATS names a file ("{pid}" in it becomes the process id, so replicas
write one file each), the process writes them there as JSON, replacing the file
atomically, at most once a second and again within a second of the last read:

    {"pid": 4242, "written_at": "2026-12-06T22:10:03Z", "hits": 120, "misses": 30,
     "views": [{"view": "caseload", "user_id": 7, "hits": 10, "misses": 2}, ...]}

Counts start at zero with the process (or PAGES.clear()); nothing is written without
the variable.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import logging
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import pandas as pd
from sqlalchemy import Engine
from sqlalchemy.orm import Session as DbSession

from dashboard.services.actor import Actor
from db import scopes
from db.engine import data_versions
from db.scopes import ViewVersions

_log = logging.getLogger(__name__)
T = TypeVar("T")
MAX_ENTRIES = 256
STATS_ENV = "BONDLINE_CACHE_STATS"
STATS_INTERVAL_S = 1.0


def reader_scope(actor: Actor) -> str:
    """The scope of the couples an actor reads in a caseload or review: a counselor's
    own caseload, a supervisor's group, an admin's whole clinic."""
    if actor.is_counselor:
        return scopes.caseload(actor.user_id)
    if actor.is_supervisor:
        return scopes.group(actor.user_id)
    return scopes.CLINIC


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
    """A bounded, thread-shared map from (database, key) to a result and the versions
    it was built at."""

    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self._lock = threading.Lock()
        self._entries: OrderedDict[tuple[Hashable, ...], tuple[ViewVersions, Any]] = OrderedDict()
        self._max = max_entries
        # Per database: the newest version seen of each scope (CLINIC_WIDE included).
        self._newest: dict[str, dict[str, int]] = {}
        self._counts: dict[tuple[str, int | None], list[int]] = {}
        self._stats_at = 0.0
        self._stats_timer: threading.Timer | None = None
        self.hits = 0
        self.misses = 0

    @staticmethod
    def version(db: DbSession, *scope_names: str) -> ViewVersions | None:
        """The versions this transaction sees of what a view shows (the clinic-wide one
        and `scope_names`): read them before anything the view caches."""
        return data_versions(db, scope_names)

    def get(
        self,
        db: DbSession,
        version: ViewVersions | None,
        key: tuple[Hashable, ...],
        compute: Callable[[], T],
        *,
        store: bool = True,
    ) -> T:
        """The stored result for `key` built at exactly `version` (from `version(db,
        ...)`, read first in the transaction), or `compute()`'s. Without a version (a
        transaction that has written) nothing is stored. `store` False: a stored result
        is used, but a computed one is not kept (a batch that reads each couple once
        would otherwise push every user's pages out and hold MAX_ENTRIES of its own).
        """
        if version is None:
            self._count(key, hit=False)
            return compute()
        database = database_key(db)
        full = (database, *key)
        with self._lock:
            self._see(database, version)
            found = self._entries.get(full)
            hit = found is not None and found[0] == version
            if found is not None and hit:
                self._entries.move_to_end(full)
            self._count_locked(key, hit=hit)
        self._schedule_stats()
        if found is not None and hit:
            return _own(found[1])
        value = compute()  # outside the lock: other pages do not wait for this one
        if not store:
            return value
        with self._lock:
            if self._is_newest(database, version):  # not a snapshot older than another's
                self._entries[full] = (version, value)
                self._entries.move_to_end(full)
                while len(self._entries) > self._max:
                    self._entries.popitem(last=False)
        return _own(value)

    def _see(self, database: str, version: ViewVersions) -> None:
        """A read saw these versions: anything stored before a change it shows can never
        be asked for again (every new read sees the new number), so it goes at once."""
        newest = self._newest.get(database)
        wide = version[0][1]
        if newest is None or newest[scopes.CLINIC_WIDE] != wide:
            # A clinic-wide change (or a database made again): everything else is stale.
            self._newest[database] = newest = {scopes.CLINIC_WIDE: wide}
            self._drop(lambda k, v: k[0] == database and v[0][1] != wide)
        for scope, number in version[1:]:
            seen = newest.get(scope)
            if seen is not None and number <= seen:
                continue
            newest[scope] = number
            if seen is not None:
                self._drop(lambda k, v, s=scope, n=number: k[0] == database and _older(v, s, n))

    def _is_newest(self, database: str, version: ViewVersions) -> bool:
        newest = self._newest.get(database, {})
        return all(newest.get(scope) == number for scope, number in version)

    def _drop(self, stale: Callable[[tuple[Hashable, ...], ViewVersions], bool]) -> None:
        for key in [k for k, (v, _) in self._entries.items() if stale(k, v)]:
            del self._entries[key]

    def _count(self, key: tuple[Hashable, ...], *, hit: bool) -> None:
        with self._lock:
            self._count_locked(key, hit=hit)
        self._schedule_stats()

    def _count_locked(self, key: tuple[Hashable, ...], *, hit: bool) -> None:
        user = key[1] if len(key) > 1 and isinstance(key[1], int) else None
        counts = self._counts.setdefault((str(key[0]), user), [0, 0])
        counts[0 if hit else 1] += 1
        if hit:
            self.hits += 1
        else:
            self.misses += 1

    def stats(self) -> dict[str, Any]:
        """The hit and miss counts, in the form written to BONDLINE_CACHE_STATS."""
        with self._lock:
            views = [
                {"view": view, "user_id": user, "hits": h, "misses": m}
                for (view, user), (h, m) in sorted(
                    self._counts.items(), key=lambda item: (item[0][0], item[0][1] or 0)
                )
            ]
            hits, misses = self.hits, self.misses
        return {
            "pid": os.getpid(),
            "written_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "hits": hits,
            "misses": misses,
            "views": views,
        }

    def _schedule_stats(self) -> None:
        """Write the statistics now if the last write is a second old, else once the
        second is up (one timer at a time); nothing without the environment variable."""
        if not os.environ.get(STATS_ENV):
            return
        with self._lock:
            if self._stats_timer is not None:
                return
            wait = self._stats_at + STATS_INTERVAL_S - time.monotonic()
            if wait > 0:
                self._stats_timer = threading.Timer(wait, self._write_stats)
                self._stats_timer.daemon = True
                self._stats_timer.start()
                return
            self._stats_at = time.monotonic()
        self._write_stats(timer=False)

    def _write_stats(self, *, timer: bool = True) -> None:
        target = os.environ.get(STATS_ENV)
        if timer:
            with self._lock:
                self._stats_timer = None
                self._stats_at = time.monotonic()
        if not target:
            return
        path = Path(target.replace("{pid}", str(os.getpid())))
        partial = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        try:
            partial.write_text(json.dumps(self.stats()))
            os.replace(partial, path)  # a reader never sees half a file
        except OSError:  # statistics never fail a page
            _log.warning("cache statistics not written to %s", path, exc_info=True)

    def __len__(self) -> int:
        return len(self._entries)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._newest.clear()
            self._counts.clear()
            self.hits = self.misses = 0


def _older(version: ViewVersions, scope: str, number: int) -> bool:
    return any(s == scope and n < number for s, n in version)


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
