"""The couple page's Check-ins tab: links made once and shown with a QR code, statuses,
the partner's note for the counselor and supervisor, revoke and cancel."""

from __future__ import annotations

import re
from datetime import date

from sqlalchemy.orm import Session
from streamlit.testing.v1 import AppTest

from dashboard.domain.catalog import INDICATORS
from dashboard.domain.check_in import Answers
from dashboard.services import check_ins
from dashboard.services.check_ins import CheckInRefused, Credential
from tests.app.conftest import login, texts
from tests.conftest import Clinic

NOTE = "Pangolin-3390: he raised his voice again"


def _tab(at: AppTest, couple_id: int) -> AppTest:
    at.switch_page("pages/couple.py")
    at.query_params["couple"] = str(couple_id)
    at.session_state["couple_tab"] = "Check-ins"
    return at.run()


def _click(at: AppTest, label: str) -> AppTest:
    next(b for b in at.button if b.label == label).click()
    return at.run()


def _tokens(at: AppTest) -> dict[str, str]:
    links = [c.value for c in at.code if "/check_in?t=" in c.value]
    return {p: re.search(r"t=([\w-]+)", url).group(1) for p, url in zip("AB", links, strict=True)}


def test_the_counselor_makes_links_and_follows_them(app, clinic: Clinic, db: Session) -> None:
    at = _tab(login(app(), "cara.couns"), clinic.couple_id)
    assert [c.label for c in at.checkbox] == ["A link for Alex", "A link for Blair"]
    assert [t.value for t in at.text_input] == ["A", "B"]  # initials from the names
    at = _click(at, "Make check-in links")
    assert not at.exception
    # A QR code per partner, each with a text alternative a screen reader reads out.
    assert [img.alt for image in at.get("image") for img in image.proto.imgs] == [
        "QR code of the check-in link for Alex",
        "QR code of the check-in link for Blair",
    ]
    tokens = _tokens(at)
    page = texts(at)
    assert "Shown once" in page and page.count("not opened") == 2
    # A partner answers on their phone; the counselor's tab says so, with the note.
    check_ins.submit_check_in(
        db,
        Credential("link", tokens["A"]),
        Answers({i.key: 6 for i in INDICATORS}, {}, NOTE),
        client="198.51.100.9",
    )
    at = _click(at, "Done, hide the links")
    assert not [c for c in at.code if "/check_in?t=" in c.value]
    page = texts(at)
    assert "done" in page and "not opened" in page
    assert NOTE in [t.value for t in at.text]
    # Revoking the other partner's link stops it at once.
    at = _click(at, "Revoke")
    assert "revoked" in texts(at)
    try:
        check_ins.open_check_in(db, Credential("link", tokens["B"]), client="198.51.100.9")
        raise AssertionError("a revoked link opened")
    except CheckInRefused:
        pass
    at = _click(at, "Cancel this check-in")
    assert "Make check-in links" in [b.label for b in at.button]  # a new one can start


def test_a_partner_left_out_gets_no_link(app, clinic: Clinic) -> None:
    at = _tab(login(app(), "cara.couns"), clinic.couple_id)
    at.checkbox(key="cip_ask_B").uncheck()
    at = _click(at, "Make check-in links")
    assert len(_tokens_one(at)) == 1
    assert "switched off" in texts(at)


def _tokens_one(at: AppTest) -> list[str]:
    return [c.value for c in at.code if "/check_in?t=" in c.value]


def test_bad_initials_are_named_beside_the_field(app, clinic: Clinic) -> None:
    at = _tab(login(app(), "cara.couns"), clinic.couple_id)
    at.text_input(key="cip_initials_A").input("")
    at = _click(at, "Make check-in links")
    assert "Give initials (the page shows them instead of a name)." in texts(at)
    assert not _tokens_one(at)


def test_the_supervisor_reads_statuses_and_notes_only(app, clinic: Clinic, db: Session) -> None:
    made = check_ins.create_check_in(
        db, clinic.counselor, clinic.couple_id, partners={"A"}, initials={"A": "A", "B": "B"}
    )
    check_ins.submit_check_in(
        db,
        Credential("link", made.tokens["A"]),
        Answers({i.key: 6 for i in INDICATORS}, {}, NOTE),
        client="198.51.100.9",
    )
    at = _tab(login(app(), "sam.super"), clinic.couple_id)
    assert NOTE in [t.value for t in at.text]
    labels = {b.label for b in at.button}
    assert not labels & {"New link", "Tablet code", "Revoke", "Cancel this check-in"}
    admin = _tab(login(app(), "admin"), clinic.couple_id)
    assert NOTE not in [t.value for t in admin.text] and "done" in texts(admin)


