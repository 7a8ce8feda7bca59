"""The Log session form: save, refuse bad input without losing it, edit, conflict."""

from __future__ import annotations

import json
from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from streamlit.testing.v1 import AppTest

from dashboard.domain.catalog import INDICATORS
from dashboard.domain.validation import SessionInput
from dashboard.services import sessions
from dashboard.ui.literal import md_text
from dashboard.ui.session_form import (
    HABITS_TAB,
    NOTE,
    RATINGS,
    SAFETY,
    SECTIONS,
    STAGE,
    section_of_key,
)
from db.models import Barrier, CoupleSession, IndicatorRating, SessionAmendment
from tests.app.conftest import assert_state_serializable, login, open_section, texts
from tests.conftest import Clinic


def _open_form(at: AppTest, **params: int) -> AppTest:
    at.switch_page("pages/log_session.py")
    for key, value in params.items():
        at.query_params[key] = str(value)
    return at.run()


def _fill_valid(at: AppTest, db: Session, partners: str = "AB") -> None:
    """Section by section, as a counselor moves through the form (only the open one is
    drawn); the form opens again on its first section."""
    open_section(at, NOTE)
    at.date_input(key="sf_date").set_value(date.today() - timedelta(days=2))
    at.text_area(key="sf_note_data").input("Both described a week of short answers.")
    at.text_area(key="sf_note_assessment").input("Fear of vulnerability is easing.")
    at.text_area(key="sf_note_plan").input("Practice empathic listening nightly.")
    fear = db.scalar(select(Barrier.id).where(Barrier.code == "fear_of_vulnerability"))
    db.rollback()  # end the read: on SQLite every transaction holds the write lock
    open_section(at, STAGE)
    at.radio(key="sf_stage").set_value(2)
    at.selectbox(key=f"sf_bar_sev_{fear}").set_value(2)
    at.text_input(key=f"sf_bar_note_{fear}").input("Flinches when past comes up")
    open_section(at, RATINGS)
    for i, indicator in enumerate(INDICATORS):
        for partner in partners:
            at.number_input(key=f"sf_r_{partner}_{indicator.key}").set_value(5 + i % 3)
    open_section(at, HABITS_TAB)
    at.multiselect(key="sf_habits").set_value(["empathic_listening"])
    open_section(at, NOTE)


def _save(at: AppTest) -> AppTest:
    next(b for b in at.button if b.label in {"Save session", "Save changes"}).click()
    return at.run()


def _count(db: Session, model: type) -> int:
    return db.scalar(select(func.count()).select_from(model)) or 0


def test_a_submitted_session_appears_in_the_caseload(app, clinic: Clinic, db: Session) -> None:
    at = _open_form(login(app(), "cara.couns"), couple=clinic.couple_id)
    _fill_valid(at, db)
    at = _save(at)
    assert not at.exception
    assert "saved" in texts(at)
    assert at.title[0].value.startswith("C-2026-0001")  # back on the couple page
    at.switch_page("pages/caseload.py")
    at.run()
    row = at.dataframe[0].value.iloc[0]
    assert row["sessions"] == 1
    assert row["stage"] == "2. Trust and Vulnerability"
    assert row["days_since_last"] == 2
    assert _count(db, IndicatorRating) == 16


def test_bad_submission_shows_errors_writes_nothing_and_keeps_the_text(
    app, clinic: Clinic, db: Session
) -> None:
    at = _open_form(login(app(), "cara.couns"), couple=clinic.couple_id)
    at.text_area(key="sf_note_data").input("Long talk about the holidays.")
    at.date_input(key="sf_date").set_value(date(2025, 12, 1))  # before intake
    at = _save(at)
    page = texts(at)
    assert "Nothing was saved" in page
    assert "The session date is before the couple's intake date (05 Jan 2026)." in page
    assert "Write the Assessment part of the DAP note." in page  # beside its field
    assert at.text_area(key="sf_note_data").value == "Long talk about the holidays."
    assert _count(db, CoupleSession) == 0
    db.rollback()  # end the read: on SQLite every transaction holds the write lock
    # The summary's entry opens the section of its field, where the message stands.
    stage = "Stage & barriers: Rate the couple's stage of emotional intimacy."
    next(b for b in at.button if b.label == stage).click()
    at.run()
    assert at.radio(key="sf_stage").value is None
    assert "Rate the couple's stage of emotional intimacy." in texts(at)
    open_section(at, NOTE)
    assert at.text_area(key="sf_note_data").value == "Long talk about the holidays."


