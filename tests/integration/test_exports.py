"""Table exports and the research extract through the real services, on both backends."""

from __future__ import annotations

import io
import random
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import pandas as pd
import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from dashboard.domain.couple_outcome import OUTCOMES
from dashboard.domain.expected_response import Alert
from dashboard.domain.validation import CoupleInput, SessionInput
from dashboard.reports import research
from dashboard.services import couples, exports, review, sessions
from dashboard.services.errors import AccessDenied, ServiceError, ValidationFailed
from dashboard.services.expected import expected_model
from db.engine import begin_write
from db.models import Barrier, Couple, HabitAssignment
from tests.conftest import Clinic
from tests.integration.conftest import TODAY, AuditLookup, full_ratings

UNICODE_NAME = "Zoë Ångström — Nguyễn"
FORMULA_NAME = '=HYPERLINK("http://x")'
CLOSING_NOTE = "Moved to Lisbon together"
COUNSELOR_NAMES = ("Cara Couns", "Olly Other", "Sam Super", "Ada Admin")


@dataclass
class World:
    clinic: Clinic
    names: list[str]
    case_codes: dict[str, str]  # whose -> case code
    notes: list[str]


def _note(tag: str) -> dict[str, str]:
    return {
        "note_data": f"Data {tag}: they spoke of the lake house.",
        "note_assessment": f"Assessment {tag}: withdrawal under stress.",
        "note_plan": f"Plan {tag}: ten-minute check-in nightly.",
    }


@pytest.fixture
def world(db: Session, clinic: Clinic, make_input: Callable[..., SessionInput]) -> World:
    cara, olly = clinic.counselor, clinic.other_counselor
    notes: list[str] = [CLOSING_NOTE, "Drifting apart", "Talk weekly", "Conflict", "Repair"]

    def log(actor, couple_id, tag, **overrides):  # type: ignore[no-untyped-def]
        fields = _note(tag) | overrides
        notes.extend(v for k, v in fields.items() if k.endswith("note") or k.startswith("note_"))
        return sessions.log_session(db, actor, couple_id, make_input(**fields), today=TODAY)

    first = log(cara, clinic.couple_id, "a1", habits_assigned=["daily_appreciation"])
    assignment = db.scalar(select(HabitAssignment.id).where(HabitAssignment.session_id == first))
    log(
        cara,
        clinic.couple_id,
        "a2",
        session_date=date(2026, 3, 16),
        adherence={assignment: 2},
        safety_flag=True,
        safety_note="Raised voices at home last week",
    )
    log(
        cara,
        clinic.couple_id,
        "a3",
        session_date=date(2026, 4, 13),
        attendance="partner_a",
        ratings={"A": full_ratings(7)},
        private_note="Partner A spoke alone about the affair",
    )
    gone = log(cara, clinic.couple_id, "gone", session_date=date(2026, 5, 4))
    sessions.delete_session(db, cara, gone)

    unicode_id = couples.create_couple(
        db,
        cara,
        CoupleInput(UNICODE_NAME, FORMULA_NAME, date(2026, 2, 10), "Grief after a move", "Rebuild"),
        today=TODAY,
    )
    notes += ["Grief after a move", "Rebuild"]
    log(cara, unicode_id, "u1", session_date=date(2026, 2, 17))
    log(cara, unicode_id, "u2", session_date=date(2026, 3, 3))
    version = db.scalar(select(Couple.version).where(Couple.id == unicode_id))
    couples.change_status(
        db,
        cara,
        unicode_id,
        new_status="closed",
        closing_reason="goals_met",
        note=CLOSING_NOTE,
        expected_version=version,
    )
    log(olly, clinic.other_couple_id, "o1", session_date=date(2026, 3, 5))
    codes = dict(db.execute(select(Couple.id, Couple.case_code)).all())
    return World(
        clinic,
        ["Alex", "Blair", "Casey", "Drew", UNICODE_NAME, FORMULA_NAME],
        {
            "cara": codes[clinic.couple_id],
            "unicode": codes[unicode_id],
            "olly": codes[clinic.other_couple_id],
        },
        notes + ["New job"],  # the barrier tag's note
    )


