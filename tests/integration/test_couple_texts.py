"""Intake text is never erased by accident, and History gives earlier text back."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.orm import Session

from dashboard.domain.validation import CoupleInput
from dashboard.services import couples
from dashboard.services.errors import AccessDenied, ValidationFailed
from db.models import Couple
from tests.conftest import Clinic

TODAY = date(2026, 11, 1)
INTAKE = date(2026, 1, 5)  # the fixture couple's intake date


def _update(db: Session, clinic: Clinic, concerns: str, goals: str, version: int, **kw) -> None:
    couples.update_couple(
        db,
        clinic.counselor,
        clinic.couple_id,
        CoupleInput("Alex", "Blair", INTAKE, concerns, goals, **kw),
        expected_version=version,
        today=TODAY,
    )


def test_an_update_that_would_blank_saved_text_is_refused_by_field(
    db: Session, clinic: Clinic, backend: str
) -> None:
    # The fixture couple has concerns "Drifting apart" and goals "Talk weekly".
    with pytest.raises(ValidationFailed) as caught:
        _update(db, clinic, "", "   ", version=1)
    assert set(caught.value.errors) == {"presenting_concerns", "goals"}
    assert "would erase the saved goals" in caught.value.errors["goals"]
    couple = db.get_one(Couple, clinic.couple_id)
    assert (couple.presenting_concerns, couple.goals, couple.version) == (
        "Drifting apart",
        "Talk weekly",
        1,
    )


def test_an_explicit_clear_empties_only_the_ticked_field(
    db: Session, clinic: Clinic, backend: str
) -> None:
    with pytest.raises(ValidationFailed) as caught:
        _update(db, clinic, "", "", version=1, clear=frozenset({"goals"}))
    assert set(caught.value.errors) == {"presenting_concerns"}
    _update(db, clinic, "Drifting apart", "", version=1, clear=frozenset({"goals"}))
    couple = db.get_one(Couple, clinic.couple_id)
    assert (couple.presenting_concerns, couple.goals) == ("Drifting apart", "")


def test_history_keeps_the_full_earlier_text_and_restores_it(
    db: Session, clinic: Clinic, backend: str
) -> None:
    _update(db, clinic, "Drifting apart since the move", "Talk weekly", version=1)
    _update(db, clinic, "Arguments about money", "Talk weekly", version=2)
    detail = couples.get_couple(db, clinic.counselor, clinic.couple_id)
    # Newest first: each change carries the whole text it replaced.
    assert [c.earlier_texts for c in detail.history] == [
        (("presenting_concerns", "Drifting apart since the move"),),
        (("presenting_concerns", "Drifting apart"),),
    ]
    oldest = detail.history[-1]
    couples.restore_couple_text(
        db,
        clinic.counselor,
        clinic.couple_id,
        amendment_id=oldest.amendment_id,
        field="presenting_concerns",
        expected_version=3,
    )
    couple = db.get_one(Couple, clinic.couple_id)
    assert (couple.presenting_concerns, couple.version) == ("Drifting apart", 4)
    # The restore is itself an edit: the text it replaced is kept too.
    detail = couples.get_couple(db, clinic.counselor, clinic.couple_id)
    assert detail.history[0].earlier_texts == (("presenting_concerns", "Arguments about money"),)


def test_only_the_assigned_counselor_restores(db: Session, clinic: Clinic, backend: str) -> None:
    _update(db, clinic, "Distance", "Talk weekly", version=1)
    detail = couples.get_couple(db, clinic.counselor, clinic.couple_id)
    for actor in (clinic.other_counselor, clinic.supervisor):
        with pytest.raises(AccessDenied):
            couples.restore_couple_text(
                db,
                actor,
                clinic.couple_id,
                amendment_id=detail.history[0].amendment_id,
                field="presenting_concerns",
                expected_version=2,
            )
    assert db.get_one(Couple, clinic.couple_id).presenting_concerns == "Distance"
