"""Exports: the caseload, session and rating tables (CSV, Excel) and the research extract.

Every export respects the actor's scope (a counselor's own couples, a supervisor's
supervisees', an admin's whole clinic) and is audited with who, what and how many
records. The tables hold no free text: they are for analysis, not for reading notes.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

import pandas as pd
from sqlalchemy import ColumnElement, Row
from sqlalchemy.orm import Session as DbSession

from dashboard.config import load_settings
from dashboard.domain import expected_versions
from dashboard.domain import norms as norms_rules
from dashboard.domain.catalog import (
    ATTENDANCE_LABELS,
    FORMAT_LABELS,
    HABIT_BY_KEY,
    INDICATOR_BY_KEY,
    SEVERITIES,
    Attendance,
    SessionFormat,
    stage_label,
)
from dashboard.domain.couple_outcome import TOO_EARLY
from dashboard.domain.expected_response import Alert
from dashboard.domain.scoring import couple_eii
from dashboard.reports import research, tables
from dashboard.services import audit, couples, review, scope
from dashboard.services.actor import Actor
from dashboard.services.errors import AccessDenied, ServiceError, ValidationFailed
from dashboard.services.expected import expected_model
from dashboard.services.norms import clinic_norms
from db import export_queries
from db.engine import begin_snapshot

TABLES = ("caseload", "sessions", "ratings")
FORMATS = ("csv", "xlsx")
MIME = {
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "zip": "application/zip",
}
Progress = Callable[[int, int], None]  # (done, total): rows written of the table's rows

RESEARCH_ADMINS_ONLY = "The research extract is for clinic admins."
RESEARCH_FILENAME = "bondline-research-extract.zip"

SESSION_COLUMNS = [
    "case_code",
    "counselor",
    "session_id",
    "session_date",
    "duration_minutes",
    "format",
    "attendance",
    "stage",
    "eii_a",
    "eii_b",
    "couple_eii",
    "safety_flag",
    "barriers",
    "habits_assigned",
]
RATING_COLUMNS = [
    "case_code",
    "session_date",
    "session_id",
    "partner",
    "item_key",
    "item_label",
    "value",
]


@dataclass(frozen=True)
class ExportFile:
    filename: str
    data: bytes
    mime: str
    records: int
    note: str = ""  # what a user should know about what is (not) in it, shown beside it


def _filename(what: str, today: date, ext: str) -> str:
    return f"bondline-{what}-{today.isoformat()}.{ext}"


def _caseload_frame(db: DbSession, actor: Actor, today: date) -> pd.DataFrame:
    """The caseload as the counselor sees it on screen, without the database id, with
    each couple's outcome in the review's words (partner-level, couple_outcome.py), its
    expected-course alert (`expected_alert`: expected_response.Alert's words, for the
    worse partner named in `expected_partner`: "Partner A", "Partner B", "both partners"
    or empty), the clinic norms version the outcome is judged by and the expected-course
    model the alert is judged by (each the same on every row)."""
    # A copy: list_caseload's frame is the page cache's own.
    frame = couples.list_caseload(db, actor, today=today, record_view=False).copy()
    flags = review.caseload_flags(db, actor, frame["couple_id"].tolist(), today=today)
    flags = flags.set_index("couple_id").reindex(frame["couple_id"])
    at = frame.columns.get_loc("stage") + 1
    frame.insert(at, "outcome", flags["outcome"].fillna(TOO_EARLY).astype(str).to_numpy())
    # The expected course as My caseload shows it: the worse partner's alert, and who.
    alert = flags["expected_alert"].astype(object)
    partner = flags["expected_partner"].astype(object)
    frame.insert(at + 1, "expected_alert", alert.fillna(Alert.NO_DATA).astype(str).to_numpy())
    frame.insert(at + 2, "expected_partner", partner.fillna("").astype(str).to_numpy())
    return frame.drop(columns="couple_id").assign(
        clinic_norms=clinic_norms(db).label, expected_course=expected_model(db).label
    )


def _joined(pairs: Sequence[tuple[int, str]]) -> dict[int, str]:
    """session id -> its labels joined with '; ', in the order given."""
    grouped: dict[int, list[str]] = defaultdict(list)
    for session_id, label in pairs:
        grouped[session_id].append(label)
    return {k: "; ".join(v) for k, v in grouped.items()}


def _sessions_frame(db: DbSession, where: ColumnElement[bool]) -> pd.DataFrame:
    sessions = export_queries.session_rows(db, where)
    barriers = _joined(
        [
            (b.session_id, f"{b.barrier} ({SEVERITIES.get(b.severity, b.severity)})")
            for b in export_queries.barrier_rows(db, where)
        ]
    )
    habits = _joined(
        [
            (h.session_id, HABIT_BY_KEY[h.habit].label if h.habit in HABIT_BY_KEY else h.habit)
            for h in export_queries.habit_rows(db, where)
        ]
    )
    frame = pd.DataFrame(
        [
            {
                "case_code": s.case_code,
                "counselor": s.counselor,
                "session_id": s.session_id,
                "session_date": s.session_date,
                "duration_minutes": s.duration_minutes,
                "format": FORMAT_LABELS[SessionFormat(s.format)],
                "attendance": ATTENDANCE_LABELS[Attendance(s.attendance)],
                "stage": stage_label(s.stage),
                "eii_a": tables.eii_cell(s.eii_a),
                "eii_b": tables.eii_cell(s.eii_b),
                "couple_eii": tables.eii_cell(couple_eii(s.eii_a, s.eii_b)),
                "safety_flag": bool(s.safety_flag),
                "barriers": barriers.get(s.session_id, ""),
                "habits_assigned": habits.get(s.session_id, ""),
            }
            for s in sessions
        ],
        columns=SESSION_COLUMNS,
    )
    return frame.astype({"duration_minutes": "Int64", "safety_flag": bool})


def _ratings_frame(db: DbSession, where: ColumnElement[bool]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "case_code": r.case_code,
                "session_date": r.session_date,
                "session_id": r.session_id,
                "partner": r.partner,
                "item_key": r.item,
                "item_label": INDICATOR_BY_KEY[r.item].label if r.item in INDICATOR_BY_KEY else "",
                "value": r.value,
            }
            for r in export_queries.rating_rows(db, where)
        ],
        columns=RATING_COLUMNS,
    )


def _frame(db: DbSession, actor: Actor, table: str, today: date) -> pd.DataFrame:
    if table == "caseload":
        return _caseload_frame(db, actor, today)
    where = scope.visible_couples(actor)
    if table == "sessions":
        return _sessions_frame(db, where)
    return _ratings_frame(db, where)


def _read_tables(
    db: DbSession, actor: Actor, names: Sequence[str], today: date
) -> dict[str, pd.DataFrame]:
    """The tables as of one moment, read in a plain snapshot transaction that ends
    before any file is built: a long build holds no transaction, let alone a lock."""
    begin_snapshot(db)  # every table as of one moment; no lock held
    scope.require_active(db, actor, "export", entity="table")
    frames = {name: _frame(db, actor, name, today) for name in names}
    db.commit()  # end the read (it wrote nothing)
    return frames


def _rows_told(progress: Progress | None, total: int) -> tables.RowsDone | None:
    """The builders count rows written; the caller hears them against the total."""
    if progress is None:
        return None
    progress(0, total)
    return lambda done: progress(done, total)


def table_export(
    db: DbSession,
    actor: Actor,
    table: str,
    fmt: str,
    *,
    today: date | None = None,
    progress: Progress | None = None,
) -> ExportFile:
    """One table of the actor's scope as CSV or a one-sheet workbook; audited with its rows.

    `progress(rows written, rows)` is told as the file is built."""
    errors = {}
    if table not in TABLES:
        errors["table"] = f"Choose one of: {', '.join(TABLES)}."
    if fmt not in FORMATS:
        errors["format"] = f"Choose one of: {', '.join(FORMATS)}."
    if errors:
        raise ValidationFailed(errors)
    today = today or date.today()
    frame = _read_tables(db, actor, [table], today)[table]
    told = _rows_told(progress, len(frame))
    if fmt == "csv":
        data = tables.to_csv_bytes(frame, progress=told)
    else:
        data = tables.to_xlsx_bytes({table: frame}, progress=told)
    audit.record_after_read(
        db, actor, "export", entity="table", detail=f"{table}.{fmt}: {len(frame)} rows"
    )
    return ExportFile(_filename(table, today, fmt), data, MIME[fmt], len(frame))


def all_tables_xlsx(
    db: DbSession, actor: Actor, *, today: date | None = None, progress: Progress | None = None
) -> ExportFile:
    """The three tables as sheets of one workbook; audited once with every count.

    `progress(rows written, rows)` is told as the workbook is built."""
    today = today or date.today()
    frames = _read_tables(db, actor, TABLES, today)
    records = sum(len(frame) for frame in frames.values())
    data = tables.to_xlsx_bytes(frames, progress=_rows_told(progress, records))
    counts = ", ".join(f"{table} {len(frame)}" for table, frame in frames.items())
    audit.record_after_read(db, actor, "export", entity="table", detail=f"all.xlsx: {counts} rows")
    return ExportFile(_filename("tables", today, "xlsx"), data, MIME["xlsx"], records)


def _mappings(rows: Sequence[Row]) -> list[dict[str, object]]:
    return [dict(r._mapping) for r in rows]


def research_k() -> int:
    """The clinic's k for the research extract (`[research] k`, 5 by default)."""
    return load_settings().research_k