def _read(file: exports.ExportFile) -> pd.DataFrame:
    if file.filename.endswith(".csv"):
        assert file.data.startswith(b"\xef\xbb\xbf")
        return pd.read_csv(io.BytesIO(file.data), encoding="utf-8-sig", dtype=str)
    return pd.read_excel(io.BytesIO(file.data), dtype=str)


def _cells(frame: pd.DataFrame) -> list[str]:
    return [str(v) for v in frame.fillna("").to_numpy().ravel()] + list(frame.columns)


# (caseload, sessions, ratings) rows each actor may export
EXPECTED = {
    "counselor": (2, 5, 72),
    "supervisor": (2, 5, 72),
    "other_counselor": (1, 1, 16),
    "admin": (3, 6, 88),
}


@pytest.mark.parametrize("who", list(EXPECTED))
@pytest.mark.parametrize("fmt", exports.FORMATS)
def test_tables_round_trip_in_scope(
    backend: str, world: World, db: Session, audits: AuditLookup, who: str, fmt: str
) -> None:
    actor = getattr(world.clinic, who)
    for table, expected in zip(exports.TABLES, EXPECTED[who], strict=True):
        file = exports.table_export(db, actor, table, fmt, today=TODAY)
        assert file.filename == f"bondline-{table}-2026-11-01.{fmt}"
        assert file.records == expected
        frame = _read(file)
        assert len(frame) == expected, table
        cells = " ".join(_cells(frame))
        if who in ("counselor", "supervisor"):
            assert world.case_codes["olly"] not in cells
            assert "Casey" not in cells and "Drew" not in cells
            assert "Olly Other" not in cells
        if who == "other_counselor":
            assert world.case_codes["cara"] not in cells
        for note in world.notes:  # no free text in any table
            assert note not in cells, (table, note)
    events = audits(action="export", entity="table", user_id=actor.user_id)
    assert [e.detail for e in events] == [
        f"{t}.{fmt}: {n} rows" for t, n in zip(exports.TABLES, EXPECTED[who], strict=True)
    ]
    assert all(e.success for e in events)


@pytest.mark.parametrize("fmt", exports.FORMATS)
def test_unicode_and_formula_names(backend: str, world: World, db: Session, fmt: str) -> None:
    frame = _read(exports.table_export(db, world.clinic.counselor, "caseload", fmt, today=TODAY))
    row = frame[frame["case_code"] == world.case_codes["unicode"]].iloc[0]
    assert row["partners"] == f"{UNICODE_NAME} & {FORMULA_NAME}"
    assert not any(c.startswith(("=", "+", "-", "@")) for c in _cells(frame))


@pytest.mark.parametrize("fmt", exports.FORMATS)
def test_caseload_outcome_column_in_the_reviews_words(
    backend: str, world: World, db: Session, fmt: str
) -> None:
    frame = _read(exports.table_export(db, world.clinic.counselor, "caseload", fmt, today=TODAY))
    columns = list(frame.columns)
    assert columns[columns.index("stage") + 1] == "outcome"
    # The words of My caseload and the review (partner-level, couple_outcome.py).
    assert set(frame["outcome"]) <= set(OUTCOMES)
    ids = dict(db.execute(select(Couple.case_code, Couple.id)).all())
    db.rollback()
    flags = review.caseload_flags(
        db, world.clinic.counselor, [ids[c] for c in frame["case_code"]], today=TODAY
    ).set_index("couple_id")
    shown = flags["outcome"]
    assert [shown[ids[c]] for c in frame["case_code"]] == frame["outcome"].tolist()
    # The expected course beside it, as My caseload's cell says it: the alert, and who.
    assert columns[columns.index("outcome") + 1 : columns.index("outcome") + 3] == [
        "expected_alert",
        "expected_partner",
    ]
    assert set(frame["expected_alert"]) <= {a.value for a in Alert}
    for code, alert, partner in zip(
        frame["case_code"],
        frame["expected_alert"],
        frame["expected_partner"].fillna(""),
        strict=True,
    ):
        cell = flags.loc[ids[code], "expected"]
        assert cell == (f"{alert} — {partner}" if partner else alert), code
    # The model it was judged by is named on every row.
    label = expected_model(db).label
    db.rollback()
    assert label and frame["expected_course"].eq(label).all()


