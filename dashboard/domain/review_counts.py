"""The caseload review's session counts: what its per-counselor numbers and its charts of
the range count, as a few small frames instead of every session of the range.

Pure. The database can count them itself (db/review_queries.review_session_counts, with
GROUP BY: a cold review at 150k sessions no longer hands 50,000 session rows to pandas);
`session_counts` counts the same from a frame of sessions, for a review computed from
its sessions (a range ending before today). The review draws its tables and charts from
these counts either way, so both give the same numbers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import pandas as pd

RECENT_WINDOWS = (30, 90)  # days: "sessions in the last 30 / 90 days"
# Held sessions per counselor: in each recent window back from today, and in the range.
HELD_COLUMNS = [*(f"sessions_{days}d" for days in RECENT_WINDOWS), "sessions_in_range"]
PER_COUNSELOR = ["counselor_id", *HELD_COLUMNS]
PER_DAY = ["session_date", "attendance", "held", "sessions"]  # sessions of the range


@dataclass(frozen=True)
class SessionCounts:
    """Sessions of the couples chosen, counted.

    per_counselor (PER_COUNSELOR): held sessions of each counselor's chosen couples in
        the last 30 and 90 days up to today, and in the range; a counselor without any
        may be absent (counted 0).
    per_day (PER_DAY): sessions dated inside the range per day and attendance value
        (`held` as the sessions' own), all attendances.
    """

    per_counselor: pd.DataFrame
    per_day: pd.DataFrame


def windows(start: date, end: date, today: date) -> dict[str, tuple[date, date]]:
    """HELD_COLUMNS' date windows, first and last day included."""
    recent = {
        f"sessions_{days}d": (today - timedelta(days=days - 1), today) for days in RECENT_WINDOWS
    }
    return recent | {"sessions_in_range": (start, end)}


def session_counts(
    sessions: pd.DataFrame, counselor_of: pd.Series, start: date, end: date, today: date
) -> SessionCounts:
    """The counts of a frame of sessions (couple_id, session_date, attendance, held),
    each couple counted for its counselor (`counselor_of`: couple_id -> counselor_id)."""
    held = sessions[sessions["held"]]
    owner = held["couple_id"].map(counselor_of)
    per_counselor = pd.DataFrame(
        {
            column: held["session_date"]
            .between(pd.Timestamp(first), pd.Timestamp(last))
            .groupby(owner)
            .sum()
            for column, (first, last) in windows(start, end, today).items()
        }
    )
    per_counselor = per_counselor.rename_axis("counselor_id").reset_index()
    in_range = sessions[sessions["session_date"].between(pd.Timestamp(start), pd.Timestamp(end))]
    per_day = (
        in_range.groupby(["session_date", "attendance", "held"]).size().rename("sessions")
    ).reset_index()
    return SessionCounts(typed_per_counselor(per_counselor), typed_per_day(per_day))


def typed_per_counselor(frame: pd.DataFrame) -> pd.DataFrame:
    out = pd.DataFrame(frame, columns=PER_COUNSELOR)
    return out.fillna(0).astype("int64")


def typed_per_day(frame: pd.DataFrame) -> pd.DataFrame:
    out = pd.DataFrame(frame, columns=PER_DAY)
    out["session_date"] = pd.to_datetime(out["session_date"])
    out["attendance"] = out["attendance"].astype(object)
    out["held"] = out["held"].astype(bool)
    out["sessions"] = out["sessions"].astype("int64")
    return out
