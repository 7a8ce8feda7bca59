"""The caseload review says a supervision review's day as the clinic's calendar has it."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
import pytest

from dashboard.services.review import _review_words


def _words(zone: str, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    monkeypatch.setenv("BONDLINE_TIMEZONE", zone)
    attention = pd.DataFrame(
        {
            # 23:30 UTC on 5 Dec is 00:30 on 6 Dec in Oslo.
            "reviewed_at": [datetime(2026, 12, 5, 23, 30, tzinfo=UTC), None],
            "reviewed_key": ["k1", None],
            "reviewed": [True, False],
            "reviewer": ["Sam Super", None],
        }
    )
    return _review_words(attention)["review"].tolist()


def test_a_review_after_midnight_in_the_clinic_is_that_days(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert _words("Europe/Oslo", monkeypatch) == [
        "Reviewed 06 Dec 2026 by Sam Super",
        "Not reviewed",
    ]


def test_in_utc_it_is_still_the_day_before(monkeypatch: pytest.MonkeyPatch) -> None:
    assert _words("UTC", monkeypatch) == ["Reviewed 05 Dec 2026 by Sam Super", "Not reviewed"]
