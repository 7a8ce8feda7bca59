"""Bondline entrypoint: page config, login, role-filtered navigation, run."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from dashboard.domain.catalog import Role
from dashboard.ui import auth, errors, warm
from dashboard.ui.clinic_time import zone_note
from dashboard.ui.widgets import md_text, refused_page, show_flash

ROOT = Path(__file__).resolve().parent
st.set_page_config(page_title="Bondline", page_icon=ROOT / "static/favicon.svg", layout="wide")
# Once per server: what is loaded by now stays out of the collection after every run.
warm.freeze_heap()

# The partner's check-in page needs no sign-in (and shows no menu, even to a signed-in
# counselor on the same browser): it is chosen before the login form is drawn. This first
# navigation knows every page file, hidden, so whatever page the address names is found
# (a page unknown to it would bring up Streamlit's "Page not found" over the real page).
check_in = st.Page("pages/check_in.py", title="Check-in", url_path="check_in", visibility="hidden")
every_file = [
    st.Page(str(path.relative_to(ROOT)), visibility="hidden")
    for path in sorted((ROOT / "pages").glob("*.py"))
    if path.stem != "check_in"
]
logged_out = st.Page(auth.logged_out, title="Log in", default=True)
# The page file the address names ("" at the root); reused below for the start pages.
opened = st.navigation([logged_out, check_in, *every_file], position="hidden").url_path
if opened == "check_in":
    with errors.boundary("page check_in"):
        check_in.run()
    st.stop()

actor = auth.require_actor()
# Once per server, from its first run, once the login form is drawn (while it waits for a
# password): plotly, the chart browser and the clinic norms load in the background.
warm.start()
if actor is None:
    # Logged out: no menu, and every other URL lands on the login form. While the
    # counselor types, this tab loads the chart and grid code their first page needs.
    warm.prime_browser()
    st.stop()

# A role's start page is its default, which Streamlit serves only at "/": opened by its
# file's address (/caseload, /review), it would not be found there, and Streamlit's
# "Page not found" would come up over it. So a start page named by the address is served
# at that address, and a hidden copy of it is the default at "/".
caseload = st.Page(
    "pages/caseload.py",
    title="My caseload",
    icon=":material/groups:",
    default=opened != "caseload",
)
review = st.Page(
    "pages/review.py",
    title="Clinic overview" if actor.is_admin else "Caseload review",
    icon=":material/monitoring:",
    default=opened != "review",
)
couples_list = st.Page("pages/caseload.py", title="Couples", icon=":material/groups:")
couple = st.Page("pages/couple.py", title="Couple", icon=":material/diversity_1:")
timeline = st.Page("pages/timeline.py", title="Timeline", icon=":material/timeline:")
log_session = st.Page("pages/log_session.py", title="Log session", icon=":material/edit_note:")
session_view = st.Page("pages/log_session.py", title="Session", icon=":material/description:")
exports = st.Page("pages/exports.py", title="Exports", icon=":material/download:")
admin = st.Page("pages/admin.py", title="Admin", icon=":material/admin_panel_settings:")

PAGES: dict[Role, list[st.Page]] = {
    Role.COUNSELOR: [caseload, couple, timeline, log_session, exports],
    Role.SUPERVISOR: [review, couples_list, couple, timeline, session_view, exports],
    Role.ADMIN: [review, couples_list, couple, timeline, session_view, exports, admin],
}


def _not_for_role(path: str, title: str) -> st.Page:
    """The same URL, hidden from the menu, refusing (and auditing) instead of the page:
    otherwise a typed /admin would fall back to the start page with no trace."""

    def refused() -> None:
        refused_page(actor, title, path)

    return st.Page(refused, title=title, url_path=path, visibility="hidden")


# Streamlit serves a file page at its file name (pages/admin.py at /admin).
FILES = {
    page.title: page_file
    for page, page_file in [
        (caseload, "caseload"),
        (couples_list, "caseload"),
        (review, "review"),
        (couple, "couple"),
        (timeline, "timeline"),
        (log_session, "log_session"),
        (session_view, "log_session"),
        (exports, "exports"),
        (admin, "admin"),
    ]
}
menu = PAGES[actor.role]
reachable = {FILES[page.title] for page in menu}
elsewhere = {FILES[page.title]: page.title for role in Role for page in PAGES[role]}
start_file = FILES[menu[0].title]
home: list[st.Page] = []
if opened == start_file:  # the start page is served at its own address: "/" runs a copy
    home.append(
        st.Page(
            f"pages/{start_file}.py",
            title=menu[0].title,
            url_path="start",
            default=True,
            visibility="hidden",
        )
    )
navigation = st.navigation(
    menu
    + [_not_for_role(path, title) for path, title in elsewhere.items() if path not in reachable]
    + home
)

with st.sidebar:
    st.markdown(f"**{md_text(actor.display_name)}**  \n{actor.role_label}")
    st.caption(zone_note())  # every time a page shows is in the clinic's zone: said once here
    if st.button("Log out", icon=":material/logout:"):
        auth.logout(actor)

show_flash()
errors.show_callback_problem()
# The one error boundary: an unexpected error shows an apology with an incident number,
# never a traceback (client.showErrorDetails is "none" for anything that escapes it).
with errors.boundary(f"page {navigation.url_path or 'home'}"):
    navigation.run()