def test_only_the_attending_partner_is_rated(app, clinic: Clinic, db: Session) -> None:
    at = login(app(), "cara.couns")
    at = _open_form(at, couple=clinic.couple_id)
    # Who attended names the partners, not A and B (as literal text: options are markdown).
    assert at.radio(key="sf_attendance").options == [
        md_text(label)
        for label in ("Both partners", "Alex only", "Blair only", "No-show", "Cancelled")
    ]
    at = at.radio(key="sf_attendance").set_value("partner_a").run()
    open_section(at, RATINGS)
    assert all(n.disabled for n in at.number_input if n.key.startswith("sf_r_B_"))
    assert not any(n.disabled for n in at.number_input if n.key.startswith("sf_r_A_"))
    _fill_valid(at, db, partners="A")
    at = _save(at)
    assert not at.exception
    assert _count(db, CoupleSession) == 1
    ratings = db.scalars(select(IndicatorRating.partner).distinct()).all()
    assert ratings == ["A"]


def test_private_note_only_on_individual_session(app, clinic: Clinic, db: Session) -> None:
    at = _open_form(login(app(), "cara.couns"), couple=clinic.couple_id)
    assert at.text_area(key="sf_private").disabled
    at = at.radio(key="sf_attendance").set_value("partner_b").run()
    assert not at.text_area(key="sf_private").disabled
    assert "Private to partner B (Blair): never printed in the joint report." in texts(at)


def test_switching_attendance_back_and_forth_keeps_the_ratings(
    app, clinic: Clinic, db: Session
) -> None:
    ratings = {"A": {i.key: 7 for i in INDICATORS}, "B": {i.key: 3 for i in INDICATORS}}
    session_id = sessions.log_session(
        db,
        clinic.counselor,
        clinic.couple_id,
        SessionInput(date(2026, 3, 2), 50, "video", "both", "d", "a", "p", 2, ratings=ratings),
        today=date(2026, 11, 1),
    )
    at = _open_form(login(app(), "cara.couns"), session=session_id)
    at = at.radio(key="sf_attendance").set_value("no_show").run()
    assert open_section(at, STAGE).radio(key="sf_stage").disabled
    at = open_section(at, NOTE).radio(key="sf_attendance").set_value("both").run()
    assert open_section(at, RATINGS).number_input(key="sf_r_B_feel_seen").value == 3
    assert open_section(at, STAGE).radio(key="sf_stage").value == 2
    at = _save(at)
    assert not at.exception
    assert _count(db, IndicatorRating) == 16


def test_edit_keeps_the_earlier_text_as_an_amendment(app, clinic: Clinic, db: Session) -> None:
    session_id = sessions.log_session(
        db,
        clinic.counselor,
        clinic.couple_id,
        SessionInput(date(2026, 3, 2), 50, "video", "both", "First text", "a", "p", 1),
        today=date(2026, 11, 1),
    )
    at = _open_form(login(app(), "cara.couns"), session=session_id)
    assert at.title[0].value == "Edit session"
    assert at.text_area(key="sf_note_data").value == "First text"
    at.text_area(key="sf_note_data").input("Corrected text")
    at = _save(at)
    assert not at.exception
    db.expire_all()
    row = db.get(CoupleSession, session_id)
    assert row.note_data == "Corrected text"
    assert [a.note_data for a in db.scalars(select(SessionAmendment))] == ["First text"]


def test_second_editor_gets_a_conflict_and_overwrites_nothing(
    app, clinic: Clinic, db: Session
) -> None:
    session_id = sessions.log_session(
        db,
        clinic.counselor,
        clinic.couple_id,
        SessionInput(date(2026, 3, 2), 50, "video", "both", "First text", "a", "p", 1),
        today=date(2026, 11, 1),
    )
    at = _open_form(login(app(), "cara.couns"), session=session_id)
    # Someone saves the same session while this form is open.
    form = sessions.session_form(db, clinic.counselor, session_id)
    values = form.values
    values.note_data = "Saved by the other tab"
    sessions.update_session(db, clinic.counselor, session_id, values, expected_version=form.version)
    at.text_area(key="sf_note_data").input("My late edit")
    at = _save(at)
    assert "NOT saved" in texts(at)
    assert at.text_area(key="sf_note_data").value == "My late edit"
    db.expire_all()
    assert db.get(CoupleSession, session_id).note_data == "Saved by the other tab"


