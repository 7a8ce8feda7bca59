"""What a couple progress report says, as plain values: `ProgressReport`.

`progress_report(...)` turns the timeline's data (`TimelineData`, `CoupleTrajectory`)
into the report's sentences and small tables. Pure: no database, no browser; the
service fills in who and when, `reports.pdf` draws it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

import pandas as pd

from dashboard import charts
from dashboard.domain.alliance import SplitAlliance
from dashboard.domain.catalog import (
    ATTENDANCE_LABELS,
    SEVERITIES,
    Attendance,
    adherence_word,
)
from dashboard.domain.expected_response import ExpectedModel
from dashboard.domain.numbers import as_written, half_up, one_decimal
from dashboard.domain.plain_words import (
    SPLIT_ALLIANCE,
    change_words,
    expected_lines,
    expected_workings,
    status_lines,
)
from dashboard.domain.safety import SafetyFlag, flag_line
from dashboard.domain.scoring import (
    ChangeResult,
    CoupleTrajectory,
    ReliableChangeParams,
    change_evidence,
)
from dashboard.domain.timeline import TimelineData
from dashboard.domain.workings import INDEX_SAYS, WHY_NOTE, index_says, method_line

# The charts the report prints, in order: the keys of `charts.all_figures` (instruments
# only when the couple has instrument totals: ProgressReport.chart_keys).
REPORT_CHARTS: tuple[str, ...] = ("timeline", "instruments", "radar", "barriers")
NOTES_EXCLUDED = "Session notes are not included in this report."
PRIVATE_NOTE_WITHHELD = (
    "Private notes from individual sessions are never printed in this joint report."
)
# A safety note written at an individual session may say what one partner fears from
# the other: the joint report gives its date, never its text.
SAFETY_NOTE_WITHHELD = (
    "individual session: the safety note stays in the record, not in this joint report"
)
SAFETY_IN_FULL_REPORT = "The counselor's safety notes are in the full report."
# "Include session notes" decides whether any text the counselor typed leaves the record
# in this report; a safety note is such text (a report made for a referrer carries none).
SAFETY_NOTES_NOT_INCLUDED = (
    "The counselor's safety notes stay in the record: this report was made without session notes."
)

STAGE_COLUMNS = ["Date", "Stage", "Change"]
# Beside an EII from the partner's own check-in answers (the chart draws a diamond).
SELF_REPORT_MARK = "◆"
BARRIER_COLUMNS = ["Barrier", "Sessions tagged", "Mean severity", "Latest"]
HABIT_COLUMNS = ["Habit", "Times assigned", "Followed up", "Adherence (mean)"]
INSTRUMENT_COLUMNS = ["Questionnaire", "Partner", "First", "Latest", "Result"]


@dataclass(frozen=True)
class SessionNote:
    """A session's DAP note, printed only when the counselor includes session notes."""

    session_date: date
    attendance: str  # words, e.g. "Both partners"
    data: str
    assessment: str
    plan: str


