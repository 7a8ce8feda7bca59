"""Couple pickers list the couples a counselor works with today first: active, then
paused, then closed, each saying which."""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from dashboard.services import couples
from dashboard.services.couples import CoupleInput
from tests.app.conftest import login
from tests.conftest import Clinic


def _couple(db: Session, clinic: Clinic, names: tuple[str, str], status: str) -> None:
    couple_id = couples.create_couple(
        db,
        clinic.counselor,
        CoupleInput(*names, date(2026, 3, 1), "Distance", "Closeness"),
        today=date(2026, 11, 1),
    )
    if status != "active":
        version = couples.get_couple(db, clinic.counselor, couple_id, record_view=False).version
        couples.change_status(
            db,
            clinic.counselor,
            couple_id,
            new_status=status,
            closing_reason="goals_met" if status == "closed" else None,
            expected_version=version,
        )


def test_the_picker_lists_active_couples_first_then_paused_then_closed(
    app, clinic: Clinic, db: Session
) -> None:
    _couple(db, clinic, ("Jo", "Kim"), "closed")  # C-2026-0003
    _couple(db, clinic, ("Lee", "Max"), "paused")  # C-2026-0004
    _couple(db, clinic, ("Noa", "Pat"), "active")  # C-2026-0005
    for page in ("pages/couple.py", "pages/timeline.py"):
        at = login(app(), "cara.couns")
        at.switch_page(page)
        at.run()
        picker = at.selectbox[0]
        assert picker.options == [
            "C-2026-0001 · Alex & Blair (Active)",
            "C-2026-0005 · Noa & Pat (Active)",
            "C-2026-0004 · Lee & Max (Paused)",
            "C-2026-0003 · Jo & Kim (Closed)",
        ]
        assert picker.help == "Active couples first, then paused, then closed"
