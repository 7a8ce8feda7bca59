"""The couple timeline: one couple's sessions, scores and statistics, ready to draw.

Per-couple work is a handful of indexed queries, so its cost does not grow with the
clinic. The clinic-wide norms behind the reliable-change statistics are the current
published version (services/norms.py): one row per measure, never a scan of the clinic.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session as DbSession

from dashboard.domain.alliance import AllianceFlag, AlliancePoint, SplitAlliance, split_alliance
from dashboard.domain.catalog import HABIT_BY_KEY, Attendance
from dashboard.domain.expected_bands import EII_MEASURE, PartnerBands, partner_bands
from dashboard.domain.expected_response import ExpectedModel
from dashboard.domain.instruments import Instrument, load_instruments
from dashboard.domain.plain_words import case_status, cutoff_label
from dashboard.domain.safety import SafetyFlag
from dashboard.domain.same_source import COUNSELOR, eii_source, same_source_pair, source_note
from dashboard.domain.scoring import (
    ChangeResult,
    CoupleTrajectory,
    Course,
    ReliableChangeParams,
    SessionPoint,
    classify_change,
    couple_trajectory,
    partner_eii,
)
from dashboard.domain.timeline import (
    BARRIER_COLUMNS,
    HABIT_COLUMNS,
    INSTRUMENT_COLUMNS,
    RATING_COLUMNS,
    SESSION_COLUMNS,
    EiiScale,
    InstrumentScale,
    Threshold,
    TimelineData,
)
from dashboard.domain.workings import plain_method
from dashboard.services import audit, instruments, scope
from dashboard.services.actor import Actor
from dashboard.services.expected import expected_courses
from dashboard.services.memo import PAGES
from dashboard.services.norms import NORMS_CACHE as NORMS_CACHE  # re-exported for callers
from dashboard.services.norms import ClinicNorms, clinic_norms
from db import scopes
from db.models import (
    Barrier,
    Couple,
    CoupleSession,
    HabitAssignment,
    IndicatorRating,
    InstrumentTotal,
    SessionBarrier,
)


@dataclass(frozen=True)
class TimelineView:
    """The timeline page's content for one couple."""

    couple_id: int
    can_edit: bool
    data: TimelineData
    trajectory: CoupleTrajectory
    instrument_changes: dict[tuple[str, str], ChangeResult]
    norms: ClinicNorms
    # (instrument, partner) -> what a result must say about its sources (like with like,
    # same_source.source_note, with the partner's name); absent when baseline and
    # latest share one. A key here without a change: no same-source pair yet.
    instrument_notes: dict[tuple[str, str], str] = field(default_factory=dict)
    case_status: str = "Active"  # plain_words.case_status: "Closed 5 Apr 2026 (Goals met)"
    # Every live session of the course with a safety flag, oldest first (domain/safety.py).
    safety: tuple[SafetyFlag, ...] = ()
    # Split alliance from the partners' SRS (domain/alliance.py): flagged, not, or absent.
    alliance: SplitAlliance = SplitAlliance(AllianceFlag.ABSENT, None, in_use=False)
    # The EII's expected-course model the alerts were judged by (services/expected.py).
    expected_model: ExpectedModel | None = None
    # The page's charts, built once and kept with the view while it is cached (every hit
    # shares this dict; a chart is built from the data above and never changed after).
    charts: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def has_sessions(self) -> bool:
        return not self.data.sessions.empty


def _sessions_frame(rows: list, ratings: pd.DataFrame) -> pd.DataFrame:
    eii: dict[tuple[int, str], float | None] = {}
    own = (
        set(
            zip(
                ratings.loc[ratings["source"] == "self", "session_id"].astype(int),
                ratings.loc[ratings["source"] == "self", "partner"],
                strict=True,
            )
        )
        if not ratings.empty
        else set()
    )
    if not ratings.empty:
        for (session_id, partner), group in ratings.groupby(["session_id", "partner"]):
            eii[(int(session_id), str(partner))] = partner_eii(
                dict(zip(group["item"], group["value"], strict=True))
            )
    records = []
    for s in rows:
        a = eii.get((s.id, "A"))
        b = eii.get((s.id, "B"))
        both = a is not None and b is not None
        records.append(
            {
                "session_id": s.id,
                "session_date": pd.Timestamp(s.session_date),
                "attendance": s.attendance,
                "held": Attendance(s.attendance).held,
                "stage": s.stage,
                "eii_a": a,
                "eii_b": b,
                "eii_couple": (a + b) / 2 if both else None,
                "discrepancy": abs(a - b) if both else None,
                "self_a": (s.id, "A") in own,
                "self_b": (s.id, "B") in own,
            }
        )
    frame = pd.DataFrame(records, columns=SESSION_COLUMNS)
    frame["stage"] = frame["stage"].astype("Int64")
    for column in ("eii_a", "eii_b", "eii_couple", "discrepancy"):
        frame[column] = frame[column].astype("float64")
    frame["session_date"] = pd.to_datetime(frame["session_date"])
    return frame


