"""The couple page's Check-ins tab: ask the partners to answer before the next session,
hand each a link (QR code) or a tablet code, follow who has answered, read their notes.

A link's token exists only at the moment it is made (the database keeps a digest): it is
shown from this browser session's state, under a key no widget uses, until the counselor
hides it or makes another. Supervisors see the same statuses and notes, read-only.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime
from urllib.parse import urlsplit

import segno
import streamlit as st
from streamlit import config

from dashboard.domain.check_in import LinkStatus
from dashboard.services import check_ins
from dashboard.services.check_ins import CheckInView, PartnerLink
from dashboard.services.couples import CoupleDetail
from dashboard.services.errors import ServiceError, ValidationFailed
from dashboard.ui.auth import verified_actor
from dashboard.ui.clinic_time import TIME, clinic_time
from dashboard.ui.db import db_session
from dashboard.ui.errors import guarded
from dashboard.ui.widgets import field_error, md_text

SHOWN = "check_in_shown"  # {"couple": id, "kind": "link"|"code", "partner": "A", "secret": ...}
ERRORS = "check_in_panel_errors"
SEEN = "check_in_panel_seen"  # the couple whose check-ins this visit has put on record
BADGE = {
    LinkStatus.NOT_OPENED: "gray",
    LinkStatus.OPENED: "blue",
    LinkStatus.DONE: "green",
    LinkStatus.EXPIRED: "orange",
    LinkStatus.REVOKED: "gray",
    LinkStatus.OFF: "gray",
}


def _initials(name: str) -> str:
    return "".join(word[0] for word in name.split() if word[:1].isalpha())[:2].upper() or "?"


def check_in_url(token: str) -> str:
    """The partner's link: this server's address as the counselor reaches it (so the
    proxy's public name), at the check-in page."""
    parts = urlsplit(st.context.url or "http://localhost:8501/")
    base = str(config.get_option("server.baseUrlPath") or "").strip("/")
    prefix = f"/{base}" if base else ""
    return f"{parts.scheme}://{parts.netloc}{prefix}/check_in?t={token}"


def _qr_png(url: str) -> bytes:
    buffer = io.BytesIO()
    segno.make(url, error="m").save(buffer, kind="png", scale=6, border=2)
    return buffer.getvalue()


@guarded
def _act(couple_id: int, action: str, check_in_id: int | None = None, partner: str = "") -> None:
    """One button's service call, in its callback; errors go beside the panel."""
    actor = verified_actor()
    st.session_state.pop(ERRORS, None)
    if actor is None:
        st.session_state[ERRORS] = {"check_in": "You were signed out. Log in again."}
        return
    state = st.session_state
    try:
        with db_session() as db:
            if action == "create":
                asked = {p for p in ("A", "B") if state.get(f"cip_ask_{p}")}
                initials = {p: state.get(f"cip_initials_{p}") or "" for p in ("A", "B")}
                made = check_ins.create_check_in(
                    db, actor, couple_id, partners=asked, initials=initials
                )
                state[SHOWN] = [
                    {"couple": couple_id, "kind": "link", "partner": p, "secret": t}
                    for p, t in made.tokens.items()
                ]
            elif action == "link" and check_in_id is not None:
                token = check_ins.new_link(db, actor, check_in_id, partner)
                state[SHOWN] = [
                    {"couple": couple_id, "kind": "link", "partner": partner, "secret": token}
                ]
            elif action == "code" and check_in_id is not None:
                code = check_ins.tablet_code(db, actor, check_in_id, partner)
                state[SHOWN] = [
                    {"couple": couple_id, "kind": "code", "partner": partner, "secret": code}
                ]
            elif action == "revoke" and check_in_id is not None:
                check_ins.revoke_link(db, actor, check_in_id, partner)
                state.pop(SHOWN, None)
            elif action == "cancel" and check_in_id is not None:
                check_ins.cancel_check_in(db, actor, check_in_id)
                state.pop(SHOWN, None)
    except ValidationFailed as exc:
        state[ERRORS] = exc.errors
    except ServiceError as exc:
        state[ERRORS] = {"check_in": str(exc)}


def _hide() -> None:
    st.session_state.pop(SHOWN, None)


def _shown(detail: CoupleDetail) -> None:
    """The links or code just made, for this couple only."""
    shown = [s for s in st.session_state.get(SHOWN, []) if s["couple"] == detail.couple_id]
    if not shown:
        return
    with st.container(border=True):
        for item in shown:
            name = detail.partner_a_name if item["partner"] == "A" else detail.partner_b_name
            if item["kind"] == "code":
                st.markdown(f"**Tablet code for {md_text(name)}** (good for 15 minutes)")
                st.code(f"{item['secret'][:4]} {item['secret'][4:]}", language=None)
                st.caption("Open the check-in page on the clinic's tablet and type this code.")
                continue
            url = check_in_url(item["secret"])
            st.markdown(f"**Link for {md_text(name)}**: send it to them alone.")
            cols = st.columns([1, 3], vertical_alignment="top")
            cols[0].image(
                _qr_png(url),
                width=180,
                caption=f"QR code for {md_text(name)}",
                # Read out instead of the picture (an attribute, so the name is as typed).
                alt=f"QR code of the check-in link for {name}",
            )
            with cols[1]:
                st.caption("Or copy the address (the copy button is at its right):")
                st.code(url, language=None, wrap_lines=True)
        st.caption(
            "Shown once: Bondline keeps only a fingerprint of each link. "
            "Lost it? Make a new link (the old one stops working)."
        )
        st.button("Done, hide the links", on_click=_hide, key="cip_hide")


def _partner_line(
    detail: CoupleDetail, view: CheckInView, link: PartnerLink, now: datetime
) -> None:
    badge = BADGE[link.status]
    when = ""
    if link.status is LinkStatus.DONE and link.submitted_at:
        when = f" · answered {clinic_time(link.submitted_at)}"
    elif link.status in (LinkStatus.NOT_OPENED, LinkStatus.OPENED) and link.expires_at:
        when = f" · link good until {clinic_time(link.expires_at)}"
    if link.code_expires_at:
        when += f" · tablet code until {clinic_time(link.code_expires_at, TIME)}"
    st.markdown(
        f"**{md_text(link.name)}** (shown as {md_text(link.initials)}) "
        f":{badge}-badge[{link.status.value}]{when}"
    )
    if link.note:
        st.caption(f"Note from {md_text(link.name)}, for you only:")
        st.text(link.note)
    if not (detail.can_edit and view.open):
        return
    cols = st.columns([1, 1, 1, 3])  # the buttons together, beside their partner's line
    key = f"{view.check_in_id}_{link.partner}"
    if link.status is not LinkStatus.DONE:
        cols[0].button(
            "New link",
            key=f"cip_link_{key}",
            on_click=_act,
            args=(detail.couple_id, "link", view.check_in_id, link.partner),
            help="Makes a fresh link; any earlier link for this partner stops working.",
        )
    if link.status in (LinkStatus.NOT_OPENED, LinkStatus.OPENED):
        cols[1].button(
            "Tablet code",
            key=f"cip_code_{key}",
            on_click=_act,
            args=(detail.couple_id, "code", view.check_in_id, link.partner),
            help="An 8-digit code for the clinic's tablet, good for 15 minutes.",
        )
        cols[2].button(
            "Revoke",
            key=f"cip_revoke_{key}",
            on_click=_act,
            args=(detail.couple_id, "revoke", view.check_in_id, link.partner),
            help="The link and any tablet code stop working at once.",
        )
    field_error(st.session_state.get(ERRORS, {}), f"link_{link.partner}")


def _create_form(detail: CoupleDetail) -> None:
    st.markdown("**Ask the partners to check in before the next session**")
    st.caption(
        "Each partner gets their own link. Their answers fill their ratings in the next "
        "session you log, marked as self-report; the other partner never sees them."
    )
    errors = st.session_state.get(ERRORS, {})
    for p, name in (("A", detail.partner_a_name), ("B", detail.partner_b_name)):
        cols = st.columns([3, 2], vertical_alignment="bottom")
        cols[0].checkbox(
            f"A link for {md_text(name)}",
            value=True,
            key=f"cip_ask_{p}",
            help="Leave this off where the partner's phone is not private.",
        )
        cols[1].text_input(
            "Initials the page shows",
            value=_initials(name),
            max_chars=4,
            key=f"cip_initials_{p}",
        )
        field_error(errors, f"initials_{p}")
    field_error(errors, "partners")
    st.button(
        "Make check-in links",
        type="primary",
        on_click=_act,
        args=(detail.couple_id, "create"),
        key="cip_create",
    )


def panel(detail: CoupleDetail) -> None:
    """The Check-ins tab."""
    actor = verified_actor()
    if actor is None:
        return
    now = datetime.now(UTC)
    # Audited once a visit of the couple page (pages/couple.py forgets SEEN on a new one).
    record = st.session_state.get(SEEN) != detail.couple_id
    with db_session() as db:
        views = check_ins.check_ins_for_couple(
            db, actor, detail.couple_id, now=now, record_view=record
        )
    st.session_state[SEEN] = detail.couple_id
    errors = st.session_state.get(ERRORS, {})
    field_error(errors, "check_in")
    open_ = next((v for v in views if v.open), None)
    if detail.can_edit:
        _shown(detail)
    if open_ is not None:
        with st.container(border=True):
            st.markdown(
                f"**Open check-in** · made {clinic_time(open_.created_at)} "
                f"by {md_text(open_.created_by)}"
            )
            for link in open_.partners:
                _partner_line(detail, open_, link, now)
            if detail.can_edit:
                st.button(
                    "Cancel this check-in",
                    key=f"cip_cancel_{open_.check_in_id}",
                    on_click=_act,
                    args=(detail.couple_id, "cancel", open_.check_in_id),
                    help="Every link stops; answers already given stay on record.",
                )
    elif detail.can_edit and detail.status != "closed":
        _create_form(detail)
    elif not views:
        st.caption("No check-ins for this couple.")
    earlier = [v for v in views if not v.open]
    if earlier:
        st.markdown("**Earlier check-ins**")
        for view in earlier:
            closed = (
                "taken into a session"
                if view.session_id is not None
                else f"cancelled {clinic_time(view.cancelled_at)}"
                if view.cancelled_at
                else ""
            )
            with st.expander(f"Made {clinic_time(view.created_at)} · {closed}"):
                for link in view.partners:
                    _partner_line(detail, view, link, now)