def test_instrument_totals_on_the_form_and_the_licence_switch(
    app, clinic: Clinic, db: Session
) -> None:
    at = _open_form(login(app(), "cara.couns"), couple=clinic.couple_id)
    keys = {n.key for n in open_section(at, HABITS_TAB).number_input}
    assert {"sf_it_A_csi4", "sf_it_B_csi4", "sf_it_A_rdas"} <= keys
    assert "sf_it_A_ors" not in keys  # licensed: hidden until an admin switches it on

    admin = login(app(), "admin")
    admin.switch_page("pages/admin.py")
    admin.run()
    next(t for t in admin.toggle if t.label.startswith("ORS")).set_value(True)
    admin.run()
    assert "ORS is on the session form." in texts(admin)

    at = _open_form(login(app(), "cara.couns"), couple=clinic.couple_id)
    _fill_valid(at, db)
    open_section(at, HABITS_TAB)
    at.number_input(key="sf_it_A_ors").set_value(24.5)
    at.number_input(key="sf_it_B_csi4").set_value(12)
    at = _save(at)
    assert not at.exception
    from db.models import InstrumentTotal

    stored = {(t.partner, t.instrument): t.total for t in db.scalars(select(InstrumentTotal))}
    db.rollback()
    assert stored == {("A", "ors"): 24.5, ("B", "csi4"): 12.0}


def test_a_stale_licence_switch_never_undoes_another_admins_change(
    app, clinic: Clinic, db: Session
) -> None:
    from dashboard.services import instruments

    first = login(app(), "admin")
    first.switch_page("pages/admin.py")
    first.run()
    next(t for t in first.toggle if t.label.startswith("ORS")).set_value(True)
    first.run()
    # Another admin switches ORS off; the first admin then does something else.
    instruments.set_licence(db, clinic.admin, "ors", licensed=False)
    first.toggle(key="audit_failures").set_value(True)
    first.run()
    assert "ors" not in instruments.available_instruments(db)
    db.rollback()
    assert not next(t for t in first.toggle if t.label.startswith("ORS")).value


WIDGET_KINDS = (
    "radio",
    "text_area",
    "text_input",
    "number_input",
    "selectbox",
    "multiselect",
    "checkbox",
    "date_input",
)


def _drawn(at: AppTest) -> set[str]:
    return {
        w.key for kind in WIDGET_KINDS for w in getattr(at, kind) if (w.key or "").startswith("sf_")
    }


def test_only_the_open_section_is_drawn_and_a_left_section_keeps_its_values(
    app, clinic: Clinic, db: Session
) -> None:
    """Each section draws exactly the fields section_of_key gives it (the rest are out
    of widget state), and what was entered in a section is there when it is opened again."""
    at = _open_form(login(app(), "cara.couns"), couple=clinic.couple_id)
    everything = set(at.session_state["_draft:session"]["values"])
    seen: set[str] = set()
    for section in SECTIONS:
        drawn = _drawn(open_section(at, section))
        assert drawn and {section_of_key(k) for k in drawn} == {section}
        seen |= drawn
    # Neither saved text (Clear ticks) nor check-in answers (their override) here.
    assert seen == {k for k in everything if not k.startswith(("sf_clear_", "sf_override_"))}
    open_section(at, STAGE).radio(key="sf_stage").set_value(3)
    open_section(at, RATINGS).number_input(key="sf_r_A_feel_seen").set_value(8)
    open_section(at, NOTE).text_area(key="sf_note_data").input("Typed, then left")
    for section in (SAFETY, STAGE):
        open_section(at, section)
    assert at.radio(key="sf_stage").value == 3
    assert open_section(at, RATINGS).number_input(key="sf_r_A_feel_seen").value == 8
    assert open_section(at, NOTE).text_area(key="sf_note_data").value == "Typed, then left"
    assert_state_serializable(at)


EARLIER = "From the morning: she named the silence at dinner without blame. " * 15
TYPED = "Typed while the offer showed"


def _stored_drafts(db: Session) -> list[tuple[str, int | None]]:
    """(Data note, length) of every kept draft version, oldest first."""
    from dashboard.services.drafts import _decode
    from db.models import SessionDraft

    rows = db.scalars(select(SessionDraft.payload).order_by(SessionDraft.id)).all()
    db.rollback()
    values = [json.loads(row, object_hook=_decode) for row in rows]
    return [(v["sf_note_data"], v["sf_duration"]) for v in values]


def _button(at: AppTest, start: str):  # type: ignore[no-untyped-def]
    return next(b for b in at.button if b.label.startswith(start))


