"""What a committed write makes stale: a data version per scope of what pages show.

A page's cached view depends on the clinic-wide version (`clinic_data_version`) and on
the versions of the scopes it shows: one couple ('couple:<id>'), a counselor's caseload
('caseload:<counselor id>'), a supervisor's group ('group:<supervisor id>') or the whole
clinic's couples ('clinic'). db/engine.py decides at each commit which ones move:

- a write that touched couples (`touch_couples`) and wrote only their own records (the
  tables in COUPLE_TABLES) moves each couple's scope, its counselor's caseload, the group
  of every supervisor of that counselor, and 'clinic';
- anything else that wrote a tracked table (users, supervision links, a couple moved to
  another counselor, a published norms or expected course, the demo loader, a write that
  touched no couple) moves the clinic-wide version: every view is stale, as it was
  before scopes. So is every write before the clinic has its first published norms and
  expected course: until then their labels count the whole clinic's intakes and couples
  ('12 of 30 intakes'), which every couple's view shows.

A counselor reassignment stays clinic-wide: it changes who may see the couple, is rare
(an admin's repair), and its old counselor is no longer in the row at commit.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import bindparam, text
from sqlalchemy.orm import Session

SCOPE_TABLE = "data_scope_versions"
CLINIC = "clinic"
CLINIC_WIDE = "*"  # the clinic-wide version's name in a view's versions

# The tables a couple's own clinical record lives in: a write to these alone, with the
# couples it changed touched, moves only those couples' scopes.
COUPLE_TABLES = frozenset(
    {
        "couples",  # its own record: details, status (not its counselor: see engine)
        "sessions",
        "session_barriers",
        "indicator_ratings",
        "habit_assignments",
        "instrument_totals",
        "session_amendments",
        "couple_amendments",
        "check_ins",
        "check_in_partners",
        "supervision_reviews",
        "couple_summaries",
    }
)


def couple(couple_id: int) -> str:
    return f"couple:{int(couple_id)}"


def caseload(counselor_id: int) -> str:
    return f"caseload:{int(counselor_id)}"


def group(supervisor_id: int) -> str:
    return f"group:{int(supervisor_id)}"


ViewVersions = tuple[tuple[str, int], ...]
"""What a cached view was built at: (CLINIC_WIDE, n) first, then (scope, n) per scope."""

_CLINIC_WIDE_ONLY = text("SELECT version FROM clinic_data_version")
_WITH_SCOPES = text(
    "SELECT '*', version FROM clinic_data_version "
    f"UNION ALL SELECT scope, version FROM {SCOPE_TABLE} WHERE scope IN :scopes"
).bindparams(bindparam("scopes", expanding=True))


def read_versions(db: Session, scopes: Sequence[str]) -> ViewVersions:
    """The clinic-wide version and these scopes' in one query (primary-key look-ups)."""
    if not scopes:
        return ((CLINIC_WIDE, int(db.execute(_CLINIC_WIDE_ONLY).scalar_one())),)
    found = {str(s): int(v) for s, v in db.execute(_WITH_SCOPES, {"scopes": list(scopes)})}
    return ((CLINIC_WIDE, found[CLINIC_WIDE]), *((s, found.get(s, 0)) for s in scopes))


def bump_touched(cursor: Any, postgres: bool, couple_ids: Iterable[int]) -> bool:
    """Move the scopes of these couples on the transaction's raw DBAPI cursor, as its
    last statements. False (nothing moved) when they cannot be scoped: the table is
    missing (a database before migration 0018), a couple is gone, or the clinic has no
    published norms or expected course yet; the caller then moves the clinic-wide one.
    """
    ids = sorted({int(i) for i in couple_ids})
    if not ids:
        return False
    mark = "%s" if postgres else "?"
    cursor.execute(
        f"SELECT to_regclass('{SCOPE_TABLE}') IS NOT NULL"
        if postgres
        else f"SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE name = '{SCOPE_TABLE}')"
    )
    if not cursor.fetchone()[0]:
        return False
    cursor.execute(
        "SELECT c.id, c.counselor_id, l.supervisor_id,"
        " EXISTS (SELECT 1 FROM clinic_norms), EXISTS (SELECT 1 FROM expected_courses)"
        " FROM couples c LEFT JOIN supervision_links l ON l.counselor_id = c.counselor_id"
        f" WHERE c.id IN ({', '.join([mark] * len(ids))})",
        ids,
    )
    rows = cursor.fetchall()
    if not rows or not all(rows[0][3:5]) or {r[0] for r in rows} != set(ids):
        return False
    scopes = {CLINIC}
    for couple_id, counselor_id, supervisor_id, *_ in rows:
        scopes |= {couple(couple_id), caseload(counselor_id)}
        if supervisor_id is not None:
            scopes.add(group(supervisor_id))
    # Sorted: every writer takes these row locks in one order, so two writers on
    # PostgreSQL never wait for each other in a circle.
    for scope in sorted(scopes):
        cursor.execute(
            f"INSERT INTO {SCOPE_TABLE} (scope, version) VALUES ({mark}, 1) "
            f"ON CONFLICT (scope) DO UPDATE SET version = {SCOPE_TABLE}.version + 1",
            (scope,),
        )
    return True