@dataclass(frozen=True, eq=False)
class ProgressReport:
    """Everything the couple progress report prints; strings, dates and small frames."""

    clinic_name: str
    case_code: str
    partner_a: str
    partner_b: str
    counselor: str
    period_start: date | None
    period_end: date | None
    generated_on: date
    flags: tuple[str, ...]  # "Not on track", "Partners diverging", "Split alliance"
    status_lines: tuple[str, ...]  # plain words: each partner, the couple, why flagged
    statistics: str  # the numbers behind the status lines (RCI or points), said once
    method: str  # how change is judged (reliable change, cutoff, framework note)
    stage_history: pd.DataFrame  # STAGE_COLUMNS
    barrier_summary: pd.DataFrame  # BARRIER_COLUMNS
    habits: pd.DataFrame  # HABIT_COLUMNS
    sessions: pd.DataFrame  # Date, Attendance, Stage, EII <A>, EII <B>
    instruments: pd.DataFrame = field(  # INSTRUMENT_COLUMNS: each questionnaire, in words
        default_factory=lambda: pd.DataFrame(columns=INSTRUMENT_COLUMNS)
    )
    include_notes: bool = False
    notes: tuple[SessionNote, ...] = field(default_factory=tuple)
    # One page: the facts, the status, the timeline and the questionnaire results.
    summary_only: bool = False
    case_status: str = ""  # "Active", "Paused since …", "Closed … (reason)": plain_words
    # Every safety-flagged session of the course, oldest first (domain/safety.py).
    safety: tuple[SafetyFlag, ...] = ()
    # Each partner against their expected course in words, and behind them which model,
    # the numbers and its method (plain_words.expected_lines / expected_workings).
    expected_lines: tuple[str, ...] = ()
    expected_workings: tuple[str, ...] = ()

    @property
    def safety_line(self) -> str:
        """'Safety flag at 3 sessions: 31 Aug 2026, ...', or '' when none."""
        return flag_line(self.safety)

    @property
    def safety_notes(self) -> tuple[str, ...]:
        """'31 Aug 2026: <the counselor's note>' per flag; an individual session's note is
        withheld (SAFETY_NOTE_WITHHELD). A one-page summary points to the full report; a
        report made without session notes prints no note's text either."""
        if not self.safety:
            return ()
        if self.summary_only:
            return (SAFETY_IN_FULL_REPORT,)
        if not self.include_notes:
            return (SAFETY_NOTES_NOT_INCLUDED,)
        return tuple(
            f"{charts.format_date(f.session_date)}: "
            + ((f.note.strip() or "no note recorded") if f.joint else SAFETY_NOTE_WITHHELD)
            for f in self.safety
        )

    @property
    def chart_keys(self) -> tuple[str, ...]:
        """The charts this report prints: no empty instrument chart."""
        if self.summary_only:
            return ("timeline",)
        return tuple(k for k in REPORT_CHARTS if k != "instruments" or not self.instruments.empty)

    @property
    def instruments_note(self) -> str:
        """Why a questionnaire and the index can both be right: only when one differs."""
        results = self.instruments.get("Result", pd.Series(dtype=str)).astype(str)
        return WHY_NOTE if results.str.contains(INDEX_SAYS, regex=False).any() else ""

    @property
    def partners(self) -> str:
        return f"{self.partner_a} & {self.partner_b}"

    @property
    def sessions_title(self) -> str:
        """The sessions table's heading, with what its diamond means when it has one."""
        marked = any(
            str(v).endswith(SELF_REPORT_MARK)
            for column in self.sessions.columns[3:]
            for v in self.sessions[column]
        )
        return (
            f"Sessions ({SELF_REPORT_MARK} the partner's own check-in answers)"
            if marked
            else "Sessions"
        )

    @property
    def session_count(self) -> str:
        """'15 (14 held, 1 no-show)': the sessions table counts missed ones too, and a
        clinician reading "15 sessions" beside 14 rated ones would ask which is right."""
        words = [str(w) for w in self.sessions.get("Attendance", [])]
        missed = [
            f"{n} {word}" for label, word in MISSED_WORDS.items() if (n := words.count(label))
        ]
        if not missed:
            return str(len(words))
        return f"{len(words)} ({len(words) - sum(map(words.count, MISSED_WORDS))} held, " + (
            ", ".join(missed) + ")"
        )

    @property
    def period(self) -> str:
        if self.period_start is None or self.period_end is None:
            return "No sessions yet"
        start, end = charts.format_date(self.period_start), charts.format_date(self.period_end)
        return start if start == end else f"{start} to {end}"


def flags(trajectory: CoupleTrajectory, alliance: SplitAlliance | None = None) -> tuple[str, ...]:
    out = []
    if trajectory.not_on_track:
        out.append("Not on track")
    if trajectory.diverging:
        out.append("Partners diverging")
    if alliance is not None and alliance.flagged:
        out.append(SPLIT_ALLIANCE)
    return tuple(out)


def stage_history(sessions: pd.DataFrame) -> pd.DataFrame:
    """The first stage rating and every change after it (sessions not rated skipped)."""
    rows = []
    previous: int | None = None
    for when, stage in zip(sessions["session_date"], sessions["stage"], strict=True):
        if stage is None or pd.isna(stage):
            continue
        stage = int(stage)
        if previous is None:
            change = "First rating"
        elif stage > previous:
            change = f"Advanced from stage {previous}"
        elif stage < previous:
            change = f"Regressed from stage {previous}"
        else:
            previous = stage
            continue
        rows.append([charts.format_date(when), charts.stage_name(stage), change])
        previous = stage
    return pd.DataFrame(rows, columns=STAGE_COLUMNS)


