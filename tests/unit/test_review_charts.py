"""Caseload-review charts: what a supervisor would see for small hand-built frames.

Each frame has the shape of its `CaseloadReview` field: long counts per counselor, stage
pairs, barrier months, weeks and clinic months.
"""

from __future__ import annotations

import math
from types import SimpleNamespace

import pandas as pd
import pytest

from dashboard import charts
from dashboard.domain.review import ATTENDANCE_GROUPS, NOT_RATED, OUTCOMES, STAGE_LABELS

NAN = float("nan")
IMPROVED, _, _, _, DETERIORATED, _ = OUTCOMES
HELD, NO_SHOW, CANCELLED = ATTENDANCE_GROUPS
S1, S2, S3, S4 = STAGE_LABELS[:4]
# Counselor -> couples per outcome, in OUTCOMES order; Adam has no couples.
MIX = {"Zoe <Lead>": [3, 1, 1, 1, 0, 2], "Adam": [0, 0, 0, 0, 0, 0], "Bea": [1, 0, 0, 0, 0, 4]}
STAGES = {"Zoe <Lead>": [1, 2, 0, 1, 4], "Bea": [0, 0, 3, 2, 0]}
KIDS = "<b>Kids & work</b>"
MONTHS = pd.to_datetime(["2026-02-01", "2026-03-01", "2026-04-01"])
WEEKS = pd.to_datetime(["2026-03-02", "2026-03-09"])


def long(counts: dict[str, list[int]], column: str, labels: tuple[str, ...]) -> pd.DataFrame:
    rows = [(c, label, n) for c, ns in counts.items() for label, n in zip(labels, ns, strict=True)]
    return pd.DataFrame(rows, columns=["counselor", column, "couples"])


def outcome_mix() -> pd.DataFrame:
    return long(MIX, "outcome", OUTCOMES)


def stage_distribution() -> pd.DataFrame:
    return long(STAGES, "stage", STAGE_LABELS)


def stage_flow() -> pd.DataFrame:
    return pd.DataFrame(
        [(S1, S2, 12), (S2, S2, 3), (S3, S1, 1), (S1, S1, 5)],
        columns=["intake_stage", "current_stage", "couples"],
    )


def barrier_months() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "month": [*MONTHS, *MONTHS],
            "barrier": [KIDS] * 3 + ["Money"] * 3,
            "tagged": [1, 0, 3, 0, 0, 2],
            "sessions_held": [4, 0, 6, 4, 0, 6],
            "share": [0.25, NAN, 0.5, 0.0, NAN, 1 / 3],
            "mean_severity": [2.0, NAN, 1.6667, NAN, NAN, 3.0],
        }
    )


def weekly_sessions() -> pd.DataFrame:
    counts = {WEEKS[0]: [14, 2, 1], WEEKS[1]: [9, 0, 3]}
    rows = [
        (week, group, n)
        for week, ns in counts.items()
        for group, n in zip(ATTENDANCE_GROUPS, ns, strict=True)
    ]
    return pd.DataFrame(rows, columns=["week", "attendance", "sessions"])


def monthly() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "month": MONTHS,
            "new_couples": [3, 1, 0],
            "closed_couples": [0, 1, 2],
            "improved_couples": [2, 0, 1],
            "median_sessions_to_improvement": [6.5, NAN, 8.0],
        }
    )


def review() -> SimpleNamespace:
    return SimpleNamespace(
        outcome_mix=outcome_mix(),
        stage_distribution=stage_distribution(),
        stage_flow=stage_flow(),
        barrier_months=barrier_months(),
        weekly_sessions=weekly_sessions(),
        monthly=monthly(),
    )


def trace(fig, name: str):
    return next(t for t in fig.data if t.name == name)


def message(fig) -> str:
    return fig.layout.annotations[0].text


# -- outcome mix and stage distribution ---------------------------------------------------
def test_outcome_mix_stacks_one_trace_per_outcome_in_order_with_its_colour() -> None:
    fig = charts.outcome_mix_chart(outcome_mix())
    assert [t.name for t in fig.data] == list(OUTCOMES)
    assert [t.marker.color for t in fig.data] == [
        "#009E73",
        "#7FCEB9",
        "#999999",
        "#CC79A7",
        "#D55E00",
        "#DDDDDD",
    ]
    assert {t.type for t in fig.data} == {"bar"}
    assert {t.orientation for t in fig.data} == {"h"}
    assert fig.layout.barmode == "stack"
    assert fig.layout.title.text == (
        "Couples per counselor by outcome<br>"
        '<span style="font-size:12px">Judged per partner: EII, first vs latest rating</span>'
    )


