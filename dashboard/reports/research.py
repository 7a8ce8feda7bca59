"""The de-identified research extract: a zip of CSV files, a data dictionary and a README.

Pure: rows in (mappings with the columns `db.export_queries` selects), bytes out. What
leaves the clinic: structured data only. No partner names, case codes, counselor names
or ids, no free text of any kind, and no dates: time is whole weeks since the couple's
intake, in bands. Couples get random keys drawn from the `rng` the caller passes (the
service uses `random.SystemRandom`), never derived from a database id.

A couple is released as a few measurement points (the intake, then one per week band)
rather than every session, and its status, course length and held sessions in bands, so
that everything someone could know about it without its scores (dates, counts,
attendance, status) matches at least k-1 other couples' records (reports/anonymity.py
chooses the bands and withholds or leaves out the rest). The README inside says which
bands were used, how many couples were withheld or left out, and the share of couples
unique on the released fields, measured on the files themselves: it is 0, or there is
no extract.
"""

from __future__ import annotations

import io
import random
import zipfile
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import pandas as pd

from dashboard.domain.catalog import Attendance
from dashboard.domain.couple_outcome import OUTCOME_RULE, couple_outcome
from dashboard.domain.expected_response import ExpectedModel
from dashboard.domain.scoring import Change, ReliableChangeParams, classify_change, couple_eii
from dashboard.reports import anonymity
from dashboard.reports.anonymity import Anonymised, Course, Point, Rated
from dashboard.reports.research_columns import (
    CLINIC_BARRIER,
    DICTIONARY,
    FILES,
    INT_COLUMNS,
)
from dashboard.reports.research_expected import partner_alerts, released_alert
from dashboard.reports.tables import eii_cell, to_csv_bytes

Rows = Sequence[Mapping[str, Any]]
ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)  # every file's time inside the zip: never the real one
KEY_BITS = 64
# Said where no clinic-norms version is given (norms not published yet); the README
# gives the norms' own figures either way.
NO_NORMS_VERSION = "none published yet (the figures above are the norms in use)"


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


COUNSELOR = "counselor"  # IndicatorRating / InstrumentTotal / sessions.source_* value


def counselor_rated(sessions: Rows, ratings: Rows, instruments: Rows) -> tuple[Rows, Rows, Rows]:
    """The counselor's ratings only: a partner's own check-in answers are left out.

    Why: change is judged like with like (DOMAIN.md, Scoring), and which partners
    answered check-ins is known without their scores, so releasing the source beside
    each point would be one more quasi-identifier. With one source there is nothing to
    mix: change_a / change_b compare the counselor's ratings with the counselor's. A
    partner-session whose EII is self-reported (sessions.source_a / source_b) counts as
    not rated; a row without a source (older callers) counts as the counselor's.
    """

    def by_counselor(row: Mapping[str, Any], key: str = "source") -> bool:
        return (row.get(key) or COUNSELOR) == COUNSELOR

    kept_sessions = [
        {
            **s,
            "eii_a": s["eii_a"] if by_counselor(s, "source_a") else None,
            "eii_b": s["eii_b"] if by_counselor(s, "source_b") else None,
        }
        for s in sessions
    ]
    return (
        kept_sessions,
        [r for r in ratings if by_counselor(r)],
        [t for t in instruments if by_counselor(t)],
    )


