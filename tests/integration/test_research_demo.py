"""The demo clinic's research extract, attacked with the clinic's own records.

An attacker holds the clinic database and the extract. For every couple of the clinic
they compute, with plain SQL and the rules the extract's README publishes, every
quasi-identifier (status, closing reason, intake month, sessions held, course length,
the days since intake of every session, the attendance of every session, the
instruments given at every session) and compare
it with each released couple. For every released couple and every combination of
quasi-identifiers, at least k = 5 clinic couples must fit. Runs on SQLite, and on
PostgreSQL when TEST_DATABASE_URL is set.
"""

from __future__ import annotations

import io
import itertools
import random
import re
import zipfile
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from dashboard.demo import load_demo
from dashboard.domain.catalog import Role
from dashboard.services import exports
from dashboard.services.actor import Actor
from db.models import Couple, CoupleSession, InstrumentTotal, User

K = 5  # the default, [research] k
ROOT = Path(__file__).resolve().parents[2]
WITHHELD = "withheld"
HELD = {"both", "partner_a", "partner_b"}


@dataclass
class Known:
    """What the attacker reads about one couple from the clinic database."""

    status: str
    reason: str | None
    intake: date
    # date, attendance, EII A present, EII B present, (partner, instrument) totals
    sessions: list[tuple[date, str, bool, bool, frozenset[tuple[str, str]]]]

    def weeks(self, when: date) -> int:
        return max((when - self.intake).days, 0) // 7

    @property
    def held(self) -> list[tuple[date, str, bool, bool]]:
        return [s for s in self.sessions if s[1] in HELD]


def _known(db: Session) -> list[Known]:
    couples = db.execute(
        select(Couple.id, Couple.status, Couple.closing_reason, Couple.intake_date)
        .where(Couple.deleted_at.is_(None))
        .order_by(Couple.id)
    ).all()
    rows = db.execute(
        select(
            CoupleSession.id,
            CoupleSession.couple_id,
            CoupleSession.session_date,
            CoupleSession.attendance,
            CoupleSession.eii_a,
            CoupleSession.eii_b,
            CoupleSession.source_a,
            CoupleSession.source_b,
        )
        .where(CoupleSession.deleted_at.is_(None))
        .order_by(CoupleSession.couple_id, CoupleSession.session_date, CoupleSession.id)
    ).all()
    totals: dict[int, set[tuple[str, str]]] = {}
    # The README: only the counselor's ratings are released (a check-in answer is not).
    for session_id, partner, instrument in db.execute(
        select(
            InstrumentTotal.session_id, InstrumentTotal.partner, InstrumentTotal.instrument
        ).where(InstrumentTotal.source == "counselor")
    ).all():
        totals.setdefault(session_id, set()).add((partner, instrument))
    of: dict[int, list[tuple[date, str, bool, bool, frozenset[tuple[str, str]]]]] = {
        c.id: [] for c in couples
    }
    for r in rows:
        if r.couple_id in of:
            of[r.couple_id].append(
                (
                    r.session_date,
                    r.attendance,
                    r.eii_a is not None and r.source_a == "counselor",
                    r.eii_b is not None and r.source_b == "counselor",
                    frozenset(totals.get(r.id, ())),
                )
            )
    return [Known(c.status, c.closing_reason, c.intake_date, of[c.id]) for c in couples]


def _range(label: str) -> tuple[int, float]:
    """'weeks 3–11' -> (3, 11); 'week 26 on' -> (26, inf); 'intake (weeks 0–2)' -> (0, 2);
    '1–3' -> (1, 3); '16 or more' -> (16, inf); '0' -> (0, 0)."""
    numbers = [int(n) for n in re.findall(r"\d+", label)]
    if label.endswith(" on") or label.endswith("or more"):
        return numbers[0], float("inf")
    return numbers[0], numbers[-1]


def _bands(labels: list[str]) -> list[tuple[int, float]]:
    return sorted(_range(label) for label in labels)


def _points(known: Known, bands: list[tuple[int, float]]) -> dict[tuple[int, float], tuple]:
    """The README's rule, done again: per band with a rated session, at the intake band
    its first, later its last, a session with both partners rated first."""
    out = {}
    for band in bands:
        rated = [
            s for s in known.sessions if (s[2] or s[3]) and band[0] <= known.weeks(s[0]) <= band[1]
        ]
        if rated:
            both = [s for s in rated if s[2] and s[3]] or rated
            chosen = both[0] if band[0] == 0 else both[-1]
            shown = tuple(sorted((p, i) for p, i in chosen[4] if chosen[2 if p == "A" else 3]))
            out[band] = (chosen[2], chosen[3], shown)
    return out