def _severity(value: float) -> str:
    word = SEVERITIES.get(int(half_up(value, 0)), "")
    return f"{one_decimal(value)} ({word.lower()})" if word else one_decimal(value)


def barrier_summary(data: TimelineData) -> pd.DataFrame:
    """Per barrier (catalog order): sessions tagged, mean and latest severity."""
    b = data.barriers
    if b.empty:
        return pd.DataFrame(columns=BARRIER_COLUMNS)
    frame = b.assign(name=[charts.barrier_name(v) for v in b["barrier"]])
    frame = frame.sort_values(["session_date", "session_id"], kind="stable")
    rows = []
    for name in charts.barrier_order(frame["name"]):
        mine = frame[frame["name"] == name]
        latest = mine.iloc[-1]
        rows.append(
            [
                name,
                int(mine["session_id"].nunique()),
                _severity(float(mine["severity"].astype(float).mean())),
                f"{SEVERITIES.get(int(latest['severity']), latest['severity'])}, "
                f"{charts.format_date(latest['session_date'])}",
            ]
        )
    return pd.DataFrame(rows, columns=BARRIER_COLUMNS)


def habit_summary(data: TimelineData) -> pd.DataFrame:
    """Per habit: times assigned, how many were followed up, mean adherence in words."""
    tasks = charts.assignments(data)
    rows = []
    for habit in dict.fromkeys(t.habit for t in tasks):
        mine = [t for t in tasks if t.habit == habit]
        scores = [t.adherence for t in mine if t.adherence is not None]
        if scores:
            mean = sum(scores) / len(scores)
            adherence = f"{adherence_word(mean)} ({one_decimal(mean)} of 3)"
        else:
            adherence = "Not recorded yet"
        rows.append([habit, len(mine), f"{len(scores)} of {len(mine)}", adherence])
    return pd.DataFrame(rows, columns=HABIT_COLUMNS)


# Sessions that did not take place, as the session count names them.
MISSED_WORDS: dict[str, str] = {
    ATTENDANCE_LABELS[Attendance.NO_SHOW]: "no-show",
    ATTENDANCE_LABELS[Attendance.CANCELLED]: "cancelled",
}


def _eii(value: object) -> str:
    return "" if value is None or pd.isna(value) else one_decimal(float(value))


def session_table(data: TimelineData) -> pd.DataFrame:
    """Every session (cancelled ones too): date, attendance, stage, each partner's EII;
    an EII from the partner's own check-in answers carries the chart's diamond."""
    name_a, name_b = charts.partner_labels(data)
    s = data.sessions.sort_values(["session_date", "session_id"], kind="stable")

    def eii(partner: str) -> list[str]:
        own = s[f"self_{partner}"] if f"self_{partner}" in s else [False] * len(s)
        return [
            f"{_eii(v)} {SELF_REPORT_MARK}" if bool(o) and _eii(v) else _eii(v)
            for v, o in zip(s[f"eii_{partner}"], own, strict=True)
        ]

    return pd.DataFrame(
        {
            "Date": [charts.format_date(v) for v in s["session_date"]],
            "Attendance": [charts.attendance_words(v, name_a, name_b) for v in s["attendance"]],
            "Stage": [charts.stage_name(v) for v in s["stage"]],
            f"EII {name_a}": eii("a"),
            f"EII {name_b}": eii("b"),
        }
    )


def statistics_line(data: TimelineData, trajectory: CoupleTrajectory) -> str:
    """The statistic behind each status line, without repeating its words:
    'Priya: RCI 3.1 · Sam: RCI 0.8 · couple: RCI 1.9'."""
    parts = [
        f"{name}: {change_evidence(change)}"
        for name, change in (
            (data.partner_a, trajectory.partner_a.change),
            (data.partner_b, trajectory.partner_b.change),
            ("couple", trajectory.couple),
        )
        if change is not None and change.status is not None
    ]
    return " · ".join(parts) if parts else "No change to judge yet."


def _total(value: float) -> str:
    """A questionnaire total as entered: 13 (CSI-4, whole points), 25.5 (ORS, one
    decimal)."""
    return str(int(value)) if float(value).is_integer() else as_written(value)


