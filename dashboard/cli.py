"""Admin and batch commands: `python -m dashboard <command>`."""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path

import pandas as pd
from sqlalchemy import func, select

from dashboard.config import ensure_secrets_file, load_settings
from dashboard.domain import expected_versions
from dashboard.domain.catalog import Role
from dashboard.services import audit, auth, couple_summaries, expected, norms
from dashboard.services.catalog import ensure_seed_barriers
from dashboard.services.errors import ServiceError, ValidationFailed
from db.engine import make_engine, make_sessionmaker
from db.migrate import upgrade_head
from db.models import Couple, User


def _sessionmaker(url: str):  # type: ignore[no-untyped-def]
    return make_sessionmaker(make_engine(url))


def migrate(url: str) -> None:
    """Schema to head, then the seed catalog: what every start needs."""
    upgrade_head(url, audit.audit_key())
    engine = make_engine(url)
    try:
        with make_sessionmaker(engine)() as db:
            ensure_seed_barriers(db)
            # An existing clinic with enough intakes gets clinic norms v1 now, from the
            # same intakes it was judged by before: nothing changes silently, it gets a name.
            norms.ensure_first_version(db)
            # The same for the expected course: v1 once enough couples have a course.
            expected.ensure_first_version(db)
            # Every couple's summary row, built or brought up to date (migration 0019).
            couple_summaries.ensure_built(db)
    finally:
        engine.dispose()  # a command's connections end with it


def cmd_migrate(args: argparse.Namespace) -> int:
    migrate(args.url)
    print("Database is up to date.")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from dashboard import demo

    migrate(args.url)
    with _sessionmaker(args.url)() as db:
        has_data = db.scalar(select(func.count()).select_from(Couple)) or db.scalar(
            select(func.count()).select_from(User)
        )
        if has_data and args.if_empty:
            demo_clinic = db.scalar(select(User.id).where(User.username == demo.DEMO_COUNSELOR))
            print("The database already holds a clinic; the demo was not loaded again.")
            if demo_clinic:
                print(demo.logins_text())
            return 0
        if has_data:
            print(
                "The database is not empty: the demo clinic loads only into an empty one.",
                file=sys.stderr,
            )
            return 1
        summary = demo.load_demo(db, seed=args.seed)
    print(summary.describe())
    print(demo.logins_text())
    return 0


def cmd_setup(args: argparse.Namespace) -> int:
    """First-start set-up for `make run`: secrets, schema, demo when empty."""
    if ensure_secrets_file():
        print("Wrote .streamlit/secrets.toml with a fresh cookie key.")
    args.if_empty = True
    return cmd_demo(args)


def _refused(exc: ServiceError) -> int:
    """Print a service's refusal (each field's message for a validation) and exit 2."""
    if isinstance(exc, ValidationFailed):
        for field, message in exc.errors.items():
            print(f"{field}: {message}", file=sys.stderr)
    else:
        print(str(exc), file=sys.stderr)
    return 2


def cmd_create_user(args: argparse.Namespace) -> int:
    migrate(args.url)
    password = args.password or getpass.getpass("Password (at least 10 characters): ")
    with _sessionmaker(args.url)() as db:
        try:
            user_id = auth.create_user(
                db,
                None,
                username=args.username,
                display_name=args.name,
                role=args.role,
                password=password,
                email=args.email or "",
            )
        except ServiceError as exc:
            return _refused(exc)
    print(f"Created {args.role} '{args.username.strip().lower()}' (id {user_id}).")
    return 0


def _export_actor(db, username: str):  # type: ignore[no-untyped-def]
    """The account a scheduled export runs as: its scope and its name in the audit log."""
    user = db.scalar(select(User).where(User.username == username.strip().lower()))
    if user is None or not user.active:
        return None
    return auth.actor_of(user)


def _write(out: Path, name: str, data: bytes) -> Path:
    path = out / name
    path.write_bytes(data)
    return path


