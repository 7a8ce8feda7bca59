"""Per-couple summary rows: kept on write, read by the caseload and the review, repaired.

- `refresh(db, ids)`: inside a write transaction (couple_changes.couple_changed), the
  rows of these couples are recomputed from the database by the review's own code
  (review.couple_figures) and replaced. A save and its row commit together.
- A clinic-wide change of what couples are judged with (a norms or expected-course
  version published, the alliance scale's licence switched) changes the clinic's
  `basis`: every row then names an older basis and is stale. Readers never use a stale
  row (they compute those couples on the fly, so nothing shown is ever wrong) and
  `ensure_built` brings the rows up to date after such a change and at start-up: it
  computes outside any write transaction, then writes in a short one only the rows
  still stale or missing (a row a save refreshed meanwhile is newer and is left).
- `repair(db, actor)`: `python -m dashboard repair-summaries`: every row recomputed and
  compared field by field; the differences are reported, fixed and audited.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

import pandas as pd
from sqlalchemy import Select, delete, func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session as DbSession

from dashboard.domain import couple_summary as packing
from dashboard.domain.review import couple_figures, flag_words
from dashboard.domain.same_source import COUNSELOR
from dashboard.services import audit, instruments
from dashboard.services.actor import Actor
from dashboard.services.admin import require_admin
from dashboard.services.expected import expected_model
from dashboard.services.norms import clinic_norms
from db import review_queries
from db.engine import begin_write
from db.models import AuditChainHead, Couple, ExpectedCourseVersion, utcnow
from db.summary_models import CoupleSummary

log = logging.getLogger(__name__)

# The columns a person or a query looks for, besides the row's key and when it was
# written; then the rest of the review's per-couple figures (couple_summary.COLUMN_OF).
HEADLINE = (
    "basis",
    "norms_label",
    "expected_label",
    "stage_first",
    "stage_latest",
    "eii_first_a",
    "eii_latest_a",
    "judged_on_a",
    "eii_first_b",
    "eii_latest_b",
    "judged_on_b",
    "outcome",
    "flags",
    "reasons",
    "attention_key",
    "expected_alert",
    "expected_partner",
    "safety_dates",
    "last_held",
    "latest_session",
    "sessions_held",
)
# Every column of a row besides its key and when it was written.
NAMED = HEADLINE + tuple(c for c in packing.STORED_COLUMNS if c not in HEADLINE)


@dataclass(frozen=True)
class Basis:
    """What couples are judged with now, and its words for the stored row."""

    key: str
    norms_label: str
    expected_label: str


def current_basis(db: DbSession) -> Basis:
    norms = clinic_norms(db)
    model = expected_model(db)
    newest = db.scalar(select(func.max(ExpectedCourseVersion.id)))
    _, in_use = instruments.alliance_rule(db)
    # Before a version, the labels count intakes and couples, which every save moves:
    # the row names what judged it, not those counts.
    return Basis(
        packing.basis(norms.version, newest, in_use),
        norms.label if norms.version else packing.DEFAULT_NORMS,
        model.label if newest else packing.FALLBACK_COURSE,
    )


def _live(ids: Select) -> Select:
    return select(Couple.id).where(Couple.id.in_(ids), Couple.deleted_at.is_(None))


def figures_on_the_fly(db: DbSession, couple_ids: Select, end: date = packing.FOREVER):
    """(couples, sessions, figures) of these couples computed from their sessions."""
    couples = review_queries.review_couples(db, couple_ids)
    sessions, figures = _judged(db, couples, couple_ids, end)
    return couples, sessions, figures


def _judged(
    db: DbSession, couples: pd.DataFrame, couple_ids: Select, end: date = packing.FOREVER
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(sessions, figures) of these couples; couple_figures reads only the couples'
    couple_id column."""
    sessions = review_queries.review_sessions(db, couple_ids)
    figures = couple_figures(
        couples,
        sessions,
        clinic_norms(db).eii,
        end,
        instruments.alliance_totals(db, couple_ids),
        expected_model(db),
    )
    return sessions, figures


