"""Caseload review (supervisors) / Clinic overview (admins): who carries what, who needs
attention. Read-only for clinical records; a supervisor can mark a couple reviewed."""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
import streamlit as st

from dashboard import charts
from dashboard.domain.catalog import STATUS_LABELS, CoupleStatus
from dashboard.domain.couple_outcome import OUTCOME_HELP, OUTCOME_RULE
from dashboard.domain.need import BY_EXPECTED, BY_NEED, order_caseload
from dashboard.domain.plain_words import EXPECTED_COURSE, EXPECTED_HELP, alliance_coverage
from dashboard.domain.review import (
    ATTENTION_FILTERS,
    BELOW_EXPECTED,
    OUTCOMES,
    STAGE_LABELS,
    listed_for,
)
from dashboard.services import review
from dashboard.services.errors import AccessDenied, ValidationFailed
from dashboard.ui import review_form
from dashboard.ui.db import db_session, settings
from dashboard.ui.widgets import (
    TIMELINE_PAGE,
    current_actor,
    field_error,
    first_view,
    md_text,
    refuse,
    table_height,
)

actor = current_actor()
title = "Clinic overview" if actor.is_admin else "Caseload review"
today = date.today()

try:
    with db_session() as db:
        choices = review.review_choices(db, actor)
except AccessDenied as exc:
    refuse(title, str(exc))

st.title(title)
if not choices.counselors:
    st.info(
        "No counselor is assigned to you for supervision yet. Your clinic admin links "
        "counselors to their supervisor under Admin → Users."
        if actor.is_supervisor
        else "The clinic has no counselors yet. Add them under Admin → Users."
    )
    st.stop()
st.caption(
    "Every counselor in the clinic. Clinical records are read-only here."
    if actor.is_admin
    else f"The {len(choices.counselors)} counselor{'s' if len(choices.counselors) != 1 else ''} "
    "you supervise. Clinical records are "
    "read-only here; you can mark a couple on the attention list as reviewed."
)

# --- Filters ---------------------------------------------------------------------------
names = dict(choices.counselors)
barriers = dict(choices.barriers)
with st.container(border=True):
    f1, f2, f3 = st.columns([2, 2, 2])
    picked = f1.multiselect(
        "Counselors",
        list(names),
        format_func=lambda i: names[i],
        placeholder="All counselors",
        key="review_counselors",
    )
    statuses = f2.multiselect(
        "Status",
        [s.value for s in CoupleStatus],
        default=list(review.DEFAULT_STATUSES),
        format_func=lambda s: STATUS_LABELS[CoupleStatus(s)],
        placeholder="Every status",
        key="review_statuses",
    )
    barrier = f3.selectbox(
        "Barrier",
        [None, *barriers],
        format_func=lambda b: "Any barrier" if b is None else barriers[b],
        help="Only couples with this barrier tagged at a session in the date range",
        key="review_barrier",
    )
    f4, f5, _ = st.columns([2, 2, 2])
    picked_range = f4.date_input(
        "Date range",
        value=(today - timedelta(days=review.DEFAULT_RANGE_DAYS), today),
        max_value=today,
        format="DD/MM/YYYY",
        help="Activity is counted inside the range; outcomes and stages as at its last day",
        key="review_range",
    )
    range_error = f4.empty()
    overdue_days = f5.number_input(
        "Overdue after (days without a session)",
        min_value=1,
        max_value=review.MAX_OVERDUE_DAYS,
        value=settings().overdue_days,
        help="The clinic's setting is the default (overdue_days in secrets.toml)",
        step=1,
        key="review_overdue_days",
    )
    overdue_error = f5.empty()

if len(picked_range) != 2:
    with range_error:
        field_error({"date_range": "Pick the last day of the range too."}, "date_range")
    st.stop()

filters = review.ReviewFilters(
    counselor_ids=tuple(picked),
    statuses=tuple(statuses),
    start=picked_range[0],
    end=picked_range[1],
    barrier_id=barrier,
    overdue_days=int(overdue_days),
)
try:
    with db_session() as db:
        data, attention = review.review_with_attention(
            # Audited once per filter set, not on every rerun of the same one.
            db,
            actor,
            filters,
            today=today,
            record_view=first_view(f"caseload_review:{filters}"),
        )
except ValidationFailed as exc:
    with range_error:
        field_error(exc.errors, "date_range")
    with overdue_error:
        field_error(exc.errors, "overdue_days")
    st.stop()
except AccessDenied as exc:
    refuse(title, str(exc))

# --- Headline numbers ------------------------------------------------------------------
totals = data.totals
window = data.window
m = st.columns(5)
m[0].metric("Couples", int(totals["couples"]))
m[1].metric("Active", int(totals["active"]))
m[2].metric(
    "Sessions held in range",
    int(totals["sessions_in_range"]),
    help=f"{window.start:%d %b %Y} to {window.end:%d %b %Y}",
)
m[3].metric(
    "Overdue",
    int(totals["overdue"]),
    help=f"Active couples with no session held in more than {window.overdue_days} days",
)
m[4].metric("Need attention", int(totals["needs_attention"]))
st.caption(
    md_text(
        f"Outcomes and flags are judged with {data.norms_label}; the expected course with "
        f"{data.expected_label}."
    )
)

