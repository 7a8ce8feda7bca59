"""What a service can refuse, in words a page can show as they are."""

from __future__ import annotations


class ServiceError(Exception):
    """Base of every refusal a page is expected to catch and show."""


class AccessDenied(ServiceError):
    """Out of the actor's scope. The message never says whether the record exists."""

    def __init__(self, message: str = "This record is not in your caseload.") -> None:
        super().__init__(message)


class ValidationFailed(ServiceError):
    """Input broke a rule; `errors` maps each form field to its message."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("Please correct the highlighted fields.")
        self.errors = errors


class EditConflict(ServiceError):
    """Someone saved the record after this form was opened; nothing was overwritten."""