def _total_sources(db: DbSession, live: ColumnElement[bool]) -> dict[tuple[int, str, str], str]:
    """(session id, partner, instrument) -> who gave that total ("counselor" / "self")."""
    return {
        (int(sid), str(partner), str(code)): str(source)
        for sid, partner, code, source in db.execute(
            select(
                InstrumentTotal.session_id,
                InstrumentTotal.partner,
                InstrumentTotal.instrument,
                InstrumentTotal.source,
            )
            .join(CoupleSession, CoupleSession.id == InstrumentTotal.session_id)
            .where(live)
        )
    }


def _eii_sources(ratings: pd.DataFrame) -> dict[tuple[int, str], str]:
    """(session id, partner) -> who gave that EII (same_source.eii_source), as stored on
    the session row: the review and the timeline judge like with like alike."""
    if ratings.empty:
        return {}
    out: dict[tuple[int, str], str] = {}
    for (session_id, partner), group in ratings.groupby(["session_id", "partner"]):
        source = eii_source(dict(zip(group["item"], group["source"], strict=True)))
        if source is not None:
            out[(int(session_id), str(partner))] = source
    return out


def _threshold(value: float | None, label: str | None) -> Threshold | None:
    return Threshold(value, label or "") if value is not None else None


# The charts' legends name each threshold's method in plain words (workings.plain_method)
# and what the cutoff means in the status sentences' words (plain_words.cutoff_label);
# the statistics behind them (SD, α, S_diff) are on the page's "How this was worked out".
def _eii_scale(params: ReliableChangeParams) -> EiiScale:
    return EiiScale(
        reliable_change=params.threshold,
        reliable_change_label=plain_method(params),
        cutoff=_threshold(params.cutoff, cutoff_label(params)),
    )


def _instrument_scale(inst: Instrument, params: ReliableChangeParams) -> InstrumentScale:
    return InstrumentScale(
        code=inst.key,
        name=inst.name,
        minimum=inst.total_min,
        maximum=inst.total_max,
        higher_is_better=inst.higher_is_better,
        cutoff=_threshold(
            inst.cutoff, cutoff_label(params, higher_is_better=inst.higher_is_better)
        ),
        reliable_change=params.threshold if params.has_reliable_change else None,
        reliable_change_label=plain_method(params),
    )


def timeline_view(
    db: DbSession,
    actor: Actor,
    couple_id: int,
    *,
    record_view: bool = True,
    audit_refusal: bool = True,
    keep: bool = True,
) -> TimelineView:
    """Build one couple's timeline; scope-checked and audited like any couple view.

    Built once per version of the couple for each user who opens it (services/memo.py).
    `keep` False: a cached timeline is used but a newly built one is not kept (a batch
    of reports reads each couple once).
    """
    version = PAGES.version(db, scopes.couple(couple_id))  # first: the rest is at least this new
    couple = scope.couple_for(
        db, actor, couple_id, action="view_timeline", audit_refusal=audit_refusal
    )
    view = PAGES.get(
        db,
        version,
        ("timeline", actor.user_id, actor.role, couple.id),
        lambda: _build(db, couple),
        store=keep,
    )
    view = dataclasses.replace(view, can_edit=scope.can_edit(actor, couple))
    if record_view:
        audit.record_after_read(db, actor, "view_timeline", entity="couple", entity_id=couple.id)
    return view


