"""The partner's check-in page: reachable without signing in, from a link or a tablet code.

It knows only what its own credential opens (dashboard/services/check_ins.py). The link's
token leaves the address bar on the first run and lives in this browser session's state
under a key that is not a widget's, so a rerun never loses it and a copied address never
carries it. Nothing on the page shows answers already given, the other partner's name
(initials only) or any record of the couple.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

import streamlit as st

from dashboard.domain import check_in as rules
from dashboard.domain.catalog import INDICATORS, RATING_MAX, RATING_MIN
from dashboard.services import check_ins
from dashboard.services.check_ins import CheckInRefused, Credential, PartnerPage, TooManyTries
from dashboard.services.errors import ValidationFailed
from dashboard.ui.auth import client_key
from dashboard.ui.clinic_time import with_zone
from dashboard.ui.db import db_session
from dashboard.ui.literal import md_text
from dashboard.ui.widgets import field_error, plural

TAKEN = "check_in_taken"  # sha256 of the last link token taken from the address
CREDENTIAL = "check_in_credential"  # {"kind": "link" | "code", "secret": ...}
OPENED = "check_in_opened"  # the credential whose opening is on record this visit
DONE = "check_in_done"  # True once this visit's answers are saved
ERRORS = "check_in_errors"
FORM = "ci_form"
SCALE = list(range(RATING_MIN, RATING_MAX + 1))  # nothing chosen until the partner picks

# The seed's words, as a partner would say them about the last week.
QUESTIONS = {
    "talk_honestly": "We talk honestly with each other.",
    "feel_seen": "I feel seen by my partner.",
    "conflict_with_care": "We handle conflict with care.",
    "emotional_support": "We offer each other emotional support.",
    "celebrate_wins": "We celebrate each other's wins.",
    "growing_silence": "There is growing silence, or short answers, between us.",
    "feeling_unseen": "I feel unseen or misunderstood.",
    "emotional_coldness": "There is emotional coldness or tension between us.",
}
assert set(QUESTIONS) == {i.key for i in INDICATORS}

NEUTRAL = (
    "This check-in link cannot be used. It may have been used already, or it has "
    "expired. Please ask your counselor for a new link."
)
# A code typed on the tablet and refused: the same words whatever the reason (mistyped,
# used, expired), with the box to try again right above them.
CODE_REFUSED = (
    "This code was not accepted. Check the 8 digits and try again, "
    "or ask your counselor for a new code."
)


def hide_the_sidebar() -> None:
    """No sidebar on a partner's page. A fresh server runs a deep link's page file alone
    and lists the files of pages/ in a sidebar until the entrypoint has run once; a
    partner must not be shown the clinic's menu, so the sidebar is not drawn at all."""
    st.html(
        "<style>[data-testid='stSidebar'], [data-testid='stExpandSidebarButton'],"
        " [data-testid='stSidebarNav'] { display: none !important; }</style>"
    )


# Takes the query out of the address bar in place: no new history entry, so Back does not
# bring the token back (clearing st.query_params would push one and keep the old).
_FORGET_ADDRESS = (
    "<script>history.replaceState(history.state, '', location.pathname + location.hash);</script>"
)


def take_token_from_address() -> None:
    """Move a link's token out of the address bar into this session, before anything
    else is drawn. The session remembers only a digest of the token it took, so the
    same address seen again (a rerun, a Back) never reopens a finished check-in."""
    token = st.query_params.get("t")
    if not token:
        return
    st.html(_FORGET_ADDRESS, unsafe_allow_javascript=True)
    seen = hashlib.sha256(token.encode()).hexdigest()
    if st.session_state.get(TAKEN) == seen:
        return
    st.session_state[TAKEN] = seen
    st.session_state[CREDENTIAL] = {"kind": "link", "secret": token}
    st.session_state.pop(DONE, None)
    st.session_state.pop(OPENED, None)


