"""The Admin page's audit log: filters, names instead of ids, the chain check."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

from dashboard.services import couples
from tests.app.conftest import login
from tests.conftest import Clinic, writing


def _audit_page(app):  # type: ignore[no-untyped-def]
    at = login(app(), "admin")
    at.switch_page("pages/admin.py")
    return at.run()


def test_the_admin_filters_the_log_and_reads_case_codes(app, clinic: Clinic, db: Session) -> None:
    couples.get_couple(db, clinic.counselor, clinic.couple_id)
    at = _audit_page(app)
    at.selectbox(key="audit_user").select("cara.couns").run()
    log = at.dataframe[-1].value
    assert set(log["User"]) == {"cara.couns"}
    assert "Opened couple" in set(log["Action"])
    assert all(not r.isdigit() for r in log["Record"])  # case codes and words, no bare ids
    assert not at.exception


def test_the_chain_check_names_the_first_changed_row(
    app, clinic: Clinic, db: Session, engine
) -> None:  # type: ignore[no-untyped-def]
    at = _audit_page(app)
    next(b for b in at.button if b.label == "Verify the audit chain").click()
    at.run()
    assert at.success[-1].value.startswith("Audit chain intact: ")

    with writing(engine) as conn:  # someone with the database file sets the guard aside
        conn.execute(text("DROP TRIGGER audit_events_no_update"))
        conn.execute(text("UPDATE audit_events SET detail = 'nothing to see' WHERE id = 3"))
    next(b for b in at.button if b.label == "Verify the audit chain").click()
    at.run()
    assert at.error[-1].value.startswith(
        "Audit chain BROKEN at row 3: its content or hash was changed (2 rows verified"
    )
