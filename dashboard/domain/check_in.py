"""Partner check-ins, the pure part: what a link's state is called, how long links and
tablet codes live, how guessing is slowed, and what a partner's answers must hold.

A link is good while now < its expiry (exclusive: at the expiry instant it is expired),
unless it was used or revoked. The same holds for a tablet code.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from dashboard.domain.catalog import INDICATORS, RATING_MAX, RATING_MIN
from dashboard.domain.instruments import Instrument
from dashboard.domain.sign_in import Rule
from dashboard.domain.typed_text import normalised, text_problem

# The clinic's setting ([check_in] link_hours / BONDLINE_CHECK_IN_HOURS) defaults to 72 h.
LINK_HOURS_DEFAULT = 72
LINK_HOURS_MAX = 24 * 14
CODE_LIFETIME = timedelta(minutes=15)
# 32 bytes from `secrets`: 256 bits, twice the 128 the issue asks for at least.
TOKEN_BYTES = 32
CODE_DIGITS = 8
NOTE_MAX = 2000
INITIALS_MAX = 4

# Guessing (a link or code that matches nothing usable), counted over GUESS_WINDOW.
# One device: free until its 5th miss (inclusive), then 2**(n-5) s, at most 15 minutes.
# The whole clinic (many devices): free until the 100th miss, then 2**(n-100) s, at
# most 30 s, so a spread-out attack on 8-digit tablet codes stays slow while a partner
# with a good link waits half a minute at worst. A good link or code is never slowed
# by the device rule once the device has not missed.
GUESS_WINDOW = timedelta(minutes=15)
GUESSES_ONE_DEVICE = Rule(free=5, cap=timedelta(minutes=15))
GUESSES_CLINIC = Rule(free=100, cap=timedelta(seconds=30))


class LinkStatus(StrEnum):
    """What the counselor sees per partner."""

    NOT_OPENED = "not opened"
    OPENED = "opened"
    DONE = "done"
    EXPIRED = "expired"
    REVOKED = "revoked"
    OFF = "switched off"


@dataclass(frozen=True)
class LinkState:
    opened_at: datetime | None
    submitted_at: datetime | None
    revoked_at: datetime | None
    expires_at: datetime


def status_of(link: LinkState, now: datetime) -> LinkStatus:
    """Done and revoked outrank expiry: an answer given in time stays done."""
    if link.submitted_at is not None:
        return LinkStatus.DONE
    if link.revoked_at is not None:
        return LinkStatus.REVOKED
    if now >= link.expires_at:
        return LinkStatus.EXPIRED
    return LinkStatus.OPENED if link.opened_at is not None else LinkStatus.NOT_OPENED


def usable(link: LinkState, now: datetime) -> bool:
    return status_of(link, now) in (LinkStatus.NOT_OPENED, LinkStatus.OPENED)


def new_token() -> str:
    """A link's secret: URL-safe text of TOKEN_BYTES random bytes."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def new_code() -> str:
    """A tablet code: CODE_DIGITS decimal digits, leading zeros kept."""
    return f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"


def digest(key: bytes, secret: str) -> str:
    """What is stored for a token or code: HMAC-SHA256 under the clinic's key, so even a
    copy of the database cannot test the 10^8 tablet codes offline."""
    return hmac.new(key, b"bondline check-in\0" + secret.encode(), hashlib.sha256).hexdigest()


def tidy_code(typed: str) -> str:
    """A code as typed on a tablet: spaces and dashes ignored."""
    return "".join(ch for ch in typed if ch not in " -\u00a0")


def initials_problem(initials: str) -> str | None:
    text = normalised(initials).strip()
    if not text:
        return "Give initials (the page shows them instead of a name)."
    if len(text) > INITIALS_MAX:
        return f"Initials are at most {INITIALS_MAX} characters."
    return text_problem(text, "Initials", multiline=False)


@dataclass(frozen=True)
class Answers:
    ratings: dict[str, int | None]
    totals: dict[str, float | None]
    note: str = ""


def validate_answers(answers: Answers, instruments: Mapping[str, Instrument]) -> dict[str, str]:
    """Field errors for a partner's answers: every item 0..10 (all eight, so the index
    is always computable), totals in range for the instruments asked, a note in limits."""
    errors: dict[str, str] = {}
    for item in INDICATORS:
        value = answers.ratings.get(item.key)
        if value is None:
            errors[f"item_{item.key}"] = "Please choose a number from 0 to 10."
        elif not isinstance(value, int) or not RATING_MIN <= value <= RATING_MAX:
            errors[f"item_{item.key}"] = "Choose a whole number from 0 to 10."
    unknown = set(answers.ratings) - {i.key for i in INDICATORS}
    if unknown:
        errors["items"] = "Unknown question."
    for code, total in answers.totals.items():
        instrument = instruments.get(code)
        if instrument is None:
            errors[f"total_{code}"] = "This questionnaire is not part of this check-in."
        elif total is not None:
            problem = instrument.validate_total(total)
            if problem:
                errors[f"total_{code}"] = problem
    note = normalised(answers.note)
    if len(note) > NOTE_MAX:
        errors["note"] = f"Your note is {len(note):,} characters; the limit is {NOTE_MAX:,}."
    else:
        problem = text_problem(note, "Your note", multiline=True)
        if problem:
            errors["note"] = problem
    return errors


# --- a partner's own answers in a session ---------------------------------------------

OVERRIDE_REASON_MAX = 500


@dataclass(frozen=True)
class OwnAnswers:
    """What a partner gave themselves: item ratings and instrument totals."""

    ratings: Mapping[str, int]
    totals: Mapping[str, float]


def changed_answers(
    own: OwnAnswers, ratings: Mapping[str, int | None], totals: Mapping[str, float | None]
) -> list[str]:
    """The fields (item keys, instrument codes) where the session's values differ from
    the partner's own answers. An item or total the partner gave must stay as given;
    nothing the partner left out is checked."""
    changed = [k for k, v in own.ratings.items() if ratings.get(k) != v]
    changed += [c for c, v in own.totals.items() if totals.get(c) != v]
    return changed


def override_problems(
    name: str, changed: list[str], reason: str | None, partner: str
) -> dict[str, str]:
    """Field errors when a partner's own answers were changed without a reason (or with
    one too long or unstorable). No change: no reason needed, any given is ignored."""
    if not changed:
        return {}
    key = f"override_{partner}"
    text = normalised(reason or "").strip()
    if not text:
        return {
            key: (
                f"These are {name}'s own check-in answers. To change them, say why: "
                "the reason and their answers are kept with the session."
            )
        }
    if len(text) > OVERRIDE_REASON_MAX:
        return {key: f"The reason is {len(text)} characters; the limit is {OVERRIDE_REASON_MAX}."}
    problem = text_problem(text, "The reason", multiline=False)
    return {key: problem} if problem else {}