def _partner_eii(sessions: pd.DataFrame, figures: pd.DataFrame, key: str) -> pd.DataFrame:
    """First and latest EII of a partner from the source the outcome was judged on."""
    source = sessions[f"source_{key}"].astype(object).where(sessions[f"source_{key}"].notna())
    rated = sessions.assign(source=source.fillna(COUNSELOR))[sessions[f"eii_{key}"].notna()]
    judged_on = figures[f"judged_on_{key}"].reindex(rated["couple_id"]).to_numpy()
    mine = rated[rated["source"].to_numpy() == judged_on].groupby("couple_id")[f"eii_{key}"]
    return pd.DataFrame({"first": mine.first(), "latest": mine.last()}).reindex(figures.index)


def rows_of(
    sessions: pd.DataFrame, figures: pd.DataFrame, basis: Basis
) -> dict[int, dict[str, object]]:
    """The stored rows (NAMED columns) of computed figures, by couple id."""
    stored = packing.storable(figures)
    eii = {key: _partner_eii(sessions, figures, key) for key in ("a", "b")}
    latest = sessions.groupby("couple_id")["session_date"].max().reindex(figures.index)
    words = flag_words(figures)

    def number(value: object) -> object:
        return None if pd.isna(value) else value  # type: ignore[call-overload]

    def day(value: object) -> date | None:
        return None if pd.isna(value) else pd.Timestamp(value).date()  # type: ignore[call-overload,arg-type]

    out: dict[int, dict[str, object]] = {}
    for couple_id in figures.index.tolist():
        f = figures.loc[couple_id]
        alert = f["expected_alert"]
        out[int(couple_id)] = {
            "basis": basis.key,
            "norms_label": basis.norms_label,
            "expected_label": basis.expected_label,
            "stage_first": None if pd.isna(f["stage_first"]) else int(f["stage_first"]),
            "stage_latest": None if pd.isna(f["stage_latest"]) else int(f["stage_latest"]),
            "eii_first_a": number(eii["a"].at[couple_id, "first"]),
            "eii_latest_a": number(eii["a"].at[couple_id, "latest"]),
            "judged_on_a": f["judged_on_a"] if isinstance(f["judged_on_a"], str) else None,
            "eii_first_b": number(eii["b"].at[couple_id, "first"]),
            "eii_latest_b": number(eii["b"].at[couple_id, "latest"]),
            "judged_on_b": f["judged_on_b"] if isinstance(f["judged_on_b"], str) else None,
            "outcome": str(f["outcome"]),
            "flags": str(words.at[couple_id]),
            "reasons": str(f["attention_reasons"]),
            "attention_key": str(f["attention_key"]),
            "expected_alert": None if alert is None or pd.isna(alert) else str(alert),
            "expected_partner": f["expected_partner"]
            if isinstance(f["expected_partner"], str)
            else None,
            "safety_dates": str(f["safety_reason"]),
            "last_held": day(f["last_held_ever"]),
            "latest_session": day(latest.at[couple_id]),
            "sessions_held": int(f["sessions_held"]),
        }
        # The headline columns a figure shares (outcome, reasons, ...) hold the same value.
        out[int(couple_id)] = stored[int(couple_id)] | out[int(couple_id)]
        for column in ("eii_first_a", "eii_latest_a", "eii_first_b", "eii_latest_b"):
            value = out[int(couple_id)][column]
            out[int(couple_id)][column] = None if value is None else float(value)  # type: ignore[arg-type]
    return out


def _write(db: DbSession, rows: dict[int, dict[str, object]]) -> None:
    if not rows:
        return
    db.execute(delete(CoupleSummary).where(CoupleSummary.couple_id.in_(list(rows))))
    _insert(db, rows)


def _insert(db: DbSession, rows: dict[int, dict[str, object]]) -> None:
    if not rows:
        return
    now = utcnow()
    db.execute(
        CoupleSummary.__table__.insert(),  # type: ignore[attr-defined]
        [{"couple_id": cid, **row, "updated_at": now} for cid, row in rows.items()],
    )