def instrument_results(
    data: TimelineData,
    changes: Mapping[tuple[str, str], ChangeResult],
    trajectory: CoupleTrajectory | None = None,
    notes: Mapping[tuple[str, str], str] | None = None,
) -> pd.DataFrame:
    """Each questionnaire each partner answered: first and latest total, the result in
    the timeline's words (plain_words.change_words), or that one total is a baseline;
    with the `trajectory`, the timeline's sentence where the index says otherwise; with
    `notes` (TimelineView.instrument_notes), which totals were compared when baseline
    and latest came from different sources (like with like)."""
    notes = notes or {}
    index = (
        {"A": trajectory.partner_a.change, "B": trajectory.partner_b.change} if trajectory else {}
    )
    totals = data.instruments
    if totals.empty:
        return pd.DataFrame(columns=INSTRUMENT_COLUMNS)
    rows = []
    ordered = totals.sort_values(["session_date", "session_id"], kind="stable")
    for (code, partner), mine in ordered.groupby(["instrument", "partner"], sort=False):
        scale = data.instrument_scales.get(str(code))
        change = changes.get((str(code), str(partner)))
        first, latest = float(mine["total"].iloc[0]), float(mine["total"].iloc[-1])
        note = notes.get((str(code), str(partner)), "")
        if len(mine) == 1:
            result = "One total so far: the baseline"
        elif change is None and note:
            result = f"Not yet measurable; {note}"
        elif change is None:
            result = "Not judged: this questionnaire has no definition here"
        else:
            words = change_words(change)  # its source keeps its capitals (Anderson …)
            result = words[:1].upper() + words[1:] + (f"; {note}" if note else "")
            # Where the index says otherwise, the cell says so; why both can be right is
            # said once under the table (ProgressReport.instruments_note).
            says = index_says(data.partner_name(str(partner)), change, index.get(str(partner)))
            result += f". {says}" if says else ""
        rows.append(
            [
                scale.name if scale is not None else str(code),
                data.partner_a if partner == "A" else data.partner_b,
                _total(first),
                _total(latest) if len(mine) > 1 else "",
                result,
            ]
        )
    return pd.DataFrame(rows, columns=INSTRUMENT_COLUMNS)


def progress_report(
    data: TimelineData,
    trajectory: CoupleTrajectory,
    eii: ReliableChangeParams,
    *,
    instrument_changes: Mapping[tuple[str, str], ChangeResult] | None = None,
    instrument_notes: Mapping[tuple[str, str], str] | None = None,
    clinic_name: str,
    counselor: str,
    generated_on: date,
    notes: Sequence[SessionNote] | None = None,
    summary_only: bool = False,
    case_status: str = "",
    safety: Sequence[SafetyFlag] = (),
    alliance: SplitAlliance | None = None,
    expected: ExpectedModel | None = None,
) -> ProgressReport:
    """The report's content; `notes` None means session notes are excluded (a one-page
    summary never has them). `expected`: the EII's expected-course model the alerts were
    judged by (TimelineView.expected_model); each partner's alert is then said in words."""
    dates = data.sessions["session_date"]
    return ProgressReport(
        clinic_name=clinic_name,
        case_code=data.case_code,
        partner_a=data.partner_a,
        partner_b=data.partner_b,
        counselor=counselor,
        period_start=None if dates.empty else pd.Timestamp(dates.min()).date(),
        period_end=None if dates.empty else pd.Timestamp(dates.max()).date(),
        generated_on=generated_on,
        flags=flags(trajectory, alliance),
        # The alliance line only where the clinic uses the SRS: a report may be handed to
        # the couple, and a clinic without the SRS has nothing to say about it.
        status_lines=status_lines(
            data, trajectory, alliance if alliance is not None and alliance.in_use else None
        ),
        statistics=statistics_line(data, trajectory),
        method=method_line(eii),
        stage_history=stage_history(data.sessions),
        barrier_summary=barrier_summary(data),
        habits=habit_summary(data),
        sessions=session_table(data),
        instruments=instrument_results(
            data, instrument_changes or {}, trajectory, instrument_notes
        ),
        include_notes=notes is not None and not summary_only,
        notes=() if summary_only else tuple(notes or ()),
        summary_only=summary_only,
        case_status=case_status,
        safety=tuple(safety),
        expected_lines=expected_lines(data, trajectory, expected),
        expected_workings=expected_workings(data, trajectory, expected),
    )
