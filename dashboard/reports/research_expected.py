"""The research extract's expected-course alert (issue 22): the alert, never its numbers.

Each partner is judged at their latest counselor rating (the extract's sessions are the
counselor's only: research.counselor_rated) against the clinic's expected course
(domain/expected_response.py), by the same rule as My caseload but on counselor ratings
only: a partner My caseload judges on their own check-in answers can read differently
here (the extract releases no self-reports). What is released is
the couple's alert and which partner it is about; the expected percentiles and the
rating number are not.

A partner's alert is released only where the couple's released points show at least two
of that partner's EIIs: an alert at all says that partner was rated twice, which a
couple released with a single point would not otherwise tell (a count is a
quasi-identifier; scores and their judgements are not). Otherwise it reads "no data yet".
Pure: rows in, one mapping per couple out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from dashboard.domain.catalog import Attendance
from dashboard.domain.expected_response import (
    Alert,
    CoupleAlert,
    ExpectedModel,
    PartnerAlert,
    caseload_alerts,
)
from dashboard.reports.anonymity import Point

Rows = Sequence[Mapping[str, Any]]
COLUMNS = ("expected_alert", "expected_partner")


def partner_alerts(sessions: Rows, model: ExpectedModel | None) -> dict[int, tuple[str, str]]:
    """couple_id -> (partner A's alert, partner B's) at their latest rating of `sessions`
    (caseload_alerts: like with like); {} without a model."""
    if model is None or not sessions:
        return {}
    frame = pd.DataFrame(
        {
            "couple_id": [s["couple_id"] for s in sessions],
            "session_id": [s["session_id"] for s in sessions],
            "session_date": pd.to_datetime([s["session_date"] for s in sessions]),
            "held": [Attendance(s["attendance"]).held for s in sessions],
            "eii_a": pd.array([s["eii_a"] for s in sessions], dtype="Float64"),
            "eii_b": pd.array([s["eii_b"] for s in sessions], dtype="Float64"),
        }
    )
    frame[["eii_a", "eii_b"]] = frame[["eii_a", "eii_b"]].astype("float64")
    frame = frame.sort_values(["couple_id", "session_date", "session_id"], kind="stable")
    alerts = caseload_alerts(frame.reset_index(drop=True), model)
    return {
        int(couple): (str(a), str(b))
        for couple, a, b in zip(alerts.index, alerts["alert_a"], alerts["alert_b"], strict=True)
    }


def released_alert(points: Sequence[Point], alerts: tuple[str, str] | None) -> dict[str, str]:
    """couples.csv's expected_alert and expected_partner for one released couple: '' for
    both without a model; a partner with fewer than two released EIIs counts as no data."""
    if alerts is None:
        return dict.fromkeys(COLUMNS, "")
    judged = []
    for key, label, alert in (("a", "Partner A", alerts[0]), ("b", "Partner B", alerts[1])):
        shown = sum(1 for p in points if getattr(p, key))
        judged.append(PartnerAlert(label, Alert(alert) if shown >= 2 else Alert.NO_DATA))
    couple = CoupleAlert(judged[0], judged[1])
    return {"expected_alert": couple.alert.value, "expected_partner": couple.partner or ""}