# A fixed script, no typed text in it: Streamlit's HTML sanitiser drops <meta> tags, so
# the policy is put in the document's head from a script instead.
_NO_REFERRER = (
    "<script>if (!document.querySelector('meta[name=referrer]')) {"
    " const m = document.createElement('meta'); m.name = 'referrer';"
    " m.content = 'no-referrer'; document.head.appendChild(m); }</script>"
)


def no_referrer() -> None:
    """Ask the browser to send no Referer from this page (the proxy says so too)."""
    st.html(_NO_REFERRER, unsafe_allow_javascript=True)


def _forget() -> None:
    """Drop the credential and every answer widget's value: on a shared tablet the next
    person must find nothing of the last."""
    for key in [k for k in st.session_state if str(k).startswith("ci_")]:
        del st.session_state[key]
    for key in (CREDENTIAL, OPENED, ERRORS):
        st.session_state.pop(key, None)


def _wait_message(until: datetime) -> str:
    seconds = max(1, int((until - datetime.now(until.tzinfo)).total_seconds()) + 1)
    wait = plural(seconds, "second") if seconds < 120 else f"{seconds // 60 + 1} minutes"
    return f"Too many tries from this device. Please wait {wait}, then try again."


def thank_you() -> None:
    st.title("Thank you")
    st.success("Your answers are saved. Your counselor will see them before your session.")
    st.write("You can close this page now.")
    if st.button(
        "Next person on this tablet",
        help="On the clinic's tablet: clears this page for the next person's code.",
    ):
        _forget()
        st.session_state.pop(DONE, None)
        st.rerun()


def ask_for_code() -> None:
    """The clinic tablet: a partner types the code the counselor gave them; a refused
    code comes back here with a note under the box, to try again."""
    st.title("Check in before your session")
    errors = st.session_state.pop(ERRORS, {})
    with st.form("ci_code_form", border=False):
        st.write("Type the 8-digit code your counselor gave you.")
        code = st.text_input(
            "Your check-in code",
            max_chars=12,
            key="ci_code",
            placeholder="8 digits",
            autocomplete="off",
        )
        field_error(errors, "code")
        if st.form_submit_button("Continue", type="primary", width="stretch"):
            if rules.tidy_code(code):
                st.session_state[CREDENTIAL] = {"kind": "code", "secret": code}
            else:
                st.session_state[ERRORS] = {"code": "Type the code your counselor gave you."}
            st.rerun()


def please_wait(until: datetime) -> None:
    """Too many tries from this device: how long to wait, and a way to try again (a try
    before the time is up only says so again)."""
    st.title("Please wait")
    st.warning(_wait_message(until))
    st.button("Try again", type="primary", width="stretch", key="ci_try_again")


def open_page() -> PartnerPage | None:
    """The page's check-in, or None after drawing why not (same words for every reason)."""
    held = st.session_state[CREDENTIAL]
    credential = Credential(held["kind"], held["secret"])
    first = st.session_state.get(OPENED) != held
    try:
        with db_session() as db:
            page = check_ins.open_check_in(db, credential, client=client_key(), record_open=first)
    except TooManyTries as exc:
        if held["kind"] == "code":
            _forget()  # a shared tablet keeps no one's code: "Try again" asks for it anew
        please_wait(exc.until)
        return None
    except CheckInRefused:
        _forget()
        if held["kind"] == "code":
            # The box keeps what was typed, to check the digits; it opens nothing.
            st.session_state["ci_code"] = held["secret"]
            st.session_state[ERRORS] = {"code": CODE_REFUSED}
            ask_for_code()
        else:
            st.title("Check-in")
            st.info(NEUTRAL)
        return None
    st.session_state[OPENED] = held
    return page


def _answers(page: PartnerPage) -> rules.Answers:
    state = st.session_state
    return rules.Answers(
        ratings={key: state.get(f"{FORM}_item_{key}") for key in QUESTIONS},
        totals={i.key: state.get(f"{FORM}_total_{i.key}") for i in page.instruments},
        note=state.get(f"{FORM}_note") or "",
    )


