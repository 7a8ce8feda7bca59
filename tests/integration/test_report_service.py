"""The couple progress report service: scope, notes, audit, charts, batches.

Charts are rendered through ONE real Chromium for the whole module. CI installs it;
a machine without /usr/bin/chromium fails here, on purpose, rather than skipping.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime
from pathlib import Path

import plotly.graph_objects as go
import pytest
from sqlalchemy.orm import Session

from dashboard.domain.plain_words import expected_lines, status_lines
from dashboard.domain.validation import CoupleInput, SessionInput
from dashboard.reports.chart_images import NO_BROWSER, ChartRenderer
from dashboard.reports.model import NOTES_EXCLUDED
from dashboard.services import couples, sessions, timeline
from dashboard.services.errors import AccessDenied
from dashboard.services.memo import PAGES
from dashboard.services.reports import (
    NOTES_REFUSED,
    ReportFile,
    batch_reports,
    couple_report,
    report_couples,
)
from tests.conftest import Clinic
from tests.integration.conftest import TODAY, AuditLookup, full_ratings
from tests.unit.test_report_pdf import flat, pdf_images, pdf_pages, pdf_text

CHROMIUM = Path("/usr/bin/chromium")
NAME_A = "Zoë Ångström — Nguyễn"
NAME_B = "Mateus Øyen"
PRIVATE = "PRIVATE: partner A spoke about an affair she has not disclosed."
DAP_DATA = "DAP-DATA: they rehearsed the ten-minute check-in together."
CLINIC = "Bondline Test Clinic"


@pytest.fixture(scope="module")
def renderer() -> Iterator[ChartRenderer]:
    assert CHROMIUM.is_file(), (
        f"{CHROMIUM} is missing: the chart export needs Chromium "
        "(apt-get install chromium; CI installs it)"
    )
    with ChartRenderer.start() as started:
        assert started.available, started.reason
        yield started


@pytest.fixture
def couple_id(db: Session, clinic: Clinic, make_input: Callable[..., SessionInput]) -> int:
    """cara.couns's couple with three joint sessions and one individual session that
    carries DAP text and a private note."""
    cid = couples.create_couple(
        db,
        clinic.counselor,
        CoupleInput(NAME_A, NAME_B, date(2026, 3, 1), "Distance", "Closeness"),
        today=TODAY,
    )
    for day, stage, a, b in ((2, 1, 3, 4), (9, 2, 6, 5), (23, 1, 8, 6)):
        sessions.log_session(
            db,
            clinic.counselor,
            cid,
            make_input(
                session_date=date(2026, 3, day),
                stage=stage,
                ratings={"A": full_ratings(a), "B": full_ratings(b)},
            ),
            today=TODAY,
        )
    sessions.log_session(
        db,
        clinic.counselor,
        cid,
        make_input(
            session_date=date(2026, 3, 16),
            attendance="partner_a",
            ratings={"A": full_ratings(7), "B": {}},
            note_data=DAP_DATA,
            private_note=PRIVATE,
        ),
        today=TODAY,
    )
    return cid


def _text(tmp_path: Path, file: ReportFile) -> tuple[Path, str]:
    path = tmp_path / file.filename
    path.write_bytes(file.data)
    return path, pdf_text(path)


def test_counselor_report_has_status_charts_and_no_notes(
    db: Session,
    clinic: Clinic,
    couple_id: int,
    renderer: ChartRenderer,
    audits: AuditLookup,
    tmp_path: Path,
    backend: str,
) -> None:
    file = couple_report(
        db, clinic.counselor, couple_id, renderer=renderer, clinic_name=CLINIC, today=TODAY
    )
    path, text = _text(tmp_path, file)
    case_code = file.filename.removesuffix("-progress-report.pdf")
    assert case_code.startswith("C-") and case_code in text
    assert NAME_A in text and NAME_B in text and CLINIC in text
    # The numbers once, beside the words (the RCIs worked out below: 12.5, 5.0 and 8.75
    # points over S_diff 9.49 are 1.3, 0.5 and 0.9).
    assert f"Numbers. {NAME_A}: RCI 1.3 · {NAME_B}: RCI 0.5 · couple: RCI 0.9" in flat(text)
    # The status in plain words, the same sentences as the timeline's first lines.
    # EII with every item at x = (5x + 3(10 - x)) / 8 * 10 = 2.5x + 37.5 (three warning
    # signs reverse-scored). Joint sessions A 3, 6, 8 -> 45.0, 52.5, 57.5 and B 4, 5, 6 ->
    # 47.5, 50.0, 52.5 (the individual session, A 7 -> 55.0, comes before the last).
    # Documented defaults (fewer than 30 intakes): SD 15, alpha .80, S_diff 9.49, a
    # reliable change beyond 1.96 x 9.49 = 18.6 points, cutoff 65.
    # A +12.5, B +5.0, couple 46.25 -> 55.0 = +8.75: none reliable, all below 65; but
    # A's 4 rated sessions (2, 9, 16, 23 Mar) span 21 days, B's and the couple's 3 the
    # same 21: short of the early-change minimum (4 over 28 days), so the count is said
    # where the cutoff would be.
    same = "about the same as at intake: any change is within measurement noise"
    early = "; too early to say where this stands against the cutoff: {} rated sessions "
    early += "over 21 days so far (said from 4 rated sessions over 28 days)."
    plain = (
        f"{NAME_A}: {same}{early.format(4)}",
        f"{NAME_B}: {same}{early.format(3)}",
        # Partner-level: both within noise, so no reliable change (couple_outcome.py).
        f"As a couple: no reliable change — {NAME_A} and {NAME_B} are both about the same "
        "as at intake.",
    )
    view = timeline.timeline_view(db, clinic.counselor, couple_id)
    assert status_lines(view.data, view.trajectory) == plain
    for line in plain:
        assert line in flat(text), line
    assert "How this is calculated" in text and "RCI" in text and "S_diff 9.5" in text
    # Each partner against the expected course (the rational fallback: too few couples),
    # under the timeline whose bands it reads: A's first counselor EII 45.0 at rating 1,
    # 57.5 at rating 4; the 25th percentile of an unchanged score is 45.0 − 0.6745 × 9.4868
    # = 38.6, so A is on course.
    assert f"{NAME_A} is on course: 57.5 at the counselor's 4th rating;" in flat(text)
    assert "a score unchanged since 45.0 would read 38.6 or more 3 times in 4." in flat(text)
    assert expected_lines(view.data, view.trajectory, view.expected_model)[1] in flat(text)
    assert view.expected_model is not None and view.expected_model.label in flat(text)
    assert NOTES_EXCLUDED in flat(text)
    assert "PRIVATE" not in text and "DAP-DATA" not in text
    assert file.records == 4
    assert pdf_images(path) == 3  # timeline, radar, barriers
    # 3 pages: the status and the timeline together on page 1 (the timeline drawn a
    # little smaller to stay there, not leaving page 1 mostly empty); radar and
    # barriers; the tables.
    assert pdf_pages(path) == 3
    [row] = audits(action="export")
    assert (row.username, row.entity_id, row.success) == ("cara.couns", couple_id, True)
    assert row.detail == ("progress report PDF; 4 sessions; notes excluded; charts included")


def test_the_one_page_summary_is_one_page_and_audited_as_a_summary(
    db: Session,
    clinic: Clinic,
    couple_id: int,
    renderer: ChartRenderer,
    audits: AuditLookup,
    tmp_path: Path,
    backend: str,
) -> None:
    file = couple_report(
        db,
        clinic.counselor,
        couple_id,
        renderer=renderer,
        clinic_name=CLINIC,
        today=TODAY,
        summary_only=True,
        include_notes=True,  # a summary never carries notes, even when asked
    )
    assert file.filename.endswith("-progress-summary.pdf")
    path, text = _text(tmp_path, file)
    assert pdf_pages(path) == 1
    assert pdf_images(path) == 1  # the timeline
    assert f"Numbers. {NAME_A}: RCI 1.3" in flat(text)
    assert "One-page summary." in flat(text) and "DAP-DATA" not in text
    [row] = audits(action="export")
    assert row.detail == "progress summary PDF; 4 sessions; notes excluded; charts included"


def test_notes_only_for_the_couples_counselor_and_never_the_private_note(
    db: Session,
    clinic: Clinic,
    couple_id: int,
    audits: AuditLookup,
    tmp_path: Path,
    backend: str,
) -> None:
    file = couple_report(db, clinic.counselor, couple_id, include_notes=True, today=TODAY)
    _, text = _text(tmp_path, file)
    assert DAP_DATA in flat(text)
    assert "PRIVATE" not in text
    assert NOTES_EXCLUDED not in flat(text)
    with pytest.raises(AccessDenied, match=NOTES_REFUSED):
        couple_report(db, clinic.supervisor, couple_id, include_notes=True, today=TODAY)
    # The supervisor may read the report without the notes.
    couple_report(db, clinic.supervisor, couple_id, today=TODAY)
    outcomes = [(e.username, e.success) for e in audits(action="export")]
    assert outcomes == [("cara.couns", True), ("sam.super", False), ("sam.super", True)]
    assert "notes included" in audits(action="export")[0].detail


def test_out_of_scope_counselor_is_refused_and_audited(
    db: Session, clinic: Clinic, couple_id: int, audits: AuditLookup, backend: str
) -> None:
    with pytest.raises(AccessDenied, match="not in your caseload"):
        couple_report(db, clinic.other_counselor, couple_id, today=TODAY)
    [row] = audits(action="export")
    assert (row.username, row.entity_id, row.success) == ("olly.other", couple_id, False)


def test_without_a_browser_the_report_still_builds_and_says_why(
    db: Session, clinic: Clinic, couple_id: int, audits: AuditLookup, tmp_path: Path, backend: str
) -> None:
    with ChartRenderer.start(browser_path=tmp_path / "no-such-chromium") as missing:
        assert not missing.available
        file = couple_report(db, clinic.counselor, couple_id, renderer=missing, today=TODAY)
    path, text = _text(tmp_path, file)
    assert NO_BROWSER in flat(text)
    assert pdf_images(path) == 0
    assert "Stage history" in text and "Sessions" in text
    assert audits(action="export")[0].detail.endswith("charts missing")
    assert "Status Active" in flat(text)

    # Closed since: the next report says so, with the date and the reason.
    version = couples.get_couple(db, clinic.counselor, couple_id).version
    couples.change_status(
        db,
        clinic.counselor,
        couple_id,
        new_status="closed",
        closing_reason="goals_met",
        expected_version=version,
        now=datetime(2026, 4, 2, 15, 0, tzinfo=UTC),
    )
    with ChartRenderer.start(browser_path=tmp_path / "no-such-chromium") as missing:
        file = couple_report(db, clinic.counselor, couple_id, renderer=missing, today=TODAY)
    assert "Status Closed 2 Apr 2026 (Goals met)" in flat(_text(tmp_path, file)[1])


def test_a_batch_writes_one_audit_row(
    db: Session,
    clinic: Clinic,
    couple_id: int,
    renderer: ChartRenderer,
    audits: AuditLookup,
    backend: str,
) -> None:
    chosen = report_couples(db, clinic.admin)
    assert [c for c, _ in chosen] == sorted(
        [clinic.couple_id, clinic.other_couple_id, couple_id],
        key=dict((c, code) for c, code in chosen).__getitem__,
    )
    assert [c for c, _ in report_couples(db, clinic.counselor)] == sorted(
        [clinic.couple_id, couple_id]
    )
    assert report_couples(db, clinic.admin, clinic.other_counselor.user_id) == [
        (clinic.other_couple_id, chosen[[c for c, _ in chosen].index(clinic.other_couple_id)][1])
    ]
    ticks: list[tuple[int, int]] = []
    files = list(
        batch_reports(
            db,
            clinic.admin,
            [c for c, _ in chosen],
            renderer=renderer,
            progress=lambda done, total: ticks.append((done, total)),
            today=TODAY,
        )
    )
    assert [f.filename for f in files] == [f"{code}-progress-report.pdf" for _, code in chosen]
    assert all(f.data.startswith(b"%PDF") for f in files)
    assert ticks == [(1, 3), (2, 3), (3, 3)]
    [row] = audits(action="export")
    assert (row.username, row.entity_id, row.success) == ("admin", None, True)
    assert row.detail.startswith("progress report PDFs; 3 couples")


def test_a_batch_keeps_no_timelines_and_leaves_colleagues_pages_cached(
    db: Session, clinic: Clinic, couple_id: int, backend: str
) -> None:
    """A batch reads each couple once: the timelines it builds are not kept (over 600
    couples they filled the page cache, pushed out the pages colleagues had open and
    held about 100 MB to the end of the run), while a timeline already cached is used."""
    PAGES.clear()
    couples.list_caseload(db, clinic.other_counselor, today=TODAY, record_view=False)
    timeline.timeline_view(db, clinic.admin, couple_id, record_view=False)
    assert len(PAGES) == 2
    hits, misses = PAGES.hits, PAGES.misses
    chosen = [clinic.couple_id, clinic.other_couple_id, couple_id]
    files = list(batch_reports(db, clinic.admin, chosen, today=TODAY))
    # The clinic's two couples have no sessions; couple_id three joint and one individual.
    assert [f.records for f in files] == [0, 0, 4]
    # Three timelines read: the cached one a hit, two built for the batch and not kept.
    assert (PAGES.hits - hits, PAGES.misses - misses, len(PAGES)) == (1, 2, 2)
    hits = PAGES.hits
    couples.list_caseload(db, clinic.other_counselor, today=TODAY, record_view=False)
    assert PAGES.hits - hits == 1  # Olly's caseload was still there


def test_one_renderer_serves_several_threads(renderer: ChartRenderer) -> None:
    """Streamlit sessions share the renderer: concurrent calls queue on its lock."""
    figure = go.Figure(dict(data=[dict(type="bar", x=["a", "b"], y=[1, 2])]))
    with ThreadPoolExecutor(max_workers=4) as pool:
        pngs = list(pool.map(lambda w: renderer.png(figure, w, 200), [300, 310, 320, 330]))
    assert all(p.startswith(b"\x89PNG") for p in pngs)
    assert [struct.unpack(">I", p[16:20])[0] for p in pngs] == [600, 620, 640, 660]  # scale 2


def test_an_unavailable_renderer_refuses_to_draw(tmp_path: Path) -> None:
    missing = ChartRenderer(browser_path=tmp_path / "no-such-chromium")
    missing.open()
    assert (missing.available, missing.reason) == (False, NO_BROWSER)
    with pytest.raises(RuntimeError, match="no Chromium"):
        missing.png(go.Figure(), 100, 100)
    missing.close()
    missing.close()  # closing twice is harmless
