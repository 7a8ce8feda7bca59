"""Times on the pages are the clinic's ([clinic] timezone), said once a page."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session
from streamlit.testing.v1 import AppTest

from dashboard.services import check_ins
from db.engine import begin_write
from db.models import AuditEvent, CheckInPartner
from tests.app.conftest import login, texts
from tests.conftest import Clinic

# 11:25 UTC is 12:25 in Oslo in December (UTC+1).
EXPIRES = datetime(2030, 12, 6, 11, 25, tzinfo=UTC)


@pytest.fixture
def oslo(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BONDLINE_TIMEZONE", "Europe/Oslo")


def _links_until(db: Session, clinic: Clinic, moment: datetime) -> dict[str, str]:
    made = check_ins.create_check_in(
        db, clinic.counselor, clinic.couple_id, partners={"A", "B"}, initials={"A": "AL", "B": "BL"}
    )
    begin_write(db)
    db.execute(update(CheckInPartner).values(expires_at=moment))
    db.commit()
    return made.tokens


def test_the_counselor_reads_the_clinics_time_and_the_menu_names_the_zone(
    app, oslo: None, clinic: Clinic, db: Session
) -> None:
    _links_until(db, clinic, EXPIRES)
    at = login(app(), "cara.couns")
    assert [c.value for c in at.sidebar.caption] == ["Times in Europe/Oslo"]
    at.switch_page("pages/couple.py")
    at.query_params["couple"] = str(clinic.couple_id)
    at.session_state["couple_tab"] = "Check-ins"
    at.run()
    page = texts(at)
    assert page.count("link good until 06 Dec 2030, 12:25") == 2
    assert "UTC" not in page and "11:25" not in page
    assert [c.value for c in at.sidebar.caption] == ["Times in Europe/Oslo"]  # once


def test_the_partners_page_says_its_one_time_with_the_zone(
    app, oslo: None, clinic: Clinic, db: Session
) -> None:
    tokens = _links_until(db, clinic, EXPIRES)
    at: AppTest = app()
    at.switch_page("pages/check_in.py")
    at.query_params["t"] = tokens["A"]
    at.run()
    assert "This link works until 06 Dec 2030, 12:25 (Europe/Oslo time)." in texts(at)


def test_the_admin_page_tables_are_in_the_clinics_zone(
    app, oslo: None, clinic: Clinic, db: Session
) -> None:
    at = login(app(), "admin")
    at.switch_page("pages/admin.py")
    at.run()
    assert not at.exception
    users = next(d.value for d in at.dataframe if "Last active" in d.value.columns)
    assert str(users["Last active"].dt.tz) == "Europe/Oslo"
    log = next(d.value for d in at.dataframe if "Action" in d.value.columns)
    # The log's column (and its CSV's) names the zone; the menu says it once for the page.
    assert "When (Europe/Oslo)" in log.columns
    assert [c.value for c in at.sidebar.caption] == ["Times in Europe/Oslo"]
    latest = datetime.strptime(log["When (Europe/Oslo)"].iloc[0], "%Y-%m-%d %H:%M:%S").replace(
        tzinfo=UTC
    )
    stored = {
        moment.replace(microsecond=0, tzinfo=UTC)
        for moment in db.scalars(select(AuditEvent.occurred_at))
    }
    assert latest - timedelta(hours=1) in stored  # Oslo in December: UTC+1
    assert latest not in stored
