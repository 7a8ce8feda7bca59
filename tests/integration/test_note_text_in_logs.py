"""A note being typed never reaches the server's log (journald) when keeping it fails:
database errors carry no statement values (db/engine.py hide_parameters) and a failed
keep logs the error's kind and first line, not a traceback (dashboard/ui/session_drafts)."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from dashboard.services import drafts
from dashboard.ui import session_drafts
from db.engine import begin_write
from tests.conftest import Clinic, writing

NOTE = "Quillfeather-4412: he said the word divorce twice"  # a marker no other text holds


def test_a_database_error_names_no_value_of_its_statement(backend: str, engine: Engine) -> None:
    with pytest.raises(DBAPIError) as raised, writing(engine) as conn:
        conn.execute(text("INSERT INTO no_such_table (note) VALUES (:note)"), {"note": NOTE})
    assert "no_such_table" in str(raised.value)  # the message still says what failed
    assert NOTE not in str(raised.value)


def test_a_draft_that_could_not_be_kept_logs_no_note_text(
    backend: str,
    db: Session,
    clinic: Clinic,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The database refuses the draft's write (its values hold the note): the log says a
    draft was not kept and why, and the page says so; the note is in neither log line."""

    @contextmanager
    def same_db() -> Iterator[Session]:
        yield db

    def refused(db: Session, actor: object, **where: Any) -> None:
        begin_write(db)
        db.execute(
            text("INSERT INTO no_such_table (draft) VALUES (:draft)"),
            {"draft": json.dumps(where["values"])},
        )

    state: dict[str, object] = {}
    monkeypatch.setattr(session_drafts, "db_session", same_db)
    monkeypatch.setattr(session_drafts, "st", SimpleNamespace(session_state=state))
    monkeypatch.setattr(drafts, "save_draft", refused)
    form = SimpleNamespace(couple_id=clinic.couple_id, session_id=None)
    draft = SimpleNamespace(values={"sf_note_assessment": NOTE}, version=None)
    with caplog.at_level(logging.WARNING, logger=session_drafts.__name__):
        session_drafts.keep(form, draft, clinic.counselor, datetime.now(UTC))  # type: ignore[arg-type]
    db.rollback()
    assert session_drafts.NOT_KEPT_KEY in state  # the form says the draft was not kept
    assert "draft not kept" in caplog.text
    assert "no_such_table" in caplog.text
    assert NOTE not in caplog.text