def hold_saves(db: DbSession) -> None:
    """Take, in the caller's write transaction, the lock every save holds until it
    commits: the audit chain's head row (audit.record). On PostgreSQL begin_write locks
    nothing, so a rebuild or a repair that writes rows takes it before it reads what it
    will write, and no save's row can land in between. (SQLite's write transaction
    already locks the whole database; FOR UPDATE is left out there.)"""
    db.execute(select(AuditChainHead.id).where(AuditChainHead.id == 1).with_for_update())


def refresh(db: DbSession, couple_ids: Iterable[int]) -> None:
    """Recompute and replace these couples' rows in the caller's write transaction; a
    couple deleted (or never live) loses its row."""
    ids = sorted({int(i) for i in couple_ids})
    if not ids:
        return
    db.flush()
    hold_saves(db)  # a rebuild's rows and this save's never interleave
    live = _live(select(Couple.id).where(Couple.id.in_(ids)))
    # Only their ids: a save does not wait on reading the couples' other columns.
    couples = pd.DataFrame({"couple_id": pd.array(db.scalars(live).all(), dtype="int64")})
    sessions, figures = _judged(db, couples, live)
    db.execute(delete(CoupleSummary).where(CoupleSummary.couple_id.in_(ids)))
    _insert(db, rows_of(sessions, figures, current_basis(db)))


def _stored(db: DbSession, couple_ids: Select | None = None) -> dict[int, dict[str, object]]:
    columns = [getattr(CoupleSummary, c) for c in NAMED]
    query = select(CoupleSummary.couple_id, *columns)
    if couple_ids is not None:
        query = query.where(CoupleSummary.couple_id.in_(couple_ids))
    return {int(r[0]): dict(zip(NAMED, r[1:], strict=True)) for r in db.execute(query)}


def _bases(db: DbSession, couple_ids: Select) -> dict[int, str]:
    """The basis of each stored row of these couples: all ensure_built compares, so a
    start-up or a publish reads two columns, not every figure, while saves wait."""
    query = select(CoupleSummary.couple_id, CoupleSummary.basis).where(
        CoupleSummary.couple_id.in_(couple_ids)
    )
    return {int(cid): str(basis) for cid, basis in db.execute(query)}


def ensure_built(db: DbSession) -> int:
    """Build the rows that are missing or stale (start-up, after a publish); how many
    were written. Computed in a read, written in one short write transaction."""
    basis = current_basis(db)
    everyone = select(Couple.id).where(Couple.deleted_at.is_(None))
    stored = _bases(db, everyone)
    live = set(db.scalars(everyone))
    wanted = sorted(cid for cid in live if stored.get(cid) != basis.key)
    if not wanted:
        db.commit()
        return 0
    _, sessions, figures = figures_on_the_fly(db, select(Couple.id).where(Couple.id.in_(wanted)))
    rows = rows_of(sessions, figures, basis)
    db.commit()
    begin_write(db)
    hold_saves(db)  # saves wait until these rows are written; none is half-way now
    now_stored = _bases(db, everyone)
    # A save since the read wrote a newer row: keep it.
    rows = {cid: r for cid, r in rows.items() if now_stored.get(cid) == stored.get(cid)}
    _write(db, rows)
    db.commit()
    return len(rows)


def rebuild_after_change(db: DbSession) -> int:
    """ensure_built once a clinic-wide change has committed (a publish, a licence, the
    first norms or expected course after a save). Never fails that change, which is
    stored: readers compute stale couples on the fly until the next try (start-up)."""
    try:
        return ensure_built(db)
    except SQLAlchemyError:
        db.rollback()
        log.exception("summary rows were not rebuilt; readers compute them until start-up")
        return 0


@dataclass(frozen=True)
class Difference:
    """A stored row that did not equal its recomputation."""

    case_code: str
    fields: tuple[str, ...]  # "missing", "not a live couple", or the named/figure columns


