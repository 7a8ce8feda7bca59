"""The partner's check-in page in AppTest: no sign-in, the token leaves the address at
once, answers are saved once, every unusable link reads the same, the counselor's
initials are shown as typed, a refused code and "Please wait" both offer a retry."""

from __future__ import annotations

import contextlib
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session
from streamlit.testing.v1 import AppTest

from dashboard.domain import check_in as rules
from dashboard.domain.catalog import INDICATORS
from dashboard.domain.sign_in import UNKNOWN_DEVICE
from dashboard.services import check_ins
from dashboard.services.check_ins import CheckInRefused, Credential
from dashboard.ui import check_in_page
from db.engine import begin_write
from db.models import AuditEvent, CheckInGuess, CheckInPartner, utcnow
from tests.app.conftest import assert_state_serializable, shown, texts
from tests.conftest import Clinic

NOTE = "Wombat-5521: please ask about the money"


def _open_link(at: AppTest, token: str) -> AppTest:
    at.switch_page("pages/check_in.py")
    at.query_params["t"] = token
    return at.run()


def _answer(at: AppTest, value: int, note: str = "") -> AppTest:
    for item in INDICATORS:
        at.radio(key=f"ci_form_item_{item.key}").set_value(value)
    at.text_area(key="ci_form_note").input(note)
    next(b for b in at.button if b.label == "Send my answers").click()
    return at.run()


def _links(
    db: Session,
    clinic: Clinic,
    partners: set[str] | None = None,
    initials: tuple[str, str] = ("AL", "BL"),
) -> dict[str, str]:
    made = check_ins.create_check_in(
        db,
        clinic.counselor,
        clinic.couple_id,
        partners=partners or {"A", "B"},
        initials={"A": initials[0], "B": initials[1]},
    )
    return made.tokens


def _tablet(at: AppTest) -> AppTest:
    at.switch_page("pages/check_in.py")
    return at.run()


def _type_code(at: AppTest, code: str) -> AppTest:
    at.text_input(key="ci_code").input(code)
    next(b for b in at.button if b.label == "Continue").click()
    return at.run()


def _click(at: AppTest, label: str) -> AppTest:
    next(b for b in at.button if b.label == label).click()
    return at.run()


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
    # Every question starts visibly unanswered: a row of 0..10 with nothing chosen.
    assert [(r.options, r.value) for r in at.radio] == [([str(n) for n in range(11)], None)] * 8
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
    at.radio(key="ci_form_item_talk_honestly").set_value(3)
    next(b for b in at.button if b.label == "Send my answers").click()
    at = at.run()
    page = texts(at)
    assert page.count("Please choose a number from 0 to 10.") == 7
    assert at.radio(key="ci_form_item_talk_honestly").value == 3  # kept
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
        assert not at.radio
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


def test_the_initials_read_exactly_as_the_counselor_typed_them(
    app, clinic: Clinic, db: Session
) -> None:
    """An emoji shortcode, a formula's dollars and brackets stay characters."""
    for own, other in ((":+1:", "$x"), ("x$", "$x"), ("[B]", "(c)")):
        tokens = _links(db, clinic, initials=(own, other))
        at = _open_link(app(), tokens["A"])
        sentence = next(m.value for m in at.markdown if "Check-in for" in m.value)
        # The reader sees the initials as typed (escapes undone by the browser) ...
        assert shown(sentence) == (
            f"Check-in for {own}. Your answers go to your counselor only: "
            f"{other} will not see them."
        )
        # ... because each of their markdown characters is escaped: no emoji shortcode,
        # no formula between two dollars, no link can form.
        for initials in (own, other):
            assert "".join(c if c.isalnum() else "\\" + c for c in initials) in sentence
        check_in_id = db.scalar(
            select(CheckInPartner.check_in_id).order_by(CheckInPartner.id.desc())
        )
        db.rollback()
        check_ins.cancel_check_in(db, clinic.counselor, check_in_id)


