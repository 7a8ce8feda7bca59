"""The per-couple summary rows are kept on write and stay equal to a full recomputation
(services/couple_summaries.py, issue 23 point 2). Runs on SQLite, and on PostgreSQL when
TEST_DATABASE_URL is set."""

from __future__ import annotations

import random
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import delete, func, select, text, update
from sqlalchemy.orm import Session

from dashboard.domain.catalog import CLOSING_REASONS, INDICATORS
from dashboard.domain.validation import CoupleInput
from dashboard.services import couple_summaries, couples, sessions
from dashboard.services.errors import ServiceError
from db.engine import begin_write, make_engine, make_sessionmaker
from db.models import AuditEvent, Couple, CoupleSession
from db.summary_models import CoupleSummary
from tests.conftest import Clinic, build_clinic
from tests.integration.test_cli import run_cli

TODAY = date(2026, 11, 1)
OPERATIONS = 80


def _ratings(rng: random.Random) -> dict[str, dict[str, int | None]]:
    """Both partners, one, or none rated; every item 0-10 around a partner's level."""
    out: dict[str, dict[str, int | None]] = {}
    for partner in rng.sample(["A", "B"], rng.choice([0, 1, 2, 2])):
        level = rng.randint(1, 9)
        out[partner] = {i.key: min(10, max(0, level + rng.randint(-1, 1))) for i in INDICATORS}
    return out


def _missing_as_none(frame: pd.DataFrame) -> pd.DataFrame:
    """A text column's missing value is None, whichever way it went missing (NaN from a
    join, None from a rule): JSON stores both as null, and every reader asks pd.isna.
    Dates compare at one resolution."""
    frame = frame.copy()
    for column in frame.columns:
        if pd.api.types.is_object_dtype(frame[column]):
            frame[column] = frame[column].where(frame[column].notna(), None)
        elif pd.api.types.is_datetime64_dtype(frame[column]):
            # Days read from PostgreSQL come as datetime64[s], from SQLite as [us].
            frame[column] = frame[column].astype("datetime64[us]")
    return frame


def _random_edits(db: Session, clinic: Clinic, make_input, rng: random.Random) -> int:
    """OPERATIONS seeded saves, edits, deletions, restores and status changes through the
    services; how many were accepted (a refused one writes nothing)."""
    ids = [clinic.couple_id]
    for n in range(5):
        ids.append(
            couples.create_couple(
                db,
                clinic.counselor,
                CoupleInput(f"P{n}", f"Q{n}", date(2026, 1, 2 + n), "", ""),
                today=TODAY,
            )
        )
    accepted = 0
    for _ in range(OPERATIONS):
        op = rng.choices(["log", "edit", "delete", "restore", "status"], [8, 4, 2, 1, 1])[0]
        live = db.scalars(
            select(CoupleSession.id).where(
                CoupleSession.couple_id.in_(ids), CoupleSession.deleted_at.is_(None)
            )
        ).all()
        gone = db.scalars(
            select(CoupleSession.id).where(
                CoupleSession.couple_id.in_(ids), CoupleSession.deleted_at.is_not(None)
            )
        ).all()
        db.rollback()
        day = date(2026, 1, 10) + timedelta(days=rng.randint(0, 290))
        inp = make_input(
            session_date=day,
            attendance=rng.choice(["both", "both", "both", "partner_a", "no_show"]),
            stage=rng.choice([None, 1, 2, 3, 4, 5]),
            ratings=_ratings(rng),
            barriers=[],
            safety_flag=rng.random() < 0.1,
            safety_note="Raised voices described." if rng.random() < 0.5 else "",
        )
        try:
            if op == "log":
                sessions.log_session(db, clinic.counselor, rng.choice(ids), inp, today=TODAY)
            elif op == "edit" and live:
                session_id = rng.choice(live)
                form = sessions.session_form(db, clinic.counselor, session_id, record_view=False)
                sessions.update_session(
                    db,
                    clinic.counselor,
                    session_id,
                    inp,
                    expected_version=form.version,
                    today=TODAY,
                )
            elif op == "delete" and live:
                sessions.delete_session(db, clinic.counselor, rng.choice(live))
            elif op == "restore" and gone:
                sessions.restore_session(db, clinic.admin, rng.choice(gone))
            elif op == "status":
                couple_id = rng.choice(ids)
                status = rng.choice(["active", "paused", "closed"])
                detail = couples.get_couple(db, clinic.counselor, couple_id, record_view=False)
                couples.change_status(
                    db,
                    clinic.counselor,
                    couple_id,
                    new_status=status,
                    closing_reason=next(iter(CLOSING_REASONS)) if status == "closed" else None,
                    expected_version=detail.version,
                )
            else:
                continue
            accepted += 1
        except ServiceError:
            db.rollback()
    return accepted


