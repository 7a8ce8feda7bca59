"""A tab's text sent again after its server died (or the page was reloaded): it completes
its own sitting's draft, and nothing else (dashboard/ui/session_drafts._complete_sitting,
sent by dashboard/ui/live_draft/index.html; tests/e2e/test_replicas.py kills a replica)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy.orm import Session

from dashboard.services import drafts
from dashboard.ui import session_drafts
from tests.conftest import Clinic

KEPT = "They arrived early and sat apart at first; by the end he asked her"  # the dead server's
TYPED = KEPT + " what she needed on the bad evenings"  # what the tab still held


def _a_minute_ago() -> datetime:
    """When the sitting was kept: a resend comes seconds after its server died. Taken when
    the test runs, not at import (the whole suite runs for most of an hour, and a sitting
    kept that long ago gets a new version rather than being completed in place)."""
    return datetime.now(UTC) - timedelta(minutes=1)


@pytest.fixture
def form(db: Session, clinic: Clinic, monkeypatch: pytest.MonkeyPatch) -> SimpleNamespace:
    @contextmanager
    def same_db() -> Iterator[Session]:
        yield db

    monkeypatch.setattr(session_drafts, "db_session", same_db)
    return SimpleNamespace(couple_id=clinic.couple_id, session_id=None)


def _keep(db: Session, clinic: Clinic, text: str, episode: str, at: datetime) -> None:
    drafts.save_draft(
        db,
        clinic.counselor,
        couple_id=clinic.couple_id,
        session_id=None,
        values={"sf_note_assessment": text, "sf_duration": 50},
        episode=episode,
        now=at,
    )


def _resent(episode: str, text: str = TYPED) -> dict[str, object]:
    return {"episode": episode, "values": {"sf_note_assessment": text}, "resend": True}


def _texts(db: Session, clinic: Clinic) -> list[tuple[str, str, bool]]:
    listed = drafts.list_drafts(db, clinic.counselor, couple_id=clinic.couple_id, session_id=None)
    return [(d.episode, d.values["sf_note_assessment"], d.set_aside) for d in listed]


def test_the_resent_text_completes_its_own_sitting_and_no_other(
    backend: str, db: Session, clinic: Clinic, form: SimpleNamespace
) -> None:
    kept_at = _a_minute_ago()
    _keep(db, clinic, "An earlier sitting's note", "earlier", kept_at - timedelta(hours=1))
    _keep(db, clinic, KEPT, "dead", kept_at)
    assert session_drafts._complete_sitting(form, clinic.counselor, _resent("dead"))
    assert _texts(db, clinic) == [
        ("dead", TYPED, False),
        ("earlier", "An earlier sitting's note", False),
    ]
    [completed] = [
        d
        for d in drafts.list_drafts(
            db, clinic.counselor, couple_id=clinic.couple_id, session_id=None
        )
        if d.episode == "dead"
    ]
    assert completed.values["sf_duration"] == 50  # the rest of the form as it was kept
    # Sent again (another reload): nothing changes, nothing is written.
    assert not session_drafts._complete_sitting(form, clinic.counselor, _resent("dead"))


@pytest.mark.parametrize("ended", ["saved", "set aside", "never kept"])
def test_a_sitting_saved_set_aside_or_never_kept_is_not_written(
    backend: str, db: Session, clinic: Clinic, form: SimpleNamespace, ended: str
) -> None:
    where = {"couple_id": clinic.couple_id, "session_id": None}
    _keep(db, clinic, KEPT, "dead", _a_minute_ago())
    if ended == "saved":
        drafts.forget_episode(db, clinic.counselor, **where, episode="dead")
    elif ended == "set aside":  # Start over, in the sitting after it
        drafts.set_aside(db, clinic.counselor, **where, keep="after")
    before = _texts(db, clinic)
    sitting = "elsewhere" if ended == "never kept" else "dead"
    assert not session_drafts._complete_sitting(form, clinic.counselor, _resent(sitting))
    assert _texts(db, clinic) == before


def test_another_counselor_cannot_complete_a_sitting(
    backend: str, db: Session, clinic: Clinic, form: SimpleNamespace
) -> None:
    _keep(db, clinic, KEPT, "dead", _a_minute_ago())
    assert not session_drafts._complete_sitting(form, clinic.other_counselor, _resent("dead"))
    assert _texts(db, clinic) == [("dead", KEPT, False)]
