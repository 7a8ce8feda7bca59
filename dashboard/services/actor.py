"""The signed-in user, as the services see them."""

from __future__ import annotations

from dataclasses import dataclass

from dashboard.domain.catalog import ROLE_LABELS, Role


@dataclass(frozen=True)
class Actor:
    user_id: int
    username: str
    display_name: str
    role: Role

    @property
    def role_label(self) -> str:
        return ROLE_LABELS[self.role]

    @property
    def is_counselor(self) -> bool:
        return self.role is Role.COUNSELOR

    @property
    def is_supervisor(self) -> bool:
        return self.role is Role.SUPERVISOR

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN
