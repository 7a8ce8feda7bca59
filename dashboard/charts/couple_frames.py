"""What every couple chart draws from: `TimelineData` read once into `Prepared`
(shared by `all_figures`, so the frames are built once for the page and the report)."""

from __future__ import annotations

from functools import cached_property

import pandas as pd

from dashboard.charts.common import (
    _dates,
    barrier_name,
    barrier_order,
    partner_labels,
    stage_name,
)
from dashboard.domain.catalog import (
    SEVERITIES,
    Attendance,
)
from dashboard.domain.timeline import TimelineData

NO_SESSIONS = "No sessions yet"


class Prepared:
    """`TimelineData` read once into what the builders draw (shared by `all_figures`)."""

    def __init__(self, data: TimelineData) -> None:
        self.data = data
        self.name_a, self.name_b = partner_labels(data)

    def partner(self, code: str) -> str:
        return self.name_a if code == "A" else self.name_b

    @cached_property
    def sessions(self) -> pd.DataFrame:
        """Sessions on the timeline, in date order, with their date and stage words.

        Cancelled sessions are left out: nobody missed them, so they must not break a
        line. A no-show stays, and leaves its gap.
        """
        s = self.data.sessions
        if not s.empty:
            s = s[s["attendance"].astype(str) != Attendance.CANCELLED.value]
            s = s.sort_values(["session_date", "session_id"], kind="stable")
        s = s.reset_index(drop=True)
        return s.assign(
            session_date=pd.to_datetime(s["session_date"]),
            date_label=_dates(s["session_date"]),
            stage_name=[stage_name(v) for v in s["stage"]],
        )

    @cached_property
    def session_info(self) -> dict[int, tuple[pd.Timestamp, str, str]]:
        """session_id -> (date, date label, stage name)."""
        s = self.sessions
        return {
            int(i): (d, label, stage)
            for i, d, label, stage in zip(
                s["session_id"], s["session_date"], s["date_label"], s["stage_name"], strict=True
            )
        }

    @cached_property
    def latest_date(self) -> pd.Timestamp | None:
        s = self.sessions
        return None if s.empty else pd.Timestamp(s["session_date"].max())

    @cached_property
    def barriers(self) -> list[dict]:
        """Tagged barriers at sessions on the timeline, in date then catalog order."""
        b = self.data.barriers
        rows = []
        info = self.session_info
        for sid, code, severity, note in zip(
            b["session_id"], b["barrier"], b["severity"], b["note"], strict=True
        ):
            if int(sid) not in info:
                continue
            severity = int(severity)
            rows.append(
                dict(
                    session_id=int(sid),
                    name=barrier_name(code),
                    severity=severity,
                    severity_word=SEVERITIES.get(severity, str(severity)),
                    note="" if note is None or pd.isna(note) else str(note).strip(),
                )
            )
        order = {n: i for i, n in enumerate(barrier_order(r["name"] for r in rows))}
        position = {sid: i for i, sid in enumerate(info)}
        rows.sort(key=lambda r: (position[r["session_id"]], order[r["name"]]))
        return rows

    @cached_property
    def barrier_names(self) -> list[str]:
        return barrier_order(r["name"] for r in self.barriers)


def _prepare(data: TimelineData | Prepared) -> Prepared:
    return data if isinstance(data, Prepared) else Prepared(data)