def cmd_export(args: argparse.Namespace) -> int:
    """Write exports into a folder as the given user (their scope, audited as them)."""
    from tqdm import tqdm

    from dashboard.reports.chart_images import ChartRenderer
    from dashboard.services import exports, reports

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with _sessionmaker(args.url)() as db:
        actor = _export_actor(db, args.as_user)
        if actor is None:
            print(f"No active user '{args.as_user}'.", file=sys.stderr)
            return 2
        try:
            if args.what == "tables":
                for table in exports.TABLES:  # a bar of rows written for each table
                    with tqdm(desc=table, unit="row") as bar:

                        def told(done: int, total: int, bar: tqdm = bar) -> None:
                            bar.total = total
                            bar.update(done - bar.n)

                        file = exports.table_export(db, actor, table, args.format, progress=told)
                    _write(out, file.filename, file.data)
                print(f"Wrote {len(exports.TABLES)} tables ({args.format}) to {out}.")
            elif args.what == "research":
                file = exports.research_extract(db, actor)
                _write(out, file.filename, file.data)
                print(f"Wrote {file.filename} ({file.records} couples) to {out}. {file.note}")
            else:
                counselor_id = None
                if args.counselor:
                    counselor_id = db.scalar(
                        select(User.id).where(User.username == args.counselor.strip().lower())
                    )
                    if counselor_id is None:
                        print(f"No user '{args.counselor}'.", file=sys.stderr)
                        return 2
                couples = reports.report_couples(db, actor, counselor_id)
                with (
                    ChartRenderer.start() as renderer,
                    tqdm(total=len(couples), desc="Progress reports", unit="couple") as bar,
                ):
                    if not renderer.available:
                        print(renderer.reason, file=sys.stderr)
                    written = 0
                    for file in reports.batch_reports(
                        db,
                        actor,
                        [couple_id for couple_id, _ in couples],
                        include_notes=args.include_notes,
                        renderer=renderer,
                        clinic_name=load_settings().clinic_name,
                        progress=lambda done, total: bar.update(done - bar.n),
                    ):
                        _write(out, file.filename, file.data)
                        written += 1
                print(f"Wrote {written} progress reports to {out}.")
        except ServiceError as exc:
            return _refused(exc)
    return 0


def cmd_expected_course(args: argparse.Namespace) -> int:
    """Refit the expected course and say what it would change against the version in use
    (the Admin tab's preview); with --publish, publish it as the next version (an admin's
    act, audited under their name)."""
    engine = make_engine(args.url)
    try:
        with make_sessionmaker(engine)() as db:
            return _expected_course(db, args.as_user, publish=args.publish)
    finally:
        engine.dispose()  # a command's connections end with it


def _expected_course(db, username: str, *, publish: bool) -> int:  # type: ignore[no-untyped-def]
    actor = _export_actor(db, username)
    if actor is None:
        print(f"No active user '{username}'.", file=sys.stderr)
        return 2
    try:
        found = expected.preview(db, actor)
        print(f"In use: {expected.expected_courses(db).label}.")
        db.rollback()
        kept, empty = expected_versions.without_empty(found.summary_rows())
        print("If published now:")
        print(pd.DataFrame(kept).to_string(index=False))
        if empty:
            print(empty)
        print(
            f"What would change, of {found.couples} couples with sessions judged on the "
            f"EII: {expected_versions.moves_sentence(found.moves)}"
        )
        if publish:
            published = expected.publish(db, actor, found.to_publish())
            couple_summaries.rebuild_after_change(db)  # every couple judged anew
            print(f"Published {published.label}.")
    except ServiceError as exc:
        return _refused(exc)
    return 0


def cmd_repair_summaries(args: argparse.Namespace) -> int:
    """Rebuild every couple's summary row and name each that differed (audited)."""
    # The schema only: migrate() would first bring missing or stale rows up to date
    # silently, and the repair would then have nothing of them to report.
    upgrade_head(args.url, audit.audit_key())
    with _sessionmaker(args.url)() as db:
        actor = None
        if args.as_user:
            actor = _export_actor(db, args.as_user)
            if actor is None:
                print(f"No active user '{args.as_user}'.", file=sys.stderr)
                return 2
        try:
            found = couple_summaries.repair(db, actor)
        except ServiceError as exc:
            return _refused(exc)
    for difference in found:
        print(f"{difference.case_code}: {', '.join(difference.fields)}")
    print(
        f"{len(found)} summary rows differed and were rebuilt."
        if found
        else "Every summary row was right."
    )
    return 0


def cmd_audit_verify(args: argparse.Namespace) -> int:
    """Check the audit trail's hash chain; exit 1 naming the first row that does not hold."""
    migrate(args.url)
    with _sessionmaker(args.url)() as db:
        report = audit.verify_chain(db)
    print(report.describe(), file=sys.stdout if report.intact else sys.stderr)
    return 0 if report.intact else 1