def test_typing_while_a_draft_is_offered_replaces_nothing_and_either_is_restored(
    app, clinic: Clinic, db: Session
) -> None:
    first = _open_form(login(app(), "cara.couns"), couple=clinic.couple_id)
    first.text_area(key="sf_note_data").input(EARLIER)
    first.run()  # the browser is then closed
    later = _open_form(login(app(), "cara.couns"), couple=clinic.couple_id)
    assert _button(later, "Resume the draft from ")
    later.text_area(key="sf_note_data").input(TYPED)  # instead of clicking Resume
    later.run()
    # The offer is still a choice; the earlier draft is whole; Length kept its 50.
    assert _button(later, "Resume the draft from ") and _button(later, "Start over")
    assert later.number_input(key="sf_duration").value == 50
    assert _stored_drafts(db) == [(EARLIER, 50), (TYPED, 50)]
    assert "Your drafts of this session (1)" in [e.label for e in later.expander]
    _button(later, "Resume the draft from ").click()
    later.run()
    assert later.text_area(key="sf_note_data").value == EARLIER
    assert not any(b.label.startswith("Resume the draft") for b in later.button)
    # What was typed meanwhile is the newest in the list, and comes back too.
    assert "Your drafts of this session (2)" in [e.label for e in later.expander]
    next(b for b in later.button if b.key == "sf_restore_0").click()
    later.run()
    assert later.text_area(key="sf_note_data").value == TYPED
    assert_state_serializable(later)


def test_start_over_keeps_the_offered_draft_in_the_list(app, clinic: Clinic, db: Session) -> None:
    first = _open_form(login(app(), "cara.couns"), couple=clinic.couple_id)
    first.text_area(key="sf_note_data").input(EARLIER)
    first.run()
    later = _open_form(login(app(), "cara.couns"), couple=clinic.couple_id)
    _button(later, "Start over").click()
    later.run()
    assert not any(b.label.startswith("Resume the draft") for b in later.button)
    assert later.text_area(key="sf_note_data").value == ""
    # A new sitting offers nothing either; the list still holds the draft.
    again = _open_form(login(app(), "cara.couns"), couple=clinic.couple_id)
    assert not any(b.label.startswith("Resume the draft") for b in again.button)
    next(b for b in again.button if b.key == "sf_restore_0").click()
    again.run()
    assert again.text_area(key="sf_note_data").value == EARLIER
    assert _stored_drafts(db) == [(EARLIER, 50)]


def test_a_partners_check_in_answers_are_announced_at_the_top(
    app, clinic: Clinic, db: Session
) -> None:
    from dashboard.domain.check_in import Answers
    from dashboard.services import check_ins
    from dashboard.services.check_ins import Credential

    made = check_ins.create_check_in(
        db, clinic.counselor, clinic.couple_id, partners={"A", "B"}, initials={"A": "A", "B": "B"}
    )
    check_ins.submit_check_in(
        db,
        Credential("link", made.tokens["A"]),
        Answers({i.key: 7 for i in INDICATORS}, {}, ""),
        client="198.51.100.9",
    )
    at = _open_form(login(app(), "cara.couns"), couple=clinic.couple_id)
    assert at.text_area(key="sf_note_data").value == ""  # the first section is open
    said = [i.value for i in at.info]
    assert any(s.startswith("Check-in answers: Alex answered the check-in") for s in said)
    at = _button(at, "Open Ratings").click().run()
    assert at.number_input(key="sf_r_A_talk_honestly").value == 7


def test_log_session_without_a_couple_lists_the_unsaved_drafts(
    app, clinic: Clinic, db: Session
) -> None:
    first = _open_form(login(app(), "cara.couns"), couple=clinic.couple_id)
    first.text_area(key="sf_note_data").input(EARLIER)
    first.run()
    fresh = _open_form(login(app(), "cara.couns"))  # a new browser: no couple chosen
    assert "Your unsaved drafts" in texts(fresh)
    links = [link for link in fresh.get("page_link")]
    assert any("new session, kept at" in link.proto.label for link in links)


def test_a_long_sittings_earlier_version_is_listed_and_restored(
    app, clinic: Clinic, db: Session
) -> None:
    """A sitting keeps a version every ten minutes: the paragraph typed over earlier in
    the same sitting is in Your drafts (the version being written now is not), and comes
    back with Restore."""
    from db.engine import begin_write
    from db.models import SessionDraft

    at = _open_form(login(app(), "cara.couns"), couple=clinic.couple_id)
    at.text_area(key="sf_note_data").input(EARLIER)
    at.run()
    assert not any(e.label.startswith("Your drafts of this session") for e in at.expander)
    # Fifteen minutes later (the kept version is moved back, as the clock would have it).
    back = timedelta(minutes=15)
    begin_write(db)
    for row in db.scalars(select(SessionDraft)).all():
        row.started_at, row.saved_at = row.started_at - back, row.saved_at - back
    db.commit()
    at.text_area(key="sf_note_data").input(TYPED)
    at.run()
    assert _stored_drafts(db) == [(EARLIER, 50), (TYPED, 50)]
    assert "Your drafts of this session (1)" in [e.label for e in at.expander]
    next(b for b in at.button if b.key == "sf_restore_0").click()
    at.run()
    assert at.text_area(key="sf_note_data").value == EARLIER