def test_outcome_mix_bars_hold_each_counselors_counts_top_to_bottom_in_frame_order() -> None:
    fig = charts.outcome_mix_chart(outcome_mix())
    names = ["Zoe &lt;Lead&gt;", "Adam", "Bea"]  # typed names are escaped
    assert list(fig.layout.yaxis.categoryarray) == names
    assert fig.layout.yaxis.autorange == "reversed"  # first counselor on top
    for i, outcome in enumerate(OUTCOMES):
        bar = trace(fig, outcome)
        assert list(bar.y) == names
        assert list(bar.x) == [counts[i] for counts in MIX.values()]


def test_outcome_mix_hover_gives_counselor_outcome_couples_and_share() -> None:
    hover = trace(charts.outcome_mix_chart(outcome_mix()), IMPROVED).hovertext
    assert hover[0] == (
        "<b>Zoe &lt;Lead&gt;</b><br>Both improved: 3 couples<br>37.5% of this counselor's 8 couples"
    )
    assert "Both improved: 1 couple<br>20.0% of this counselor's 5 couples" in hover[2]
    assert "0.0%" in hover[1]  # a counselor without couples is not a division by zero


def test_outcome_mix_grows_with_the_number_of_counselors() -> None:
    few = charts.outcome_mix_chart(outcome_mix()).layout.height
    many = {f"Counselor {i}": [1, 0, 0, 0, 0, 0] for i in range(20)}
    tall = charts.outcome_mix_chart(long(many, "outcome", OUTCOMES)).layout.height
    # The bars keep 28 px each; the figure adds the title's room (two lines) on top.
    title_room = charts.outcome_mix_chart(outcome_mix()).layout.margin.t - 70
    assert few >= 260 + title_room
    assert tall == 120 + 28 * 20 + title_room


def test_stage_distribution_darkens_through_the_stages_and_greys_not_rated() -> None:
    fig = charts.stage_distribution_chart(stage_distribution())
    assert [t.name for t in fig.data] == list(STAGE_LABELS)
    assert fig.layout.title.text == (
        "Couples per counselor by current stage<br>"
        '<span style="font-size:12px">The counselor\'s latest rating</span>'
    )
    colors = [t.marker.color for t in fig.data]
    assert len(set(colors)) == len(colors)

    def lightness(color: str) -> int:
        return sum(int(color[i : i + 2], 16) for i in (1, 3, 5))

    rated = [lightness(c) for c in colors[:4]]
    assert rated == sorted(rated, reverse=True)  # stage 1 lightest, stage 4 darkest
    assert trace(fig, NOT_RATED).marker.color == charts.STAGE_COLORS[NOT_RATED]
    assert len(set(charts.STAGE_COLORS[NOT_RATED][1:])) <= 2  # a grey
    for i, stage in enumerate(STAGE_LABELS):
        assert list(trace(fig, stage).x) == [counts[i] for counts in STAGES.values()]


def test_counselor_tables_total_each_row() -> None:
    table = charts.outcome_mix_table(outcome_mix())
    assert list(table.columns) == ["Counselor", *OUTCOMES, "Couples"]
    assert list(table["Counselor"]) == list(MIX)  # raw names in a table, not escaped
    assert table[list(OUTCOMES)].values.tolist() == list(MIX.values())
    assert list(table["Couples"]) == list(table[list(OUTCOMES)].sum(axis=1))
    assert list(table["Couples"]) == [8, 0, 5]
    stages = charts.stage_distribution_table(stage_distribution())
    assert list(stages.columns) == ["Counselor", *STAGE_LABELS, "Couples"]
    assert list(stages["Couples"]) == [8, 5]


def test_a_missing_counselor_outcome_pair_counts_as_zero() -> None:
    frame = outcome_mix()
    frame = frame[~((frame["counselor"] == "Bea") & (frame["outcome"] == DETERIORATED))]
    assert trace(charts.outcome_mix_chart(frame), DETERIORATED).x[-1] == 0
    assert charts.outcome_mix_table(frame)[DETERIORATED].iloc[-1] == 0


# -- stage flow -----------------------------------------------------------------------
def test_stage_flow_links_intake_to_current_stages_with_their_couples() -> None:
    fig = charts.stage_flow_chart(stage_flow())
    (sankey,) = fig.data
    assert sankey.type == "sankey"
    assert fig.layout.title.text == "Stage flow: stage at intake → current stage"
    # only stages that occur, in stage order on each side
    assert list(sankey.node.label) == [
        f"Intake: {S1}",
        f"Intake: {S2}",
        f"Intake: {S3}",
        f"Now: {S1}",
        f"Now: {S2}",
    ]
    labels = list(sankey.node.label)
    links = {
        (labels[s], labels[t]): v
        for s, t, v in zip(sankey.link.source, sankey.link.target, sankey.link.value, strict=True)
    }
    assert links == {
        (f"Intake: {S1}", f"Now: {S1}"): 5,
        (f"Intake: {S1}", f"Now: {S2}"): 12,
        (f"Intake: {S2}", f"Now: {S2}"): 3,
        (f"Intake: {S3}", f"Now: {S1}"): 1,
    }