def courses_of(couples: Rows, sessions: Rows, instruments: Rows = ()) -> list[Course]:
    """Each couple's quasi-identifiers, scores aside (anonymity.Course), in `couples`
    order: weeks since intake of its sessions, sessions held, who was rated, which
    instruments were recorded, status."""
    given: dict[int, set[tuple[str, str]]] = {}
    for t in instruments:
        given.setdefault(t["session_id"], set()).add((str(t["partner"]), str(t["instrument"])))
    of_couple: dict[int, list[Mapping[str, Any]]] = {c["couple_id"]: [] for c in couples}
    for s in sessions:
        if s["couple_id"] in of_couple:
            of_couple[s["couple_id"]].append(s)
    courses = []
    for c in couples:
        own = sorted(of_couple[c["couple_id"]], key=lambda s: (s["session_date"], s["session_id"]))

        def weeks(s: Mapping[str, Any], intake: Any = c["intake_date"]) -> int:
            return max((s["session_date"] - intake).days, 0) // 7

        held = [s for s in own if Attendance(s["attendance"]).held]
        courses.append(
            Course(
                status=str(c["status"]),
                closing_reason=c["closing_reason"],
                course_weeks=weeks(held[-1]) if held else None,
                sessions_held=len(held),
                rated=tuple(
                    Rated(
                        s["session_id"],
                        weeks(s),
                        s["eii_a"] is not None,
                        s["eii_b"] is not None,
                        frozenset(given.get(s["session_id"], ())),
                    )
                    for s in own
                    if s["eii_a"] is not None or s["eii_b"] is not None
                ),
            )
        )
    return courses


def released_signatures(
    couples_csv: pd.DataFrame, measurements_csv: pd.DataFrame, instruments_csv: pd.DataFrame
) -> list[tuple]:
    """Each released couple's record with its scores left out, read back from the files
    themselves (cells as text, as a reader would load them): the README's measured
    share of unique couples and the builder's last check come from here."""
    given: dict[tuple[str, str], set[tuple[str, str]]] = {}
    for row in instruments_csv.astype(str).itertuples(index=False):
        given.setdefault((row.couple_key, row.point), set()).add((row.partner, row.instrument))
    points: dict[str, list[tuple]] = {}
    for row in measurements_csv.astype(str).itertuples(index=False):
        present = (
            row.eii_a not in ("", "nan", "<NA>", "None"),
            row.eii_b not in ("", "nan", "<NA>", "None"),
        )
        shown = tuple(sorted(given.get((row.couple_key, row.point), ())))
        points.setdefault(row.couple_key, []).append((row.point, *present, shown))
    return [
        anonymity.signature(
            row.status,
            row.closing_reason,
            row.course_length,
            row.sessions_held,
            points.get(row.couple_key, []),
        )
        for row in couples_csv.fillna("").astype(str).itertuples(index=False)
    ]


def _bands_text(anon: Anonymised) -> str:
    levels = anon.levels
    weeks = anonymity.WEEK_EDGES
    point_bands = ", ".join(
        anonymity.week_label(weeks[levels.points], i) for i in range(len(weeks[levels.points]))
    )
    if levels.course >= anonymity.COURSE_LEVELS:
        course = "withheld for every couple"
    else:
        edges = weeks[levels.course]
        course = ", ".join(anonymity.week_label(edges, i, point=False) for i in range(len(edges)))
        course += ", none held"
    if levels.sessions >= len(anonymity.SESSION_EDGES):
        held = "withheld for every couple"
    else:
        edges = anonymity.SESSION_EDGES[levels.sessions]
        held = ", ".join(anonymity.count_label(edges, low) for low in edges)
    return (
        f"  - Measurement points: {point_bands}.\n"
        f"  - Course length (weeks from intake to the last session held): {course}.\n"
        f"  - Sessions held: {held}.\n"
        f"  - Status: {anonymity.STATUS_LEVELS[levels.status]}"
        + (" (closing reason withheld)" if levels.status in (1, 2) else "")
        + ".\n"
        + "  - Instrument totals: "
        + (
            "withheld for every couple (which instruments a couple was given can tell "
            "who its counselor is)."
            if levels.instruments
            else "at the points, for partners with an EII there."
        )
    )


def _norms_text(norms: ReliableChangeParams | None, version: str | None) -> str:
    if norms is None:
        return "- change_a / change_b: not judged (no norms given); both are empty."
    return (
        "- change_a / change_b compare each partner's first and last measurement point\n"
        f"  (never the sessions between): {norms.describe()}.\n"
        "  Like with like: every score here was given by the counselor (see 'Whose\n"
        "  ratings'), so each change compares the counselor's ratings with the counselor's.\n"
        "  outcome puts them together, partner-level, in the words Bondline uses\n"
        "  everywhere: " + OUTCOME_RULE + "\n"
        f"  Clinic norms version: {version or NO_NORMS_VERSION}."
    )