# --- Attention list with review status -------------------------------------------------
done = attention["reviewed"]

sections = ["Needs attention", "Counselors", "Stages and barriers", "Sessions"]
if actor.is_admin:
    sections.append("By month")
# Only the tab in view runs: the charts cost tens of milliseconds each to build.
tabs = dict(zip(sections, st.tabs(sections, key="review_tab", on_change="rerun"), strict=True))

with tabs["Needs attention"]:
    st.caption(
        "Couples not on track, with partners diverging or in a split alliance (the "
        f"timeline's rules, as at {window.end:%d %b %Y}), or with a safety flag at any "
        "session of their course (listed first, with the dates). "
        "A reviewed couple comes back when a new session changes why it is listed."
    )
    coverage = alliance_coverage(
        int(totals["alliance_judged"]), int(totals["couples"]), in_use=data.alliance_in_use
    )
    if coverage:
        st.caption(coverage)
    chosen_for = st.pills(
        "Listed for",
        list(ATTENTION_FILTERS),
        selection_mode="multi",
        help="Only couples listed for any of the reasons chosen; none chosen shows all. "
        "Below expected course finds every couple of this selection below or well below "
        "its expected course, on the list or not: below alone is a warning, not a reason "
        "to list a couple",
        key="review_listed_for",
    )
    show_reviewed = st.toggle(
        f"Show couples already reviewed ({int(done.sum())})", key="review_show_reviewed"
    )
    attention_order = st.segmented_control(
        "Order by",
        (BY_NEED, BY_EXPECTED),
        default=BY_NEED,
        required=True,
        help="Need: a safety flag first, then not on track and diverging, then the rest. "
        "Expected course: well below first, then below, on course, no data yet",
        key="review_order",
    )
    shown = attention if show_reviewed else attention[~attention["reviewed"]]
    shown = listed_for(shown, chosen_for, data.below_expected)
    shown = shown.assign(timeline="timeline?couple=" + shown["couple_id"].astype(str))
    if attention_order == BY_EXPECTED:
        shown = order_caseload(shown, BY_EXPECTED)
    if shown.empty and chosen_for and (not attention.empty or BELOW_EXPECTED in chosen_for):
        flags = [word for word in chosen_for if word != BELOW_EXPECTED]
        none = []
        if flags:
            none.append(f"no couple on the list is listed for {' or '.join(flags).lower()}")
        if BELOW_EXPECTED in chosen_for:
            none.append("no couple in this selection is below or well below its expected course")
        words = "; ".join(none)
        st.info(words[0].upper() + words[1:] + ".")
    elif shown.empty:
        st.success(
            "No couple in this selection needs attention."
            if attention.empty
            else "Every couple on the list has been reviewed."
        )
    else:
        st.dataframe(
            shown[
                [
                    "case_code",
                    "counselor",
                    "flags",
                    "expected",
                    "outcome",
                    "reasons",
                    "review",
                    "last_session",
                    "sessions_held",
                    "status",
                    "timeline",
                ]
            ],
            hide_index=True,
            width="stretch",
            height=table_height(len(shown), 15),
            key="attention_table",
            column_config={
                "case_code": st.column_config.TextColumn("Case"),
                "counselor": st.column_config.TextColumn("Counselor"),
                "flags": st.column_config.TextColumn("Listed for"),
                "expected": st.column_config.TextColumn(EXPECTED_COURSE, help=EXPECTED_HELP),
                "outcome": st.column_config.TextColumn("Outcome", help=OUTCOME_RULE),
                "reasons": st.column_config.TextColumn(
                    "Reasons", width="medium", help="Choose the couple below to read them in full"
                ),
                "review": st.column_config.TextColumn("Review"),
                "last_session": st.column_config.DateColumn("Last session", format="D MMM YYYY"),
                "sessions_held": st.column_config.NumberColumn("Sessions"),
                "status": st.column_config.TextColumn("Status"),
                "timeline": st.column_config.LinkColumn(
                    "Timeline", display_text="Open timeline", help="Opens in a new tab, read-only"
                ),
            },
        )
        labels = dict(
            zip(shown["couple_id"], shown["case_code"] + " · " + shown["counselor"], strict=True)
        )
        if st.session_state.pop(review_form.DONE_KEY, False):
            st.session_state["review_couple"] = None  # before the widget exists
        picked_couple = st.selectbox(
            "Couple",
            list(labels),
            index=None,
            format_func=lambda i: labels[i],
            placeholder="Choose a couple to read its reasons in full or mark it reviewed",
            key="review_couple",
        )
        if picked_couple is not None:
            chosen = shown[shown["couple_id"] == picked_couple].iloc[0]
            couple_id = int(chosen["couple_id"])
            with st.container(border=True):
                st.markdown(f"**{md_text(chosen['case_code'])}** · {md_text(chosen['counselor'])}")
                st.markdown(md_text(chosen["reasons"]))
                if chosen["expected_numbers"]:  # the numbers behind the expected course
                    st.caption(md_text(f"{EXPECTED_COURSE}: {chosen['expected_numbers']}"))
                if chosen["reviewed_key"] is not None and not pd.isna(chosen["reviewed_key"]):
                    st.caption(
                        f"Last review by {md_text(str(chosen['reviewer']))}: "
                        f"{md_text(str(chosen['comment']))}"
                    )
                if st.button("Open timeline", icon=":material/timeline:", key="open_timeline"):
                    st.switch_page(TIMELINE_PAGE, query_params={"couple": str(couple_id)})
                if not chosen["attention_key"]:
                    st.caption(
                        "Not on the attention list: below its expected course is a warning, "
                        "so there is no review to mark."
                    )
                elif actor.is_supervisor:
                    review_form.review_form(
                        couple_id, str(chosen["case_code"]), str(chosen["attention_key"]), today
                    )