def test_stage_flow_colours_links_up_green_same_grey_down_vermilion() -> None:
    link = charts.stage_flow_chart(stage_flow()).data[0].link
    by_text = dict(zip(link.customdata, link.color, strict=True))
    assert by_text == {
        f"5 couples: {S1} → {S1}": "rgba(153, 153, 153, 0.45)",
        f"12 couples: {S1} → {S2}": "rgba(0, 158, 115, 0.45)",
        f"3 couples: {S2} → {S2}": "rgba(153, 153, 153, 0.45)",
        f"1 couple: {S3} → {S1}": "rgba(213, 94, 0, 0.45)",
    }
    assert link.hovertemplate == "%{customdata}<extra></extra>"


def test_stage_flow_says_what_its_link_colours_mean() -> None:
    fig = charts.stage_flow_chart(stage_flow())
    (key,) = [a for a in fig.layout.annotations if a.name == "link colours"]
    for colour, words in (
        ("#009E73", "moved to a later stage"),
        ("#999999", "same stage"),
        ("#D55E00", "moved back"),
    ):
        assert f'<span style="color:{colour}">■</span> {words}' in key.text


def test_stage_flow_table_lists_each_move() -> None:
    table = charts.stage_flow_table(stage_flow())
    assert list(table.columns) == ["At intake", "Now", "Couples"]
    assert table.values.tolist() == [[S1, S1, 5], [S1, S2, 12], [S2, S2, 3], [S3, S1, 1]]


# -- barrier prevalence -----------------------------------------------------------------
def test_barrier_share_is_drawn_in_percent_with_gaps_where_nothing_was_held() -> None:
    fig = charts.barrier_prevalence_chart(barrier_months())
    assert fig.layout.title.text == "Barrier prevalence by month"
    assert fig.layout.yaxis.title.text == "Sessions held with the barrier tagged (%)"
    assert tuple(fig.layout.yaxis.range) == (0, 100)
    money = trace(fig, "Money")
    assert money.y[0] == 0.0 and math.isnan(money.y[1]) and money.y[2] == pytest.approx(100 / 3)
    assert money.connectgaps is False
    assert money.mode == "lines+markers"
    assert list(money.x) == list(MONTHS)


def test_a_month_only_partly_in_the_range_is_an_open_marker_off_the_line() -> None:
    """The range ends 2 April: April holds two days of sessions. Its share (Money 1/3)
    is drawn as an open marker apart, not as the line's last point, and said so."""
    frame = barrier_months().assign(
        days_in_range=[28, 31, 2, 28, 31, 2], days_in_month=[28, 31, 30, 28, 31, 30]
    )
    fig = charts.barrier_prevalence_chart(frame)
    money = trace(fig, "Money")
    assert money.y[0] == 0.0 and math.isnan(money.y[2])  # the line stops before April
    so_far = trace(fig, "Money (month so far)")
    assert math.isnan(so_far.y[0]) and so_far.y[2] == pytest.approx(100 / 3)
    assert so_far.mode == "markers" and so_far.marker.symbol.endswith("-open")
    assert so_far.showlegend is False and so_far.legendgroup == money.legendgroup
    assert so_far.hovertext[2].endswith("Month so far: 2 days in the range")
    (note,) = [a for a in fig.layout.annotations if a.name == "partial month"]
    assert note.text.startswith("Open markers: a month only partly in the date range")
    whole = charts.barrier_prevalence_chart(barrier_months())  # every month whole
    assert not [t for t in whole.data if t.name.endswith("(month so far)")]
    assert not whole.layout.annotations


def test_barrier_names_are_escaped_in_legend_and_hover() -> None:
    fig = charts.barrier_prevalence_chart(barrier_months())
    kids = trace(fig, "&lt;b&gt;Kids &amp; work&lt;/b&gt;")
    assert kids.y[0] == 25.0 and kids.y[2] == 50.0
    assert kids.hovertext[0] == (
        "<b>&lt;b&gt;Kids &amp; work&lt;/b&gt;</b><br>Feb 2026<br>25.0% of sessions held"
        "<br>tagged at 1 of 4 sessions held<br>Mean severity 2.0"
    )
    assert "Apr 2026<br>50.0% of sessions held<br>tagged at 3 of 6" in kids.hovertext[2]
    assert kids.hovertext[2].endswith("Mean severity 1.7")
    assert all(KIDS not in text for text in kids.hovertext)