def cmd_backup(args: argparse.Namespace) -> int:
    """Back the clinic up to a file and check the copy (a machine admin's command)."""
    from dashboard.services import backup

    try:
        outcome = backup.backup(args.url, Path(args.out))
    except backup.BackupError as exc:
        print(exc, file=sys.stderr)
        return 1
    print(outcome.describe("Backed up to"))
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    """Restore a backup; refuses a database holding a clinic unless --replace."""
    from dashboard.services import backup

    try:
        outcome = backup.restore(args.url, Path(getattr(args, "from")), replace=args.replace)
    except backup.BackupError as exc:
        print(exc, file=sys.stderr)
        return 1
    print(outcome.describe("Restored from"))
    return 0


def build_parser() -> argparse.ArgumentParser:
    settings = load_settings()
    parser = argparse.ArgumentParser(prog="python -m dashboard", description=__doc__)
    parser.add_argument(
        "--url",
        default=settings.database_url,
        help="database URL (default: DATABASE_URL or the SQLite file in data/)",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("migrate", help="upgrade the schema to head and seed the catalog")
    p.set_defaults(func=cmd_migrate)

    p = sub.add_parser("demo", help="load the synthetic demo clinic into an empty database")
    p.add_argument("--seed", type=int, default=2026)
    p.add_argument("--if-empty", action="store_true", help="do nothing when data exists")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("setup", help="first start: secrets, migrate, demo when empty")
    p.add_argument("--seed", type=int, default=2026)
    p.set_defaults(func=cmd_setup)

    p = sub.add_parser("create-user", help="create a user (the first admin needs no login)")
    p.add_argument("username")
    p.add_argument("--name", required=True, help="display name")
    p.add_argument("--role", default=Role.ADMIN.value, choices=[r.value for r in Role])
    p.add_argument("--email", default="")
    p.add_argument("--password", help="omit to be asked without echo")
    p.set_defaults(func=cmd_create_user)

    p = sub.add_parser(
        "export",
        help="write progress reports, tables or the research extract into a folder",
        description="For scheduled jobs: runs as an existing active user, with that user's "
        "scope, and every export is audited under their name.",
    )
    p.add_argument("what", choices=["reports", "tables", "research"])
    p.add_argument("--as", dest="as_user", required=True, help="username to export as")
    p.add_argument("--out", required=True, help="folder to write into (created if missing)")
    p.add_argument("--format", default="csv", choices=["csv", "xlsx"], help="for tables")
    p.add_argument("--counselor", help="reports: only this counselor's couples (username)")
    p.add_argument(
        "--include-notes",
        action="store_true",
        help="reports: include session notes (only a couple's own counselor may)",
    )
    p.set_defaults(func=cmd_export)

    p = sub.add_parser(
        "backup",
        help="copy the whole clinic to a file and check the copy",
        description="SQLite: the online backup API (safe while the app serves); "
        "PostgreSQL: pg_dump --format=custom. The file holds clinical data: store it "
        "encrypted, and keep the audit key apart from it.",
    )
    p.add_argument("--out", required=True, help="the backup file to write")
    p.set_defaults(func=cmd_backup)

    p = sub.add_parser(
        "restore",
        help="restore a backup file, then check row counts and the audit chain",
        description="Stop the app first. Refuses a database that holds a clinic "
        "unless --replace, which first backs up what is there.",
    )
    p.add_argument("--from", required=True, help="the backup file to restore")
    p.add_argument("--replace", action="store_true", help="overwrite a clinic (kept aside)")
    p.set_defaults(func=cmd_restore)

    p = sub.add_parser(
        "expected-course",
        help="refit the expected course and report what it would change; --publish it",
        description="Fits the expected course from every couple now and prints, against "
        "the version in use, the course per measure and source and how many couples' "
        "alerts would move. With --publish the fit is published as the next version "
        "(admins only, audited under their name).",
    )
    p.add_argument("--as", dest="as_user", required=True, help="an admin's username")
    p.add_argument("--publish", action="store_true", help="publish the fit as the next version")
    p.set_defaults(func=cmd_expected_course)

    p = sub.add_parser(
        "repair-summaries",
        help="rebuild every couple's summary row and report each that differed",
        description="Recomputes every couple's summary row (what the caseload and the "
        "review read) from its sessions, prints the case code and fields of each stored "
        "row that differed, and writes the right ones. Audited.",
    )
    p.add_argument("--as", dest="as_user", help="an admin's username (audited under it)")
    p.set_defaults(func=cmd_repair_summaries)

    p = sub.add_parser("audit", help="check the audit trail")
    p.add_argument("check", choices=["verify"], help="verify: walk the hash chain")
    p.set_defaults(func=cmd_audit_verify)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except audit.NoAuditKey as exc:
        print(exc, file=sys.stderr)
        return 2
