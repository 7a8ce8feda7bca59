"""No user ever sees a traceback: tampered ids are refused as unknown, an unexpected
error shows an apology with an incident number (logged with the whole story), a busy
database says so."""

from __future__ import annotations

import logging
import re
import tomllib
from pathlib import Path

import pytest
from sqlalchemy import func, select, text, update
from sqlalchemy.orm import Session

from dashboard.services import timeline
from db.engine import BUSY_TIMEOUT_ENV, begin_write
from db.models import AuditEvent, Couple, CoupleSession
from tests.app.conftest import login, texts
from tests.conftest import Clinic, writing

ROOT = Path(__file__).resolve().parents[2]

# Each a URL a person could type or tamper with; none may reach the database as is.
TAMPERED = [
    ("pages/couple.py", "couple", "999999999999999999999"),
    ("pages/couple.py", "couple", "9223372036854775808"),  # 2**63: one past the largest id
    ("pages/timeline.py", "couple", "9223372036854775808"),
    ("pages/timeline.py", "couple", "-1"),
    ("pages/timeline.py", "couple", "0"),
    ("pages/couple.py", "couple", "１２"),  # full-width digits: int() would take them
    ("pages/couple.py", "couple", "1e3"),
    ("pages/log_session.py", "session", "99999999999999999999"),
    ("pages/log_session.py", "couple", "99999999999999999999"),
]


@pytest.mark.parametrize(("page", "param", "value"), TAMPERED)
def test_a_tampered_id_is_refused_as_unknown_and_audited(
    app, clinic: Clinic, db: Session, page: str, param: str, value: str
) -> None:
    at = login(app(), "cara.couns")
    at.switch_page(page)
    at.query_params[param] = value
    at.run()
    assert not at.exception, at.exception
    shown = texts(at)
    assert "Traceback" not in shown and "Overflow" not in shown and ".py" not in shown
    assert "not in your caseload" in shown or "not found" in shown.lower(), shown
    assert "Alex" not in shown  # the counselor's own couple is not shown instead
    refused = db.scalars(select(AuditEvent).where(AuditEvent.success.is_(False))).all()
    assert [(e.username, e.entity_id) for e in refused] == [("cara.couns", 0)]


def test_an_unexpected_error_shows_an_incident_number_and_logs_it(
    app, clinic: Clinic, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("boom in /srv/bondline/secret_module.py")

    monkeypatch.setattr(timeline, "timeline_view", broken)
    at = login(app(), "cara.couns")
    at.switch_page("pages/timeline.py")
    at.query_params["couple"] = str(clinic.couple_id)
    with caplog.at_level(logging.ERROR, logger="bondline.incident"):
        at.run()
    assert not at.exception
    [shown] = [e.value for e in at.error]
    assert "boom" not in shown and "secret_module" not in shown and "Traceback" not in shown
    incident = re.search(r"incident number ([0-9A-F]{8})", shown)
    assert incident, shown
    [record] = [r for r in caplog.records if incident.group(1) in r.getMessage()]
    assert record.exc_info and "boom" in str(record.exc_info[1])
    assert [b.label for b in at.button] == ["Log out"]  # the menu and sidebar still work


def test_a_busy_database_says_so_without_an_incident(
    app, clinic: Clinic, engine, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    """Another writer holds the lock past the busy timeout (shortened to 0.3 s here): the
    page's own write (its view's audit row) gives up with a plain message, and works
    again once the lock is free."""
    monkeypatch.setenv(BUSY_TIMEOUT_ENV, "300")
    at = login(app(), "cara.couns")
    at.switch_page("pages/timeline.py")
    at.query_params["couple"] = str(clinic.couple_id)
    with writing(engine) as other:  # a colleague's save, holding the write lock
        other.execute(text("UPDATE users SET last_active_at = last_active_at"))
        at.run()
    assert not at.exception and not at.error
    assert "database is busy" in at.warning[0].value
    assert "locked" not in texts(at) and "Traceback" not in texts(at)
    at.switch_page("pages/caseload.py").run()
    at.switch_page("pages/timeline.py").run()
    assert not at.warning and "Alex" in texts(at)


def test_the_server_shows_no_error_details() -> None:
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["client"]["showErrorDetails"] == "none"


# --- refusals on record once per visit -----------------------------------------------


def _refusals(db: Session) -> list[tuple[str, str, int | None]]:
    db.rollback()  # a fresh read: the app committed in its own sessions
    rows = db.scalars(select(AuditEvent).where(AuditEvent.success.is_(False))).all()
    return [(e.username, e.action, e.entity_id) for e in rows]


@pytest.mark.parametrize("page", ["pages/couple.py", "pages/timeline.py"])
def test_a_refused_view_is_on_record_once_however_often_the_page_reruns(
    app, clinic: Clinic, db: Session, page: str
) -> None:
    at = login(app(), "cara.couns")
    at.switch_page(page)
    at.query_params["couple"] = str(clinic.other_couple_id)
    for _ in range(3):
        at.run()
        assert "not in your caseload" in texts(at)
    action = "view_couple" if page.endswith("couple.py") else "view_timeline"
    assert _refusals(db) == [("cara.couns", action, clinic.other_couple_id)]
    # Another couple, then this one again: a new visit, a new refusal on record.
    at.switch_page("pages/caseload.py")
    at.run()
    at.switch_page(page)
    at.query_params["couple"] = str(clinic.other_couple_id)
    at.run()
    assert len(_refusals(db)) == 2


def test_access_lost_in_the_middle_of_a_visit_is_on_record_once(
    app, clinic: Clinic, db: Session
) -> None:
    at = login(app(), "cara.couns")
    at.switch_page("pages/couple.py")
    at.query_params["couple"] = str(clinic.couple_id)
    at.run()
    assert "Alex" in texts(at)
    begin_write(db)  # the couple moves to another counselor while Cara has it open
    db.execute(
        update(Couple)
        .where(Couple.id == clinic.couple_id)
        .values(counselor_id=clinic.other_counselor.user_id)
    )
    db.commit()
    for _ in range(3):
        at.run()
        assert "not in your caseload" in texts(at) and "Alex" not in texts(at)
    assert _refusals(db) == [("cara.couns", "view_couple", clinic.couple_id)]


def test_a_save_that_finds_the_database_busy_says_so_and_keeps_what_was_typed(
    app, clinic: Clinic, db: Session, engine, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    """A save runs in a widget callback, before the page: it has its own boundary."""
    monkeypatch.setenv(BUSY_TIMEOUT_ENV, "300")
    at = login(app(), "cara.couns")
    at.switch_page("pages/log_session.py")
    at.query_params["couple"] = str(clinic.couple_id)
    at = at.run()
    at.text_area(key="sf_note_data").input("Typed while a colleague saved")
    with writing(engine) as other:
        other.execute(text("UPDATE users SET last_active_at = last_active_at"))
        next(b for b in at.button if b.label == "Save session").click()
        at = at.run()
    assert not at.exception and not at.error
    assert "database is busy" in at.warning[0].value
    assert at.text_area(key="sf_note_data").value == "Typed while a colleague saved"
    db.rollback()
    assert db.scalar(select(func.count()).select_from(CoupleSession)) == 0
