"""The session form's server-side drafts: kept while typing, offered, listed, restored.

Each opening of the form is an *episode* (a random id kept in session state): it writes
its own draft versions (services.drafts), so typing never replaces a draft left by an
earlier sitting. That draft is offered as a choice, resume or start over, and every
version of the last 30 days is listed under "Your drafts", newest first, to restore.

A text area sends its value only when it loses focus. A small component served by this
app (live_draft/index.html) sends the text fields' contents a moment after the last
keystroke; it runs in a fragment, so keeping a draft reruns only the fragment, never the
form (which would disturb the field being typed in).
"""

from __future__ import annotations

import logging
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

import streamlit as st

from dashboard.services import drafts
from dashboard.services.actor import Actor
from dashboard.services.errors import ServiceError
from dashboard.services.sessions import SessionForm
from dashboard.ui import draft_keeper
from dashboard.ui.auth import verified_actor
from dashboard.ui.clinic_time import clinic_moment
from dashboard.ui.db import db_session
from dashboard.ui.errors import guarded, is_busy, new_incident_id
from dashboard.ui.form_state import FormDraft, find_draft, fmt_time
from dashboard.ui.session_sections import FORM_NAME, TEXT_KEYS
from dashboard.ui.widgets import SESSION_PAGE, md_text

BASE_VERSION = "_base_version"  # kept with a server-side draft: the version it edits
EPISODE_KEY = "sf_episode"  # (form target, episode id) of the form open in this tab
NOT_KEPT_KEY = "sf_not_kept"  # (form target, episode id, incident) of a keep that failed
KEPT_KEY = "sf_kept"  # (form target, episode id, time of the last keystroke kept)
LIVE_KEY = "sf_live"
LIVE_SEEN_KEY = "sf_live_seen"  # the last message of the component already taken in
FULL_RUN_KEY = "sf_live_full_run"  # True while the whole form's run draws the keeper
CONNECTION_KEY = "sf_connection"  # this server session's id: a browser drawn by a new one resends
TAKEN_KEY = "sf_resent_taken"  # the sittings whose resent text this session has taken
NOTES = (("sf_note_data", "Data"), ("sf_note_assessment", "Assessment"), ("sf_note_plan", "Plan"))
log = logging.getLogger(__name__)


def _why(exc: BaseException) -> str:
    """A failed keep for the server's log: the error's kind and its first line, never a
    traceback or the statement's values, which hold the note being typed."""
    first = str(exc).partition("\n")[0][:200]
    return f"{type(exc).__name__}: {first}"


def form_target(form: SessionForm) -> str:
    return drafts.draft_target(form.couple_id, form.session_id)


def episode(form: SessionForm, *, new: bool = False) -> str:
    """This tab's sitting at the form (a new one after a save, a discard or a restore)."""
    state = st.session_state
    target = form_target(form)
    current = state.get(EPISODE_KEY)
    if new or current is None or current[0] != target:
        current = (target, secrets.token_hex(8))
        state[EPISODE_KEY] = current
    return current[1]


def _where(form: SessionForm) -> dict[str, Any]:
    return {"couple_id": form.couple_id, "session_id": form.session_id}


def keep(form: SessionForm, draft: FormDraft, actor: Actor, typed_at: datetime) -> None:
    """Keep what the form holds now as this episode's draft version; only a kept draft
    is ever said to be kept ("Draft kept at ...", with its last keystroke's time)."""
    mine = episode(form)
    try:
        with db_session() as db:
            drafts.save_draft(
                db,
                actor,
                **_where(form),
                values={**draft.values, BASE_VERSION: draft.version},
                episode=mine,
                now=typed_at,
            )
    except ServiceError:
        return  # out of reach now: the save itself will say why
    except Exception as exc:  # a busy or lost database: the form goes on, and says so
        incident = "" if is_busy(exc) else new_incident_id()
        log.warning("draft not kept (incident %s): %s", incident or "busy", _why(exc))
        st.session_state[NOT_KEPT_KEY] = (form_target(form), mine, incident)
        return
    st.session_state.pop(NOT_KEPT_KEY, None)
    st.session_state[KEPT_KEY] = (form_target(form), mine, typed_at)


def kept_caption(form: SessionForm) -> None:
    """Says what the server really holds: the last keep that succeeded, and a failed one."""
    here = (form_target(form), episode(form))
    failed = st.session_state.get(NOT_KEPT_KEY)
    if failed and failed[:2] == here:
        number = f" (incident {failed[2]})" if failed[2] else ""
        st.caption(
            f"The draft could not be kept just now{number}; what you typed is still in this "
            "form, and the next change tries again."
        )
    kept = st.session_state.get(KEPT_KEY)
    if kept and kept[:2] == here:
        st.caption(f"Draft kept at {fmt_time(kept[2])}, up to your last keystroke; not saved yet.")