def test_barrier_lines_cycle_okabe_ito_colours() -> None:
    names = [f"Barrier {i:02d}" for i in range(10)]
    frame = pd.DataFrame(
        {
            "month": [MONTHS[0]] * 10,
            "barrier": names,
            "tagged": [1] * 10,
            "sessions_held": [4] * 10,
            "share": [0.25] * 10,
            "mean_severity": [1.0] * 10,
        }
    )
    colors = [t.line.color for t in charts.barrier_prevalence_chart(frame).data]
    okabe_ito = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442"]
    assert colors == [*okabe_ito, "#000000", "#0072B2", "#E69F00"]


def test_a_barrier_never_tagged_in_the_range_is_left_out() -> None:
    frame = barrier_months().assign(tagged=lambda f: f["tagged"].where(f["barrier"] == KIDS, 0))
    fig = charts.barrier_prevalence_chart(frame)
    assert [t.meta for t in fig.data] == [KIDS]
    assert set(charts.barrier_prevalence_table(frame)["Barrier"]) == {KIDS}


def test_barrier_table_gives_share_in_percent_and_severity_to_one_decimal() -> None:
    table = charts.barrier_prevalence_table(barrier_months())
    assert list(table.columns) == [
        "Month",
        "Barrier",
        "Tagged",
        "Sessions held",
        "Share (%)",
        "Mean severity",
    ]
    first = table.iloc[0]
    assert (first["Month"], first["Barrier"], first["Share (%)"]) == (MONTHS[0], KIDS, 25.0)
    last = table.iloc[-1]
    assert (last["Barrier"], last["Share (%)"], last["Mean severity"]) == ("Money", 33.3, 3.0)
    assert table["Mean severity"].iloc[4] == 1.7


# -- sessions per week ------------------------------------------------------------------
def test_weekly_sessions_stack_held_no_show_cancelled_in_their_colours() -> None:
    fig = charts.weekly_sessions_chart(weekly_sessions())
    assert fig.layout.title.text.startswith("Sessions per week<br>")
    assert "A bar a week, from its Monday" in fig.layout.title.text
    assert fig.layout.barmode == "stack"
    assert [t.name for t in fig.data] == [HELD, NO_SHOW, CANCELLED]
    assert [t.marker.color for t in fig.data] == ["#0072B2", "#D55E00", "#BBBBBB"]
    assert list(trace(fig, HELD).y) == [14, 9]
    assert list(trace(fig, CANCELLED).y) == [1, 3]
    assert list(trace(fig, HELD).x) == list(WEEKS)


def test_weekly_hover_names_the_week_and_the_count() -> None:
    fig = charts.weekly_sessions_chart(weekly_sessions())
    assert trace(fig, HELD).hovertext[0].startswith("Week of 2 Mar 2026: 14 held")
    assert trace(fig, NO_SHOW).hovertext[1].startswith("Week of 9 Mar 2026: 0 no-show")


def test_weekly_table_totals_each_week() -> None:
    table = charts.weekly_sessions_table(weekly_sessions())
    assert list(table.columns) == ["Week", *ATTENDANCE_GROUPS, "Total"]
    assert list(table["Week"]) == list(WEEKS)
    assert list(table["Total"]) == [17, 12]


# -- clinic by month --------------------------------------------------------------------
def test_clinic_monthly_has_new_and_closed_bars_above_the_median_line() -> None:
    fig = charts.clinic_monthly_chart(monthly())
    assert fig.layout.title.text.startswith("Clinic by month<br>")
    assert "median sessions until a partner" in fig.layout.title.text
    new, closed, median = fig.data
    assert (new.name, new.marker.color, list(new.y)) == ("New couples", "#0072B2", [3, 1, 0])
    assert (closed.name, closed.marker.color, list(closed.y)) == (
        "Closed couples",
        "#999999",
        [0, 1, 2],
    )
    assert fig.layout.barmode == "group"
    assert median.line.color == "#009E73" and median.yaxis == "y2"
    assert fig.layout.yaxis.domain[0] > fig.layout.yaxis2.domain[1]  # two stacked panels
    assert list(median.x) == list(new.x) == ["Feb 2026", "Mar 2026", "Apr 2026"]


