"""The de-identified research extract: a zip of CSV files, a data dictionary and a README.

Pure: rows in (mappings with the columns `db.export_queries` selects), bytes out. What
leaves the clinic: structured data only. No partner names, case codes, counselor names or
ids, and no free text of any kind. Couples and sessions get random keys drawn from the
`rng` the caller passes (the service uses `random.SystemRandom`), never derived from a
database id. Every date of a couple moves by the same whole number of days, so the
intervals between them are kept; that number comes from the clinic's research key
(HMAC of the couple's id), the same in every extract. A new random shift per extract
let anyone holding several extracts match couples by their session pattern and narrow
down the true dates with each one (from ±180 days to about ±58 after ten); a stable
shift gives away nothing more the tenth time than the first.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import random
import zipfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pandas as pd

from dashboard.domain.catalog import (
    ADHERENCE,
    ATTENDANCE_LABELS,
    CLOSING_REASONS,
    FORMAT_LABELS,
    HABITS,
    INDICATORS,
    SEED_BARRIERS,
    SEVERITIES,
    STAGES,
    STATUS_LABELS,
)
from dashboard.domain.scoring import couple_eii
from dashboard.reports.tables import eii_cell, to_csv_bytes

Rows = Sequence[Mapping[str, Any]]
CLINIC_BARRIER = "clinic_specific"
ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)  # every file's time inside the zip: never the real one
MAX_SHIFT_DAYS = 180
KEY_BITS = 64


@dataclass(frozen=True)
class Column:
    file: str
    column: str
    meaning: str
    type_units: str
    allowed_values: str = ""


def _choices(labels: Mapping[Any, str]) -> str:
    return "; ".join(f"{str(key)} = {label}" for key, label in labels.items())


_COUPLE_KEY = "random key of the couple, new for every extract"
_SESSION_KEY = "random key of the session, new for every extract"
_TEXT_KEY = "text (hex token)"
_PARTNER = ("partner", "which partner", "text", "A; B")

DICTIONARY: tuple[Column, ...] = (
    Column("couples.csv", "couple_key", _COUPLE_KEY, _TEXT_KEY),
    Column("couples.csv", "intake_date", "intake date, shifted (see README)", "date (YYYY-MM-DD)"),
    Column("couples.csv", "status", "case status at export", "text", _choices(STATUS_LABELS)),
    Column(
        "couples.csv",
        "closing_reason",
        "why the case was closed (empty unless closed)",
        "text (code)",
        _choices(CLOSING_REASONS),
    ),
    Column("sessions.csv", "session_key", _SESSION_KEY, _TEXT_KEY),
    Column("sessions.csv", "couple_key", _COUPLE_KEY, _TEXT_KEY),
    Column(
        "sessions.csv",
        "session_date",
        "session date, shifted by the couple's offset (see README)",
        "date (YYYY-MM-DD)",
    ),
    Column(
        "sessions.csv",
        "days_since_intake",
        "days from the couple's intake to this session (not affected by the shift)",
        "integer (days)",
    ),
    Column("sessions.csv", "duration_minutes", "length of the session", "integer (minutes)"),
    Column("sessions.csv", "format", "how the session was held", "text", _choices(FORMAT_LABELS)),
    Column("sessions.csv", "attendance", "who attended", "text", _choices(ATTENDANCE_LABELS)),
    Column(
        "sessions.csv",
        "stage",
        "counselor's rating of the stage of emotional intimacy (a clinical framework, not a validated scale); empty = not rated",
        "integer",
        "; ".join(f"{s.number} = {s.name}" for s in STAGES),
    ),
    Column(
        "sessions.csv",
        "eii_a",
        "partner A's Emotional Intimacy Index: mean item score (warning signs reversed) x 10; empty below six rated items",
        "number (0-100)",
    ),
    Column(
        "sessions.csv", "eii_b", "partner B's Emotional Intimacy Index (as eii_a)", "number (0-100)"
    ),
    Column(
        "sessions.csv",
        "couple_eii",
        "mean of eii_a and eii_b; empty unless both are present",
        "number (0-100)",
    ),
    Column("ratings.csv", "session_key", _SESSION_KEY, _TEXT_KEY),
    Column("ratings.csv", "couple_key", _COUPLE_KEY, _TEXT_KEY),
    Column("ratings.csv", *_PARTNER),
    Column(
        "ratings.csv",
        "item",
        "indicator item (warning signs are reverse-scored in the EII)",
        "text (code)",
        "; ".join(f"{i.key} = {i.label} ({i.kind})" for i in INDICATORS),
    ),
    Column("ratings.csv", "value", "the partner's rating of the item", "integer (0-10)"),
    Column("barriers.csv", "session_key", _SESSION_KEY, _TEXT_KEY),
    Column("barriers.csv", "couple_key", _COUPLE_KEY, _TEXT_KEY),
    Column(
        "barriers.csv",
        "barrier",
        "barrier tagged at the session: the code of one of the four catalogue barriers, or "
        f"'{CLINIC_BARRIER}' for a barrier the clinic added (its name is typed by the clinic, "
        "so it is not exported); the counselor's note on the tag is not exported",
        "text (code)",
        "; ".join(f"{b.code} = {b.name}" for b in SEED_BARRIERS)
        + f"; {CLINIC_BARRIER} = a barrier the clinic added",
    ),
    Column(
        "barriers.csv",
        "severity",
        "how strongly the barrier showed",
        "integer",
        _choices(SEVERITIES),
    ),
    Column("habits.csv", "session_key", "session at which the habit was assigned", _TEXT_KEY),
    Column("habits.csv", "couple_key", _COUPLE_KEY, _TEXT_KEY),
    Column(
        "habits.csv",
        "habit",
        "habit assigned as homework",
        "text (code)",
        _choices({h.key: h.label for h in HABITS}),
    ),
    Column(
        "habits.csv",
        "adherence",
        "how far the couple kept the habit, recorded at a later session; empty = not recorded",
        "integer",
        _choices(ADHERENCE),
    ),
    Column(
        "habits.csv",
        "adherence_session_key",
        "session at which the adherence was recorded; empty = not recorded",
        _TEXT_KEY,
    ),
    Column("instruments.csv", "session_key", _SESSION_KEY, _TEXT_KEY),
    Column("instruments.csv", "couple_key", _COUPLE_KEY, _TEXT_KEY),
    Column("instruments.csv", *_PARTNER),
    Column("instruments.csv", "instrument", "validated instrument (e.g. ors, srs)", "text (code)"),
    Column(
        "instruments.csv",
        "total",
        "the partner's total score on the instrument",
        "number (instrument's own scale)",
    ),
)

FILES = (
    "couples.csv",
    "sessions.csv",
    "ratings.csv",
    "barriers.csv",
    "habits.csv",
    "instruments.csv",
)
INT_COLUMNS = ("days_since_intake", "duration_minutes", "stage", "value", "severity", "adherence")

README = f"""Bondline de-identified research extract
=======================================