def test_formula_cell_is_escaped_in_both_formats(backend: str, db: Session, clinic: Clinic) -> None:
    couples.create_couple(
        db, clinic.counselor, CoupleInput(FORMULA_NAME, "+1", date(2026, 3, 1)), today=TODAY
    )
    csv = exports.table_export(db, clinic.counselor, "caseload", "csv", today=TODAY)
    xlsx = exports.table_export(db, clinic.counselor, "caseload", "xlsx", today=TODAY)
    for frame in (_read(csv), _read(xlsx)):
        assert f"'{FORMULA_NAME} & +1" in frame["partners"].tolist()


def test_sessions_table_columns(backend: str, world: World, db: Session) -> None:
    file = exports.table_export(db, world.clinic.counselor, "sessions", "csv", today=TODAY)
    frame = _read(file)
    assert list(frame.columns) == exports.SESSION_COLUMNS
    first = frame.iloc[0]
    assert first["case_code"] == world.case_codes["cara"]
    assert first["counselor"] == "Cara Couns"
    assert first["session_date"] == "2026-03-02"
    assert first["barriers"] == "Stress and distraction (Moderate)"
    assert first["habits_assigned"] == "Show appreciation daily"
    assert first["couple_eii"] == "50.0"
    assert frame["safety_flag"].tolist().count("True") == 1


def test_all_tables_workbook(backend: str, world: World, db: Session, audits: AuditLookup) -> None:
    file = exports.all_tables_xlsx(db, world.clinic.supervisor, today=TODAY)
    assert file.filename == "bondline-tables-2026-11-01.xlsx"
    sheets = pd.read_excel(io.BytesIO(file.data), sheet_name=None)
    assert {k: len(v) for k, v in sheets.items()} == {"caseload": 2, "sessions": 5, "ratings": 72}
    assert file.records == 79
    (event,) = audits(action="export", entity="table")
    assert event.detail == "all.xlsx: caseload 2, sessions 5, ratings 72 rows"


def test_unknown_table_or_format(backend: str, db: Session, clinic: Clinic) -> None:
    with pytest.raises(ValidationFailed) as caught:
        exports.table_export(db, clinic.counselor, "notes", "pdf", today=TODAY)
    assert set(caught.value.errors) == {"table", "format"}


def test_inactive_account_refused(
    backend: str, db: Session, clinic: Clinic, audits: AuditLookup
) -> None:
    from db.models import User

    begin_write(db)
    db.get(User, clinic.counselor.user_id).active = False  # type: ignore[union-attr]
    db.commit()
    with pytest.raises(AccessDenied):
        exports.table_export(db, clinic.counselor, "sessions", "csv", today=TODAY)
    with pytest.raises(AccessDenied):
        exports.all_tables_xlsx(db, clinic.counselor, today=TODAY)
    assert len(audits(action="export", success=False)) == 2


@pytest.mark.parametrize("who", ["counselor", "supervisor"])
def test_research_extract_is_for_admins(
    backend: str, world: World, db: Session, audits: AuditLookup, who: str
) -> None:
    actor = getattr(world.clinic, who)
    with pytest.raises(AccessDenied, match="for clinic admins"):
        exports.research_extract(db, actor, rng=random.Random(1))
    (event,) = audits(action="export", entity="research")
    assert event.user_id == actor.user_id
    assert not event.success


