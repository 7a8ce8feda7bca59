"""Instrument totals on sessions, and the admin's licence switch for ORS and SRS."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from dashboard.domain.scoring import ChangeResult
from dashboard.domain.validation import SessionInput
from dashboard.services import instruments, sessions, timeline
from dashboard.services.errors import AccessDenied, ValidationFailed
from db.models import InstrumentTotal
from tests.conftest import Clinic
from tests.integration.conftest import TODAY, AuditLookup


def _totals(db: Session) -> dict[tuple[str, str], float]:
    rows = {(t.partner, t.instrument): t.total for t in db.scalars(select(InstrumentTotal))}
    db.rollback()
    return rows


def test_totals_are_stored_per_partner(
    db: Session, clinic: Clinic, make_input: Callable[..., SessionInput], backend: str
) -> None:
    inp = make_input(instrument_totals={"A": {"csi4": 11, "rdas": None}, "B": {"csi4": 14}})
    sessions.log_session(db, clinic.counselor, clinic.couple_id, inp, today=TODAY)
    assert _totals(db) == {("A", "csi4"): 11.0, ("B", "csi4"): 14.0}


@pytest.mark.parametrize(
    ("totals", "field", "message"),
    [
        ({"A": {"csi4": 22}}, "instrument_A_csi4", "CSI-4 totals run from 0 to 21."),
        ({"A": {"csi4": 10.5}}, "instrument_A_csi4", "CSI-4 totals are whole numbers."),
        ({"B": {"ors": 30}}, "instrument_B_ors", "ors is not an instrument this clinic records."),
    ],
)
def test_bad_totals_are_refused_next_to_their_field(
    db: Session,
    clinic: Clinic,
    make_input: Callable[..., SessionInput],
    totals: dict,
    field: str,
    message: str,
    backend: str,
) -> None:
    with pytest.raises(ValidationFailed) as refused:
        sessions.log_session(
            db,
            clinic.counselor,
            clinic.couple_id,
            make_input(instrument_totals=totals),
            today=TODAY,
        )
    assert refused.value.errors[field] == message
    assert _totals(db) == {}


def test_totals_only_for_a_partner_who_attended(
    db: Session, clinic: Clinic, make_input: Callable[..., SessionInput], backend: str
) -> None:
    inp = make_input(
        attendance="partner_a", ratings={"A": {}}, instrument_totals={"B": {"csi4": 9}}
    )
    with pytest.raises(ValidationFailed) as refused:
        sessions.log_session(db, clinic.counselor, clinic.couple_id, inp, today=TODAY)
    assert refused.value.errors["instruments_B"] == (
        "Partner B did not attend: leave their totals blank."
    )


def test_ors_appears_only_once_the_clinic_holds_a_licence(
    db: Session,
    clinic: Clinic,
    make_input: Callable[..., SessionInput],
    audits: AuditLookup,
    backend: str,
) -> None:
    form = sessions.new_session_form(db, clinic.counselor, clinic.couple_id)
    assert [i.key for i in form.instruments] == ["csi4", "csi16", "rdas"]
    instruments.set_licence(db, clinic.admin, "ors", licensed=True)
    form = sessions.new_session_form(db, clinic.counselor, clinic.couple_id)
    assert "ors" in [i.key for i in form.instruments]
    session_id = sessions.log_session(
        db,
        clinic.counselor,
        clinic.couple_id,
        make_input(instrument_totals={"A": {"ors": 22.5}}),
        today=TODAY,
    )
    assert [e.detail for e in audits(action="set_licence")] == ["ors: on"]
    # Switching the licence off later keeps the recorded total and lets the session be
    # edited without losing it.
    instruments.set_licence(db, clinic.admin, "ors", licensed=False)
    edit = sessions.session_form(db, clinic.counselor, session_id)
    assert "ors" in [i.key for i in edit.instruments]
    sessions.update_session(
        db, clinic.counselor, session_id, edit.values, expected_version=edit.version, today=TODAY
    )
    assert _totals(db) == {("A", "ors"): 22.5}


@pytest.mark.parametrize("who", ["counselor", "supervisor"])
def test_only_an_admin_switches_licences(
    db: Session, clinic: Clinic, who: str, backend: str
) -> None:
    with pytest.raises(AccessDenied):
        instruments.set_licence(db, getattr(clinic, who), "ors", licensed=True)
    assert "ors" not in instruments.available_instruments(db)
    db.rollback()


def _rdas_change(
    db: Session,
    clinic: Clinic,
    make_input: Callable[..., SessionInput],
    totals: tuple[tuple[date, int], ...],
) -> tuple[timeline.TimelineView, ChangeResult]:
    """Partner A's RDAS totals logged on those days; the timeline and A's RDAS change."""
    for day, a_total in totals:
        sessions.log_session(
            db,
            clinic.counselor,
            clinic.couple_id,
            make_input(session_date=day, instrument_totals={"A": {"rdas": a_total}}),
            today=TODAY,
        )
    timeline.NORMS_CACHE.clear()
    view = timeline.timeline_view(db, clinic.counselor, clinic.couple_id)
    return view, view.instrument_changes[("rdas", "A")]


def test_timeline_classifies_instrument_change(
    db: Session, clinic: Clinic, make_input: Callable[..., SessionInput], backend: str
) -> None:
    # Four totals from 2 March to 6 April (35 days): long enough to call a change
    # clinically significant (4 rated sessions over 28 days); the two middle ones do not
    # change a first -> last judgement.
    view, change = _rdas_change(
        db,
        clinic,
        make_input,
        (
            (date(2026, 3, 2), 40),
            (date(2026, 3, 9), 44),
            (date(2026, 3, 23), 50),
            (date(2026, 4, 6), 55),
        ),
    )
    # RDAS: reliable change 11.58 (its own threshold); 40 -> 55 is +15 and crosses 47.31.
    assert change.improved and change.clinically_significant
    assert change.course is not None and (change.course.sessions, change.course.days) == (4, 35)
    assert view.data.instrument_scales["rdas"].cutoff.value == pytest.approx(47.31)


def test_an_instrument_change_on_a_short_course_is_early_change(
    db: Session, clinic: Clinic, make_input: Callable[..., SessionInput], backend: str
) -> None:
    # The same +15 over two totals 35 days apart: two rated sessions, so early change.
    _, change = _rdas_change(
        db, clinic, make_input, ((date(2026, 3, 2), 40), (date(2026, 4, 6), 55))
    )
    assert change.improved and change.early_change and not change.clinically_significant
    assert "2 rated sessions over 35 days" in change.describe()


def test_a_switched_off_licence_allows_no_new_total_on_an_old_session(
    db: Session, clinic: Clinic, make_input: Callable[..., SessionInput], backend: str
) -> None:
    instruments.set_licence(db, clinic.admin, "ors", licensed=True)
    session_id = sessions.log_session(
        db,
        clinic.counselor,
        clinic.couple_id,
        make_input(instrument_totals={"A": {"ors": 20}}),
        today=TODAY,
    )
    instruments.set_licence(db, clinic.admin, "ors", licensed=False)
    edit = sessions.session_form(db, clinic.counselor, session_id)
    edit.values.instrument_totals = {"A": {"ors": 21}, "B": {"ors": 30}}
    with pytest.raises(ValidationFailed) as refused:
        sessions.update_session(
            db,
            clinic.counselor,
            session_id,
            edit.values,
            expected_version=edit.version,
            today=TODAY,
        )
    assert set(refused.value.errors) == {"instrument_B_ors"}
    assert _totals(db) == {("A", "ors"): 20.0}