Files: {", ".join(FILES)},
data_dictionary.csv (every column: file, meaning, type/units, allowed values).
CSV files are UTF-8 with a byte-order mark. A text cell that
begins with = + - @ (or a tab or carriage return) starts with an added single quote so a
spreadsheet shows it as text.

What was removed
- Partner names, case codes, the counselor (name and id) and every database id.
- All free text: session notes (Data, Assessment, Plan), private notes, safety notes and
  safety flags, notes on barrier tags, presenting concerns, goals, status and closing
  notes. The closing reason is kept as its code only.
- Deleted sessions and deleted couples.

Keys
- couple_key and session_key are random tokens drawn for this extract only. They are not
  derived from any id and cannot be linked to the clinic's records.

Dates
- Every date of a couple (intake and sessions) is moved by the same whole number of days,
  between -{MAX_SHIFT_DAYS} and +{MAX_SHIFT_DAYS} (never 0), set per couple by a key the
  clinic keeps outside its database. Intervals between a couple's dates are therefore
  exact; calendar dates, weekdays and seasons are not, and dates of different couples
  cannot be compared.
- A couple's shift is the same in every extract. So the couples of two extracts can be
  matched with one another (by their shifted dates), though never with the clinic's
  records: the keys differ each time, and the shift cannot be undone without the
  clinic's key. This is on purpose: a fresh shift per extract would let anyone holding
  several extracts match the couples anyway, by their pattern of sessions, and narrow
  the true dates down further with each extract.
