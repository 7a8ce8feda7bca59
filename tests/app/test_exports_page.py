"""The Exports page and the timeline's PDF button, as each role uses them.

Files are built by the real services (and the real Chromium for chart images); the page
offers them for download and the audit log records each export with its count.
"""

from __future__ import annotations

import threading
from datetime import date

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from streamlit.testing.v1 import AppTest

from dashboard.domain.catalog import INDICATORS
from dashboard.domain.validation import SessionInput
from dashboard.reports import tables
from dashboard.services import reports, sessions
from dashboard.services.actor import Actor
from dashboard.ui import jobs, report_job
from db.models import AuditEvent
from tests.app.conftest import login, texts
from tests.conftest import Clinic


@pytest.fixture
def seen(db: Session, clinic: Clinic, today: date) -> Clinic:
    """Cara's couple has two sessions; Olly's none."""
    ratings = {i.key: 6 for i in INDICATORS}
    for day in (date(2026, 2, 2), date(2026, 2, 16)):
        sessions.log_session(
            db,
            clinic.counselor,
            clinic.couple_id,
            SessionInput(
                session_date=day,
                duration_minutes=50,
                format="in_person",
                attendance="both",
                note_data="Confidential detail of the week.",
                note_assessment="Guarded.",
                note_plan="Check-ins.",
                stage=2,
                ratings={"A": dict(ratings), "B": dict(ratings)},
            ),
            today=today,
        )
    return clinic


def exports_audit(db: Session) -> list[tuple[str, str, str]]:
    rows = db.execute(
        select(AuditEvent.username, AuditEvent.entity, AuditEvent.detail)
        .where(AuditEvent.action == "export", AuditEvent.success.is_(True))
        .order_by(AuditEvent.id)
    ).all()
    db.rollback()
    return [tuple(r) for r in rows]


def downloads(at: AppTest) -> list[str]:
    return [b.proto.label for b in at.get("download_button")]


def finished(at: AppTest, actor: Actor, key: str) -> AppTest:
    """The page once the export it started in the background is done."""
    job = jobs.find(actor, at.session_state[key])
    assert job is not None and job.done.wait(60)
    return at.run()


def _exports(username: str, app) -> AppTest:  # type: ignore[no-untyped-def]
    at = login(app(), username)
    at.switch_page("pages/exports.py")
    return at.run()


def test_counselor_exports_a_table_of_their_own_sessions(
    app, seen: Clinic, db: Session, today: date
) -> None:
    at = _exports("cara.couns", app)
    assert not at.exception
    assert [t.label for t in at.tabs] == ["Tables", "Progress reports"]  # no research
    at.selectbox(key="export_table").select("sessions").run()
    next(b for b in at.button if b.label == "Prepare the table").click().run()
    assert not at.exception
    finished(at, seen.counselor, "export_job:tables")
    assert "2 rows." in texts(at)
    assert downloads(at) == [f"Download bondline-sessions-{today.isoformat()}.csv"]
    assert exports_audit(db) == [("cara.couns", "table", "sessions.csv: 2 rows")]


def test_counselor_builds_the_reports_of_their_couples(
    app, seen: Clinic, db: Session, today: date
) -> None:
    at = _exports("cara.couns", app)
    assert at.checkbox(key="export_notes").label.startswith("Include session notes")
    next(b for b in at.button if b.label == "Build 1 progress report").click().run()
    assert not at.exception
    finished(at, seen.counselor, "export_job:reports")
    assert "1 report." in texts(at)
    assert downloads(at) == [f"Download bondline-progress-reports-{today.isoformat()}.zip"]
    assert exports_audit(db) == [
        ("cara.couns", "couple", "progress report PDFs; 1 couple; notes excluded")
    ]


def test_supervisor_picks_a_counselor_and_cannot_include_notes(app, seen: Clinic) -> None:
    at = _exports("sam.super", app)
    assert not at.exception
    assert not [c for c in at.checkbox if c.key == "export_notes"]
    options = at.selectbox(key="export_counselor").options
    assert options == ["Every counselor", "Cara Couns"]  # Olly is not Sam's
    assert any(b.label == "Build 1 progress report" for b in at.button)


def test_admin_builds_the_research_extract(app, seen: Clinic, db: Session) -> None:
    at = _exports("admin", app)
    assert "Research extract" in [t.label for t in at.tabs]
    next(b for b in at.button if b.label == "Build the research extract").click().run()
    assert not at.exception
    finished(at, seen.admin, "export_job:rx")
    assert "bondline-research-extract.zip: 0 couples." in texts(at)  # 2 couples < k = 5
    assert "with at least 4 others (k = 5, set under [research] k)" in texts(at)
    assert "2 couples left out, so that every couple released shares" in texts(at)
    assert downloads(at)[0].startswith("Download bondline-research-")
    assert exports_audit(db)[-1][:2] == ("admin", "research")