# Each quasi-identifier: does a clinic couple fit a released couple's record on it?
Fits = Callable[[pd.Series, list[tuple], list[tuple[int, float]], Known], bool]


def _fits_status(row, points, bands, known) -> bool:  # type: ignore[no-untyped-def]
    cell = row["status"]
    if cell == WITHHELD:
        return True
    if cell in ("open", "closed"):
        return (known.status == "closed") == (cell == "closed")
    return cell == known.status


def _fits_reason(row, points, bands, known) -> bool:  # type: ignore[no-untyped-def]
    cell = row["closing_reason"]
    if cell == WITHHELD:
        return known.status == "closed" or row["status"] == WITHHELD
    if cell == "":
        return known.status != "closed" or row["status"] == WITHHELD
    return cell == known.reason


def _fits_intake_month(row, points, bands, known) -> bool:  # type: ignore[no-untyped-def]
    return True  # not released: no column carries it (test_no_date_or_day_is_released)


def _fits_sessions(row, points, bands, known) -> bool:  # type: ignore[no-untyped-def]
    cell = row["sessions_held"]
    if cell == WITHHELD:
        return True
    low, high = _range(cell)
    return low <= len(known.held) <= high


def _fits_course(row, points, bands, known) -> bool:  # type: ignore[no-untyped-def]
    cell = row["course_length"]
    if cell == WITHHELD:
        return True
    if cell == "none held":
        return not known.held
    low, high = _range(cell)
    return bool(known.held) and low <= known.weeks(known.held[-1][0]) <= high


def _fits_session_days(row, points, bands, known) -> bool:  # type: ignore[no-untyped-def]
    """When the sessions fell: which bands hold a point."""
    return set(_points(known, bands)) == {_range(label) for label, *_ in points}


def _fits_attendance(row, points, bands, known) -> bool:  # type: ignore[no-untyped-def]
    """Who attended: whose EII each point carries."""
    theirs = _points(known, bands)
    return all(theirs.get(_range(label), (a, b))[:2] == (a, b) for label, a, b, _ in points)


def _fits_instruments(row, points, bands, known) -> bool:  # type: ignore[no-untyped-def]
    """Which instruments were given: the totals each point carries (none at all when
    the README says they are withheld)."""
    if not SHOWN["instruments"]:
        return True
    theirs = _points(known, bands)
    withheld = row["status"] == WITHHELD and row["course_length"] == WITHHELD
    return all(
        (() if withheld else theirs.get(_range(label), (0, 0, ()))[2]) == given
        for label, _, _, given in points
    )


SHOWN = {"instruments": True}  # set from the README: are instrument totals released?


QUASI_IDENTIFIERS: dict[str, Fits] = {
    "status": _fits_status,
    "closing_reason": _fits_reason,
    "intake_month": _fits_intake_month,
    "sessions_held": _fits_sessions,
    "course_length": _fits_course,
    "session_days": _fits_session_days,
    "attendance": _fits_attendance,
    "instruments": _fits_instruments,
}


def _unzip(data: bytes) -> tuple[dict[str, pd.DataFrame], str]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        frames = {
            n: pd.read_csv(archive.open(n), encoding="utf-8-sig", dtype=str, keep_default_na=False)
            for n in archive.namelist()
            if n.endswith(".csv")
        }
        return frames, archive.read("README.txt").decode()


@pytest.fixture
def demo(db: Session, backend: str) -> tuple[dict[str, pd.DataFrame], str, list[Known], Session]:
    load_demo(db, bcrypt_rounds=4, today=date(2026, 11, 1))
    admin = db.scalar(select(User).where(User.username == "admin"))
    assert admin is not None
    actor = Actor(admin.id, admin.username, admin.display_name, Role(admin.role))
    file = exports.research_extract(db, actor, rng=random.Random(11))
    frames, readme = _unzip(file.data)
    return frames, readme, _known(db), db


