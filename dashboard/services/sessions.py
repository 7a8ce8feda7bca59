"""Sessions: log, edit (with amendments), soft delete, restore."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session as DbSession
from sqlalchemy.orm.exc import StaleDataError

from dashboard.domain.catalog import HABIT_BY_KEY, Attendance, CoupleStatus
from dashboard.domain.instruments import Instrument, load_instruments
from dashboard.domain.validation import (
    SESSION_TEXTS,
    SessionInput,
    blanked_text,
    validate_session,
)
from dashboard.services import (
    audit,
    check_ins,
    couple_summaries,
    drafts,
    expected,
    norms,
    scope,
    self_reports,
    session_rows,
)
from dashboard.services.actor import Actor
from dashboard.services.couple_changes import couple_changed
from dashboard.services.errors import AccessDenied, EditConflict, ValidationFailed
from dashboard.services.instruments import available_instruments
from dashboard.services.memo import PAGES
from dashboard.services.self_reports import SelfReported
from db import scopes
from db.engine import begin_write
from db.models import (
    Barrier,
    Couple,
    CoupleSession,
    HabitAssignment,
    SessionAmendment,
    User,
    utcnow,
)

CLOSED_CASE_MESSAGE = "This case is closed: reopen it to log a session."
CONFLICT_MESSAGE = (
    "This session was saved by someone else after you opened it, so your changes were "
    "NOT saved and nothing was overwritten. Your text is still in the form: copy what you "
    "need, then reload the session to see the latest version."
)


@dataclass(frozen=True)
class BarrierOption:
    barrier_id: int
    name: str
    description: str
    active: bool


@dataclass(frozen=True)
class OpenHabit:
    """A habit assigned at the previous session, waiting for its adherence."""

    assignment_id: int
    habit: str
    label: str
    assigned_on: date
    adherence: int | None


@dataclass(frozen=True)
class Amendment:
    version: int
    amended_at: datetime
    amended_by: str
    note_data: str
    note_assessment: str
    note_plan: str
    private_note: str | None
    reason: str | None = None  # why a partner's own answers were changed


@dataclass(frozen=True)
class SessionForm:
    """What the Log session page needs to draw the form for one couple."""

    couple_id: int
    case_code: str
    partner_a_name: str
    partner_b_name: str
    intake_date: date
    barriers: tuple[BarrierOption, ...]
    open_habits: tuple[OpenHabit, ...]
    # Instruments the clinic records (licensed ones only when switched on), in form order.
    instruments: tuple[Instrument, ...] = ()
    can_edit: bool = True
    session_id: int | None = None
    version: int | None = None
    values: SessionInput | None = None
    amendments: tuple[Amendment, ...] = field(default_factory=tuple)
    # The partners' own check-in answers: waiting for a new session, or stored in this one.
    self_reports: dict[str, SelfReported] = field(default_factory=dict)


def _barrier_options(db: DbSession, tagged: set[int]) -> tuple[BarrierOption, ...]:
    rows = db.scalars(select(Barrier).order_by(Barrier.sort_order, Barrier.name)).all()
    return tuple(
        BarrierOption(b.id, b.name, b.description, b.active)
        for b in rows
        if b.active or b.id in tagged
    )


def _previous_session(
    db: DbSession, couple_id: int, before: CoupleSession | None, on: date | None = None
) -> CoupleSession | None:
    """The latest held session before a session dated `on` (default: `before`'s date).

    A note entered late, dated between two sessions, follows up the earlier one's
    homework, not the later one's. A new session with no date yet follows up the latest.
    """
    query = select(CoupleSession).where(
        CoupleSession.couple_id == couple_id,
        CoupleSession.deleted_at.is_(None),
        CoupleSession.attendance.in_([a.value for a in Attendance if a.held]),
    )
    when = on if on is not None else (before.session_date if before is not None else None)
    if before is not None:
        assert when is not None
        query = query.where(
            CoupleSession.id != before.id,
            (CoupleSession.session_date < when)
            | ((CoupleSession.session_date == when) & (CoupleSession.id < before.id)),
        )
    elif when is not None:
        query = query.where(CoupleSession.session_date <= when)
    return db.scalar(
        query.order_by(CoupleSession.session_date.desc(), CoupleSession.id.desc()).limit(1)
    )


def _habit_label(key: str) -> str:
    return HABIT_BY_KEY[key].label if key in HABIT_BY_KEY else key


def _open_assignments(
    db: DbSession, couple_id: int, current: CoupleSession | None, on: date | None = None
) -> tuple[CoupleSession | None, list[HabitAssignment], list[HabitAssignment]]:
    """The previous held session, the habits it assigned that are open for `current`,
    and those whose adherence another session recorded.

    Adherence belongs to the session that recorded it: an assignment answered at any
    other session (deleted or not) is never offered here, so it can never be
    overwritten, and restoring that session brings its answer back unchanged.
    """
    previous = _previous_session(db, couple_id, current, on)
    if previous is None:
        return None, [], []
    own_id = current.id if current is not None else None
    open_: list[HabitAssignment] = []
    answered: list[HabitAssignment] = []
    for h in sorted(previous.habits, key=lambda h: h.id):
        if h.adherence_session_id is None or h.adherence_session_id == own_id:
            open_.append(h)
        else:
            answered.append(h)
    return previous, open_, answered


def _open_habits(
    db: DbSession, couple_id: int, current: CoupleSession | None
) -> tuple[OpenHabit, ...]:
    previous, open_, _ = _open_assignments(db, couple_id, current)
    if previous is None:
        return ()
    return tuple(
        OpenHabit(
            assignment_id=h.id,
            habit=h.habit,
            label=_habit_label(h.habit),
            assigned_on=previous.session_date,
            adherence=h.adherence if h.adherence_session_id is not None else None,
        )
        for h in open_
    )


def _allowed_instruments(db: DbSession, current: CoupleSession | None) -> dict[str, Instrument]:
    """What a save may record: the available instruments, plus those this session already
    holds, so editing an old session never fails on a licence switched off since."""
    allowed = available_instruments(db)
    if current is not None:
        everything = load_instruments()
        for t in current.instrument_totals:
            if t.instrument in everything:
                allowed[t.instrument] = everything[t.instrument]
    return allowed


def _form_instruments(db: DbSession, row: CoupleSession) -> tuple[Instrument, ...]:
    """Instruments the form offers: the available ones plus any this session already
    holds (a licence switched off later must not hide a recorded total)."""
    allowed = _allowed_instruments(db, row)
    return tuple(i for k, i in load_instruments().items() if k in allowed)


def _refuse_closed(db: DbSession, couple: Couple) -> None:
    """A closed case takes no new session (its existing ones stay editable).

    Not an access refusal: the counselor owns the case, so nothing is audited and
    nothing is written; reopening the case lifts it.
    """
    if couple.status == CoupleStatus.CLOSED:
        db.rollback()
        raise ValidationFailed({"status": CLOSED_CASE_MESSAGE})


def new_session_form(
    db: DbSession,
    actor: Actor,
    couple_id: int,
    *,
    record_view: bool = True,
    audit_refusal: bool = True,
) -> SessionForm:
    """The empty form for a new session of a couple the counselor owns (audited: it
    shows the couple's names and last homework).

    The form reruns with every change typed into it, so the barrier catalog and the
    homework to follow up are read once per version of the couple (services/memo.py); the scope
    check runs every time, and instruments are asked for each time (their definition
    files can change without the data).
    """
    # First: what is read after it is at least this new.
    version = PAGES.version(db, scopes.couple(couple_id))
    couple = scope.couple_for(
        db, actor, couple_id, action="open_session_form", write=True, audit_refusal=audit_refusal
    )
    _refuse_closed(db, couple)
    barriers, open_habits = PAGES.get(
        db,
        version,
        ("new_session_form", actor.user_id, couple.id),
        lambda: (_barrier_options(db, set()), _open_habits(db, couple.id, None)),
    )
    form = SessionForm(
        couple_id=couple.id,
        case_code=couple.case_code,
        partner_a_name=couple.partner_a_name,
        partner_b_name=couple.partner_b_name,
        intake_date=couple.intake_date,
        barriers=barriers,
        open_habits=open_habits,
        instruments=tuple(available_instruments(db).values()),
        self_reports=self_reports.waiting(db, couple.id),
    )
    if record_view:
        audit.record_after_read(
            db, actor, "open_session_form", entity="couple", entity_id=couple.id
        )
    return form


def session_form(
    db: DbSession,
    actor: Actor,
    session_id: int,
    *,
    write: bool = True,
    record_view: bool = True,
    audit_refusal: bool = True,
) -> SessionForm:
    """An existing session with its values and amendment history. Audited as a view."""
    row = scope.session_for(
        db, actor, session_id, action="view_session", write=write, audit_refusal=audit_refusal
    )
    couple = row.couple
    names = {uid: name for uid, name in db.execute(select(User.id, User.display_name))}
    form = SessionForm(
        couple_id=couple.id,
        case_code=couple.case_code,
        partner_a_name=couple.partner_a_name,
        partner_b_name=couple.partner_b_name,
        intake_date=couple.intake_date,
        barriers=_barrier_options(db, {t.barrier_id for t in row.barrier_tags}),
        open_habits=_open_habits(db, couple.id, row),
        instruments=_form_instruments(db, row),
        can_edit=scope.can_edit(actor, couple),
        session_id=row.id,
        version=row.version,
        values=session_rows.values_of(row),
        amendments=tuple(
            Amendment(
                version=a.version,
                amended_at=a.amended_at,
                amended_by=names.get(a.amended_by, "?"),
                note_data=a.note_data,
                note_assessment=a.note_assessment,
                note_plan=a.note_plan,
                private_note=a.private_note,
                reason=a.reason,
            )
            for a in reversed(row.amendments)
        ),
        self_reports=self_reports.stored(db, row),
    )
    if record_view:
        audit.record_after_read(db, actor, "view_session", entity="session", entity_id=row.id)
    return form


def _validate(
    db: DbSession,
    couple: Couple,
    inp: SessionInput,
    current: CoupleSession | None,
    today: date | None,
    own_errors: dict[str, str],
) -> tuple[list[int], dict[int, HabitAssignment]]:
    tagged = {t.barrier_id for t in current.barrier_tags} if current else set()
    allowed_barriers = [b.barrier_id for b in _barrier_options(db, tagged)]
    on = inp.session_date if isinstance(inp.session_date, date) else None
    _, open_, answered = _open_assignments(db, couple.id, current, on)
    open_assignments = {h.id: h for h in open_}
    errors = validate_session(
        inp,
        intake_date=couple.intake_date,
        today=today or date.today(),
        active_barrier_ids=allowed_barriers,
        open_assignment_ids=open_assignments.keys(),
        instruments=_allowed_instruments(db, current),
    )
    if current is not None:
        errors |= blanked_text(
            {key: getattr(current, key) for key in SESSION_TEXTS},
            {key: getattr(inp, key) for key in SESSION_TEXTS},
            SESSION_TEXTS,
            inp.clear,
        )
        # A total kept from before a licence was switched off may be corrected, but no
        # new total of that instrument may be added.
        available = available_instruments(db)
        held = {(t.partner, t.instrument) for t in current.instrument_totals}
        for partner, totals in inp.instrument_totals.items():
            for code, total in totals.items():
                if total is not None and code not in available and (partner, code) not in held:
                    errors[f"instrument_{partner}_{code}"] = (
                        f"The clinic's licence for {code.upper()} is switched off: no new totals."
                    )
    for h in answered:
        if h.id in inp.adherence:
            errors[f"adherence_{h.id}"] = (
                f"Adherence to {_habit_label(h.habit).lower()} was already recorded at "
                "another session, so it cannot be changed here."
            )
    if current is not None:
        kept = set(inp.habits_assigned)
        followed_up = [
            h for h in current.habits if h.habit not in kept and h.adherence_session_id is not None
        ]
        if followed_up and "habits_assigned" not in errors:
            errors["habits_assigned"] = (
                f"Adherence to {_habit_label(followed_up[0].habit).lower()} was already "
                "recorded at a later session, so it cannot be removed here."
            )
    errors = own_errors | errors
    if errors:
        db.rollback()
        raise ValidationFailed(errors)
    return allowed_barriers, open_assignments


def log_session(
    db: DbSession, actor: Actor, couple_id: int, inp: SessionInput, *, today: date | None = None
) -> int:
    """Save a new session for a couple on the counselor's caseload; returns its id.

    The couple's open check-in is closed with it: the answers the form showed become
    the partners' ratings, marked "self" (or, changed with a reason, an amendment).
    """
    begin_write(db)
    couple = scope.couple_for(db, actor, couple_id, action="create_session", write=True)
    _refuse_closed(db, couple)
    reports = self_reports.taken(db, couple.id, inp)
    own = self_reports.check(couple, reports, inp)
    _, open_assignments = _validate(db, couple, inp, None, today, own.errors)
    row = CoupleSession(couple_id=couple.id, created_by=actor.user_id)
    db.add(row)
    session_rows.apply(row, inp, own.kept)
    db.flush()  # the id is needed to link adherence to this session
    session_rows.apply_adherence(row, inp, open_assignments)
    check_ins.close_with_session(db, couple.id, row.id, utcnow())
    if own.overridden:
        db.add(
            SessionAmendment(
                session_id=row.id,
                version=0,  # the partners' answers as they stood before the first save
                amended_by=actor.user_id,
                note_data=row.note_data,
                note_assessment=row.note_assessment,
                note_plan=row.note_plan,
                private_note=row.private_note,
                snapshot=self_reports.answers_snapshot(reports, own),
                reason=self_reports.override_text(couple, own),
            )
        )
    published = norms.publish_first_if_due(db)  # the 30th intake publishes clinic norms v1
    audit.record(
        db,
        actor,
        "create_session",
        entity="session",
        entity_id=row.id,
        detail=f"couple {couple.case_code}",
    )
    drafts.drop_draft(db, actor, couple_id=couple.id, session_id=None)
    couple_changed(db, [couple.id])
    db.commit()
    saved = row.id  # read before the check below, whose rollback expires the row
    # The 100th couple with a course: expected course v1.
    if expected.first_version_after_save(db) or published:
        couple_summaries.rebuild_after_change(db)  # every couple judged anew
    return saved


def _conflict(db: DbSession, actor: Actor, session_id: int) -> EditConflict:
    return audit.refused(
        db,
        actor,
        "update_session",
        EditConflict(CONFLICT_MESSAGE),
        entity="session",
        entity_id=session_id,
        detail="edit conflict",
    )


def update_session(
    db: DbSession,
    actor: Actor,
    session_id: int,
    inp: SessionInput,
    *,
    expected_version: int,
    today: date | None = None,
) -> None:
    """Save an edit. The earlier text is kept as an amendment; a stale form is refused."""
    begin_write(db)
    row = scope.session_for(db, actor, session_id, action="update_session", write=True)
    if row.version != expected_version:
        raise _conflict(db, actor, session_id)
    own = self_reports.check(row.couple, self_reports.stored(db, row), inp)
    _, open_assignments = _validate(db, row.couple, inp, row, today, own.errors)
    db.add(
        SessionAmendment(
            session_id=row.id,
            version=row.version,
            amended_by=actor.user_id,
            note_data=row.note_data,
            note_assessment=row.note_assessment,
            note_plan=row.note_plan,
            private_note=row.private_note,
            snapshot=session_rows.snapshot(row),
            reason=self_reports.override_text(row.couple, own),
        )
    )
    session_rows.apply(row, inp, own.kept)
    session_rows.apply_adherence(row, inp, open_assignments)
    # Touch the row itself so its version moves even when only child rows changed.
    row.updated_at = utcnow()
    row.updated_by = actor.user_id
    try:
        db.flush()
    except StaleDataError as exc:
        raise _conflict(db, actor, session_id) from exc
    published = norms.publish_first_if_due(db)
    audit.record(db, actor, "update_session", entity="session", entity_id=row.id)
    drafts.drop_draft(db, actor, couple_id=row.couple_id, session_id=row.id)
    couple_changed(db, [row.couple_id])
    db.commit()
    if expected.first_version_after_save(db) or published:
        couple_summaries.rebuild_after_change(db)  # every couple judged anew


def delete_session(db: DbSession, actor: Actor, session_id: int) -> None:
    """Soft delete: the session disappears from the couple but an admin can restore it."""
    begin_write(db)
    row = scope.session_for(db, actor, session_id, action="delete_session", write=True)
    row.deleted_at = utcnow()
    row.deleted_by = actor.user_id
    db.flush()
    audit.record(
        db,
        actor,
        "delete_session",
        entity="session",
        entity_id=row.id,
        detail=f"couple {row.couple.case_code}, {row.session_date.isoformat()}",
    )
    couple_changed(db, [row.couple_id])
    db.commit()


def restore_session(db: DbSession, actor: Actor, session_id: int) -> None:
    """Admins bring a deleted session back exactly as it was."""
    begin_write(db)
    if not actor.is_admin:
        raise audit.refused(
            db,
            actor,
            "restore_session",
            AccessDenied("Only a clinic admin can restore a deleted session."),
            entity="session",
            entity_id=session_id,
            detail="admins only",
        )
    row = scope.session_for(db, actor, session_id, action="restore_session", include_deleted=True)
    row.deleted_at = None
    row.deleted_by = None
    db.flush()
    published = norms.publish_first_if_due(db)
    audit.record(db, actor, "restore_session", entity="session", entity_id=row.id)
    couple_changed(db, [row.couple_id])
    db.commit()
    if expected.first_version_after_save(db) or published:
        couple_summaries.rebuild_after_change(db)  # every couple judged anew