def test_timeline_offers_the_couples_pdf(app, seen: Clinic, db: Session) -> None:
    at = login(app(), "cara.couns")
    at.switch_page("pages/timeline.py")
    at.query_params["couple"] = str(seen.couple_id)
    at.session_state["report_box"] = True  # the expander's click: its panel is drawn open
    at.run()
    next(b for b in at.button if b.label == "Prepare the PDF").click().run()
    assert not at.exception
    # The report builds in the background: the page came back at once, saying so.
    assert "Building the report" in texts(at)
    job = report_job.find(seen.counselor, at.session_state[f"report_job:{seen.couple_id}"])
    assert job is not None and job.done.wait(60)
    at.run()
    assert downloads(at) == ["Download C-2026-0001-progress-report.pdf"]
    [(user, entity, detail)] = exports_audit(db)
    assert (user, entity) == ("cara.couns", "couple")
    assert "2 sessions" in detail and "notes excluded" in detail


def test_all_three_tables_in_one_workbook(app, seen: Clinic, db: Session, today: date) -> None:
    at = _exports("cara.couns", app)
    next(b for b in at.button if b.label == "All three in one Excel workbook").click().run()
    assert not at.exception
    finished(at, seen.counselor, "export_job:tables")
    # caseload 1 couple + sessions 2 + ratings 2 sessions x 2 partners x 8 items = 35 rows
    assert "35 rows." in texts(at)
    assert downloads(at) == [f"Download bondline-tables-{today.isoformat()}.xlsx"]
    [(user, entity, detail)] = exports_audit(db)
    assert (user, entity) == ("cara.couns", "table")
    assert detail == "all.xlsx: caseload 1, sessions 2, ratings 32 rows"


def test_a_report_building_in_the_background_never_blocks_another_users_save(
    app, seen: Clinic, db: Session, today: date
) -> None:
    """While the PDF job runs, the other counselor opens and saves in their own caseload."""
    at = login(app(), "cara.couns")
    at.switch_page("pages/timeline.py")
    at.query_params["couple"] = str(seen.couple_id)
    at.session_state["report_box"] = True  # the expander's click: its panel is drawn open
    at.run()
    next(b for b in at.button if b.label == "Prepare the PDF").click().run()
    job = report_job.find(seen.counselor, at.session_state[f"report_job:{seen.couple_id}"])
    assert job is not None
    other = login(app(), "olly.other")
    other.switch_page("pages/couple.py")
    other.query_params["couple"] = str(seen.other_couple_id)
    other.run()
    assert not other.exception
    saved = sessions.log_session(
        db,
        seen.other_counselor,
        seen.other_couple_id,
        SessionInput(
            session_date=date(2026, 3, 2),
            duration_minutes=50,
            format="video",
            attendance="both",
            note_data="Met while a colleague's report was building.",
            note_assessment="Calm.",
            note_plan="Same time next week.",
            stage=1,
            ratings={p: {i.key: 5 for i in INDICATORS} for p in "AB"},
        ),
        today=today,
    )
    assert saved > 0
    assert job.done.wait(60) and job.error == "" and job.file is not None
    at.run()
    assert downloads(at) == ["Download C-2026-0001-progress-report.pdf"]


def test_a_refused_report_says_why_in_one_line(app, seen: Clinic, db: Session) -> None:
    """A job the service refuses ends with its one-line reason in the report box, never a
    traceback; only the user who started a job can read it."""
    at = login(app(), "cara.couns")
    at.switch_page("pages/timeline.py")
    at.query_params["couple"] = str(seen.couple_id)
    at.run()
    # Olly's couple is not in Cara's caseload: the service refuses (and audits) the build.
    job_id = report_job.start(seen.counselor, seen.other_couple_id, include_notes=False)
    job = report_job.find(seen.counselor, job_id)
    assert job is not None and job.done.wait(60)
    assert (job.error, job.file) == ("This couple is not in your caseload.", None)
    assert report_job.find(seen.other_counselor, job_id) is None
    # Shown where the download would be: the reason in one line, no file, no traceback.
    at.session_state[f"report_job:{seen.couple_id}"] = job_id
    at.session_state["report_box"] = True
    at.run()
    assert not at.exception
    assert [e.value for e in at.error] == ["This couple is not in your caseload."]
    assert downloads(at) == []
    assert "Traceback" not in texts(at)
    assert exports_audit(db) == []
    refused = db.scalars(
        select(AuditEvent).where(AuditEvent.action == "export", AuditEvent.success.is_(False))
    ).all()
    assert [(r.username, r.entity_id) for r in refused] == [("cara.couns", seen.other_couple_id)]
    db.rollback()