- The extract carries no date of its own making (its file name and the times inside the
  zip are fixed): with a couple's last session close to that day, it would give the
  shift away.
- Barriers are catalogue codes; a barrier the clinic added itself is "{CLINIC_BARRIER}",
  since its name was typed by a person.
"""


def _files_columns() -> dict[str, list[str]]:
    columns: dict[str, list[str]] = {name: [] for name in FILES}
    for entry in DICTIONARY:
        columns[entry.file].append(entry.column)
    return columns


class _Keys:
    """Random, unique tokens for ids, drawn from the caller's generator."""

    def __init__(self, rng: random.Random, prefix: str) -> None:
        self._rng = rng
        self._prefix = prefix
        self._by_id: dict[int, str] = {}
        self._used: set[str] = set()

    def __call__(self, ident: int) -> str:
        if ident not in self._by_id:
            token = ""
            while not token or token in self._used:
                token = f"{self._prefix}{self._rng.getrandbits(KEY_BITS):016x}"
            self._used.add(token)
            self._by_id[ident] = token
        return self._by_id[ident]


SHIFT_DAYS = tuple(d for d in range(-MAX_SHIFT_DAYS, MAX_SHIFT_DAYS + 1) if d != 0)


def shift_days(key: bytes, couple_id: int) -> int:
    """A couple's date shift: HMAC-SHA256 of its id under the clinic's research key, read
    as a number and mapped onto the 360 shifts (the modulo's bias, under 2^-55, is
    nothing). Stable for a couple, unpredictable without the key."""
    digest = hmac.new(key, f"research-date-shift:{couple_id}".encode(), hashlib.sha256).digest()
    return SHIFT_DAYS[int.from_bytes(digest[:8], "big") % len(SHIFT_DAYS)]


def _frame(name: str, records: Iterable[dict[str, Any]], sort: Sequence[str]) -> pd.DataFrame:
    columns = _files_columns()[name]
    frame = pd.DataFrame(list(records), columns=columns + ["_order"])
    frame = frame.sort_values([*sort, "_order"], kind="stable").drop(columns="_order")
    for column in INT_COLUMNS:
        if column in frame.columns:
            frame[column] = frame[column].astype("Int64")
    return frame.reset_index(drop=True)


def _barrier_code(row: Mapping[str, Any]) -> dict[str, Any]:
    """A tag with its barrier as a catalogue code: a clinic's own barrier names are typed
    by people, so they could carry anything; they all become CLINIC_BARRIER."""
    tag = dict(row)
    tag["barrier"] = tag.get("barrier_code") if tag.get("is_seed") else CLINIC_BARRIER
    return tag