def test_rows_kept_on_random_edits_equal_a_full_recomputation_and_repair_fixes_damage(
    backend: str, db: Session, clinic: Clinic, make_input
) -> None:
    accepted = _random_edits(db, clinic, make_input, random.Random(23))
    assert accepted > OPERATIONS // 2  # most operations were real changes
    found, _ = couple_summaries.compare(db)
    db.rollback()
    assert found == []

    # What the review reads back from the rows is, column by column and type by type,
    # what it would compute from every session.
    everyone = select(Couple.id).where(Couple.deleted_at.is_(None))
    _, stored, _ = couple_summaries.read_figures(db, everyone)
    _, _, computed = couple_summaries.figures_on_the_fly(db, everyone)
    db.rollback()
    pd.testing.assert_frame_equal(_missing_as_none(stored), _missing_as_none(computed))

    assert couple_summaries.repair(db, clinic.admin) == []

    # Damage three rows: a wrong outcome, a missing row, a row judged with other norms.
    wrong, missing, stale = (
        clinic.couple_id,
        clinic.other_couple_id,
        sorted(db.scalars(select(Couple.id)).all())[-1],
    )
    db.rollback()
    begin_write(db)
    db.execute(
        update(CoupleSummary)
        .where(CoupleSummary.couple_id == wrong)
        .values(outcome="Both partners improved", sessions_held=999)
    )
    db.execute(text("DELETE FROM couple_summaries WHERE couple_id = :c"), {"c": missing})
    db.execute(
        update(CoupleSummary).where(CoupleSummary.couple_id == stale).values(basis="norms 0")
    )
    db.commit()
    codes = {int(r[0]): str(r[1]) for r in db.execute(select(Couple.id, Couple.case_code))}
    db.rollback()

    # A reader never uses the stale or missing rows: it still sees the true figures.
    _, read_back, _ = couple_summaries.read_figures(db, everyone)
    db.rollback()
    assert read_back.loc[stale].equals(computed.loc[stale])

    found = couple_summaries.repair(db, clinic.admin)
    by_code = {d.case_code: d.fields for d in found}
    assert by_code == {
        codes[wrong]: ("outcome", "sessions_held"),
        codes[missing]: ("missing",),
        codes[stale]: ("basis",),
    }
    assert couple_summaries.repair(db, clinic.admin) == []
    details = db.scalars(
        select(AuditEvent.detail).where(AuditEvent.action == "repair_summaries")
    ).all()
    db.rollback()
    assert details[-2].startswith("3 rows differed: ")
    assert details[-1] == "0 rows differed"


@pytest.mark.parametrize(
    ("damage", "named"),
    [("counts", "last_held, sessions_held"), ("deleted", "missing")],
)
def test_repair_command_names_the_row_that_differed_and_leaves_it_right(
    tmp_path: Path, make_input, damage: str, named: str
) -> None:
    """`python -m dashboard repair-summaries --as admin`, run as an operator would: a
    damaged row, and a deleted one (named, not quietly rebuilt before it looks)."""
    url = f"sqlite:///{tmp_path / 'clinic.sqlite3'}"
    assert run_cli(url, "migrate").returncode == 0
    engine = make_engine(url)
    try:
        with make_sessionmaker(engine)() as db:
            clinic = build_clinic(db)
            sessions.log_session(db, clinic.counselor, clinic.couple_id, make_input(), today=TODAY)
            begin_write(db)
            row = CoupleSummary.couple_id == clinic.couple_id
            if damage == "deleted":
                db.execute(delete(CoupleSummary).where(row))
            else:
                db.execute(update(CoupleSummary).where(row).values(sessions_held=0, last_held=None))
            db.commit()
            code = db.scalar(select(Couple.case_code).where(Couple.id == clinic.couple_id))
    finally:
        engine.dispose()
    first = run_cli(url, "repair-summaries", "--as", "admin")
    assert first.returncode == 0, first.stderr
    assert first.stdout.splitlines() == [
        f"{code}: {named}",
        "1 summary rows differed and were rebuilt.",
    ]
    again = run_cli(url, "repair-summaries")
    assert again.stdout.splitlines() == ["Every summary row was right."]


def test_start_up_reads_only_each_rows_basis_while_saves_wait(
    backend: str, db: Session, clinic: Clinic
) -> None:
    """ensure_built (start-up, after a publish) compares each stored row's basis only: its
    reads of the summary rows, one of them while saves are held, name two columns, not
    every figure; the rows it writes still equal a full recomputation."""
    from sqlalchemy import event

    begin_write(db)
    db.execute(update(CoupleSummary).values(basis="stale: marked by this test"))
    db.commit()
    statements: list[str] = []

    def note(_conn, _cursor, statement, _parameters, _context, _many) -> None:  # type: ignore[no-untyped-def]
        statements.append(" ".join(statement.split()))

    engine = db.get_bind()
    event.listen(engine, "before_cursor_execute", note)
    try:
        built = couple_summaries.ensure_built(db)
    finally:
        event.remove(engine, "before_cursor_execute", note)
    reads = [
        s.partition(" FROM ")[0]
        for s in statements
        if s.startswith("SELECT") and " FROM couple_summaries" in s
    ]
    assert reads == ["SELECT couple_summaries.couple_id, couple_summaries.basis"] * 2
    assert built == db.scalar(select(func.count()).select_from(Couple)) > 0
    found, _ = couple_summaries.compare(db)
    db.rollback()
    assert found == []