def readme(
    anon: Anonymised,
    couples: int,
    unique: float,
    smallest: int | None,
    norms: ReliableChangeParams | None = None,
    norms_version: str | None = None,
) -> str:
    """The extract's README: what it holds, what was generalised and suppressed, and the
    measured share of couples unique on the released fields."""
    return f"""Bondline de-identified research extract
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
  notes. The closing reason is kept as its code only (when released).
- Deleted sessions and deleted couples.
- Every date. Time is whole weeks since the couple's intake, in bands. No date of the
  export's own making either: its file name and the times inside the zip are fixed.
- Session-by-session detail: session dates, counts, durations, formats and who attended.

Keys
- couple_key is a random token drawn for this extract only: not derived from any id,
  different in every extract.

Whose ratings
- Every score is the counselor's: EII, item ratings and instrument totals a partner
  gave in their own check-in are not released, and a session where a partner's EII came
  from their check-in counts as that partner not rated. One source throughout, so every
  change compares like with like; and which partners answered check-ins, known without
  their scores, is not released.

Measurement points instead of sessions
- A couple is released as measurement points: at the intake band its first session with
  an EII, at every later band its last; a session where both partners have an EII is
  chosen over one with a single partner. Every score of a point (stage, EII, item
  ratings, instrument totals, barriers, habits assigned) comes from that one session,
  and a partner's scores only where that partner's EII is present.
- Adherence to a habit is the one recorded at a later session, whichever it was.

k-anonymity (k = {anon.k})
- Quasi-identifiers are every released field someone could know about a couple without
  its scores: course length, sessions held, status and closing reason, which bands have
  a measurement point, whose EII each point carries (attendance), and which
  instruments' totals it carries (which instruments a couple is given can tell who its
  counselor is). Every couple
  shares all of these with at least k - 1 = {anon.k - 1} other couples in this extract.
- Scores (EII, item ratings, stage, instrument totals' values, barriers and severity,
  habits and adherence) are not treated as quasi-identifiers: someone who knows a couple's scores
  could still recognise it.
- Bands used in this extract (the same for every couple):
{_bands_text(anon)}
- Withheld: {anon.withheld} couple(s) still in groups smaller than k were released with
  status, closing reason, course length, sessions held and instrument totals withheld,
  and only the coarsest points (intake, week 3 on).
- Left out: {anon.left_out} couple(s) whose group was smaller than k even then.
- Couples released: {couples}. Smallest group sharing one released record: {smallest if smallest is not None else "none (no couple)"}.
- Measured share of released couples unique on the released fields: {unique:.1%} (must be 0).

Statuses
{_norms_text(norms, norms_version)}
- Flags (not on track, partners diverging, split alliance) are not released: they are
  rules over runs of consecutive sessions, and the extract holds points, not sessions.
  Their inputs that are scores are here (eii_a, eii_b; SRS totals in instruments.csv,
  unless instrument totals were withheld above).
- change_a, change_b and outcome, like every score, are not quasi-identifiers: they
  follow from the released EII values and the norms above, so they tell nothing about
  dates, counts or attendance that the points do not.

What linkage remains
- Someone who knows some of a couple's scores (the clinic's own staff, or the couple)
  can look for them here. Groups are about the released fields only.
- Two extracts made at different times have different keys, but their couples can be
  matched by their scores (the intake ones do not change); intersecting a couple's groups
  across extracts can narrow it below k. Release one extract per study.
- Barriers are catalogue codes; a barrier the clinic added itself is "{CLINIC_BARRIER}",
  since its name was typed by a person.
"""