def _log_session_with_own_answers(app, clinic: Clinic, db: Session) -> AppTest:
    """Alex answers a check-in (all 7s); the counselor opens Log session at Ratings."""
    from tests.app.conftest import open_section

    made = check_ins.create_check_in(
        db, clinic.counselor, clinic.couple_id, partners={"A", "B"}, initials={"A": "A", "B": "B"}
    )
    check_ins.submit_check_in(
        db,
        Credential("link", made.tokens["A"]),
        Answers({i.key: 7 for i in INDICATORS}, {}, NOTE),
        client="198.51.100.9",
    )
    at = login(app(), "cara.couns")
    at.switch_page("pages/log_session.py")
    at.query_params["couple"] = str(clinic.couple_id)
    at.run()
    at.text_area(key="sf_note_data").input("Both described a calmer week.")
    at.text_area(key="sf_note_assessment").input("Less withdrawal.")
    at.text_area(key="sf_note_plan").input("Keep the evening check-in.")
    open_section(at, "Stage & barriers").radio(key="sf_stage").set_value(2)
    return open_section(at, "Ratings")


def test_the_session_form_is_filled_from_the_check_in(app, clinic: Clinic, db: Session) -> None:
    from sqlalchemy import select

    from db.models import IndicatorRating

    at = _log_session_with_own_answers(app, clinic, db)
    own = [at.number_input(key=f"sf_r_A_{i.key}") for i in INDICATORS]
    assert [w.value for w in own] == [7] * 8 and all(w.disabled for w in own)
    assert not any(at.number_input(key=f"sf_r_B_{i.key}").disabled for i in INDICATORS)
    assert "Self-report: Alex gave these answers in their check-in" in texts(at)
    assert NOTE in [t.value for t in at.text]
    for i in INDICATORS:
        at.number_input(key=f"sf_r_B_{i.key}").set_value(4)
    # Changing Alex's answers needs a reason, said beside them; nothing is saved.
    at.toggle(key="sf_override_A").set_value(True)
    at = at.run()
    at.number_input(key="sf_r_A_talk_honestly").set_value(3)
    at = _click(at, "Save session")
    assert "These are Alex's own check-in answers." in texts(at)
    assert db.scalar(select(IndicatorRating.id)) is None
    db.rollback()
    # Switching "Change" off puts Alex's own answers back; then it saves.
    at.toggle(key="sf_override_A").set_value(False)
    at = at.run()
    assert at.number_input(key="sf_r_A_talk_honestly").value == 7
    at = _click(at, "Save session")
    sources = {(r.partner, r.source) for r in db.scalars(select(IndicatorRating)).all()}
    db.rollback()
    assert sources == {("A", "self"), ("B", "counselor")}


def test_the_supervisor_sees_which_ratings_are_the_partners_own(
    app, clinic: Clinic, db: Session
) -> None:
    from dashboard.domain.validation import SessionInput
    from dashboard.services import sessions

    made = check_ins.create_check_in(
        db, clinic.counselor, clinic.couple_id, partners={"A"}, initials={"A": "A", "B": "B"}
    )
    check_ins.submit_check_in(
        db,
        Credential("link", made.tokens["A"]),
        Answers({i.key: 7 for i in INDICATORS}, {}, NOTE),
        client="198.51.100.9",
    )
    own = check_ins.self_reports(db, clinic.couple_id)["A"]
    db.rollback()
    session_id = sessions.log_session(
        db,
        clinic.counselor,
        clinic.couple_id,
        SessionInput(
            session_date=date(2026, 10, 30),
            duration_minutes=50,
            format="in_person",
            attendance="both",
            note_data="Calmer.",
            note_assessment="Less withdrawal.",
            note_plan="Keep going.",
            stage=2,
            ratings={"A": dict(own.ratings), "B": {i.key: 4 for i in INDICATORS}},
            self_reports={"A": own.check_in_partner_id},
        ),
        today=date(2026, 11, 1),
    )
    at = login(app(), "sam.super")
    at.switch_page("pages/log_session.py")
    at.query_params["session"] = str(session_id)
    at = at.run()
    ratings = next(df.value for df in at.dataframe if "Indicator" in df.value.columns)
    assert set(ratings["A · Alex"]) == {"7 (self-report)"}
    assert set(ratings["B · Blair"]) == {"4"}
