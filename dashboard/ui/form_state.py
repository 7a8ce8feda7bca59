"""Edit forms that never come back empty or stale.

Streamlit drops a keyed widget's value whenever a page that does not draw that widget
runs, i.e. on every trip to another page. Seeding a form "once" therefore brought it
back empty, and saving it erased real text. Our choice: the values a form shows live in
a plain dict in session state under a key that is never a widget key (the *draft*).
On every run, before the widgets are drawn, `FormDraft.open`:

- starts the draft from the stored record when there is none for this form target, or
  when the record changed and nothing was typed yet (the form shows the stored record);
- takes every value Streamlit still holds for a widget into the draft (what was typed);
- puts a value back into every widget key Streamlit dropped (after a trip elsewhere).

A refused save keeps the draft and its field errors; a successful save discards it, so
the next opening shows the stored record again.

A value written into a widget's state reaches the browser in that run's copy of the
widget only. When two runs follow each other quickly (a fresh page load: the cookie
check reruns the page at once), the browser may draw only the second copy, which
carries no value: it then shows the widget's empty default while the server holds the
record, and reports that empty value back as if the counselor had erased the text.
So a value the form put into a widget is sent again in the next run, and every value
is sent on every run while nothing has been typed (the form shows the stored record).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import streamlit as st

from dashboard.services.actor import Actor
from dashboard.services.errors import ServiceError, ValidationFailed
from dashboard.ui.auth import verified_actor
from dashboard.ui.clinic_time import TIME, clinic_time
from dashboard.ui.db import DbSession, db_session

_PREFIX = "_draft:"
_MISSING = object()  # no value in session state (None is a value)


class FormDraft:
    """The typed values of one edit form, plus its errors, for one target record."""

    def __init__(self, name: str, data: dict[str, Any]) -> None:
        self.name = name
        self._data = data

    @classmethod
    def open(
        cls,
        name: str,
        target: str,
        stored: Mapping[str, Any],
        version: int | None = None,
        *,
        put_back: bool = True,
    ) -> FormDraft:
        """The form's draft for `target`, synchronised with its widgets (see module doc).

        A form that draws only some of its widgets in a run (one section at a time) passes
        `put_back=False` and then says which it draws with `draw_only`.
        """
        state = st.session_state
        data: dict[str, Any] | None = state.get(_PREFIX + name)
        if data is not None and data["target"] == target:
            if data.get("rebase"):  # the record moved on by this user's save of other fields
                data["version"], data["stored"], data["rebase"] = version, dict(stored), False
            # What the person typed comes first, even typed in the run that changed the
            # record: it decides whether the draft is dirty.
            data["changed_now"] = False
            for key, value in data["values"].items():
                current = state.get(key, _MISSING)
                if current is not _MISSING and current != value:
                    data["values"][key] = current
                    data["changed_now"] = True
            if data["changed_now"]:
                data["changed_at"] = datetime.now(UTC)
        fresh = (
            data is None
            or data["target"] != target
            or (data["version"] != version and data["values"] == data["stored"])
        )
        if fresh:
            data = _new_data(target, stored, version)
            state[_PREFIX + name] = data
            for key, value in data["values"].items():
                state[key] = value
            data["sent"] = set(data["values"])
        elif put_back:
            assert data is not None
            draft = cls(name, data)
            draft._push(lambda _key: True)
            return draft
        return cls(name, data)

    def _push(self, drawn: Callable[[str], bool]) -> None:
        """Give each widget drawn in this run the draft's value where the browser may
        not show it (see module doc): dropped from widget state, put there by the last
        run, or the draft is still the stored record."""
        state = st.session_state
        data = self._data
        # A change reported by the browser shows it has drawn the form: nothing to resend.
        resend: set[str] = set() if data.get("changed_now") else data.get("sent", set())
        clean = data["values"] == data["stored"]
        sent: set[str] = set()
        for key, value in data["values"].items():
            if not drawn(key):
                continue
            current = state.get(key, _MISSING)
            if current is _MISSING:
                state[key] = value  # dropped by a visit to another page or section
                sent.add(key)
            elif clean or (key in resend and current == value):
                state[key] = value
        data["sent"] = sent

    @classmethod
    def discard(cls, name: str) -> None:
        """Forget the draft: the next opening shows the stored record."""
        st.session_state.pop(_PREFIX + name, None)

    @classmethod
    def rebase(cls, name: str) -> None:
        """This user just saved other fields of the same record: keep this form's unsaved
        edits, based from the next run on the record as saved (its new version)."""
        data = st.session_state.get(_PREFIX + name)
        if data is not None:
            data["rebase"] = True

    @property
    def values(self) -> dict[str, Any]:
        return self._data["values"]

    @property
    def version(self) -> int | None:
        """The record's version these edits are based on (a later save is refused)."""
        return self._data["version"]

    @property
    def dirty(self) -> bool:
        """Something differs from the stored record the form was opened on."""
        return self._data["values"] != self._data["stored"]

    @property
    def changed_now(self) -> bool:
        """This run brought a new value from a widget."""
        return bool(self._data.get("changed_now"))

    @property
    def changed_at(self) -> datetime | None:
        return self._data.get("changed_at")

    def mark_changed(self, at: datetime) -> None:
        """Something was typed at `at`, taken in outside `open` (while typing)."""
        self._data["changed_at"] = at

    @property
    def errors(self) -> dict[str, str]:
        return self._data["errors"]

    @errors.setter
    def errors(self, errors: dict[str, str]) -> None:
        self._data["errors"] = dict(errors)

    @property
    def conflict(self) -> str:
        return self._data["conflict"]

    @conflict.setter
    def conflict(self, message: str) -> None:
        self._data["conflict"] = message

    def draw_only(self, drawn: Callable[[str], bool]) -> None:
        """Give each widget drawn in this run its value; take every other one out of
        widget state.

        Streamlit keeps a value set for a widget that is not drawn, and hands it back
        (stale) once that widget's state is dropped, as happens when its section closes;
        the draft would take it for something typed. Out of widget state, the value is
        only in the draft, which puts it back when its widget is drawn again.
        """
        state = st.session_state
        for key in self._data["values"]:
            if not drawn(key) and state.get(key, _MISSING) is not _MISSING:
                del state[key]
        self._push(drawn)

    def take_widgets(self) -> None:
        """Copy current widget values into the draft (a callback runs before `open`)."""
        state = st.session_state
        for key in self._data["values"]:
            if key in state:
                self._data["values"][key] = state[key]

    def load(self, values: Mapping[str, Any], version: int | None = None) -> None:
        """Put values into the form (a resumed draft); unknown keys are ignored."""
        for key, value in values.items():
            if key in self._data["values"]:
                self._data["values"][key] = value
                st.session_state[key] = value
                self._data.setdefault("sent", set()).add(key)
        if version is not None:
            self._data["version"] = version