def _differences(
    stored: dict[str, object] | None, fresh: dict[str, object] | None
) -> tuple[str, ...]:
    if stored is None:
        return ("missing",)
    if fresh is None:
        return ("not a live couple",)
    return tuple(c for c in NAMED if stored[c] != fresh[c])


def compare(db: DbSession) -> tuple[list[Difference], dict[int, dict[str, object]]]:
    """Every stored row against a full recomputation: the differences, and the
    recomputed rows of the couples that differ (None-free: rows to write)."""
    basis = current_basis(db)
    everyone = select(Couple.id).where(Couple.deleted_at.is_(None))
    _, sessions, figures = figures_on_the_fly(db, everyone)
    fresh = rows_of(sessions, figures, basis)
    stored = _stored(db)
    codes = {int(r[0]): str(r[1]) for r in db.execute(select(Couple.id, Couple.case_code))}
    found: list[Difference] = []
    fix: dict[int, dict[str, object]] = {}
    for cid in sorted(set(fresh) | set(stored), key=lambda i: codes.get(i, "")):
        fields = _differences(stored.get(cid), fresh.get(cid))
        if fields:
            found.append(Difference(codes.get(cid, f"couple {cid}"), fields))
            if cid in fresh:
                fix[cid] = fresh[cid]
    return found, fix


COMMAND_LINE = "command line"  # who the audit names when no admin was given


def repair(db: DbSession, actor: Actor | None) -> list[Difference]:
    """Rebuild every row; report each that differed (case code and fields), audited
    under the admin given (or as the command line, run by whoever runs the server).

    One write transaction from the comparison to the fix, holding the saves' lock from
    its start, so no save can slip between: an admin's command, run rarely (seconds at
    150k sessions), during which saves wait."""
    begin_write(db)
    hold_saves(db)
    if actor is not None:
        require_admin(db, actor, "repair_summaries")
    found, fix = compare(db)
    gone = [cid for cid in _stored(db) if cid not in fix and cid not in _live_ids(db)]
    if gone:
        db.execute(delete(CoupleSummary).where(CoupleSummary.couple_id.in_(gone)))
    _write(db, fix)
    audit.record(
        db,
        actor,
        "repair_summaries",
        entity="couple_summaries",
        username=None if actor is not None else COMMAND_LINE,
        detail=f"{len(found)} rows differed"
        + ("" if not found else ": " + ", ".join(d.case_code for d in found[:20])),
    )
    db.commit()
    return found


def _live_ids(db: DbSession) -> set[int]:
    return set(db.scalars(select(Couple.id).where(Couple.deleted_at.is_(None))))


def read_figures(
    db: DbSession, couple_ids: Select
) -> tuple[pd.DataFrame, pd.DataFrame, date | None]:
    """(couples, figures, latest session date) of these couples: the stored rows where
    they are current, computed on the fly for a couple whose row is missing or stale.

    couples: review_queries.review_couples; figures: review.couple_figures as judged over
    all sessions (index couple_id); the latest session date of any of them (None
    without sessions) tells a reader whether "all sessions" is what its range asks.
    """
    couples = review_queries.review_couples(db, couple_ids)
    basis = current_basis(db).key
    raw = review_queries.summary_rows(
        db, couple_ids, basis, ("couple_id", "latest_session", *packing.STORED_COLUMNS)
    )
    figures = packing.typed(raw)
    latest = [pd.to_datetime(raw["latest_session"], format=packing.DAY).max()]
    stale = sorted(set(couples["couple_id"].tolist()) - set(figures.index.tolist()))
    if stale:
        _, sessions, computed = figures_on_the_fly(
            db, select(Couple.id).where(Couple.id.in_(stale))
        )
        figures = computed if figures.empty else pd.concat([figures, computed])
        latest.append(sessions["session_date"].max())
    figures = figures.reindex(couples["couple_id"].to_numpy())
    figures.index.name = "couple_id"
    latest = [day for day in latest if pd.notna(day)]
    return couples, figures, max(latest).date() if latest else None
