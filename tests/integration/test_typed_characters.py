"""Characters that break a backend, an export or a reader are refused by the services
with a field error, before anything is written (a NUL once failed on PostgreSQL)."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dashboard.domain.validation import CoupleInput
from dashboard.services import auth, couples, sessions
from dashboard.services.errors import ValidationFailed
from db.models import Couple, CoupleSession, User
from tests.conftest import Clinic

TODAY = date(2026, 11, 1)


def test_an_intake_with_a_nul_or_an_override_is_refused_and_nothing_changes(
    backend: str, db: Session, clinic: Clinic
) -> None:
    with pytest.raises(ValidationFailed) as caught:
        couples.update_couple(
            db,
            clinic.counselor,
            clinic.couple_id,
            CoupleInput("Alex\u202e", "Blair", date(2026, 1, 5), "Drifting\x00 apart", "Talk"),
            expected_version=1,
            today=TODAY,
        )
    assert set(caught.value.errors) == {"partner_a_name", "presenting_concerns"}
    couple = db.get_one(Couple, clinic.couple_id)
    assert (couple.partner_a_name, couple.presenting_concerns, couple.version) == (
        "Alex",
        "Drifting apart",
        1,
    )


def test_a_session_note_with_a_control_character_writes_no_session(
    backend: str, db: Session, clinic: Clinic, make_input
) -> None:
    with pytest.raises(ValidationFailed) as caught:
        sessions.log_session(
            db, clinic.counselor, clinic.couple_id, make_input(note_data="Quiet\x00"), today=TODAY
        )
    assert "U+0000" in caught.value.errors["note_data"]
    db.rollback()
    assert db.scalar(select(func.count()).select_from(CoupleSession)) == 0


def test_a_zero_width_name_is_blank_and_decomposed_text_is_stored_composed(
    backend: str, db: Session, clinic: Clinic
) -> None:
    with pytest.raises(ValidationFailed) as caught:
        couples.create_couple(
            db, clinic.counselor, CoupleInput("\u200b\u200b", "Bo", date(2026, 2, 1))
        )
    assert caught.value.errors == {"partner_a_name": "Enter Partner A's display name or initials."}
    couple_id = couples.create_couple(
        db, clinic.counselor, CoupleInput("Jose\u0301", "Zoe\u0308", date(2026, 2, 1))
    )
    couple = db.get_one(Couple, couple_id)
    assert (couple.partner_a_name, couple.partner_b_name) == ("José", "Zoë")
    # Found by a search typed either way.
    frame = couples.list_caseload(db, clinic.counselor, search="josé", record_view=False)
    assert frame["couple_id"].tolist() == [couple_id]


def test_an_account_name_with_a_control_character_is_refused(
    backend: str, db: Session, clinic: Clinic
) -> None:
    with pytest.raises(ValidationFailed) as caught:
        auth.create_user(
            db,
            clinic.admin,
            username="nia.new",
            display_name="Nia\x07 New",
            role="counselor",
            password="a long enough password",
            bcrypt_rounds=4,
        )
    assert "U+0007" in caught.value.errors["display_name"]
    db.rollback()
    assert db.scalar(select(User).where(User.username == "nia.new")) is None