def chart(key: str) -> None:
    """A review chart with its table view of the same numbers (built when drawn)."""
    figure, table = charts.review_chart(data, key)
    st.plotly_chart(figure, key=f"chart_{key}", config=charts.REVIEW_CHART_CONFIG)
    with st.expander("Table view", icon=":material/table:"):
        st.dataframe(table, hide_index=True, width="stretch")


with tabs["Counselors"]:
    if tabs["Counselors"].open:
        table = data.counselors.drop(columns=["counselor_id"])
        totals_row = pd.DataFrame([{"counselor": "All counselors", **data.totals.to_dict()}])
        table = pd.concat([table, totals_row], ignore_index=True)
        # Who needs attention first, beside the name, so it is on screen at 800 px.
        first = [
            "counselor",
            "needs_attention",
            "safety",
            "not_on_track",
            "diverging",
            "split_alliance",
        ]
        table = table[first + [c for c in table.columns if c not in first]]
        numbers = {
            "counselor": st.column_config.TextColumn("Counselor", pinned=True),
            "couples": st.column_config.NumberColumn("Couples"),
            "active": st.column_config.NumberColumn("Active"),
            "sessions_30d": st.column_config.NumberColumn("Sessions, 30 days"),
            "sessions_90d": st.column_config.NumberColumn("Sessions, 90 days"),
            "sessions_in_range": st.column_config.NumberColumn("Sessions in range"),
            "overdue": st.column_config.NumberColumn(
                "Overdue", help=f"Active, no session held in {window.overdue_days}+ days"
            ),
            "not_on_track": st.column_config.NumberColumn("Not on track"),
            "diverging": st.column_config.NumberColumn("Partners diverging"),
            "split_alliance": st.column_config.NumberColumn(
                "Split alliance",
                help="Couples whose partners were on opposite sides of the SRS cutoff at "
                "the latest session where both had an SRS total",
            ),
            "alliance_judged": st.column_config.NumberColumn(
                "SRS pairs",
                help="Couples with both partners' SRS at one session: split alliance is "
                "judged for these only",
            ),
            "safety": st.column_config.NumberColumn(
                "Safety", help="Couples with a safety flag at any session of their course"
            ),
            "needs_attention": st.column_config.NumberColumn(
                "Needs attention",
                help="Couples on the attention list: safety, not on track, partners "
                "diverging or split alliance",
            ),
        }
        numbers |= {
            f"outcome_{o}": st.column_config.NumberColumn(o, help=OUTCOME_HELP[o].capitalize())
            for o in OUTCOMES
        }
        numbers |= {f"stage_{s}": st.column_config.NumberColumn(s) for s in STAGE_LABELS}
        st.dataframe(
            table,
            hide_index=True,
            width="stretch",
            height=table_height(len(table), 30),
            column_config=numbers,
            key="counselor_table",
        )
        st.caption(
            "Sessions are sessions held (at least one partner attended). The 30 and 90 days "
            "and overdue cases count back from today; sessions in range count inside the date "
            "range, and outcomes and stages are as at its last day. " + OUTCOME_RULE
        )
        chart("outcome_mix")
        chart("stage_distribution")

with tabs["Stages and barriers"]:
    if tabs["Stages and barriers"].open:
        chart("stage_flow")
        chart("barrier_months")

with tabs["Sessions"]:
    if tabs["Sessions"].open:
        chart("weekly_sessions")

if "By month" in tabs:
    with tabs["By month"]:
        if tabs["By month"].open:
            st.caption(
                "Every couple in the selection whatever its status: couples opened and closed "
                "each month, and for couples where a partner's EII first showed a reliable "
                "improvement (partner-level: the couple mean does not count) "
                "that month, the median number of sessions held to get there."
            )
            chart("monthly")