def _changes(
    points: Sequence[Point],
    session_of: Mapping[int, Mapping[str, Any]],
    norms: ReliableChangeParams | None,
) -> dict[str, str]:
    """change_a / change_b: a partner's first released EII against their last, judged by
    the norms; empty below two points with that partner's EII, or without norms. The
    couple's outcome puts the two together (couple_outcome: partner-level, the words
    every other page uses)."""
    out: dict[str, str] = {}
    statuses: list[Change | None] = []
    for partner in ("a", "b"):
        values = [session_of[p.session_id][f"eii_{partner}"] for p in points if getattr(p, partner)]
        status = None
        if norms is not None and len(values) >= 2:
            status = classify_change(float(values[0]), float(values[-1]), norms).status
        out[f"change_{partner}"] = "" if status is None else str(status)
        statuses.append(status)
    out["outcome"] = couple_outcome(*statuses) if norms is not None else ""
    return out


def _expected_text(expected: ExpectedModel | None) -> str:
    """The README's words on expected_alert / expected_partner."""
    if expected is None:
        return (
            "\nExpected course\n- expected_alert / expected_partner: not judged (no model given).\n"
        )
    return (
        "\nExpected course\n"
        "- expected_alert: the couple's worse partner against the course expected at their\n"
        "  latest counselor rating for partners who started near the same score (below\n"
        "  expected: under the 25th percentile; well below: under the 10th, which Bondline\n"
        "  counts as not on track); expected_partner says which partner. Only the alert is\n"
        "  released, never the percentiles or the rating number; a partner with fewer than\n"
        "  two released EIIs counts as 'no data yet' (an alert would tell they were rated\n"
        f"  twice). Model: {expected.label or 'unnamed'}.\n"
    )


class NotAnonymous(RuntimeError):
    """The built files would let a couple be picked out of fewer than k: never released."""


