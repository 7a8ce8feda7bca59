"""SQLAlchemy 2.x typed models. The couple is the unit of record.

Enumerations are stored as short strings and guarded by CHECK constraints, so a bad
value is refused by the database itself, whatever layer wrote it.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timestamps in UTC, aware on the way out on every backend.

    SQLite keeps no zone, PostgreSQL does; normalising here means the rest of the code
    can compare any two timestamps without caring which database it runs on.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def _ts() -> Mapped[datetime]:
    return mapped_column(UTCDateTime(), default=utcnow, nullable=False)


class User(Base):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint("role IN ('counselor','supervisor','admin')", name="role"),
        Index("ix_users_sso_subject", "sso_subject", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(120))
    email: Mapped[str | None] = mapped_column(String(254))
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(String(100))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = _ts()
    # Cookies and live sessions issued before this instant are refused: set on logout
    # and on password change.
    sessions_valid_after: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_active_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The clinic's single sign-on account this user signed in with first ("issuer
    # subject"): later sign-ins must come from that same account (dashboard/services/sso.py).
    sso_subject: Mapped[str | None] = mapped_column(String(512))


class SupervisionLink(Base):
    __tablename__ = "supervision_links"
    __table_args__ = (UniqueConstraint("supervisor_id", "counselor_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    supervisor_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    counselor_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = _ts()


class Couple(Base):
    __tablename__ = "couples"
    __table_args__ = (
        CheckConstraint("status IN ('active','paused','closed')", name="status"),
        CheckConstraint("status <> 'closed' OR closing_reason IS NOT NULL", name="closing_reason"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_code: Mapped[str] = mapped_column(String(20), unique=True)
    partner_a_name: Mapped[str] = mapped_column(String(80))
    partner_b_name: Mapped[str] = mapped_column(String(80))
    counselor_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    intake_date: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default="active")
    closing_reason: Mapped[str | None] = mapped_column(String(32))
    status_note: Mapped[str | None] = mapped_column(String(500))
    status_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    presenting_concerns: Mapped[str] = mapped_column(Text, default="")
    goals: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = _ts()
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    version: Mapped[int] = mapped_column(Integer, nullable=False)

    sessions: Mapped[list[CoupleSession]] = relationship(back_populates="couple")

    __mapper_args__ = {"version_id_col": version}


class CoupleSession(Base):
    """One therapy session of a couple (named so it never shadows an ORM Session)."""

    __tablename__ = "sessions"
    __table_args__ = (
        CheckConstraint("format IN ('in_person','video','phone')", name="format"),
        CheckConstraint(
            "attendance IN ('both','partner_a','partner_b','no_show','cancelled')",
            name="attendance",
        ),
        CheckConstraint("stage IS NULL OR stage BETWEEN 1 AND 4", name="stage"),
        CheckConstraint(
            "duration_minutes IS NULL OR duration_minutes BETWEEN 0 AND 240", name="duration"
        ),
        CheckConstraint(
            "private_note IS NULL OR attendance IN ('partner_a','partner_b')", name="private_note"
        ),
        # Covers the review's counts of a range (attendance, deleted) without reading the
        # session rows, which hold the notes (migration 0020).
        Index(
            "ix_sessions_couple_date_attendance",
            "couple_id",
            "session_date",
            "attendance",
            "deleted_at",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    couple_id: Mapped[int] = mapped_column(ForeignKey("couples.id"))
    session_date: Mapped[date] = mapped_column(Date)
    duration_minutes: Mapped[int | None] = mapped_column(Integer)
    format: Mapped[str] = mapped_column(String(16))
    attendance: Mapped[str] = mapped_column(String(16))
    note_data: Mapped[str] = mapped_column(Text, default="")
    note_assessment: Mapped[str] = mapped_column(Text, default="")
    note_plan: Mapped[str] = mapped_column(Text, default="")
    stage: Mapped[int | None] = mapped_column(Integer)
    safety_flag: Mapped[bool] = mapped_column(Boolean, default=False)
    safety_note: Mapped[str | None] = mapped_column(Text)
    # Only for an individual session; never printed in a joint report.
    private_note: Mapped[str | None] = mapped_column(Text)
    # Each partner's Emotional Intimacy Index at this session: derived, never typed.
    # partner_eii of that partner's ratings (None below six rated items), written by
    # whatever writes the ratings (the session service, the demo loader, migration 0004),
    # so dashboards can aggregate sessions without reading every rating.
    eii_a: Mapped[float | None] = mapped_column(Float)
    eii_b: Mapped[float | None] = mapped_column(Float)
    # Who gave each EII: "counselor" or "self" (dashboard/domain/same_source.eii_source),
    # NULL where the EII is; written with it (migration 0015), so the review can judge
    # like with like from these rows alone.
    source_a: Mapped[str | None] = mapped_column(String(16))
    source_b: Mapped[str | None] = mapped_column(String(16))
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = _ts()
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    deleted_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    version: Mapped[int] = mapped_column(Integer, nullable=False)

    couple: Mapped[Couple] = relationship(back_populates="sessions")
    barrier_tags: Mapped[list[SessionBarrier]] = relationship(
        back_populates="session", cascade="all, delete-orphan"
    )
    ratings: Mapped[list[IndicatorRating]] = relationship(
        back_populates="session", cascade="all, delete-orphan"
    )
    habits: Mapped[list[HabitAssignment]] = relationship(
        back_populates="session",
        cascade="all, delete-orphan",
        foreign_keys="HabitAssignment.session_id",
    )
    instrument_totals: Mapped[list[InstrumentTotal]] = relationship(
        back_populates="session", cascade="all, delete-orphan"
    )
    amendments: Mapped[list[SessionAmendment]] = relationship(
        back_populates="session", order_by="SessionAmendment.id"
    )

    __mapper_args__ = {"version_id_col": version}


class Barrier(Base):
    """Barrier catalog: the four seed barriers plus any the clinic adds."""

    __tablename__ = "barriers"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    is_seed: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    sort_order: Mapped[int] = mapped_column(Integer, default=100)


class SessionBarrier(Base):
    __tablename__ = "session_barriers"
    __table_args__ = (
        UniqueConstraint("session_id", "barrier_id"),
        CheckConstraint("severity BETWEEN 1 AND 3", name="severity"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("sessions.id"), index=True)
    barrier_id: Mapped[int] = mapped_column(ForeignKey("barriers.id"), index=True)
    severity: Mapped[int] = mapped_column(Integer)
    note: Mapped[str] = mapped_column(String(200), default="")

    session: Mapped[CoupleSession] = relationship(back_populates="barrier_tags")
    barrier: Mapped[Barrier] = relationship()


class IndicatorRating(Base):
    __tablename__ = "indicator_ratings"
    __table_args__ = (
        UniqueConstraint("session_id", "partner", "item"),
        CheckConstraint("partner IN ('A','B')", name="partner"),
        CheckConstraint("value BETWEEN 0 AND 10", name="value"),
        CheckConstraint("source IN ('counselor','self')", name="source"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("sessions.id"), index=True)
    partner: Mapped[str] = mapped_column(String(1))
    item: Mapped[str] = mapped_column(String(40))
    value: Mapped[int] = mapped_column(Integer)
    # Who gave the number: "counselor" (typed in the session form) or "self" (the
    # partner's own check-in answer, dashboard/services/check_ins.py).
    source: Mapped[str] = mapped_column(String(16), default="counselor")

    session: Mapped[CoupleSession] = relationship(back_populates="ratings")


class HabitAssignment(Base):
    """A habit set as homework at one session; adherence is recorded at a later one."""

    __tablename__ = "habit_assignments"
    __table_args__ = (
        UniqueConstraint("session_id", "habit"),
        CheckConstraint("adherence IS NULL OR adherence BETWEEN 0 AND 3", name="adherence"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("sessions.id"), index=True)
    habit: Mapped[str] = mapped_column(String(40))
    adherence: Mapped[int | None] = mapped_column(Integer)
    adherence_session_id: Mapped[int | None] = mapped_column(ForeignKey("sessions.id"), index=True)

    session: Mapped[CoupleSession] = relationship(
        back_populates="habits", foreign_keys=[session_id]
    )


class InstrumentTotal(Base):
    """A validated instrument's total score, typed by the counselor or the partner's own
    check-in answer (`source`, as on IndicatorRating)."""

    __tablename__ = "instrument_totals"
    __table_args__ = (
        UniqueConstraint("session_id", "partner", "instrument"),
        CheckConstraint("partner IN ('A','B')", name="partner"),
        CheckConstraint("source IN ('counselor','self')", name="source"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("sessions.id"), index=True)
    partner: Mapped[str] = mapped_column(String(1))
    instrument: Mapped[str] = mapped_column(String(32))
    total: Mapped[float] = mapped_column(Float)
    source: Mapped[str] = mapped_column(String(16), default="counselor")

    session: Mapped[CoupleSession] = relationship(back_populates="instrument_totals")


class SessionAmendment(Base):
    """The earlier text of a session, kept when the session is edited.

    `note_*` and `private_note` hold the text as it stood before the edit; `snapshot`
    is a JSON record of every structured field then, so nothing is ever lost.
    """

    __tablename__ = "session_amendments"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("sessions.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    amended_at: Mapped[datetime] = _ts()
    amended_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    note_data: Mapped[str] = mapped_column(Text, default="")
    note_assessment: Mapped[str] = mapped_column(Text, default="")
    note_plan: Mapped[str] = mapped_column(Text, default="")
    private_note: Mapped[str | None] = mapped_column(Text)
    snapshot: Mapped[str] = mapped_column(Text)
    # Why a partner's own check-in answers were changed (set only on such an override).
    reason: Mapped[str | None] = mapped_column(Text)

    session: Mapped[CoupleSession] = relationship(back_populates="amendments")


class CoupleAmendment(Base):
    """A couple's record as it stood before an intake edit or a status change.

    `snapshot` is a JSON object of every column of the couple then (dates as ISO text),
    so an edit or a reopening never erases what was there, closing reason included.
    """

    __tablename__ = "couple_amendments"
    __table_args__ = (
        CheckConstraint("action IN ('update_couple','change_status')", name="action"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    couple_id: Mapped[int] = mapped_column(ForeignKey("couples.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    amended_at: Mapped[datetime] = _ts()
    amended_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    action: Mapped[str] = mapped_column(String(32))
    snapshot: Mapped[str] = mapped_column(Text)


class SessionDraft(Base):
    """One version of a session note being written, kept server-side so a browser crash
    or a closed tab loses nothing.

    Rows are versions: each sitting at the form (`episode`, a random id per opening)
    writes its own rows, replacing its newest one as the counselor types and starting a
    new one every few minutes, so a sitting never overwrites another's text. A version
    that is no longer offered for resuming (the counselor started over, resumed another,
    or saved the session) is `set_aside_at`, still restorable; every version is deleted
    30 days after its last keystroke. Only its author reads it; no export, report or
    extract reads this table.
    """

    __tablename__ = "session_drafts"
    __table_args__ = (Index("ix_session_drafts_user_id_target", "user_id", "target"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    couple_id: Mapped[int] = mapped_column(ForeignKey("couples.id"), index=True)
    session_id: Mapped[int | None] = mapped_column(ForeignKey("sessions.id"))
    target: Mapped[str] = mapped_column(String(40))
    episode: Mapped[str] = mapped_column(String(32), default="", server_default="")
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    saved_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    set_aside_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    payload: Mapped[str] = mapped_column(Text)


class SupervisionReview(Base):
    """A supervisor's note that an attention-list couple was reviewed.

    Filed against the couple's attention key at the time (`attention_key`, with the
    reasons in words): the couple comes back to the attention list when a new session
    changes its key. Rows are never edited; a new review adds a row.
    """

    __tablename__ = "supervision_reviews"
    __table_args__ = (CheckConstraint("TRIM(comment) <> ''", name="comment"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    couple_id: Mapped[int] = mapped_column(ForeignKey("couples.id"), index=True)
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    reviewed_at: Mapped[datetime] = _ts()
    comment: Mapped[str] = mapped_column(String(500))
    attention_key: Mapped[str] = mapped_column(String(300))
    reasons: Mapped[str] = mapped_column(Text, default="")


class InstrumentLicence(Base):
    """An admin's record that the clinic holds the licence for an instrument (ORS, SRS).

    A licensed instrument's totals can be entered only while its row says licensed.
    """

    __tablename__ = "instrument_licences"

    instrument: Mapped[str] = mapped_column(String(32), primary_key=True)
    licensed: Mapped[bool] = mapped_column(Boolean, default=False)
    changed_at: Mapped[datetime] = _ts()
    changed_by: Mapped[int] = mapped_column(ForeignKey("users.id"))


class AuditEvent(Base):
    """Who did what to which record, when, and whether it was allowed."""

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_entity", "entity", "entity_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    username: Mapped[str] = mapped_column(String(64), default="")
    action: Mapped[str] = mapped_column(String(32))
    entity: Mapped[str] = mapped_column(String(32), default="")
    entity_id: Mapped[int | None] = mapped_column(Integer)
    success: Mapped[bool] = mapped_column(Boolean)
    detail: Mapped[str] = mapped_column(Text, default="")
    # Its link in the hash chain (db/audit_chain.py); NULL only for rows written before
    # the chain began. The database refuses UPDATE and DELETE on this table.
    seq: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    chain_hash: Mapped[str | None] = mapped_column(String(64))


class AuditChainHead(Base):
    """The end of the audit chain: the last link's number and hash, one row.

    Writers lock it to append (so two transactions never link to the same row), and
    verify compares it with the last row, so rows cut off the end are found too.
    """

    __tablename__ = "audit_chain_head"

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger)
    last_hash: Mapped[str] = mapped_column(String(64))


class TextCleanup(Base):
    """A stored value as it stood before migration 0009 took out characters the
    validators refuse; `original` is JSON text, so NUL and every other character
    survive on any database."""

    __tablename__ = "text_cleanups"

    id: Mapped[int] = mapped_column(primary_key=True)
    table_name: Mapped[str] = mapped_column(String(40))
    row_id: Mapped[int] = mapped_column(Integer)
    column_name: Mapped[str] = mapped_column(String(40))
    original: Mapped[str] = mapped_column(Text)
    cleaned: Mapped[str] = mapped_column(Text)
    cleaned_at: Mapped[datetime] = mapped_column(UTCDateTime())


class SignInFailure(Base):
    """A failed password sign-in, by name and device: what slows the next attempt
    (dashboard/domain/sign_in.py). `cleared` by an admin's unlock. The audit log keeps
    its own row of every attempt; this table only counts."""

    __tablename__ = "sign_in_failures"
    __table_args__ = (
        Index("ix_sign_in_failures_username", "username", "failed_at"),
        Index("ix_sign_in_failures_client", "client", "failed_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64))
    client: Mapped[str] = mapped_column(String(64))
    failed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    cleared: Mapped[bool] = mapped_column(Boolean, default=False)


class CheckIn(Base):
    """A counselor's request that the partners answer before the next session.

    The page a partner opens shows only the initials chosen here, never a name.
    `session_id` is the session that took the answers in; it or `cancelled_at` closes
    the check-in. A couple has at most one open check-in at a time.
    """

    __tablename__ = "check_ins"

    id: Mapped[int] = mapped_column(primary_key=True)
    couple_id: Mapped[int] = mapped_column(ForeignKey("couples.id"), index=True)
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = _ts()
    initials_a: Mapped[str] = mapped_column(String(8))
    initials_b: Mapped[str] = mapped_column(String(8))
    # Instrument codes the partner is asked for (comma separated, as enabled then).
    instruments: Mapped[str] = mapped_column(String(200), default="")
    session_id: Mapped[int | None] = mapped_column(ForeignKey("sessions.id"))
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    partners: Mapped[list[CheckInPartner]] = relationship(
        back_populates="check_in", order_by="CheckInPartner.partner"
    )


class CheckInPartner(Base):
    """One partner's part of a check-in: their link, their kiosk code, their answers.

    Tokens and codes are kept only as keyed hashes (`token_hash`, `code_hash`). A link is
    used once: `submitted_at` is set by a conditional UPDATE, so two submits at once
    cannot both land. `answers` is JSON (item ratings and instrument totals); `note` is
    read by the counselor and their supervisor only, never by the other partner, a joint
    report or an export.
    """

    __tablename__ = "check_in_partners"
    __table_args__ = (
        UniqueConstraint("check_in_id", "partner"),
        CheckConstraint("partner IN ('A','B')", name="partner"),
        Index("ix_check_in_partners_token_hash", "token_hash", unique=True),
        Index("ix_check_in_partners_code_hash", "code_hash"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    check_in_id: Mapped[int] = mapped_column(ForeignKey("check_ins.id"))
    partner: Mapped[str] = mapped_column(String(1))
    token_hash: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    code_hash: Mapped[str | None] = mapped_column(String(64))
    code_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    expiry_recorded: Mapped[bool] = mapped_column(Boolean, default=False)
    answers: Mapped[str | None] = mapped_column(Text)
    note: Mapped[str | None] = mapped_column(Text)

    check_in: Mapped[CheckIn] = relationship(back_populates="partners")


class CheckInGuess(Base):
    """A check-in link or code that matched nothing usable, by device: what slows the
    next guess (dashboard/services/check_ins.py). The audit log keeps its own row."""

    __tablename__ = "check_in_guesses"
    __table_args__ = (Index("ix_check_in_guesses_client", "client", "guessed_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    client: Mapped[str] = mapped_column(String(64))
    guessed_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class ClinicDataVersion(Base):
    """One row whose number moves with every committed change to what a page shows.

    Bumped by the engine as the last statement of any transaction that wrote a clinical
    table (db/engine.py), so a cached page result keyed by it is never stale. Starts at
    a random number: a database made again at the same path never repeats the numbers a
    running server has cached results under.
    """

    __tablename__ = "clinic_data_version"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger)


class DataScopeVersion(Base):
    """A number per scope of what a page shows, moved by a write that touched it.

    Scopes: 'couple:<id>', 'caseload:<counselor id>', 'group:<supervisor id>' and
    'clinic' (db/scopes.py). db/engine.py moves them as the last statements of a write
    that touched only those couples' records; anything else moves ClinicDataVersion. A
    scope without a row is at version 0.
    """

    __tablename__ = "data_scope_versions"

    scope: Mapped[str] = mapped_column(String(64), primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger)


class NormsVersion(Base):
    """One measure's clinic norms in one published version (issue 21, point 6).

    Results read the latest published row per measure (`ix_clinic_norms_measure_version`
    answers that in one indexed query) and never recompute norms from the sessions;
    a new version is written only by an admin's publish, or automatically once (v1)
    when the clinic reaches the minimum number of intakes. Rows are never changed.
    """

    __tablename__ = "clinic_norms"
    __table_args__ = (
        UniqueConstraint("measure", "version", name="uq_clinic_norms_measure_version"),
        CheckConstraint("version >= 1", name="version"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    measure: Mapped[str] = mapped_column(String(32))  # "eii" or an instrument key
    version: Mapped[int] = mapped_column(Integer)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    published_at: Mapped[datetime] = mapped_column(UTCDateTime())
    published_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # None: automatic
    n: Mapped[int] = mapped_column(Integer)  # intakes behind the figures
    mean: Mapped[float | None] = mapped_column(Float)
    sd: Mapped[float | None] = mapped_column(Float)  # the SD in use (the floor, if it applies)
    local_sd: Mapped[float | None] = mapped_column(Float)  # the clinic's own intake SD
    floor_in_use: Mapped[bool] = mapped_column(Boolean, default=False)
    alpha: Mapped[float | None] = mapped_column(Float)
    alpha_n: Mapped[int | None] = mapped_column(Integer)
    counselor_intakes: Mapped[int | None] = mapped_column(Integer)
    self_intakes: Mapped[int | None] = mapped_column(Integer)
    cutoff: Mapped[float | None] = mapped_column(Float)
    threshold: Mapped[float | None] = mapped_column(Float)  # the reliable-change band
    source: Mapped[str] = mapped_column(String(24))  # locally derived / default / published
    method: Mapped[str] = mapped_column(Text)  # the band's full label as published
    cutoff_method: Mapped[str] = mapped_column(Text, default="")
    note: Mapped[str] = mapped_column(Text, default="")
    source_mix: Mapped[str] = mapped_column(Text, default="")


class ExpectedCourseVersion(Base):
    """One measure's fitted expected course in one published version (issue 22).

    Alerts read the latest published row per measure and never refit from the sessions
    on a page load: a new version is written only by an admin's publish, or once (v1)
    automatically when the clinic first has enough couples with a course. `model` is
    the fitted model as JSON (domain/expected_response.py ExpectedModel.to_json), so a
    version judges the same way for as long as it is in use. Rows are never changed.
    """

    __tablename__ = "expected_courses"
    __table_args__ = (
        UniqueConstraint("measure", "version", name="uq_expected_courses_measure_version"),
        CheckConstraint("version >= 1", name="version"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    measure: Mapped[str] = mapped_column(String(32))  # "eii" or an instrument key
    version: Mapped[int] = mapped_column(Integer)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    published_at: Mapped[datetime] = mapped_column(UTCDateTime())
    published_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # None: automatic
    couples: Mapped[int] = mapped_column(Integer)  # couples with a course behind the fit
    # Per source, "clinic" (fitted from the clinic's couples) or "fallback", as JSON.
    method: Mapped[str] = mapped_column(Text)
    model: Mapped[str] = mapped_column(Text)  # ExpectedModel.to_json()
    norms_version: Mapped[int | None] = mapped_column(Integer)  # None: documented defaults
    label: Mapped[str] = mapped_column(Text)  # "expected course v2 of 6 Dec 2026: counselor ..."


# The per-couple summary row lives in a module of its own (this one is long enough);
# imported here so Base.metadata holds every table wherever the models are loaded.
import db.summary_models  # noqa: E402, F401  (a module object: either may be imported first)
