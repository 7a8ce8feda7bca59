"""Admin services: accounts on and off, supervision links, the audit log, restores."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from dashboard.services import admin, audit_log, auth, couples
from dashboard.services.errors import AccessDenied, ValidationFailed
from db.models import User
from tests.conftest import Clinic
from tests.integration.conftest import AuditLookup

LIMITS = auth.SessionLimits(idle=timedelta(minutes=30), absolute=timedelta(hours=12))


def test_admin_adds_a_counselor_who_can_then_log_in(
    db: Session, clinic: Clinic, backend: str
) -> None:
    user_id = auth.create_user(
        db,
        clinic.admin,
        username="new.counselor",
        display_name="Noor New",
        role="counselor",
        password="a-long-first-password",
        bcrypt_rounds=4,
    )
    assert "new.counselor" in auth.login_credentials(db)["usernames"]
    actor = auth.begin_session(db, "new.counselor", limits=LIMITS)
    assert not isinstance(actor, str) and actor.user_id == user_id


def test_deactivation_ends_sessions_and_blocks_login(
    db: Session, clinic: Clinic, audits: AuditLookup, backend: str
) -> None:
    login_at = datetime.now(UTC) - timedelta(minutes=5)
    admin.set_active(db, clinic.admin, clinic.counselor.user_id, active=False)
    still = auth.check_session(
        db, clinic.counselor.user_id, login_at=login_at, last_seen=login_at, limits=LIMITS
    )
    assert still == "This account is no longer active."
    assert "cara.couns" not in auth.login_credentials(db)["usernames"]
    assert [e.entity_id for e in audits(action="deactivate_user")] == [clinic.counselor.user_id]
    admin.set_active(db, clinic.admin, clinic.counselor.user_id, active=True)
    assert "cara.couns" in auth.login_credentials(db)["usernames"]


def test_admin_cannot_lock_themselves_out(db: Session, clinic: Clinic, backend: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        admin.set_active(db, clinic.admin, clinic.admin.user_id, active=False)
    assert refused.value.errors == {"user": "You cannot deactivate your own account."}
    db.expire_all()
    assert db.get(User, clinic.admin.user_id).active


def test_supervision_link_decides_what_a_supervisor_sees(
    db: Session, clinic: Clinic, backend: str
) -> None:
    def seen() -> list[str]:
        return list(couples.list_caseload(db, clinic.supervisor)["case_code"])

    assert seen() == ["C-2026-0001"]
    admin.set_supervisor(
        db, clinic.admin, clinic.other_counselor.user_id, clinic.supervisor.user_id
    )
    assert seen() == ["C-2026-0001", "C-2026-0002"]
    admin.set_supervisor(db, clinic.admin, clinic.counselor.user_id, None)
    assert seen() == ["C-2026-0002"]
    frame = admin.list_users(db, clinic.admin).set_index("Username")
    assert frame.loc["olly.other", "Supervised by"] == "Sam Super"
    assert pd_isna(frame.loc["cara.couns", "supervisor_id"])


def pd_isna(value: object) -> bool:
    import pandas as pd

    return bool(pd.isna(value))


def test_supervisor_link_needs_the_right_roles(db: Session, clinic: Clinic, backend: str) -> None:
    with pytest.raises(ValidationFailed):
        admin.set_supervisor(db, clinic.admin, clinic.supervisor.user_id, clinic.supervisor.user_id)
    with pytest.raises(ValidationFailed):
        admin.set_supervisor(
            db, clinic.admin, clinic.counselor.user_id, clinic.other_counselor.user_id
        )


@pytest.mark.parametrize("who", ["counselor", "supervisor"])
def test_only_admins_manage_accounts(
    db: Session, clinic: Clinic, audits: AuditLookup, who: str, backend: str
) -> None:
    actor = getattr(clinic, who)
    for call in (
        lambda: admin.set_active(db, actor, clinic.other_counselor.user_id, active=False),
        lambda: admin.set_supervisor(db, actor, clinic.other_counselor.user_id, None),
        lambda: admin.list_users(db, actor),
        lambda: audit_log.search(db, actor, audit_log.AuditFilters()),
        lambda: admin.deleted_sessions(db, actor),
    ):
        with pytest.raises(AccessDenied):
            call()
    assert len(audits(username=actor.username, success=False)) == 5
    assert db.scalar(select(User.active).where(User.id == clinic.other_counselor.user_id))
