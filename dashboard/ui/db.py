"""One cached engine per process; one short-lived database session per user action."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import streamlit as st
from sqlalchemy.orm import Session as DbSession
from sqlalchemy.orm import sessionmaker

from dashboard.config import Settings, load_settings

__all__ = ["DbSession", "db_session", "session_factory", "settings"]
from dashboard.services import couple_summaries, expected
from dashboard.services.audit import audit_key
from dashboard.services.catalog import ensure_seed_barriers
from dashboard.services.norms import ensure_first_version
from db.engine import make_engine, make_sessionmaker
from db.migrate import upgrade_head


def settings() -> Settings:
    """Read on every call: it is a small file, and a stale copy would outlive a change."""
    return load_settings()


@st.cache_resource(show_spinner=False)
def _sessionmaker(url: str) -> sessionmaker[DbSession]:
    """Migrate to head once per process, then hand out sessions (shared, thread-safe)."""
    upgrade_head(url, audit_key())
    factory = make_sessionmaker(make_engine(url))
    with factory() as db:
        ensure_seed_barriers(db)
        ensure_first_version(db)  # clinic norms v1 on a clinic that already has 30 intakes
        expected.ensure_first_version(db)  # expected course v1 once 100 couples have a course
        couple_summaries.ensure_built(db)  # summary rows missing or stale (migration 0019)
    return factory


def session_factory() -> sessionmaker[DbSession]:
    """The server's sessionmaker, for work in a thread of its own (a background job)."""
    return _sessionmaker(settings().database_url)


@contextmanager
def db_session() -> Iterator[DbSession]:
    """A session for one user action; anything uncommitted is rolled back on exit."""
    with _sessionmaker(settings().database_url)() as db:
        yield db