RESEARCH_QUERIES = {
    "couples": export_queries.couple_rows,
    "sessions": export_queries.session_rows,
    "ratings": export_queries.rating_rows,
    "barriers": export_queries.barrier_rows,
    "habits": export_queries.habit_rows,
    "instruments": export_queries.instrument_rows,
}


def research_extract(
    db: DbSession,
    actor: Actor,
    *,
    rng: random.Random | None = None,
    progress: Progress | None = None,
) -> ExportFile:
    """The de-identified research extract of the whole clinic (a zip); admins only.

    Every couple shares its released record, scores aside, with at least k - 1 others
    (k: `[research] k`, 5 by default); the README inside says what was generalised, how
    many couples were withheld or left out, and the measured share of unique couples.
    It carries no date at all. `records` is the couples released. `progress(steps done,
    steps)` is told after each table read and each file written."""
    begin_snapshot(db)  # every table as of one moment; no lock held
    scope.require_active(db, actor, "export", entity="research")
    if not actor.is_admin:
        raise audit.refused(
            db,
            actor,
            "export",
            AccessDenied(RESEARCH_ADMINS_ONLY),
            entity="research",
            detail="research extract: admins only",
        )
    k = research_k()
    where = scope.visible_couples(actor)
    told = progress or (lambda done, total: None)
    reads = len(RESEARCH_QUERIES)
    steps = reads + len(research.FILES) + 1  # each table read, each file (and dictionary)
    read = {}
    for done, (name, query) in enumerate(RESEARCH_QUERIES.items()):
        told(done, steps)
        read[name] = _mappings(query(db, where))
    # As of the same moment as the rows; its version named without a date.
    current = clinic_norms(db)
    norms = norms_rules.undated(current.eii)
    expected = expected_versions.undated(expected_model(db))
    db.commit()  # end the read (it wrote nothing): the zip is built outside it
    told(reads, steps)
    try:
        data = research.build_research_extract(
            **read,
            rng=rng or random.SystemRandom(),
            k=k,
            eii_norms=norms,
            norms_version=norms.norms_label if current.version is not None else None,
            expected=expected,
            progress=lambda files, _: told(reads + files, steps),
        )
    except research.NotAnonymous as failed:  # the builder's last check: nothing leaves
        raise ServiceError(f"The research extract was not made: {failed}.") from failed
    counts = research.extract_counts(data)
    n_couples, n_points = counts["couples.csv"], counts["measurements.csv"]
    left_out = len(read["couples"]) - n_couples
    audit.record_after_read(
        db,
        actor,
        "export",
        entity="research",
        detail=(
            f"research.zip: k = {k}, {n_couples} couples ({left_out} left out), "
            f"{n_points} measurement points"
        ),
    )
    # No date in the name or inside the zip: the extract's time is weeks since intake.
    couples_word = "couple" if left_out == 1 else "couples"
    note = (
        f"{left_out} {couples_word} left out, so that every couple released shares what "
        f"the extract shows about it with at least {k - 1} others (k = {k}). README.txt "
        "inside says which bands were used and what was withheld."
    )
    return ExportFile(RESEARCH_FILENAME, data, MIME["zip"], n_couples, note)
