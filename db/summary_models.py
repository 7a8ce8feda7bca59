"""The per-couple summary row (issue 23, point 2): what the caseload, the review and the
overview read instead of every session of every couple.

Written in the same transaction as what it derives from (services/couple_summaries.py,
called by couple_changes.couple_changed); rebuilt and compared by
`python -m dashboard repair-summaries`. Nothing here depends on today: how long a
couple has waited is computed at read from `last_held`.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from db.models import Base, UTCDateTime, utcnow


class CoupleSummary(Base):
    """One live couple's figures as judged over all its live sessions.

    `basis` names what the judgement used (clinic norms version, expected-course version,
    whether the alliance scale is in use): a row whose basis differs from the clinic's
    current one is stale and is not read (see services/couple_summaries.py).
    Together the columns hold the review's whole per-couple row
    (domain/couple_summary.py), one typed column a figure (migration 0020).
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
    # The rest of the review's per-couple figures (domain/couple_summary.py, COLUMN_OF),
    # typed: the review reads them in one query straight into its frame.
    status_a: Mapped[str | None] = mapped_column(String(40))
    status_b: Mapped[str | None] = mapped_column(String(40))
    status_couple: Mapped[str | None] = mapped_column(String(40))
    rci_a: Mapped[float | None] = mapped_column(Float)
    rci_b: Mapped[float | None] = mapped_column(Float)
    rci_couple: Mapped[float | None] = mapped_column(Float)
    change_a: Mapped[float | None] = mapped_column(Float)
    change_b: Mapped[float | None] = mapped_column(Float)
    change_couple: Mapped[float | None] = mapped_column(Float)
    deteriorated_a: Mapped[bool] = mapped_column(Boolean)
    deteriorated_b: Mapped[bool] = mapped_column(Boolean)
    no_improvement: Mapped[bool] = mapped_column(Boolean)
    stage_regressed: Mapped[bool] = mapped_column(Boolean)
    below_expected: Mapped[bool] = mapped_column(Boolean)
    diverging_opposite: Mapped[bool] = mapped_column(Boolean)
    diverging_discrepancy: Mapped[bool] = mapped_column(Boolean)
    not_on_track: Mapped[bool] = mapped_column(Boolean)
    diverging: Mapped[bool] = mapped_column(Boolean)
    not_on_track_reasons: Mapped[str | None] = mapped_column(Text)
    diverging_reasons: Mapped[str | None] = mapped_column(Text)
    flag_reasons: Mapped[str] = mapped_column(Text)
    first_reliable_improvement_session: Mapped[float | None] = mapped_column(Float)
    first_reliable_improvement_date: Mapped[date | None] = mapped_column(Date)
    expected_alert_a: Mapped[str | None] = mapped_column(String(40))
    expected_source_a: Mapped[str | None] = mapped_column(Text)
    expected_session_a: Mapped[float | None] = mapped_column(Float)
    expected_score_a: Mapped[float | None] = mapped_column(Float)
    expected_p10_a: Mapped[float | None] = mapped_column(Float)
    expected_p25_a: Mapped[float | None] = mapped_column(Float)
    expected_p50_a: Mapped[float | None] = mapped_column(Float)
    expected_alert_b: Mapped[str | None] = mapped_column(String(40))
    expected_source_b: Mapped[str | None] = mapped_column(Text)
    expected_session_b: Mapped[float | None] = mapped_column(Float)
    expected_score_b: Mapped[float | None] = mapped_column(Float)
    expected_p10_b: Mapped[float | None] = mapped_column(Float)
    expected_p25_b: Mapped[float | None] = mapped_column(Float)
    expected_p50_b: Mapped[float | None] = mapped_column(Float)
    expected: Mapped[str] = mapped_column(Text)
    expected_rank: Mapped[int] = mapped_column(Integer)
    split_alliance: Mapped[bool] = mapped_column(Boolean)
    alliance_date: Mapped[date | None] = mapped_column(Date)
    alliance_a: Mapped[float | None] = mapped_column(Float)
    alliance_b: Mapped[float | None] = mapped_column(Float)
    alliance_reason: Mapped[str] = mapped_column(Text)
    alliance: Mapped[str] = mapped_column(Text)
    intake_stage: Mapped[str] = mapped_column(Text)
    current_stage: Mapped[str] = mapped_column(Text)
    last_session: Mapped[date | None] = mapped_column(Date)
    safety: Mapped[bool] = mapped_column(Boolean)
    safety_session_id: Mapped[int | None] = mapped_column(Integer)
    needs_attention: Mapped[bool] = mapped_column(Boolean)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # DEPRECATED: the previous release's JSON figures, kept nullable by migration 0020 so
    # its replicas keep saving during a rolling upgrade; never written or read here
    # (deferred: not even loaded with a row). A later release drops it.
    figures: Mapped[str | None] = mapped_column(Text, deferred=True)
