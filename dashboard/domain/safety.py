"""Safety flags of a couple's course, in the same words on every screen and in the report.

A safety flag is raised at a session (the counselor ticks "Safety concern raised" and
describes it). Bondline judges safety over the WHOLE course, not the last few weeks: a
couple with any live session flagged carries a Safety flag on the caseload, the attention
list, the timeline, the couple page and the report, with the dates, whatever came after.
A calm session later does not clear it; a counselor who judged the flag raised in error
amends or deletes that session (both kept in the record's history).

Pure: dates and notes in, words out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import pandas as pd

SAFETY = "Safety"  # the flag's word, first among the flags wherever flags are listed
SCOPE = "any session of the course, whatever came after"


@dataclass(frozen=True)
class SafetyFlag:
    """One flagged session: when, who attended, and the counselor's safety note."""

    session_date: date
    joint: bool  # both partners attended: the note may go into the joint report
    note: str = ""


def day(value: object) -> str:
    """'31 Aug 2026' (no platform-specific strftime flags)."""
    ts = pd.Timestamp(value)  # type: ignore[arg-type]
    return f"{ts.day} {ts:%b %Y}"


def safety_line(days: Sequence[str]) -> str:
    """'Safety flag at 3 sessions: 31 Aug 2026, 14 Sep 2026, 9 Nov 2026', or '' for none.

    `days` are the flagged sessions' dates in words, oldest first.
    """
    if not days:
        return ""
    if len(days) == 1:
        return f"Safety flag at the session of {days[0]}"
    return f"Safety flag at {len(days)} sessions: " + ", ".join(days)


def flag_line(flags: Sequence[SafetyFlag]) -> str:
    """`safety_line` of these flags, oldest first."""
    return safety_line([day(f.session_date) for f in sorted(flags, key=lambda f: f.session_date)])