def _build(db: DbSession, couple: Couple) -> TimelineView:
    rows = db.execute(
        select(
            CoupleSession.id,
            CoupleSession.session_date,
            CoupleSession.attendance,
            CoupleSession.stage,
            CoupleSession.safety_flag,
            CoupleSession.safety_note,
        )
        .where(CoupleSession.couple_id == couple.id, CoupleSession.deleted_at.is_(None))
        .order_by(CoupleSession.session_date, CoupleSession.id)
    ).all()
    dates = {r.id: pd.Timestamp(r.session_date) for r in rows}
    live = (CoupleSession.couple_id == couple.id) & CoupleSession.deleted_at.is_(None)

    ratings = pd.DataFrame(
        [
            (sid, dates[sid], partner, item, value, source)
            for sid, partner, item, value, source in db.execute(
                select(
                    IndicatorRating.session_id,
                    IndicatorRating.partner,
                    IndicatorRating.item,
                    IndicatorRating.value,
                    IndicatorRating.source,
                )
                .join(CoupleSession, CoupleSession.id == IndicatorRating.session_id)
                .where(live)
            )
        ],
        columns=RATING_COLUMNS,
    )
    barriers = pd.DataFrame(
        [
            (sid, dates[sid], name, severity, note)
            for sid, name, severity, note in db.execute(
                select(
                    SessionBarrier.session_id,
                    Barrier.name,
                    SessionBarrier.severity,
                    SessionBarrier.note,
                )
                .join(Barrier, Barrier.id == SessionBarrier.barrier_id)
                .join(CoupleSession, CoupleSession.id == SessionBarrier.session_id)
                .where(live)
                .order_by(CoupleSession.session_date, Barrier.sort_order)
            )
        ],
        columns=BARRIER_COLUMNS,
    )
    habits = _habits_frame(db, couple.id, dates)
    instruments_frame = pd.DataFrame(
        [
            (sid, dates[sid], partner, code, float(total))
            for sid, partner, code, total in db.execute(
                select(
                    InstrumentTotal.session_id,
                    InstrumentTotal.partner,
                    InstrumentTotal.instrument,
                    InstrumentTotal.total,
                )
                .join(CoupleSession, CoupleSession.id == InstrumentTotal.session_id)
                .where(live)
            )
        ],
        columns=INSTRUMENT_COLUMNS,
    ).sort_values(["session_date", "session_id"], kind="stable")
    sessions = _sessions_frame(rows, ratings)

    norms = clinic_norms(db)
    models = expected_courses(db).models  # the published courses, or the labelled fallback
    definitions = load_instruments()
    sources = _eii_sources(ratings)
    trajectory = couple_trajectory(
        [
            SessionPoint(
                session_date=r.session_date.date(),
                held=bool(r.held),
                stage=None if pd.isna(r.stage) else int(r.stage),
                eii_a=None if pd.isna(r.eii_a) else float(r.eii_a),
                eii_b=None if pd.isna(r.eii_b) else float(r.eii_b),
                source_a=sources.get((int(r.session_id), "A"), COUNSELOR),
                source_b=sources.get((int(r.session_id), "B"), COUNSELOR),
            )
            for r in sessions.itertuples()
        ],
        norms.eii,
        models[EII_MEASURE],
    )
    instrument_changes: dict[tuple[str, str], ChangeResult] = {}
    instrument_notes: dict[tuple[str, str], str] = {}
    given_by = _total_sources(db, live)
    for (code, partner), series in instruments_frame.groupby(["instrument", "partner"]):
        if code in definitions and len(series) >= 2:
            key = (str(code), str(partner))
            # Like with like (same_source.py), as for the EII.
            sources = [
                given_by.get((int(sid), str(partner), str(code)), COUNSELOR)
                for sid in series["session_id"]
            ]
            pair = same_source_pair(sources)
            name = couple.partner_a_name if partner == "A" else couple.partner_b_name
            if pair.source is None or pair.first is None or pair.last is None:
                instrument_notes[key] = source_note(pair, name, None)
                continue
            same = [
                when.date()
                for when, source in zip(series["session_date"], sources, strict=True)
                if source == pair.source
            ]
            instrument_changes[key] = classify_change(
                float(series["total"].iloc[pair.first]),
                float(series["total"].iloc[pair.last]),
                norms.instruments[str(code)],
                higher_is_better=definitions[str(code)].higher_is_better,
                course=Course.of(same),
            )
            note = source_note(pair, name, (same[0], same[-1]))
            if note:
                instrument_notes[key] = note
    alliance = _alliance(db, instruments_frame)
    expected = _expected_bands(
        models,  # published, or the labelled fallback (the alerts above read them too)
        sessions,
        _eii_sources(ratings),  # `sources` was reused above for the instruments
        instruments_frame,
        given_by,
    )
    baseline = sessions.dropna(subset=["eii_couple"])
    data = TimelineData(
        case_code=couple.case_code,
        partner_a=couple.partner_a_name,
        partner_b=couple.partner_b_name,
        sessions=sessions,
        ratings=ratings,
        barriers=barriers,
        habits=habits,
        instruments=instruments_frame,
        eii_scale=_eii_scale(norms.eii),
        instrument_scales={
            code: _instrument_scale(definitions[code], norms.instruments[code])
            for code in instruments_frame["instrument"].unique()
            if code in definitions
        },
        baseline_date=baseline["session_date"].iloc[0].date() if not baseline.empty else None,
        expected=expected,
    )
    return TimelineView(
        couple_id=couple.id,
        can_edit=False,  # the actor's, set by timeline_view
        data=data,
        trajectory=trajectory,
        instrument_changes=instrument_changes,
        instrument_notes=instrument_notes,
        norms=norms,
        case_status=case_status(
            couple.status,
            couple.closing_reason,
            couple.status_changed_at.date() if couple.status_changed_at else None,
        ),
        safety=tuple(
            SafetyFlag(r.session_date, r.attendance == Attendance.BOTH, r.safety_note or "")
            for r in rows
            if r.safety_flag
        ),
        alliance=alliance,
        expected_model=models[EII_MEASURE],
    )


