"""Times as the clinic reads them.

Every moment is stored in UTC; everything a person reads (draft times, the audit log,
a check-in link's expiry, a review's date, a sign-in wait) is shown in the clinic's
zone, `[clinic] timezone` (default the server's own; dashboard.config). Not the
browser's: a note read at home or on a colleague's laptop must say the same time as
the clinic's diary. A page says the zone once (the menu's caption, or `with_zone` on a
page with a single time) rather than after every time.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pandas as pd

from dashboard.ui.db import settings

DAY_AND_TIME = "%d %b %Y, %H:%M"
TIME = "%H:%M"


def in_zone(moment: datetime, zone: str, fmt: str = DAY_AND_TIME) -> str:
    """`moment` written in `zone` (a moment without a zone is UTC, as stored)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return f"{moment.astimezone(ZoneInfo(zone)):{fmt}}"


def clinic_zone() -> str:
    """The clinic's zone by name, e.g. 'Europe/Oslo'."""
    return settings().timezone


def clinic_time(moment: datetime, fmt: str = DAY_AND_TIME) -> str:
    """A moment in the clinic's zone: '06 Dec 2026, 12:25' (the page says the zone)."""
    return in_zone(moment, clinic_zone(), fmt)


def clinic_day(moment: datetime) -> date:
    """The clinic's calendar day of a moment (a review at 00:30 in Oslo is that day's,
    not the day before's, as it would be in UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(ZoneInfo(clinic_zone())).date()


def with_zone(moment: datetime, fmt: str = DAY_AND_TIME) -> str:
    """For a page with one time on it: '06 Dec 2026, 12:25 (Europe/Oslo time)'."""
    zone = clinic_zone()
    return f"{in_zone(moment, zone, fmt)} ({zone} time)"


def zone_note(zone: str | None = None) -> str:
    """What a page says once about its times."""
    return f"Times in {zone or clinic_zone()}"


def clinic_moment(moment: datetime) -> datetime:
    """A moment as the clinic's clock reads it, for a table's row (st.dataframe shows a
    zoned time as it is, with no zone beside it)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(ZoneInfo(clinic_zone()))


def clinic_times(column: pd.Series) -> pd.Series:
    """A table's column of moments, in the clinic's zone (for st.dataframe, which shows
    a zoned time as it is, with no zone beside it)."""
    return pd.to_datetime(column, utc=True).dt.tz_convert(clinic_zone())