def test_k_comes_from_the_settings_and_a_small_clinic_gets_no_couple(
    backend: str, world: World, db: Session, audits: AuditLookup, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Three couples cannot make a group of five: all are left out, and the README and
    the audit line say so."""
    monkeypatch.delenv("BONDLINE_RESEARCH_K", raising=False)
    file = exports.research_extract(db, world.clinic.admin, rng=random.Random(1))
    frames, raw = _unzip(file.data)
    assert file.records == 0 and frames["couples.csv"].empty
    assert "k-anonymity (k = 5)" in raw["README.txt"]
    assert "Left out: 3 couple(s)" in raw["README.txt"]
    (event,) = audits(action="export", entity="research")
    assert event.detail == "research.zip: k = 5, 0 couples (3 left out), 0 measurement points"


def _unzip(data: bytes) -> tuple[dict[str, pd.DataFrame], dict[str, str]]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        raw = {n: archive.read(n).decode("utf-8-sig") for n in archive.namelist()}
        frames = {
            n: pd.read_csv(archive.open(n), encoding="utf-8-sig", dtype=str, keep_default_na=False)
            for n in archive.namelist()
            if n.endswith(".csv")
        }
    return frames, raw


def test_research_extract_is_de_identified(
    backend: str, world: World, db: Session, audits: AuditLookup, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With k = 2, Cara's couple and Olly's (alike but for their scores) are released;
    the closed couple, alone of its kind, is left out."""
    monkeypatch.setenv("BONDLINE_RESEARCH_K", "2")
    # A barrier the clinic named itself: its name must not travel (a person typed it).
    begin_write(db)
    db.execute(
        update(Barrier)
        .where(Barrier.code == "stress_distraction")
        .values(name="Jane Doe affair", is_seed=False)
    )
    db.commit()
    file = exports.research_extract(db, world.clinic.admin, rng=random.Random(7))
    assert file.filename == "bondline-research-extract.zip"  # no real date anywhere
    assert file.mime == "application/zip" and file.records == 2
    frames, raw = _unzip(file.data)
    assert set(raw) == {*research.FILES, "data_dictionary.csv", "README.txt"}
    lengths = {name: len(frames[name]) for name in research.FILES}
    assert lengths == {
        "couples.csv": 2,
        "measurements.csv": 2,
        "ratings.csv": 32,  # both partners' eight items at each couple's one point
        "barriers.csv": 2,
        "habits.csv": 0,
        "instruments.csv": 0,
    }
    forbidden = [*world.names, *world.case_codes.values(), *world.notes, *COUNSELOR_NAMES]
    forbidden += [c.username for c in (world.clinic.counselor, world.clinic.other_counselor)]
    forbidden += ["Jane Doe affair", TODAY.isoformat(), "2026-"]  # no date at all
    assert frames["barriers.csv"]["barrier"].tolist() == [research.CLINIC_BARRIER] * 2
    with zipfile.ZipFile(io.BytesIO(file.data)) as archive:
        assert {info.date_time[:3] for info in archive.infolist()} == {(1980, 1, 1)}
    for name, frame in frames.items():
        for cell in _cells(frame):
            for word in forbidden:
                assert word not in cell, (name, word)
    for name, text in raw.items():
        for word in forbidden:
            assert word not in text, (name, word)
    couples_csv = frames["couples.csv"]
    assert (
        couples_csv[["status", "course_length", "sessions_held"]].values.tolist()
        == [["active", "weeks 3–25", "1–3"]] * 2
    )
    assert frames["measurements.csv"]["point"].tolist() == ["weeks 3–25"] * 2
    assert "Left out: 1 couple(s)" in raw["README.txt"]
    (event,) = audits(action="export", entity="research")
    assert event.detail == "research.zip: k = 2, 2 couples (1 left out), 2 measurement points"
    assert event.user_id == world.clinic.admin.user_id


def test_an_extract_whose_files_single_out_a_couple_is_never_made(
    backend: str, world: World, db: Session, audits: AuditLookup, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The builder measures its own files: were the generaliser to release every couple
    as recorded (here: made to), a couple alone in its group stops the extract."""
    from dashboard.reports import anonymity

    def as_recorded(courses, k, levels=None):  # type: ignore[no-untyped-def]
        kept = anonymity.Levels(0, 0, 0, 0, 0)
        released = tuple(anonymity._generalised(c, i, kept, False) for i, c in enumerate(courses))
        return anonymity.Anonymised(k, kept, released, 0, 0)

    monkeypatch.setattr(research.anonymity, "anonymise", as_recorded)
    monkeypatch.setenv("BONDLINE_RESEARCH_K", "2")
    with pytest.raises(ServiceError, match="was not made: a released record is shared by 1"):
        exports.research_extract(db, world.clinic.admin, rng=random.Random(1))
    assert audits(action="export", entity="research") == []  # nothing left the clinic


def test_two_extracts_use_different_keys_and_the_same_records(
    backend: str, world: World, db: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Keys are new every time and derived from no id; the rest is the same."""
    monkeypatch.setenv("BONDLINE_RESEARCH_K", "2")
    one, _ = _unzip(exports.research_extract(db, world.clinic.admin).data)
    two, _ = _unzip(exports.research_extract(db, world.clinic.admin).data)
    assert not set(one["couples.csv"]["couple_key"]) & set(two["couples.csv"]["couple_key"])
    ids = {str(i) for i in db.scalars(select(Couple.id))}
    assert not set(one["couples.csv"]["couple_key"]) & ids
    for name in research.FILES:
        assert sorted(map(tuple, one[name].drop(columns="couple_key").values.tolist())) == sorted(
            map(tuple, two[name].drop(columns="couple_key").values.tolist())
        ), name


def test_data_dictionary_lists_every_column(backend: str, world: World, db: Session) -> None:
    frames, raw = _unzip(exports.research_extract(db, world.clinic.admin).data)
    dictionary = frames["data_dictionary.csv"]
    listed = set(zip(dictionary["file"], dictionary["column"], strict=True))
    for name in research.FILES:
        for column in frames[name].columns:
            assert (name, column) in listed
    assert all(dictionary["meaning"].str.strip() != "")
    assert "k-anonymity (k = 5)" in raw["README.txt"] and "random" in raw["README.txt"]


@pytest.mark.parametrize("fmt", exports.FORMATS)
def test_files_are_built_outside_any_transaction_and_say_how_far(
    backend: str, world: World, db: Session, fmt: str
) -> None:
    """The page's "Preparing… 3,000 of 15,000 rows": told from 0 to the whole table, and
    while the file is built no transaction is open (the read ended; no lock is held)."""
    heard: list[tuple[int, int, bool]] = []

    def progress(done: int, total: int) -> None:
        heard.append((done, total, db.in_transaction()))

    one = exports.table_export(
        db, world.clinic.admin, "ratings", fmt, today=TODAY, progress=progress
    )
    assert heard[0] == (0, 88, False) and heard[-1] == (88, 88, False)
    assert not any(inside for _, _, inside in heard)
    heard.clear()
    every = exports.all_tables_xlsx(db, world.clinic.admin, today=TODAY, progress=progress)
    assert (one.records, every.records) == (88, 3 + 6 + 88)
    assert heard[0] == (0, 97, False) and heard[-1] == (97, 97, False)
    assert [done for done, _, _ in heard] == sorted(done for done, _, _ in heard)
    assert not any(inside for _, _, inside in heard)


def test_the_workbook_shows_what_a_user_expects(backend: str, world: World, db: Session) -> None:
    """Opened as Excel would: three sheets, bold frozen headers, dates as dates, numbers as
    numbers, the formula-like name as text."""
    from openpyxl import load_workbook

    file = exports.all_tables_xlsx(db, world.clinic.counselor, today=TODAY)
    book = load_workbook(io.BytesIO(file.data))
    assert book.sheetnames == list(exports.TABLES)
    sessions_sheet = book["sessions"]
    assert [c.value for c in sessions_sheet[1]] == exports.SESSION_COLUMNS
    assert all(c.font.bold for c in sessions_sheet[1]) and sessions_sheet.freeze_panes == "A2"
    first = {h: c for h, c in zip(exports.SESSION_COLUMNS, sessions_sheet[2], strict=True)}
    assert first["session_date"].is_date and first["session_date"].number_format == "yyyy-mm-dd"
    assert first["session_date"].value.date() == date(2026, 3, 2)
    assert first["couple_eii"].value == 50.0 and first["duration_minutes"].data_type == "n"
    assert first["safety_flag"].value is False
    caseload = book["caseload"]
    partners = [row[1].value for row in caseload.iter_rows(min_row=2)]
    assert f"{UNICODE_NAME} & {FORMULA_NAME}" in partners
    formulas = [c for s in book for row in s.iter_rows() for c in row if c.data_type == "f"]
    assert formulas == []


def test_the_research_extract_says_how_far_it_got(backend: str, world: World, db: Session) -> None:
    """Steps: each table read (inside the snapshot), then each file written (outside it)."""
    heard: list[tuple[int, int, bool]] = []
    exports.research_extract(
        db,
        world.clinic.admin,
        rng=random.Random(5),
        progress=lambda done, total: heard.append((done, total, db.in_transaction())),
    )
    reads, files = len(exports.RESEARCH_QUERIES), len(research.FILES) + 1
    assert [done for done, _, _ in heard] == list(range(reads + files + 1))
    assert {total for _, total, _ in heard} == {reads + files}
    assert not any(inside for done, _, inside in heard if done >= reads)