def build_research_extract(
    *,
    couples: Rows,
    sessions: Rows,
    ratings: Rows,
    barriers: Rows,
    habits: Rows,
    instruments: Rows,
    rng: random.Random,
    k: int,
    eii_norms: ReliableChangeParams | None = None,
    norms_version: str | None = None,
    progress: Callable[[int, int], None] | None = None,
    expected: ExpectedModel | None = None,
) -> bytes:
    """The extract as zip bytes; `progress(files written, files)` as it goes.

    couples: couple_id, intake_date, status, closing_reason. sessions: session_id,
    couple_id, session_date, attendance, stage, eii_a, eii_b, source_a, source_b. ratings:
    session_id, partner, item, value, source. barriers: session_id, barrier_code, is_seed,
    severity. habits: session_id, habit, adherence. instruments: session_id, partner,
    instrument, total, source. Only the counselor's ratings are released
    (counselor_rated; a missing source counts as the counselor's). Extra columns are ignored; rows of a couple or session not in `couples` / `sessions`
    are left out. `rng` draws the keys; every couple shares its released record, scores
    aside, with at least k - 1 others (anonymity.anonymise). `eii_norms` judge each
    partner's change from first to last point (empty without them); `norms_version`
    names them in the README (e.g. 'clinic norms v3 of 2 Nov 2026, 198 intakes').
    `expected` judges each couple's expected-course alert (research_expected.py: the
    alert, never its numbers; empty without a model).
    """
    sessions, ratings, instruments = counselor_rated(sessions, ratings, instruments)
    alerts = partner_alerts(sessions, expected)
    anon = anonymity.anonymise(courses_of(couples, sessions, instruments), k)
    couple_key = _Keys(rng, "C")
    session_of = {s["session_id"]: s for s in sessions}
    at_point: dict[int, tuple[str, Point]] = {}  # session id -> (couple key, point)
    couple_records, point_records = [], []
    for order, released in enumerate(anon.released):
        couple = couples[released.index]
        key = couple_key(couple["couple_id"])
        couple_records.append(
            {
                "couple_key": key,
                "status": released.status,
                "closing_reason": released.closing_reason,
                "course_length": released.course,
                "sessions_held": released.sessions,
                **_changes(released.points, session_of, eii_norms),
                **released_alert(
                    released.points,
                    alerts.get(couple["couple_id"], ("no data yet", "no data yet"))
                    if expected is not None
                    else None,
                ),
                "_order": order,
            }
        )
        for point in released.points:
            s = session_of[point.session_id]
            at_point[point.session_id] = (key, point)
            eii_a, eii_b = (s["eii_a"] if point.a else None), (s["eii_b"] if point.b else None)
            point_records.append(
                {
                    "couple_key": key,
                    "point": point.label,
                    "weeks_from": point.weeks_from,
                    "weeks_to": point.weeks_to,
                    "stage": s["stage"],
                    "eii_a": eii_cell(eii_a),
                    "eii_b": eii_cell(eii_b),
                    "couple_eii": eii_cell(couple_eii(eii_a, eii_b)),
                    "_order": point.weeks_from,
                }
            )

    def per_point(
        rows: Rows, fields: Sequence[str], by_partner: bool = False
    ) -> list[dict[str, Any]]:
        out = []
        for r in rows:
            found = at_point.get(r["session_id"])
            if found is None:
                continue
            key, point = found
            if by_partner and not {"A": point.a, "B": point.b}.get(str(r["partner"]), False):
                continue  # a partner's scores only where their EII is (attendance)
            record = {"couple_key": key, "point": point.label, "_order": point.weeks_from}
            out.append(record | {f: r[f] for f in fields})
        return out

    def instrument_given(r: Mapping[str, Any]) -> bool:
        """Only the totals the point's shape shows (anonymity.points_of)."""
        _, point = at_point[r["session_id"]]
        return (str(r["partner"]), str(r["instrument"])) in point.instruments

    couples_frame = _frame("couples.csv", couple_records, ("couple_key",))
    points_frame = _frame("measurements.csv", point_records, ("couple_key",))
    instruments_frame = _frame(
        "instruments.csv",
        per_point(
            [t for t in instruments if t["session_id"] in at_point and instrument_given(t)],
            ("partner", "instrument", "total"),
            by_partner=True,
        ),
        ("couple_key",),
    )
    signatures = released_signatures(couples_frame, points_frame, instruments_frame)
    sizes = Counter(signatures)
    smallest = min(sizes.values()) if sizes else None
    unique = anonymity.unique_share(signatures)
    if smallest is not None and smallest < k:
        raise NotAnonymous(f"a released record is shared by {smallest} couples, fewer than k = {k}")
    text = readme(anon, len(couple_records), unique, smallest, eii_norms, norms_version)
    text += _expected_text(expected)

    # Each file's table is made just before it is written, so `progress` tells real work.
    files: dict[str, Callable[[], pd.DataFrame]] = {
        "couples.csv": lambda: couples_frame,
        "measurements.csv": lambda: points_frame,
        "ratings.csv": lambda: _frame(
            "ratings.csv",
            per_point(ratings, ("partner", "item", "value"), by_partner=True),
            ("couple_key",),
        ),
        "barriers.csv": lambda: _frame(
            "barriers.csv",
            per_point([_barrier_code(b) for b in barriers], ("barrier", "severity")),
            ("couple_key",),
        ),
        "habits.csv": lambda: _frame(
            "habits.csv", per_point(habits, ("habit", "adherence")), ("couple_key",)
        ),
        "instruments.csv": lambda: instruments_frame,
        "data_dictionary.csv": lambda: pd.DataFrame(
            [vars(c) for c in DICTIONARY],
            columns=["file", "column", "meaning", "type_units", "allowed_values"],
        ),
    }
    buffer = io.BytesIO()
    stamp = ZIP_EPOCH  # no date of the export's making
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for done, (name, table) in enumerate(files.items(), start=1):
            archive.writestr(
                zipfile.ZipInfo(name, stamp), to_csv_bytes(table()), zipfile.ZIP_DEFLATED
            )
            if progress is not None:
                progress(done, len(files))
        archive.writestr(
            zipfile.ZipInfo("README.txt", stamp), text.encode("utf-8"), zipfile.ZIP_DEFLATED
        )
    return buffer.getvalue()


def extract_counts(data: bytes) -> dict[str, int]:
    """Rows per data file of an extract (for the audit line and for tests)."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: len(pd.read_csv(archive.open(name), encoding="utf-8-sig")) for name in FILES}
