"""The partner's check-in page in AppTest: no sign-in, the token leaves the address at
once, answers are saved once, and every unusable link reads the same."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session
from streamlit.testing.v1 import AppTest

from dashboard.domain.catalog import INDICATORS
from dashboard.services import check_ins
from dashboard.ui import check_in_page
from db.models import CheckInPartner
from tests.app.conftest import assert_state_serializable, texts
from tests.conftest import Clinic

NOTE = "Wombat-5521: please ask about the money"


def _open_link(at: AppTest, token: str) -> AppTest:
    at.switch_page("pages/check_in.py")
    at.query_params["t"] = token
    return at.run()


def _answer(at: AppTest, value: int, note: str = "") -> AppTest:
    for item in INDICATORS:
        at.select_slider(key=f"ci_form_item_{item.key}").set_value(value)
    at.text_area(key="ci_form_note").input(note)
    next(b for b in at.button if b.label == "Send my answers").click()
    return at.run()


def _links(db: Session, clinic: Clinic, partners: set[str] | None = None) -> dict[str, str]:
    made = check_ins.create_check_in(
        db,
        clinic.counselor,
        clinic.couple_id,
        partners=partners or {"A", "B"},
        initials={"A": "AL", "B": "BL"},
    )
    return made.tokens


def test_a_partner_answers_without_signing_in(app, clinic: Clinic, db: Session) -> None:
    tokens = _links(db, clinic)
    at = _open_link(app(), tokens["A"])
    assert not at.exception
    # The address bar loses the token in place (history.replaceState: Back cannot bring
    # it back; tests/e2e/test_check_in.py checks it in Chromium).
    assert any("history.replaceState" in h.proto.body for h in at.get("html"))
    page = texts(at)
    assert "Check-in for AL" in page and "BL will not see them" in page
    assert "Alex" not in page and "Blair" not in page  # initials only, never names
    assert "Log in" not in page and not at.sidebar.button  # no menu, no login form
    assert [s.value for s in at.select_slider] == [None] * 8  # nothing answered for them
    at = _answer(at, 6, NOTE)
    assert "Thank you" in texts(at)
    assert_state_serializable(at)
    # The token is no longer anywhere in the session's state once the answers are in.
    assert tokens["A"] not in repr(at.session_state.to_dict())
    saved = db.scalar(select(CheckInPartner).where(CheckInPartner.partner == "A"))
    assert saved is not None and saved.note == NOTE and saved.submitted_at is not None
    db.rollback()


def test_a_missing_answer_is_named_and_nothing_is_saved(app, clinic: Clinic, db: Session) -> None:
    tokens = _links(db, clinic)
    at = _open_link(app(), tokens["A"])
    at.select_slider(key="ci_form_item_talk_honestly").set_value(3)
    next(b for b in at.button if b.label == "Send my answers").click()
    at = at.run()
    page = texts(at)
    assert page.count("Please choose a number from 0 to 10.") == 7
    assert at.select_slider(key="ci_form_item_talk_honestly").value == 3  # kept
    assert db.scalar(select(CheckInPartner.submitted_at)) is None
    db.rollback()
    at = _answer(at, 4)
    assert "Thank you" in texts(at)


def test_used_unknown_and_revoked_links_read_alike(app, clinic: Clinic, db: Session) -> None:
    tokens = _links(db, clinic)
    _answer(_open_link(app(), tokens["A"]), 5)
    check_in_id = db.scalar(select(CheckInPartner.check_in_id))
    db.rollback()
    check_ins.revoke_link(db, clinic.counselor, check_in_id, "B")
    seen = set()
    for token in (tokens["A"], tokens["B"], "not-a-token-at-all"):
        at = _open_link(app(), token)
        assert not at.select_slider
        seen.add(texts(at))
    assert seen == {f"Check-in\n{check_in_page.NEUTRAL}"}


def test_the_clinic_tablet_takes_a_code(app, clinic: Clinic, db: Session) -> None:
    _links(db, clinic, {"B"})
    check_in_id = db.scalar(select(CheckInPartner.check_in_id))
    db.rollback()
    code = check_ins.tablet_code(db, clinic.counselor, check_in_id, "B")
    at = app()
    at.switch_page("pages/check_in.py")
    at = at.run()
    assert "Your check-in code" in [t.label for t in at.text_input]
    at.text_input[0].input(f"{code[:4]} {code[4:]}")
    next(b for b in at.button if b.label == "Continue").click()
    at = at.run()
    assert "Check-in for BL" in texts(at)
    at = _answer(at, 7)
    assert "Thank you" in texts(at)
    # The next person on the tablet starts from the code box, with nothing of the last.
    next(b for b in at.button if b.label == "Next person on this tablet").click()
    at = at.run()
    assert [t.label for t in at.text_input] == ["Your check-in code"]
    assert at.text_input[0].value == ""