def _submit(page: PartnerPage) -> None:
    held = st.session_state.get(CREDENTIAL)
    st.session_state.pop(ERRORS, None)
    if not held:
        return
    try:
        with db_session() as db:
            check_ins.submit_check_in(
                db,
                Credential(held["kind"], held["secret"]),
                _answers(page),
                client=client_key(),
            )
    except ValidationFailed as exc:
        st.session_state[ERRORS] = exc.errors
        return
    except (CheckInRefused, TooManyTries):
        return  # the next run's open_page says so, in the same words as ever
    _forget()
    st.session_state[DONE] = True


# The 0..10 rows laid out as a scale: each number under its circle, the eleven spread
# across one line, so a 390 px phone shows them in order instead of wrapping after 5.
_SCALE_STYLE = """<style>
[class*="st-key-ci_form_item_"] [data-testid="stRadioGroup"] {
  display: flex; flex-wrap: wrap; justify-content: space-between; gap: 0; width: 100%;
}
[class*="st-key-ci_form_item_"] [data-testid="stRadioGroup"] > div { margin: 0; }
[class*="st-key-ci_form_item_"] [data-testid="stRadioOption"] {
  margin: 0; padding: 0.25rem 0.125rem; min-width: 1.75rem;
}
[class*="st-key-ci_form_item_"] [data-testid="stRadioOption"] > div {
  flex-direction: column; align-items: center; gap: 0.25rem;
}
[class*="st-key-ci_form_item_"] [data-testid="stRadioOption"] > div > div:first-child {
  margin: 0;
}
</style>"""


def questions(page: PartnerPage) -> None:
    """The eight items (0-10, anchored), the enabled totals, the private note."""
    errors: dict[str, str] = st.session_state.get(ERRORS, {})
    st.html(_SCALE_STYLE)
    st.title("Before your session")
    st.write(  # the initials as the counselor typed them: no markdown, no :shortcodes:
        f"Check-in for {md_text(page.own_initials)}. Your answers go to your counselor "
        f"only: {md_text(page.other_initials)} will not see them."
    )
    st.caption("0 = not at all · 10 = completely. Think of the last week.")
    if errors:
        st.error("Some answers are missing or need a look: see the notes in red below.")
    with st.form(FORM, border=False, enter_to_submit=False):
        for key, text in QUESTIONS.items():
            # One card a question, its note inside: a message never reads as the next's.
            with st.container(border=True):
                # A row of 0..10 with none chosen: unanswered looks unanswered (a
                # slider's thumb always sits somewhere), one Tab stop, arrows to choose.
                st.radio(
                    text,  # our own words, no markdown in them: read as they are
                    options=SCALE,
                    index=None,
                    horizontal=True,
                    key=f"{FORM}_item_{key}",
                )
                st.caption("0 not at all · 10 completely")
                field_error(errors, f"item_{key}")
        if page.instruments:
            st.write(
                "If your counselor gave you one of these questionnaires, its total score "
                "(optional; leave the others empty):"
            )
        for instrument in page.instruments:
            st.number_input(
                f"{instrument.name} total",
                min_value=instrument.total_min,
                max_value=instrument.total_max,
                value=None,
                step=1.0 if instrument.decimals == 0 else 0.1,
                key=f"{FORM}_total_{instrument.key}",
                help=f"Your total on the {instrument.full_name}, if your counselor gave it to you.",
            )
            field_error(errors, f"total_{instrument.key}")
        st.text_area(
            "Anything you want your counselor to know before the session? (optional)",
            max_chars=rules.NOTE_MAX,
            key=f"{FORM}_note",
            help="Only your counselor (and their clinical supervisor) reads this.",
        )
        field_error(errors, "note")
        st.form_submit_button(
            "Send my answers", type="primary", width="stretch", on_click=_submit, args=(page,)
        )
    st.caption(f"{md_text(page.clinic_name)} · This link works until {with_zone(page.expires_at)}.")