def live_keeper(form: SessionForm, actor: Actor) -> None:
    """The component and the caption, drawn by the whole form's run."""
    st.session_state[FULL_RUN_KEY] = True
    _live_keeper(form, actor)
    st.session_state[FULL_RUN_KEY] = False


@st.fragment
def _live_keeper(form: SessionForm, actor: Actor) -> None:
    """Take what the browser typed (before any blur) into the draft and keep it.

    Only in the fragment's own run: a message that reaches a run of the whole form
    (sent while that run was busy) is older than the fields the browser sent with it,
    which that run has taken in already (a resumed draft, or the text as committed).
    """
    mine = episode(form)
    state = st.session_state
    connection = state.setdefault(CONNECTION_KEY, secrets.token_hex(8))
    got = draft_keeper.keeper()(
        keys=sorted(TEXT_KEYS.values()),
        episode=mine,
        target=form_target(form),
        connection=connection,
        taken=state.get(TAKEN_KEY, []),
        key=LIVE_KEY,
        default=None,
    )
    draft = find_draft(FORM_NAME)
    fresh = bool(got) and got.get("seq") != state.get(LIVE_SEEN_KEY)
    if fresh:
        state[LIVE_SEEN_KEY] = got.get("seq")
    if fresh and got.get("resend") and got.get("episode") != mine:
        try:
            _complete_sitting(form, actor, got)
        except Exception as exc:  # a busy or lost database: the browser sends it again
            log.warning("a resent draft was not kept: %s", _why(exc))
        else:
            # Taken (or refused for good): the browser stops sending it, and the offer
            # above names the draft as it now stands.
            state[TAKEN_KEY] = [*state.get(TAKEN_KEY, []), str(got.get("episode"))][-20:]
            st.rerun()
    # A message typed before a discard, a resume or a restore (each starts a new sitting)
    # arrives late: it must not put back text the counselor just replaced.
    current = bool(got) and got.get("episode") == mine
    if fresh and current and draft is not None and not state.get(FULL_RUN_KEY):
        changed = False
        for key, text in (got.get("values") or {}).items():
            if key in draft.values and isinstance(text, str) and draft.values[key] != text:
                draft.values[key] = text
                state[key] = text  # the widget's state agrees: a later run sees no change
                changed = True
        if changed:
            ago = timedelta(milliseconds=max(0, int(got.get("ago_ms") or 0)))
            draft.mark_changed(datetime.now(UTC) - ago)
            keep(form, draft, actor, draft.changed_at or datetime.now(UTC))
    kept_caption(form)


def _complete_sitting(form: SessionForm, actor: Actor, got: dict[str, Any]) -> bool:
    """The text a browser still held for a sitting its server never took in (that server
    died, or the page was reloaded mid-sentence): it completes that sitting's own newest
    draft, if the sitting has one still offered; a saved, discarded or set-aside sitting,
    or another sitting's draft, is never written. True when the draft changed; a
    database error is raised (the browser sends the text again)."""
    sitting = str(got.get("episode") or "")
    typed = {
        key: text
        for key, text in (got.get("values") or {}).items()
        if key in TEXT_KEYS.values() and isinstance(text, str)
    }
    try:
        with db_session() as db:
            versions = drafts.list_drafts(db, actor, **_where(form))
            newest = next((v for v in versions if v.episode == sitting), None)
            if newest is None or newest.set_aside or not sitting:
                return False
            if all(newest.values.get(key) == text for key, text in typed.items()):
                return False
            ago = timedelta(milliseconds=max(0, int(got.get("ago_ms") or 0)))
            drafts.save_draft(
                db,
                actor,
                **_where(form),
                values={**newest.values, **typed},
                episode=sitting,
                now=max(newest.saved_at, datetime.now(UTC) - ago),
            )
    except ServiceError:
        return False
    return True


def _characters(values: dict[str, Any]) -> str:
    counts = [f"{label} {len(values.get(key) or '')}" for key, label in NOTES]
    return " · ".join(counts) + " characters"


def _when(moment: datetime) -> str:
    """'11:25' today, '05 Dec, 23:40' before: the day as the clinic's clock reads it."""
    local = clinic_moment(moment)
    day = "" if local.date() == clinic_moment(datetime.now(UTC)).date() else f"{local:%d %b}, "
    return f"{day}{fmt_time(moment)}"