def test_a_long_export_says_how_far_it_got_and_waits_while_the_counselor_works_elsewhere(
    app, seen: Clinic, db: Session, monkeypatch: pytest.MonkeyPatch, today: date
) -> None:
    """The workbook is held after its first sheet (one couple): the page says how many rows of
    how many are done (no greyed-out old result), the counselor opens another page and
    comes back, and once the job ends the download is offered there; another counselor
    never sees the job."""
    gate = threading.Event()
    real = tables.to_xlsx_bytes

    def held(frames, *, progress=None):  # type: ignore[no-untyped-def]
        def told(done: int) -> None:
            progress(done)
            gate.wait(60)  # hold the job here until the test lets it go

        return real(frames, progress=told)

    monkeypatch.setattr(tables, "to_xlsx_bytes", held)
    at = _exports("cara.couns", app)
    next(b for b in at.button if b.label == "All three in one Excel workbook").click().run()
    job = jobs.find(seen.counselor, at.session_state["export_job:tables"])
    assert job is not None
    for _ in range(600):  # the thread reaches its first block of rows
        if job.done_count:
            break
        job.done.wait(0.05)
    at.run()
    assert not at.exception
    assert [p.proto.text for p in at.get("progress")] == ["Preparing… 1 of 35 rows"]
    assert downloads(at) == []
    assert all(b.disabled for b in at.button if b.key in ("build_table", "build_workbook"))

    at.switch_page("pages/caseload.py").run()  # works elsewhere meanwhile
    assert not at.exception and at.get("progress") == []
    other = _exports("olly.other", app)  # another counselor: nothing of Cara's job
    assert other.get("progress") == [] and downloads(other) == []
    assert jobs.find(seen.other_counselor, at.session_state["export_job:tables"]) is None

    at.switch_page("pages/exports.py").run()  # back: still preparing, then ready
    assert [p.proto.text for p in at.get("progress")] == ["Preparing… 1 of 35 rows"]
    gate.set()
    finished(at, seen.counselor, "export_job:tables")
    assert "35 rows." in texts(at)
    assert downloads(at) == [f"Download bondline-tables-{today.isoformat()}.xlsx"]
    assert not any(b.disabled for b in at.button if b.key in ("build_table", "build_workbook"))
    [(user, _, detail)] = exports_audit(db)
    assert (user, detail) == ("cara.couns", "all.xlsx: caseload 1, sessions 2, ratings 32 rows")


def test_a_batch_of_reports_counts_the_reports_done(
    app, seen: Clinic, db: Session, monkeypatch: pytest.MonkeyPatch, today: date
) -> None:
    """Held after its first report, the batch says '1 of 2 reports'; then the zip."""
    gate = threading.Event()
    real = reports.batch_reports

    def held(*args, **kwargs):  # type: ignore[no-untyped-def]
        for file in real(*args, **kwargs):
            yield file
            gate.wait(60)

    monkeypatch.setattr(reports, "batch_reports", held)
    at = _exports("admin", app)
    next(b for b in at.button if b.label == "Build 2 progress reports").click().run()
    job = jobs.find(seen.admin, at.session_state["export_job:reports"])
    assert job is not None
    for _ in range(1200):  # the first report is drawn
        if job.done_count:
            break
        job.done.wait(0.05)
    at.run()
    assert [p.proto.text for p in at.get("progress")] == ["Preparing… 1 of 2 reports"]
    assert at.button(key="build_reports").disabled
    gate.set()
    finished(at, seen.admin, "export_job:reports")
    assert "2 reports." in texts(at)
    assert downloads(at) == [f"Download bondline-progress-reports-{today.isoformat()}.zip"]


def test_a_finished_jobs_file_leaves_memory_when_replaced_or_expired(
    app, seen: Clinic, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A workbook of 348 MB must not stay on the server: a new job of the same kind
    forgets the finished one at once, and an expired one goes at the next look-up, even
    if no job starts."""
    login(app(), "cara.couns")  # the app's engine, as the page uses it
    first = jobs.start(seen.counselor, "t", lambda _db, _job: b"first", failure="x")
    job = jobs.find(seen.counselor, first)
    assert job is not None and job.done.wait(60) and job.file == b"first"
    second = jobs.start(
        seen.counselor, "t", lambda _db, _job: b"second", failure="x", replaces=first
    )
    assert jobs.find(seen.counselor, first) is None
    later = jobs.find(seen.counselor, second)
    assert later is not None and later.done.wait(60)
    monkeypatch.setattr(jobs, "JOB_TTL_SECONDS", -1)  # as if ten minutes had passed
    assert jobs.find(seen.counselor, second) is None
    assert second not in jobs._JOBS
