"""`python -m dashboard export`: scheduled exports into a folder, as a named user.

Real subprocesses against a demo clinic in a temporary SQLite file, as a cron job runs.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import func, select

from dashboard import demo
from db.engine import make_engine, make_sessionmaker
from db.migrate import upgrade_head
from db.models import AuditEvent, Couple, CoupleSession, User
from tests.integration.test_cli import run_cli


@pytest.fixture(scope="module")
def clinic_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('cli') / 'clinic.sqlite3'}"
    upgrade_head(url)
    engine = make_engine(url)
    with make_sessionmaker(engine)() as db:
        demo.load_demo(db, bcrypt_rounds=4)
    engine.dispose()
    return url


def scalar(url: str, query) -> object:  # type: ignore[no-untyped-def]
    engine = make_engine(url)
    try:
        with make_sessionmaker(engine)() as db:
            return db.scalar(query)
    finally:
        engine.dispose()


def test_tables_are_written_in_the_users_scope(clinic_url: str, tmp_path: Path) -> None:
    done = run_cli(clinic_url, "export", "tables", "--as", "admin", "--out", str(tmp_path))
    assert done.returncode == 0, done.stderr
    files = sorted(p.name for p in tmp_path.iterdir())
    assert [f.split("-")[1] for f in files] == ["caseload", "ratings", "sessions"]
    live = scalar(
        clinic_url,
        select(func.count()).select_from(CoupleSession).where(CoupleSession.deleted_at.is_(None)),
    )
    sessions = pd.read_csv(next(tmp_path.glob("bondline-sessions-*.csv")))
    assert len(sessions) == live
    assert "sessions: 100%" in done.stderr and f"{live}/{live}" in done.stderr  # rows counted
    engine = make_engine(clinic_url)
    with make_sessionmaker(engine)() as db:
        details = db.scalars(
            select(AuditEvent.detail).where(
                AuditEvent.action == "export", AuditEvent.username == "admin"
            )
        ).all()
    engine.dispose()
    assert f"sessions.csv: {live} rows" in details and len(details) == 3


def test_the_research_extract_says_what_it_left_out(clinic_url: str, tmp_path: Path) -> None:
    """A cron job's log tells how many couples were released and left out, and k."""
    done = run_cli(clinic_url, "export", "research", "--as", "admin", "--out", str(tmp_path))
    assert done.returncode == 0, done.stderr
    (zipped,) = tmp_path.iterdir()
    assert zipped.name == "bondline-research-extract.zip"
    said = re.search(r"\((\d+) couples\) to .*\. (\d+) couples? left out, .*\(k = 5\)", done.stdout)
    assert said is not None, done.stdout
    assert int(said.group(1)) + int(said.group(2)) == 100  # the demo's couples


def test_reports_for_a_counselors_couples_with_a_progress_bar(
    clinic_url: str, tmp_path: Path
) -> None:
    rivera = scalar(clinic_url, select(User.id).where(User.username == "c.rivera"))
    own = scalar(
        clinic_url,
        select(func.count()).select_from(Couple).where(Couple.counselor_id == rivera),
    )
    done = run_cli(clinic_url, "export", "reports", "--as", "c.rivera", "--out", str(tmp_path))
    assert done.returncode == 0, done.stderr
    pdfs = sorted(tmp_path.glob("*.pdf"))
    assert len(pdfs) == own
    assert f"{own}/{own}" in done.stderr  # tqdm's bar reached the end
    text = subprocess.run(
        ["pdftotext", str(pdfs[0]), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert pdfs[0].name.removesuffix("-progress-report.pdf") in text


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["research", "--as", "c.rivera"], "The research extract is for clinic admins."),
        (["tables", "--as", "nobody"], "No active user 'nobody'."),
    ],
)
def test_refusals_exit_with_a_message_and_write_nothing(
    clinic_url: str, tmp_path: Path, args: list[str], message: str
) -> None:
    done = run_cli(clinic_url, "export", *args, "--out", str(tmp_path))
    assert done.returncode == 2
    assert message in done.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("user", "counselor"),
    [
        ("c.rivera", "c.nakamura"),  # a counselor asks for a colleague's couples
        ("sup.lindqvist", "c.nakamura"),  # a supervisor asks for a counselor not theirs
    ],
)
def test_reports_for_a_counselor_out_of_scope_are_refused_and_audited(
    clinic_url: str, tmp_path: Path, user: str, counselor: str
) -> None:
    done = run_cli(
        clinic_url,
        "export", "reports", "--as", user, "--counselor", counselor, "--out", str(tmp_path),
    )  # fmt: skip
    assert done.returncode == 2, done.stdout
    assert "That counselor's couples are not in your scope." in done.stderr
    assert list(tmp_path.iterdir()) == []
    asked = scalar(clinic_url, select(User.id).where(User.username == counselor))
    refused = scalar(
        clinic_url,
        select(func.count())
        .select_from(AuditEvent)
        .where(
            AuditEvent.username == user,
            AuditEvent.success.is_(False),
            AuditEvent.entity == "user",
            AuditEvent.entity_id == asked,
        ),
    )
    assert refused == 1
