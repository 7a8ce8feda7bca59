"""One hook for every write that changes a couple's clinical record.

Sessions saved, amended, deleted or restored; a couple opened, edited, paused, closed
or reopened; check-ins asked, answered or withdrawn; supervision reviews filed. Each of
these calls `couple_changed` inside its write transaction, before it commits, so what
depends on a couple (the page cache, the couple's summary row) moves with it.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.orm import Session as DbSession

from dashboard.services import couple_summaries
from db.engine import touch_couples


def couple_changed(db: DbSession, couple_ids: Iterable[int]) -> None:
    """Record, in the caller's write transaction, that these couples changed, and
    refresh their summary rows in it (they commit, or roll back, together)."""
    ids = {int(i) for i in couple_ids}
    touch_couples(db, ids)
    couple_summaries.refresh(db, ids)