def test_every_demo_couple_hides_among_k_on_every_combination(demo) -> None:  # type: ignore[no-untyped-def]
    frames, readme, known, _ = demo
    couples, points = frames["couples.csv"], frames["measurements.csv"]
    assert len(couples) >= 80  # most of the clinic is released (100 couples)
    line = re.search(r"Measurement points: (.*)\.", readme)
    assert line is not None
    chosen = _bands(line.group(1).split(", "))
    coarsest = [(0, 2), (3, float("inf"))]
    SHOWN["instruments"] = "Instrument totals: withheld for every couple" not in readme
    given: dict[tuple[str, str], set[tuple[str, str]]] = {}
    for t in frames["instruments.csv"].itertuples(index=False):
        given.setdefault((t.couple_key, t.point), set()).add((t.partner, t.instrument))
    of_couple: dict[str, list[tuple]] = {}
    for p in points.itertuples(index=False):
        shown = tuple(sorted(given.get((p.couple_key, p.point), ())))
        of_couple.setdefault(p.couple_key, []).append(
            (p.point, p.eii_a != "", p.eii_b != "", shown)
        )
    fits = {}
    for name, rule in QUASI_IDENTIFIERS.items():
        matrix = np.zeros((len(couples), len(known)), dtype=bool)
        for i, (_, row) in enumerate(couples.iterrows()):
            mine = of_couple.get(row["couple_key"], [])
            withheld = row["course_length"] == WITHHELD and row["status"] == WITHHELD
            bands = coarsest if withheld else chosen
            for j, clinic_couple in enumerate(known):
                matrix[i, j] = rule(row, mine, bands, clinic_couple)
        fits[name] = matrix
    names = list(QUASI_IDENTIFIERS)
    smallest = {}
    for size in range(1, len(names) + 1):
        for combo in itertools.combinations(names, size):
            together = np.logical_and.reduce([fits[n] for n in combo])
            smallest[combo] = int(together.sum(axis=1).min())
    assert min(smallest.values()) >= K, {c: n for c, n in smallest.items() if n < K}
    # Not vacuous: on everything together, a released couple fits exactly the clinic
    # couples of its own released group (the attacker's rules are the extract's).
    quasi = ["status", "closing_reason", "course_length", "sessions_held"]
    signature = couples[quasi].apply(tuple, axis=1) + pd.Series(
        [tuple(sorted(of_couple.get(k, []))) for k in couples["couple_key"]]
    ).apply(lambda t: (t,))
    group = signature.map(Counter(signature))
    together = np.logical_and.reduce(list(fits.values())).sum(axis=1)
    assert together.tolist() == group.tolist()
    assert min(group) >= K


def test_the_clinic_records_alone_would_single_out_most_couples(demo) -> None:  # type: ignore[no-untyped-def]
    """What the extract must hide: by sessions held and the gaps between sessions alone,
    most demo couples are unique in the clinic's own records. The project README's
    figures are these, measured."""
    frames, readme, known, _ = demo
    exact = [
        (len(k.held), tuple((b[0] - a[0]).days for a, b in itertools.pairwise(k.sessions)))
        for k in known
    ]
    seen = Counter(exact)
    unique = sum(seen[e] == 1 for e in exact) / len(exact)
    assert unique > 0.5
    couples = frames["couples.csv"]
    group = couples.groupby(["status", "closing_reason", "course_length", "sessions_held"])
    measured = {
        "unique in the records (%)": round(100 * unique),
        "released": len(couples),
        "left out": int(re.search(r"Left out: (\d+)", readme).group(1)),  # type: ignore[union-attr]
        "smallest group": int(re.search(r"Smallest group sharing .*?: (\d+)", readme).group(1)),  # type: ignore[union-attr]
    }
    assert min(group.size()) >= measured["smallest group"]
    text = " ".join((ROOT / "README.md").read_text().split())
    said = re.search(
        r"in the clinic's own records (\d+) % of couples are unique by sessions held and the "
        r"gaps between sessions alone;.*? (\d+) couples are released, (\d+) left out, the "
        r"smallest group is (\d+) couples",
        text,
    )
    assert said is not None
    claimed = dict(zip(measured, map(int, said.groups()), strict=True))
    assert claimed == measured, f"README.md's research extract figures are now {measured}"


def test_no_date_or_day_is_released_and_the_readme_measures_zero(demo) -> None:  # type: ignore[no-untyped-def]
    frames, readme, _, _ = demo
    iso = re.compile(r"\d{4}-\d{2}-\d{2}")
    for name, frame in frames.items():
        if name == "data_dictionary.csv":
            continue
        assert not [c for c in frame.columns if "date" in c or "day" in c], name
        assert not frame.apply(lambda col: col.str.contains(iso)).any().any(), name
    assert "k-anonymity (k = 5)" in readme
    changes = Counter(frames["couples.csv"]["change_a"]) + Counter(
        frames["couples.csv"]["change_b"]
    )
    assert set(changes) <= {"improved", "no reliable change", "deteriorated", ""}
    assert changes["improved"] and changes["deteriorated"], changes
    # The couple's outcome is partner-level: a partner who got worse is never hidden.
    couples = frames["couples.csv"]
    worse = (couples["change_a"] == "deteriorated") | (couples["change_b"] == "deteriorated")
    assert worse.any()
    assert set(couples.loc[worse, "outcome"]) <= {
        "Deteriorated",
        "Mixed: one improved, one deteriorated",
    }
    assert "Measured share of released couples unique on the released fields: 0.0%" in readme
    left_out = int(re.search(r"Left out: (\d+)", readme).group(1))  # type: ignore[union-attr]
    assert len(frames["couples.csv"]) + left_out == 100
