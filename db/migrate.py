"""Run Alembic to head on a given database URL (start-up, CLI, tests)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

ALEMBIC_INI = Path(__file__).resolve().parent.parent / "alembic.ini"


def alembic_config(url: str, audit_key: bytes | None = None) -> Config:
    """Alembic's config for a database URL, leaving the caller's logging alone.

    `audit_key`: migration 0008 links audit rows already written into the hash chain.
    """
    config = Config(str(ALEMBIC_INI))
    config.attributes["audit_key"] = audit_key
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    config.attributes["configure_logger"] = False
    return config


def upgrade_head(url: str, audit_key: bytes | None = None) -> None:
    command.upgrade(alembic_config(url, audit_key), "head")