def build_research_extract(
    *,
    couples: Rows,
    sessions: Rows,
    ratings: Rows,
    barriers: Rows,
    habits: Rows,
    instruments: Rows,
    rng: random.Random,
    shift_key: bytes,
    progress: Callable[[int, int], None] | None = None,
) -> bytes:
    """The extract as zip bytes; `progress(files written, files)` as it goes.

    couples: couple_id, intake_date, status, closing_reason. sessions: session_id,
    couple_id, session_date, duration_minutes, format, attendance, stage, eii_a, eii_b.
    ratings: session_id, partner, item, value. barriers: session_id, barrier, severity.
    habits: session_id, habit, adherence, adherence_session_id. instruments: session_id,
    partner, instrument, total. Extra columns are ignored; rows of a couple or session not
    in `couples` / `sessions` are left out. `rng` draws the keys; `shift_key` (the
    clinic's research key) sets each couple's date shift (shift_days).
    """
    couple_key, session_key = _Keys(rng, "C"), _Keys(rng, "S")
    shift: dict[int, timedelta] = {}
    intake: dict[int, date] = {}
    couple_records = []
    for c in couples:
        shift[c["couple_id"]] = timedelta(days=shift_days(shift_key, c["couple_id"]))
        intake[c["couple_id"]] = c["intake_date"]
        couple_records.append(
            {
                "couple_key": couple_key(c["couple_id"]),
                "intake_date": c["intake_date"] + shift[c["couple_id"]],
                "status": c["status"],
                "closing_reason": c["closing_reason"],
                "_order": 0,
            }
        )
    of_session: dict[int, int] = {}
    session_records = []
    for s in sessions:
        cid = s["couple_id"]
        if cid not in shift:
            continue
        of_session[s["session_id"]] = cid
        session_records.append(
            {
                "session_key": session_key(s["session_id"]),
                "couple_key": couple_key(cid),
                "session_date": s["session_date"] + shift[cid],
                "days_since_intake": (s["session_date"] - intake[cid]).days,
                "duration_minutes": s["duration_minutes"],
                "format": s["format"],
                "attendance": s["attendance"],
                "stage": s["stage"],
                "eii_a": eii_cell(s["eii_a"]),
                "eii_b": eii_cell(s["eii_b"]),
                "couple_eii": eii_cell(couple_eii(s["eii_a"], s["eii_b"])),
                "_order": s["session_id"],  # same-day sessions keep their order
            }
        )

    def per_session(
        rows: Rows,
        fields: Sequence[str],
        extra: Callable[[Mapping[str, Any]], dict[str, Any]] | None = None,
    ) -> list[dict[str, Any]]:
        out = []
        for r in rows:
            cid = of_session.get(r["session_id"])
            if cid is None:
                continue
            record = {"session_key": session_key(r["session_id"]), "couple_key": couple_key(cid)}
            record.update({f: r[f] for f in fields})
            record.update(extra(r) if extra else {})
            out.append(record | {"_order": 0})
        return out

    def adherence(h: Mapping[str, Any]) -> dict[str, Any]:
        # Adherence recorded at a session not in the extract (deleted) is left out.
        known = h["adherence_session_id"] in of_session
        return {
            "adherence": h["adherence"] if known else None,
            "adherence_session_key": session_key(h["adherence_session_id"]) if known else None,
        }

    # Each file's table is made just before it is written, so `progress` tells real work.
    files: dict[str, Callable[[], pd.DataFrame]] = {
        "couples.csv": lambda: _frame("couples.csv", couple_records, ("couple_key",)),
        "sessions.csv": lambda: _frame(
            "sessions.csv", session_records, ("couple_key", "session_date")
        ),
        "ratings.csv": lambda: _frame(
            "ratings.csv",
            per_session(ratings, ("partner", "item", "value")),
            ("couple_key", "session_key", "partner", "item"),
        ),
        "barriers.csv": lambda: _frame(
            "barriers.csv",
            per_session([_barrier_code(b) for b in barriers], ("barrier", "severity")),
            ("couple_key", "session_key", "barrier"),
        ),
        "habits.csv": lambda: _frame(
            "habits.csv",
            per_session(habits, ("habit",), adherence),
            ("couple_key", "session_key", "habit"),
        ),
        "instruments.csv": lambda: _frame(
            "instruments.csv",
            per_session(instruments, ("partner", "instrument", "total")),
            ("couple_key", "session_key", "partner", "instrument"),
        ),
        "data_dictionary.csv": lambda: pd.DataFrame(
            [vars(c) for c in DICTIONARY],
            columns=["file", "column", "meaning", "type_units", "allowed_values"],
        ),
    }
    buffer = io.BytesIO()
    stamp = ZIP_EPOCH  # the real date would undo the per-couple date shift
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for done, (name, table) in enumerate(files.items(), start=1):
            archive.writestr(
                zipfile.ZipInfo(name, stamp), to_csv_bytes(table()), zipfile.ZIP_DEFLATED
            )
            if progress is not None:
                progress(done, len(files))
        archive.writestr(
            zipfile.ZipInfo("README.txt", stamp), README.encode("utf-8"), zipfile.ZIP_DEFLATED
        )
    return buffer.getvalue()


def extract_counts(data: bytes) -> dict[str, int]:
    """Rows per data file of an extract (for the audit line and for tests)."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: len(pd.read_csv(archive.open(name), encoding="utf-8-sig")) for name in FILES}
