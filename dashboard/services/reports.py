"""Couple progress reports (PDF): one couple, or a batch through one chart browser.

Scoped exactly like the timeline (counselor: own couples; supervisor: supervisees';
admin: all) and audited as an "export". Session notes (DAP) print only when the
couple's own counselor asks for them; private notes of individual sessions never
print in this joint report, whoever asks (DOMAIN.md, "The record").
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session as DbSession

from dashboard import charts
from dashboard.config import load_settings
from dashboard.domain.catalog import ATTENDANCE_LABELS, Attendance
from dashboard.reports.chart_images import NO_BROWSER, ChartRenderer
from dashboard.reports.model import REPORT_CHARTS, SessionNote, progress_report
from dashboard.reports.pdf import build_progress_report
from dashboard.services import audit, scope
from dashboard.services.actor import Actor
from dashboard.services.errors import AccessDenied
from dashboard.services.timeline import TimelineView, timeline_view
from db.models import Couple, CoupleSession, User

ACTION = "export"
NOTES_REFUSED = "Only the couple's counselor can include session notes."
CHART_WIDTH_PX = 900  # CSS pixels across the page's 180 mm (rendered at scale 2)
CHART_HEIGHT_PX = 450  # when a figure sets no height of its own


@dataclass(frozen=True)
class ReportFile:
    filename: str  # e.g. "C-2026-0001-progress-report.pdf"
    data: bytes
    records: int  # sessions in the report


def _filename(case_code: str) -> str:
    safe = "".join(c if c.isalnum() or c in "-_" else "-" for c in case_code)
    return f"{safe}-progress-report.pdf"


def _counselor_name(db: DbSession, couple_id: int) -> str:
    return (
        db.scalar(
            select(User.display_name)
            .join(Couple, Couple.counselor_id == User.id)
            .where(Couple.id == couple_id)
        )
        or ""
    )


def _session_notes(db: DbSession, couple_id: int) -> list[SessionNote]:
    """DAP notes of the couple's live sessions, in date order; never the private note."""
    rows = db.execute(
        select(
            CoupleSession.session_date,
            CoupleSession.attendance,
            CoupleSession.note_data,
            CoupleSession.note_assessment,
            CoupleSession.note_plan,
        )
        .where(CoupleSession.couple_id == couple_id, CoupleSession.deleted_at.is_(None))
        .order_by(CoupleSession.session_date, CoupleSession.id)
    ).all()
    return [
        SessionNote(
            r.session_date,
            ATTENDANCE_LABELS.get(Attendance(r.attendance), r.attendance),
            r.note_data or "",
            r.note_assessment or "",
            r.note_plan or "",
        )
        for r in rows
        if (r.note_data or r.note_assessment or r.note_plan or "").strip()
    ]


def _chart_images(
    view: TimelineView, renderer: ChartRenderer | None
) -> tuple[dict[str, bytes], str | None]:
    """The report's charts as PNGs, or why there are none."""
    if renderer is None or not renderer.available:
        return {}, renderer.reason if renderer is not None else NO_BROWSER
    figures = charts.all_figures(view.data)
    images = {}
    try:
        for key in REPORT_CHARTS:
            fig = figures[key]
            height = int(fig.layout.height or CHART_HEIGHT_PX)
            images[key] = renderer.png(fig, CHART_WIDTH_PX, height)
    except Exception as exc:  # a browser that dies mid-batch: the report still builds
        return {}, f"Charts are not included: the chart export failed ({exc})."
    return images, None


def couple_report(
    db: DbSession,
    actor: Actor,
    couple_id: int,
    *,
    include_notes: bool = False,
    renderer: ChartRenderer | None = None,
    clinic_name: str | None = None,
    audit_it: bool = True,
    today: date | None = None,
) -> ReportFile:
    """One couple's progress report as a PDF file.

    Raises AccessDenied (audited) for a couple out of the actor's scope, and when anyone
    but the couple's counselor asks for session notes. `renderer` None or unavailable:
    the report says why the charts are missing. `audit_it` False: the caller audits
    (a batch writes one row for all its couples).
    """
    couple = scope.couple_for(db, actor, couple_id, action=ACTION)
    if include_notes and not scope.can_edit(actor, couple):
        raise audit.refused(
            db,
            actor,
            ACTION,
            AccessDenied(NOTES_REFUSED),
            entity="couple",
            entity_id=couple_id,
            detail="progress report PDF with session notes: not the couple's counselor",
        )
    case_code = couple.case_code
    counselor = _counselor_name(db, couple_id)
    notes = _session_notes(db, couple_id) if include_notes else None
    view = timeline_view(db, actor, couple_id, record_view=False)  # ends the transaction
    report = progress_report(
        view.data,
        view.trajectory,
        view.norms.eii,
        clinic_name=clinic_name or load_settings().clinic_name,
        counselor=counselor,
        generated_on=today or date.today(),
        notes=notes,
    )
    images, missing = _chart_images(view, renderer)
    data = build_progress_report(report, images, missing)
    sessions = len(report.sessions)
    if audit_it:
        audit.record(
            db,
            actor,
            ACTION,
            entity="couple",
            entity_id=couple_id,
            detail=(
                f"progress report PDF; {sessions} sessions; "
                f"notes {'included' if include_notes else 'excluded'}; "
                f"charts {'missing' if missing else 'included'}"
            ),
        )
        db.commit()
    return ReportFile(_filename(case_code), data, sessions)


def report_couples(
    db: DbSession, actor: Actor, counselor_id: int | None = None
) -> list[tuple[int, str]]:
    """(couple id, case code) of the live couples in the actor's scope, by case code;
    only one counselor's when `counselor_id` is given. For choosing a batch."""
    scope.require_active(db, actor, ACTION, entity="couple")
    query = select(Couple.id, Couple.case_code).where(
        Couple.deleted_at.is_(None), scope.visible_couples(actor)
    )
    if counselor_id is not None:
        query = query.where(Couple.counselor_id == counselor_id)
    rows = [(int(i), str(code)) for i, code in db.execute(query.order_by(Couple.case_code))]
    db.commit()
    return rows


def batch_reports(
    db: DbSession,
    actor: Actor,
    couple_ids: Iterable[int],
    *,
    include_notes: bool = False,
    renderer: ChartRenderer | None = None,
    progress: Callable[[int, int], None] | None = None,
    clinic_name: str | None = None,
    today: date | None = None,
) -> Iterator[ReportFile]:
    """One report after another (only one PDF in memory at a time), then ONE audit row
    for the batch: "progress report PDFs; N couples" (those actually built)."""
    ids = list(couple_ids)
    clinic = clinic_name or load_settings().clinic_name
    done = 0
    try:
        for couple_id in ids:
            file = couple_report(
                db,
                actor,
                couple_id,
                include_notes=include_notes,
                renderer=renderer,
                clinic_name=clinic,
                audit_it=False,
                today=today,
            )
            done += 1
            if progress is not None:
                progress(done, len(ids))
            yield file
    finally:
        if done:
            audit.record(
                db,
                actor,
                ACTION,
                entity="couple",
                detail=(
                    f"progress report PDFs; {done} couple{'s' if done != 1 else ''}; "
                    f"notes {'included' if include_notes else 'excluded'}"
                ),
            )
            db.commit()
