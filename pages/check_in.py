"""Check-in: a partner answers before a session, on their own phone or the clinic's
tablet, without signing in. Everything it may show comes from its own link or code."""

from __future__ import annotations

import streamlit as st

from dashboard.ui import check_in_page as page

page.hide_the_sidebar()
page.take_token_from_address()
page.no_referrer()
if st.session_state.get(page.DONE):
    page.thank_you()
elif page.CREDENTIAL not in st.session_state:
    page.ask_for_code()
else:
    check_in = page.open_page()
    if check_in is not None:
        page.questions(check_in)