def test_a_refused_code_asks_again_in_the_same_words_whatever_the_reason(
    app, clinic: Clinic, db: Session
) -> None:
    _links(db, clinic, {"A", "B"})
    check_in_id = db.scalar(select(CheckInPartner.check_in_id))
    db.rollback()
    # An expired code (made 20 minutes ago: codes last 15) and a used one.
    expired = check_ins.tablet_code(
        db, clinic.counselor, check_in_id, "A", now=utcnow() - timedelta(minutes=20)
    )
    used = check_ins.tablet_code(db, clinic.counselor, check_in_id, "B")
    check_ins.submit_check_in(
        db,
        Credential("code", used),
        rules.Answers({i.key: 5 for i in INDICATORS}, {}),
        client="198.51.100.3",
    )
    seen = set()
    for wrong in ("1234 5678", expired, used):
        at = _type_code(_tablet(app()), wrong)
        assert not at.radio and not at.exception
        page = texts(at)
        assert page == (
            "Check in before your session\n"
            "Type the 8-digit code your counselor gave you.\n"
            f":red[**{check_in_page.CODE_REFUSED}**]"  # the field's note, in red
        )
        seen.add(page)
        # The box is there again with what was typed, to check the digits and try again.
        assert [(t.label, t.value) for t in at.text_input] == [("Your check-in code", wrong)]
    assert len(seen) == 1
    assert "link" not in check_in_page.CODE_REFUSED
    # A right code typed after a wrong one opens the page.
    code = check_ins.tablet_code(db, clinic.counselor, check_in_id, "A")
    at = _type_code(_type_code(_tablet(app()), "8765 4321"), code)
    assert "Before your session" in texts(at) and len(at.radio) == 8


def _make_this_device_wait(db: Session) -> None:
    """Five unknown links from AppTest's device (it has no address), then seven more
    misses on record: the device must wait 2**7 s, far longer than this test runs."""
    for _ in range(5):
        with contextlib.suppress(CheckInRefused):
            check_ins.open_check_in(
                db, Credential("link", rules.new_token()), client=UNKNOWN_DEVICE
            )
    begin_write(db)
    db.add_all(CheckInGuess(client=UNKNOWN_DEVICE, guessed_at=utcnow()) for _ in range(7))
    db.commit()


def _time_passes(db: Session) -> None:
    """The device's misses an hour old: its wait is over."""
    begin_write(db)
    db.execute(update(CheckInGuess).values(guessed_at=utcnow() - timedelta(hours=1)))
    db.commit()


def _waits_on_record(db: Session) -> int:
    found = db.scalars(
        select(AuditEvent.detail).where(AuditEvent.action == "check_in_refused")
    ).all()
    db.rollback()
    return len([d for d in found if d.startswith("waiting")])


def test_please_wait_offers_a_retry_for_a_link_and_is_on_record(
    app, clinic: Clinic, db: Session
) -> None:
    tokens = _links(db, clinic)
    _make_this_device_wait(db)
    at = _open_link(app(), tokens["A"])
    page = texts(at)
    assert page.startswith("Please wait\nToo many tries from this device. Please wait ")
    assert not at.radio
    assert _waits_on_record(db) == 1
    # Too early: the same page again, on record again.
    at = _click(at, "Try again")
    assert texts(at).startswith("Please wait\n") and _waits_on_record(db) == 2
    # Once the wait is over, the same button opens the partner's check-in (the link is
    # kept for this visit: it has already left the address bar).
    _time_passes(db)
    at = _click(at, "Try again")
    assert "Check-in for AL" in texts(at) and len(at.radio) == 8
    assert _waits_on_record(db) == 2


def test_please_wait_on_the_tablet_forgets_the_code_and_asks_again(
    app, clinic: Clinic, db: Session
) -> None:
    _links(db, clinic, {"A"})
    check_in_id = db.scalar(select(CheckInPartner.check_in_id))
    db.rollback()
    code = check_ins.tablet_code(db, clinic.counselor, check_in_id, "A")
    _make_this_device_wait(db)
    at = _type_code(_tablet(app()), code)
    assert texts(at).startswith("Please wait\n")
    assert code not in repr(at.session_state.to_dict())  # nothing of it left on the tablet
    _time_passes(db)
    at = _click(at, "Try again")
    assert [t.label for t in at.text_input] == ["Your check-in code"]
    at = _type_code(at, code)
    assert "Check-in for AL" in texts(at)