@guarded
def _restore(form: SessionForm, draft_id: int) -> None:
    """Resume or restore a version: the form goes on as a new episode, so the text it
    held stays in its own versions; every draft of the form is then set aside."""
    live = verified_actor()
    draft = find_draft(FORM_NAME)
    if live is None or draft is None:
        return
    draft.take_widgets()
    with db_session() as db:
        found = drafts.restore_draft(
            db, live, **_where(form), draft_id=draft_id, episode=episode(form, new=True)
        )
    if found is not None:  # edits of an older version stay refused (the form says so)
        draft.load(found.values, version=found.values.get(BASE_VERSION))


@guarded
def _start_over(form: SessionForm) -> None:
    """Keep on with the form as it is: the offered draft goes into the list."""
    live = verified_actor()
    if live is not None:
        with db_session() as db:
            drafts.set_aside(db, live, **_where(form), keep=episode(form))


def discard(form: SessionForm) -> None:
    """The form's changes are thrown away: every draft of it stays listed, restorable."""
    live = verified_actor()
    if live is not None:
        with db_session() as db:
            drafts.discard_draft(db, live, **_where(form))
    episode(form, new=True)


def saved(form: SessionForm, actor: Actor) -> None:
    """The session was saved: this episode's versions are the session now."""
    mine = episode(form)
    try:
        with db_session() as db:
            drafts.forget_episode(db, actor, **_where(form), episode=mine)
    except ServiceError:
        pass
    st.session_state.pop(EPISODE_KEY, None)


def offer_and_list(form: SessionForm, draft: FormDraft, actor: Actor) -> None:
    """A draft left by another sitting is offered as a choice; typing meanwhile never
    replaces it. Below, every draft version of the form, newest first, to restore."""
    mine = episode(form)
    with db_session() as db:
        versions = drafts.list_drafts(db, actor, **_where(form))
    offered = drafts.offered_draft(versions, mine)
    if (
        offered is not None
        and {k: v for k, v in offered.values.items() if k != BASE_VERSION} != draft.values
    ):
        with st.container(border=True):
            st.markdown(
                f"You have an unsaved draft of this session from {_when(offered.saved_at)} "
                f"({_characters(offered.values)}). Resume it, or start over: it then "
                "stays under **Your drafts** for 30 days."
            )
            # A row that wraps, not columns: no label cut short on a narrow window.
            row = st.container(horizontal=True, gap="small")
            row.button(
                f"Resume the draft from {fmt_time(offered.saved_at)}",
                type="primary",
                key="sf_resume",
                on_click=_restore,
                args=(form, offered.id),
                icon=":material/restore:",
            )
            row.button(
                "Start over",
                key="sf_start_over",
                on_click=_start_over,
                args=(form,),
                icon=":material/note_add:",
            )
    # Every version but the one this sitting is writing now (a long sitting keeps one
    # every ten minutes: a paragraph typed over an hour ago is restorable too).
    newest_mine = next((v for v in versions if v.episode == mine), None)
    others = [v for v in versions if v is not newest_mine]
    if not others:
        return
    with st.expander(f"Your drafts of this session ({len(others)})", icon=":material/history:"):
        st.caption("Kept for 30 days after their last keystroke, seen by you alone.")
        for n, version in enumerate(others):
            left, right = st.columns([3, 1], vertical_alignment="center")
            first = (version.values.get("sf_note_data") or "").strip().splitlines()
            left.markdown(
                f"**{_when(version.saved_at)}** · {_characters(version.values)}"
                + (f"  \n{md_text(first[0][:90])}" if first else "")
            )
            right.button(
                "Restore",
                key=f"sf_restore_{n}",
                on_click=_restore,
                args=(form, version.id),
                help=f"Put the draft kept at {_when(version.saved_at)} into the form; "
                "what the form holds now stays under Your drafts.",
            )


def unsaved_list(actor: Actor) -> None:
    """On Log session before a couple is chosen: every form with a draft left unsaved,
    newest first, each a link to its form (where it is offered)."""
    with db_session() as db:
        found = drafts.unsaved_drafts(db, actor)
    if not found:
        return
    with st.container(border=True):
        st.markdown("**Your unsaved drafts**")
        for item in found:
            what = "new session" if item.session_id is None else "changes to a session"
            params = (
                {"couple": str(item.couple_id)}
                if item.session_id is None
                else {"session": str(item.session_id)}
            )
            st.page_link(
                SESSION_PAGE,
                label=f"{item.case_code}: {what}, kept at {_when(item.saved_at)}",
                query_params=params,
                icon=":material/edit_note:",
            )
