"""The audit log as an admin reads it: local times, plain actions, case codes not ids,
filters by user, couple, action and date, and a CSV that is itself on record."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from dashboard.domain.validation import SessionInput
from dashboard.services import audit, couples, sessions
from dashboard.services.audit_log import AuditFilters, export_csv, search
from dashboard.services.errors import ValidationFailed
from db.models import Couple
from tests.conftest import Clinic
from tests.integration.conftest import TODAY, AuditLookup


@pytest.fixture
def day(db: Session, clinic: Clinic, make_input: Callable[..., SessionInput]) -> dict[str, object]:
    """One morning: Cara logs and opens her couple's session; Olly is refused it."""
    session_id = sessions.log_session(
        db, clinic.counselor, clinic.couple_id, make_input(), today=TODAY
    )
    sessions.session_form(db, clinic.counselor, session_id)
    with pytest.raises(Exception, match="not in your caseload"):
        couples.get_couple(db, clinic.other_counselor, clinic.couple_id)
    # An event at a known moment: 23:30 UTC on 1 Nov is 00:30 on 2 Nov in Berlin (UTC+1).
    audit.record_now(
        db,
        clinic.counselor,
        "view_couple",
        entity="couple",
        entity_id=clinic.couple_id,
        occurred_at=datetime(2026, 11, 1, 23, 30, tzinfo=UTC),
    )
    return {"code": db.get_one(Couple, clinic.couple_id).case_code, "session_id": session_id}


def test_times_are_local_and_records_are_named(
    db: Session, clinic: Clinic, day: dict[str, object], backend: str
) -> None:
    log = search(db, clinic.admin, AuditFilters(), timezone="Europe/Berlin", record_view=False)
    assert list(log.columns) == [
        "When (Europe/Berlin)",
        "User",
        "Action",
        "Record",
        "Allowed",
        "Detail",
    ]
    newest = log.iloc[0]
    assert newest["When (Europe/Berlin)"] == "2026-11-02 00:30:00"
    assert (newest["Action"], newest["Record"]) == ("Opened couple", day["code"])
    opened = log[log["Action"] == "Opened session"].iloc[0]
    assert opened["Record"] == f"a session of {day['code']}"
    assert "Logged session" in set(log["Action"])


def test_filters_narrow_by_user_couple_action_and_date(
    db: Session, clinic: Clinic, day: dict[str, object], backend: str
) -> None:
    def actions(**filters: object) -> list[tuple[str, str]]:
        log = search(
            db, clinic.admin, AuditFilters(**filters), timezone="Europe/Berlin", record_view=False
        )
        return list(zip(log["User"], log["Action"], strict=True))

    assert actions(username="olly.other") == [
        ("olly.other", "Opened couple"),
        ("olly.other", "Opened a case"),
    ]
    assert set(actions(case_code=str(day["code"]))) == {
        ("cara.couns", "Opened couple"),
        ("olly.other", "Opened couple"),
        ("cara.couns", "Opened session"),
        ("cara.couns", "Logged session"),
        ("cara.couns", "Opened a case"),
    }
    assert actions(action="view_session") == [("cara.couns", "Opened session")]
    assert actions(failures_only=True) == [("olly.other", "Opened couple")]
    # The reader's days: the 23:30 UTC event falls on 2 Nov in Berlin, not 1 Nov.
    assert actions(start=date(2026, 11, 2), end=date(2026, 11, 2)) == [
        ("cara.couns", "Opened couple")
    ]
    with pytest.raises(ValidationFailed) as refused:
        actions(start=date(2026, 11, 2), end=date(2026, 11, 1))
    assert refused.value.errors == {"end": "The end date is before the start date."}


def test_the_csv_has_the_same_rows_and_is_on_record(
    db: Session, clinic: Clinic, day: dict[str, object], audits: AuditLookup, backend: str
) -> None:
    filters = AuditFilters(case_code=str(day["code"]))
    shown = search(db, clinic.admin, filters, timezone="UTC", record_view=False)
    data = export_csv(db, clinic.admin, filters, timezone="UTC")
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    assert [r["Action"] for r in rows] == list(shown["Action"])
    [event] = audits(action="export_audit_log")
    assert event.detail == f"audit-log.csv: {len(rows)} events; couple {day['code']}"


def test_reading_the_log_is_on_record_with_its_filters(
    db: Session, clinic: Clinic, day: dict[str, object], audits: AuditLookup, backend: str
) -> None:
    search(db, clinic.admin, AuditFilters(username="olly.other"))
    [event] = audits(action="view_audit_log")
    assert event.detail == "2 events; user olly.other"
    assert db.scalars(select(Couple.id)).all()  # nothing else changed


def test_check_in_events_read_plainly_and_filter_by_couple(
    db: Session, clinic: Clinic, backend: str
) -> None:
    from dashboard.services import check_ins
    from dashboard.services.check_ins import CheckInRefused, Credential

    made = check_ins.create_check_in(
        db, clinic.counselor, clinic.couple_id, partners={"A"}, initials={"A": "A", "B": "B"}
    )
    check_ins.open_check_in(db, Credential("link", made.tokens["A"]), client="192.0.2.5")
    with pytest.raises(CheckInRefused):
        check_ins.open_check_in(db, Credential("link", "guess"), client="192.0.2.5")
    code = db.get_one(Couple, clinic.couple_id).case_code
    db.rollback()
    log = search(db, clinic.admin, AuditFilters(case_code=code), timezone="UTC", record_view=False)
    rows = set(zip(log["Action"], log["Record"], strict=True))
    record = f"check-in {made.check_in_id} of {code}"
    assert {("Asked for a check-in", record), ("Partner opened a check-in", record)} <= rows
    # A guess names no check-in, so it is not any couple's; the log still lists it.
    everything = search(db, clinic.admin, AuditFilters(), timezone="UTC", record_view=False)
    refused = everything[everything["Action"] == "Check-in link refused"].iloc[0]
    assert refused["Record"] == "no check-in (a link or code that matched none)"
    assert refused["Allowed"] == "No"
    assert refused["Detail"] == "unknown link or code (link, device 192.0.2.5)"
    assert made.tokens["A"] not in everything.to_csv()
