"""Couple progress reports (PDF): one couple, or a batch through one chart browser.

Scoped exactly like the timeline (counselor: own couples; supervisor: supervisees';
admin: all) and audited as an "export". Session notes (DAP) print only when the
couple's own counselor asks for them; private notes of individual sessions never
print in this joint report, whoever asks (DOMAIN.md, "The record").
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session as DbSession

from dashboard import charts
from dashboard.config import load_settings
from dashboard.domain.catalog import ATTENDANCE_LABELS, Attendance
from dashboard.reports.chart_images import NO_BROWSER, ChartRenderer
from dashboard.reports.model import ProgressReport, SessionNote, progress_report
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
BATCH_WORKERS = 2  # reports drawn at once in a batch (the browser has as many tabs)
BATCH_AHEAD = 3  # reports read ahead of the one being handed out


@dataclass(frozen=True)
class ReportFile:
    filename: str  # e.g. "C-2026-0001-progress-report.pdf"
    data: bytes
    records: int  # sessions in the report


def _filename(case_code: str, *, summary_only: bool = False) -> str:
    safe = "".join(c if c.isalnum() or c in "-_" else "-" for c in case_code)
    return f"{safe}-progress-{'summary' if summary_only else 'report'}.pdf"


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
    view: TimelineView,
    keys: tuple[str, ...],
    renderer: ChartRenderer | None,
    *,
    summary_only: bool = False,
) -> tuple[dict[str, bytes], str | None]:
    """The report's charts as PNGs, or why there are none. A full report prints the
    expected course's model under the chart, so its legend needs only the key; a
    one-page summary has no room for that line, so its legend keeps naming the model."""
    if renderer is None or not renderer.available:
        return {}, renderer.reason if renderer is not None else NO_BROWSER
    figures = charts.all_figures(view.data, for_print=True, model_in_legend=summary_only)
    wanted = [
        (figures[key], CHART_WIDTH_PX, int(figures[key].layout.height or CHART_HEIGHT_PX))
        for key in keys
    ]
    try:
        images = dict(zip(keys, renderer.pngs(wanted), strict=True))
    except Exception as exc:  # a browser that dies mid-batch: the report still builds
        return {}, f"Charts are not included: the chart export failed ({exc})."
    return images, None


@dataclass(frozen=True)
class _Prepared:
    """What a report needs from the database, read; drawing it needs no database."""

    filename: str
    view: TimelineView
    report: ProgressReport


def _prepare(
    db: DbSession,
    actor: Actor,
    couple_id: int,
    *,
    include_notes: bool,
    clinic_name: str,
    today: date | None,
    summary_only: bool = False,
    keep_view: bool = True,
) -> _Prepared:
    """`keep_view` False (a batch): the couple's timeline is not added to the page cache,
    which would otherwise fill with views nobody opens, push out the pages other users
    have open, and hold up to memo.MAX_ENTRIES of them for the rest of the process."""
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
    view = timeline_view(db, actor, couple_id, record_view=False, keep=keep_view)
    report = progress_report(
        view.data,
        view.trajectory,
        view.norms.eii,
        instrument_changes=view.instrument_changes,
        instrument_notes=view.instrument_notes,
        clinic_name=clinic_name,
        counselor=counselor,
        generated_on=today or date.today(),
        notes=notes,
        summary_only=summary_only,
        case_status=view.case_status,
        safety=view.safety,
        alliance=view.alliance,
        expected=view.expected_model,
    )
    return _Prepared(_filename(case_code, summary_only=summary_only), view, report)


def _draw(prepared: _Prepared, renderer: ChartRenderer | None) -> tuple[bytes, str | None]:
    """The PDF and why charts are missing (None when they are in): no database."""
    images, missing = _chart_images(
        prepared.view,
        prepared.report.chart_keys,
        renderer,
        summary_only=prepared.report.summary_only,
    )
    return build_progress_report(prepared.report, images, missing), missing


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
    summary_only: bool = False,
) -> ReportFile:
    """One couple's progress report as a PDF file.

    Raises AccessDenied (audited) for a couple out of the actor's scope, and when anyone
    but the couple's counselor asks for session notes. `renderer` None or unavailable:
    the report says why the charts are missing. `audit_it` False: the caller audits
    (a batch writes one row for all its couples).
    """
    prepared = _prepare(
        db,
        actor,
        couple_id,
        include_notes=include_notes,
        clinic_name=clinic_name or load_settings().clinic_name,
        today=today,
        summary_only=summary_only,
    )
    data, missing = _draw(prepared, renderer)
    sessions = len(prepared.report.sessions)
    if audit_it:
        audit.record_after_read(
            db,
            actor,
            ACTION,
            entity="couple",
            entity_id=couple_id,
            detail=(
                f"progress {'summary' if summary_only else 'report'} PDF; {sessions} sessions; "
                f"notes {'included' if prepared.report.include_notes else 'excluded'}; "
                f"charts {'missing' if missing else 'included'}"
            ),
        )
    return ReportFile(prepared.filename, data, sessions)


def report_couples(
    db: DbSession, actor: Actor, counselor_id: int | None = None
) -> list[tuple[int, str]]:
    """(couple id, case code) of the live couples in the actor's scope, by case code;
    only one counselor's when `counselor_id` is given, refused (and audited) when that
    counselor's caseload is not the actor's to read. For choosing a batch."""
    scope.require_active(db, actor, ACTION, entity="couple")
    query = select(Couple.id, Couple.case_code).where(
        Couple.deleted_at.is_(None), scope.visible_couples(actor)
    )
    if counselor_id is not None:
        scope.require_counselor(db, actor, ACTION, counselor_id)
        query = query.where(Couple.counselor_id == counselor_id)
    rows = [(int(i), str(code)) for i, code in db.execute(query.order_by(Couple.case_code))]
    db.commit()
    return rows


def _drawn(
    db: DbSession,
    actor: Actor,
    ids: list[int],
    include_notes: bool,
    clinic_name: str,
    today: date | None,
    renderer: ChartRenderer | None,
) -> Iterator[ReportFile]:
    """The batch's reports in order. The database is read here, one couple after
    another; charts and PDFs are drawn by workers meanwhile (the browser draws while
    Python lays out another PDF). At most BATCH_AHEAD reports are in flight, so memory
    stays flat whatever the batch size."""

    def handed_out(prepared: _Prepared, drawing: Future[tuple[bytes, str | None]]) -> ReportFile:
        data, _ = drawing.result()
        return ReportFile(prepared.filename, data, len(prepared.report.sessions))

    with ThreadPoolExecutor(BATCH_WORKERS, thread_name_prefix="report") as pool:
        pending: deque[tuple[_Prepared, Future[tuple[bytes, str | None]]]] = deque()
        for couple_id in ids:
            prepared = _prepare(
                db,
                actor,
                couple_id,
                include_notes=include_notes,
                clinic_name=clinic_name,
                today=today,
                keep_view=False,
            )
            pending.append((prepared, pool.submit(_draw, prepared, renderer)))
            while pending and (len(pending) > BATCH_AHEAD or pending[0][1].done()):
                yield handed_out(*pending.popleft())
        while pending:
            yield handed_out(*pending.popleft())


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
        for file in _drawn(db, actor, ids, include_notes, clinic, today, renderer):
            done += 1
            if progress is not None:
                progress(done, len(ids))
            yield file
    finally:
        if done:
            audit.record_after_read(
                db,
                actor,
                ACTION,
                entity="couple",
                detail=(
                    f"progress report PDFs; {done} couple{'s' if done != 1 else ''}; "
                    f"notes {'included' if include_notes else 'excluded'}"
                ),
            )