def _expected_bands(
    models: dict[str, ExpectedModel],
    sessions: pd.DataFrame,
    eii_sources: dict[tuple[int, str], str],
    totals: pd.DataFrame,
    given_by: dict[tuple[int, str, str], str],
) -> dict[str, tuple[PartnerBands, ...]]:
    """Each partner's expected course behind their line, from this couple's own ratings:
    the EII and every questionnaire whose model has a curve for the source judged."""
    out: dict[str, tuple[PartnerBands, ...]] = {}
    found: list[PartnerBands | None] = []
    for partner in ("A", "B"):
        rated = sessions.dropna(subset=[f"eii_{partner.lower()}"])
        found.append(
            partner_bands(
                partner,
                list(rated["session_date"]),
                list(rated[f"eii_{partner.lower()}"]),
                [eii_sources.get((int(s), partner), COUNSELOR) for s in rated["session_id"]],
                models[EII_MEASURE],
                list(rated["session_id"]),
            )
        )
    if any(found):
        out[EII_MEASURE] = tuple(b for b in found if b is not None)
    for code, series in totals.groupby("instrument", sort=False):
        model = models.get(str(code))
        if model is None:
            continue
        per_partner = []
        for partner, mine in series.groupby("partner", sort=True):
            bands = partner_bands(
                str(partner),
                list(mine["session_date"]),
                list(mine["total"]),
                [
                    given_by.get((int(s), str(partner), str(code)), COUNSELOR)
                    for s in mine["session_id"]
                ],
                model,
                list(mine["session_id"]),
            )
            if bands is not None:
                per_partner.append(bands)
        if per_partner:
            out[str(code)] = tuple(per_partner)
    return out


def _alliance(db: DbSession, totals: pd.DataFrame) -> SplitAlliance:
    """The split-alliance rule over this couple's totals of the alliance scale (SRS)."""
    rule, in_use = instruments.alliance_rule(db)
    if rule is None:
        return SplitAlliance(AllianceFlag.ABSENT, None, in_use=False)
    mine = totals[totals["instrument"] == rule.instrument]
    by_session: dict[int, AlliancePoint] = {}
    for sid, day, partner, total in zip(
        mine["session_id"], mine["session_date"], mine["partner"], mine["total"], strict=True
    ):
        point = by_session.get(int(sid)) or AlliancePoint(int(sid), day.date(), None, None)
        if partner == "A":
            point = dataclasses.replace(point, total_a=float(total))
        else:
            point = dataclasses.replace(point, total_b=float(total))
        by_session[int(sid)] = point
    return split_alliance(list(by_session.values()), rule, in_use=in_use)


def _habits_frame(db: DbSession, couple_id: int, dates: dict[int, pd.Timestamp]) -> pd.DataFrame:
    rows = db.execute(
        select(
            HabitAssignment.session_id,
            HabitAssignment.habit,
            HabitAssignment.adherence,
            HabitAssignment.adherence_session_id,
        )
        .join(CoupleSession, CoupleSession.id == HabitAssignment.session_id)
        .where(CoupleSession.couple_id == couple_id, CoupleSession.deleted_at.is_(None))
        .order_by(CoupleSession.session_date, HabitAssignment.id)
    ).all()
    frame = pd.DataFrame(
        [
            {
                "assigned_on": dates[r.session_id],
                "habit": HABIT_BY_KEY[r.habit].label if r.habit in HABIT_BY_KEY else r.habit,
                # Adherence recorded at a session since deleted is not shown.
                "adherence": r.adherence if r.adherence_session_id in dates else None,
                "recorded_on": dates.get(r.adherence_session_id),
            }
            for r in rows
        ],
        columns=HABIT_COLUMNS,
    )
    frame["adherence"] = frame["adherence"].astype("Int64")
    return frame