def _new_data(target: str, stored: Mapping[str, Any], version: int | None) -> dict[str, Any]:
    return {
        "target": target,
        "version": version,
        "stored": dict(stored),
        "values": dict(stored),
        "errors": {},
        "conflict": "",
        "changed_at": None,
        "changed_now": False,
        "sent": set(),
    }


def fmt_time(moment: datetime) -> str:
    """HH:MM in the clinic's time zone ([clinic] timezone), which the page says once."""
    return clinic_time(moment, TIME)


def find_draft(name: str) -> FormDraft | None:
    """The draft of a form as it stands, for a callback (which runs before the page)."""
    data = st.session_state.get(_PREFIX + name)
    return None if data is None else FormDraft(name, data)


def save_from_draft(draft: FormDraft, save: Callable[[DbSession, Actor], None]) -> bool:
    """A Save button's callback body: one transaction; on refusal the errors stay on the
    draft, beside their fields. True when saved.

    Callbacks run before the page, so the signed-in user is checked again here: a user
    deactivated or signed out since the form was drawn saves nothing.
    """
    live = verified_actor()
    if live is None:
        draft.conflict = "You were signed out, so nothing was saved. Log in again."
        return False
    try:
        with db_session() as db:
            save(db, live)
    except ValidationFailed as exc:
        draft.errors = exc.errors
        draft.conflict = ""
        return False
    except ServiceError as exc:
        draft.errors = {}
        draft.conflict = str(exc)
        return False
    return True