def test_a_month_without_improvement_is_a_gap_in_the_median_line() -> None:
    median = charts.clinic_monthly_chart(monthly()).data[2]
    assert median.y[0] == 6.5 and median.y[2] == 8.0
    assert median.y[1] is None or math.isnan(median.y[1])
    assert median.connectgaps is False
    assert "(n = 2 couples)" in median.hovertext[0]
    assert "(n = 1 couple)" in median.hovertext[2]


def test_clinic_monthly_table_keeps_the_gap() -> None:
    table = charts.clinic_monthly_table(monthly())
    assert list(table.columns) == [
        "Month",
        "New couples",
        "Closed couples",
        "Couples with a partner first improved",
        "Median sessions to a partner's first reliable improvement",
    ]
    assert list(table["New couples"]) == [3, 1, 0]
    assert table["Median sessions to a partner's first reliable improvement"].iloc[0] == 6.5
    assert math.isnan(table["Median sessions to a partner's first reliable improvement"].iloc[1])


# -- empty selections, and everything at once -----------------------------------------
EMPTY_MESSAGES = {
    "outcome_mix": "No couples in this selection",
    "stage_distribution": "No couples in this selection",
    "stage_flow": "No couples in this selection with a stage rated at intake and now",
    "barrier_months": "No barriers tagged in this date range",
    "weekly_sessions": "No sessions in this date range",
    "monthly": "No couples in this date range",
}


def test_every_empty_frame_gives_a_message_and_no_data() -> None:
    full = review()
    empty = SimpleNamespace(**{k: getattr(full, k).iloc[:0] for k in charts.REVIEW_KEYS})
    figures = charts.review_figures(empty)
    assert set(figures) == set(EMPTY_MESSAGES)
    for key, fig in figures.items():
        assert len(fig.data) == 0, key
        assert message(fig) == EMPTY_MESSAGES[key]
        note = fig.layout.annotations[0]
        assert (note.x, note.y, note.xref, note.yref) == (0.5, 0.5, "paper", "paper")
    for key, table in charts.review_tables(empty).items():
        assert table.empty, key
        assert len(table.columns) >= 3, key


def test_counselors_without_couples_and_weeks_without_sessions_say_so() -> None:
    nobody = long({"Adam": [0] * len(OUTCOMES)}, "outcome", OUTCOMES)
    assert message(charts.outcome_mix_chart(nobody)) == "No couples in this selection"
    quiet = weekly_sessions().assign(sessions=0)
    assert len(charts.weekly_sessions_chart(quiet).data) == 0
    assert message(charts.weekly_sessions_chart(quiet)) == "No sessions in this date range"


def test_review_figures_and_tables_cover_the_same_frames() -> None:
    full = review()
    figures = charts.review_figures(full)
    tables = charts.review_tables(full)
    assert list(figures) == list(tables) == list(charts.REVIEW_KEYS)
    assert all(len(fig.data) > 0 for fig in figures.values())
    assert all(not table.empty for table in tables.values())
    assert list(tables["outcome_mix"]["Couples"]) == [8, 0, 5]


def test_one_review_chart_is_the_same_as_in_the_full_set() -> None:
    full = review()
    figures, tables = charts.review_figures(full), charts.review_tables(full)
    for key in charts.REVIEW_KEYS:
        figure, table = charts.review_chart(full, key)
        assert figure.to_json() == figures[key].to_json(), key
        pd.testing.assert_frame_equal(table, tables[key])


# -- fitting an 800 px window -----------------------------------------------------------
def test_titles_fit_a_line_of_an_800_px_page_and_the_plot_starts_below_them() -> None:
    """Streamlit draws a title at the figure's top, where plotly's toolbar shows on hover
    (kept to three buttons on the page): a title line holds at most 44 characters (about
    375 px of a 470 px chart), and the top margin grows with each title or subtitle line,
    so neither runs into the plot, a note over it or the legend (screenshots at 800 px)."""
    figures = [
        charts.outcome_mix_chart(outcome_mix()),
        charts.stage_distribution_chart(stage_distribution()),
        charts.weekly_sessions_chart(weekly_sessions()),
        charts.clinic_monthly_chart(monthly()),
    ]
    for fig in figures:
        title, *rest = fig.layout.title.text.split("<br>")
        assert len(title) <= 44, title
        lines = 1 + len(rest)
        assert fig.layout.margin.t >= 12 + 20 * lines + 18, (title, fig.layout.margin.t)
    assert charts.REVIEW_CHART_CONFIG["modeBarButtonsToRemove"]
    weekly = charts.weekly_sessions_chart(weekly_sessions())
    # Level two-line dates and no axis title: nothing slants down onto the legend.
    assert weekly.layout.xaxis.tickangle == 0 and weekly.layout.xaxis.title.text is None
