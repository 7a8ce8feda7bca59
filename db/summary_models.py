"""The per-couple summary row (issue 23, point 2): what the caseload, the review and the
overview read instead of every session of every couple.

Written in the same transaction as what it derives from (services/couple_summaries.py,
called by couple_changes.couple_changed); rebuilt and compared by
`python -m dashboard repair-summaries`. Nothing here depends on today: how long a
couple has waited is computed at read from `last_held`.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from db.models import Base, UTCDateTime, utcnow


class CoupleSummary(Base):
    """One live couple's figures as judged over all its live sessions.

    `basis` names what the judgement used (clinic norms version, expected-course version,
    whether the alliance scale is in use): a row whose basis differs from the clinic's
    current one is stale and is not read (see services/couple_summaries.py).
    `figures` is the whole per-couple row of the review (domain/couple_summary.py) as
    JSON; the named columns are the parts a person or a query looks for.
    """

    __tablename__ = "couple_summaries"

    couple_id: Mapped[int] = mapped_column(
        ForeignKey("couples.id", ondelete="CASCADE"), primary_key=True
    )
    basis: Mapped[str] = mapped_column(String(200))
    norms_label: Mapped[str] = mapped_column(Text)
    expected_label: Mapped[str] = mapped_column(Text)
    stage_first: Mapped[int | None] = mapped_column(Integer)
    stage_latest: Mapped[int | None] = mapped_column(Integer)
    eii_first_a: Mapped[float | None] = mapped_column(Float)
    eii_latest_a: Mapped[float | None] = mapped_column(Float)
    judged_on_a: Mapped[str | None] = mapped_column(String(16))
    eii_first_b: Mapped[float | None] = mapped_column(Float)
    eii_latest_b: Mapped[float | None] = mapped_column(Float)
    judged_on_b: Mapped[str | None] = mapped_column(String(16))
    outcome: Mapped[str] = mapped_column(String(40))
    flags: Mapped[str] = mapped_column(Text)
    reasons: Mapped[str] = mapped_column(Text)
    attention_key: Mapped[str] = mapped_column(Text)
    expected_alert: Mapped[str | None] = mapped_column(String(40))
    expected_partner: Mapped[str | None] = mapped_column(String(40))
    safety_dates: Mapped[str] = mapped_column(Text)
    last_held: Mapped[date | None] = mapped_column(Date)
    latest_session: Mapped[date | None] = mapped_column(Date)
    sessions_held: Mapped[int] = mapped_column(Integer)
    figures: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
