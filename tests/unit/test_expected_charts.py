"""Each partner's expected course behind their line: the timeline's and the questionnaire
panels' bands, for a known model (the rational fallback, whose bands are plain
arithmetic: intake + z·S_diff, z = −1.2816, −0.6745, 0, 0.6745; Jacobson & Truax 1991).

The fixture couple of test_charts: Alex (A) was rated by the counselor at sessions 1-4
and answered their own check-in at 5 and 6; Sam (B) was rated by the counselor at 1, 2,
4, 5 and 6 (missed 3).
"""

from __future__ import annotations

import dataclasses
import math
from datetime import date

import pandas as pd
import plotly.graph_objects as go
import pytest

from dashboard import charts
from dashboard.domain.expected_bands import EII_MEASURE, partner_bands
from dashboard.domain.expected_response import Alert, alert, couple_alert, fallback_model
from dashboard.domain.expected_versions import published_label
from dashboard.domain.scoring import SessionPoint
from dashboard.domain.timeline import TimelineData
from tests.unit.test_charts import DATES, EII_A, EII_B, IDS, SELF_A, make_data, plain, trace

S_DIFF = 5.0
LABEL = "expected course v3 of 6 Dec 2026, 812 couples"
MODEL = fallback_model(EII_MEASURE, S_DIFF, LABEL, bounds=(0.0, 100.0))
# Sam: counselor ratings 35 (intake), 42, 50, 48, 30 at ratings 1-5.
SAM_P10 = 35 - 1.2816 * 5  # 28.592
SAM_P25 = 35 - 0.6745 * 5  # 31.6275
SAM_P75 = 35 + 0.6745 * 5  # 38.3725
# Alex: their own answers 62 (intake of that source) then 58; the counselor's four
# ratings before are another source, and the latest source with 2 ratings is judged.
ALEX_P10 = 62 - 1.2816 * 5  # 55.592
ALEX_P25 = 62 - 0.6745 * 5  # 58.6275
# One legend entry a partner: the 25th-75th band, which it toggles; the group's title
# says what the lighter band and the dashed line are, and names the model.
LEGEND_ENTRIES = ["Alex: expected 25th–75th", "Sam: expected 25th–75th"]
KEY = "Expected course (shaded 25th–75th, lighter down to the 10th, dashed median)"
# Alex has points from another source than his course's (the counselor's, sessions 1-4):
# the key says what the faded points are.
KEY_FADED = (
    "Expected course (shaded 25th–75th, lighter down to the 10th, dashed median; "
    "faded points: not judged against it)"
)
SAM_CELL = "10th 28.6 · 25th 31.6 · median 35.0 · 75th 38.4"


def _sources(partner: str) -> list[str]:
    own = SELF_A if partner == "A" else [False] * 6
    return ["self" if o else "counselor" for o in own]


def with_bands(data: TimelineData | None = None, model=MODEL) -> TimelineData:
    """The fixture with each partner's EII bands, as services/timeline.py computes them."""
    data = data or make_data()
    found = []
    for partner, scores in (("A", EII_A), ("B", EII_B)):
        rated = [i for i, v in enumerate(scores) if not math.isnan(v)]
        bands = partner_bands(
            partner,
            [DATES[i] for i in rated],
            [scores[i] for i in rated],
            [_sources(partner)[i] for i in rated],
            model,
            [IDS[i] for i in rated],
        )
        if bands is not None:
            found.append(bands)
    return dataclasses.replace(data, expected={EII_MEASURE: tuple(found)})


def meta(fig, name: str):
    found = [t for t in fig.data if t.meta == name]
    assert len(found) == 1, [t.meta for t in fig.data]
    return found[0]


def test_sams_bands_sit_at_his_ratings_from_the_second_on() -> None:
    fig = charts.eii_timeline(with_bands())
    inner = meta(fig, "expected_B_p25_p75")
    # Ratings 2-5 of the counselor's source: sessions 2, 4, 5, 6 (he missed the 3rd).
    x = [DATES[1], DATES[3], DATES[4], DATES[5]]
    assert [pd.Timestamp(v) for v in inner.x] == [*x, *x[::-1]]
    # No change expected: the same band at every rating, around his intake of 35.
    assert list(inner.y) == pytest.approx([SAM_P25] * 4 + [SAM_P75] * 4)
    assert list(inner.y)[:1] == pytest.approx([31.6275])
    outer = meta(fig, "expected_B_p10_p25")
    assert list(outer.y) == pytest.approx([SAM_P10] * 4 + [SAM_P25] * 4)
    assert list(outer.y)[:1] == pytest.approx([28.592])
    median = meta(fig, "expected_B_p50")
    assert list(median.y) == pytest.approx([35.0] * 4)
    assert median.line.dash == "dash"
    assert inner.fill == outer.fill == "toself"
    # In Sam's orange, the 25th-75th darker than the 10th-25th.
    assert median.line.color == charts.PARTNER_B_COLOR
    assert inner.fillcolor == "rgba(230, 159, 0, 0.24)"
    assert outer.fillcolor == "rgba(230, 159, 0, 0.12)"


def test_hover_says_whose_course_at_whose_rating_from_which_first_rating() -> None:
    median = meta(charts.eii_timeline(with_bands()), "expected_B_p50")
    # 31.6275 → 31.6, 38.3725 → 38.4, 28.592 → 28.6 (one decimal, half up). The
    # counselor's 3rd rating of Sam is session 4 (he missed the 3rd).
    assert median.hovertext[1] == (
        "Expected for Sam at the counselor's 3rd rating (first rating 35.0): "
        "25th–75th 31.6–38.4, median 35.0; 10th 28.6"
    )
    assert median.hovertext[0].startswith("Expected for Sam at the counselor's 2nd rating ")


def test_a_course_of_own_answers_follows_that_source_only() -> None:
    fig = charts.eii_timeline(with_bands())
    inner = meta(fig, "expected_A_p25_p75")
    # One rating after the source's intake (session 6): drawn 3 days either side.
    wide = pd.Timedelta(days=charts.SINGLE_RATING_DAYS)
    assert [pd.Timestamp(v) for v in inner.x] == [
        DATES[5] - wide,
        DATES[5] + wide,
        DATES[5] + wide,
        DATES[5] - wide,
    ]
    assert list(inner.y)[:2] == pytest.approx([ALEX_P25, ALEX_P25])
    # Alex's first own answer (62.0, session 5) is not the couple's intake (40.0).
    assert meta(fig, "expected_A_p50").hovertext[0] == (
        "Expected for Alex at Alex's 2nd own answer (first own answer 62.0): "
        "25th–75th 58.6–65.4, median 62.0; 10th 55.6"
    )
    assert "intake" not in " ".join(t.hovertext[0] for t in fig.data if t.hovertext)


def test_the_legend_names_the_model_in_use() -> None:
    fig = charts.eii_timeline(with_bands())
    titled = [t for t in fig.data if t.legendgrouptitle and t.legendgrouptitle.text]
    titles = [plain(t.legendgrouptitle.text) for t in titled if t.legendgroup == "expected"]
    assert titles == [f"{KEY_FADED}: {LABEL}"]
    names = [t.name for t in fig.data if t.legendgroup == "expected" and t.showlegend]
    assert names == LEGEND_ENTRIES


def test_the_legend_names_each_partners_source_when_they_differ() -> None:
    """Review finding 1: Alex is judged on their own answers (the rational fallback here,
    10 couples of the 100 needed), Sam on counselor ratings (the clinic's own course from
    300 couples): the legend says which is which, never the clinic's course for Alex."""
    counselor = dataclasses.replace(MODEL.curves["counselor"], method="clinic", couples=300)
    own = dataclasses.replace(MODEL.curves["self"], couples=10)
    mixed = dataclasses.replace(MODEL, curves={"counselor": counselor, "self": own})
    mixed = mixed.with_label(published_label(mixed, 3, date(2026, 12, 6), "EII"))
    fig = charts.eii_timeline(with_bands(model=mixed))
    titles = [
        plain(t.legendgrouptitle.text)
        for t in fig.data
        if t.legendgroup == "expected" and t.legendgrouptitle and t.legendgrouptitle.text
    ]
    assert titles == [
        f"{KEY_FADED}: Alex: expected course v3 of 6 Dec 2026: partners' own answers: rational "
        "fallback (10 couples of the 100 needed); Sam: expected course v3 of 6 Dec 2026: "
        "counselor ratings from 300 couples"
    ]


def test_bands_are_drawn_behind_the_lines() -> None:
    fig = charts.eii_timeline(with_bands())
    order = [t.name for t in fig.data]
    last_band = max(i for i, t in enumerate(fig.data) if t.legendgroup == "expected")
    assert last_band < order.index("Alex") and last_band < order.index("Sam")
    assert last_band < order.index("Couple (mean of both)")
    # Light enough that the stage bands and the reliable-change band stay in view.
    assert all(s.layer == "below" for s in fig.layout.shapes if s.type == "rect")


def test_the_band_drawn_last_gives_the_couple_alerts_alert_for_each_partner() -> None:
    data = with_bands()
    sam, alex = data.expected_for(EII_MEASURE, "B"), data.expected_for(EII_MEASURE, "A")
    # Sam's latest 30.0 is under the 25th (31.6275) and above the 10th (28.592).
    assert alert(sam.bands[-1], sam.scores[-1]) == Alert.BELOW
    # Alex's latest 58.0 is under the 25th (58.6275), above the 10th (55.592).
    assert alert(alex.bands[-1], alex.scores[-1]) == Alert.BELOW
    points = [
        SessionPoint(
            session_date=d.date(),
            held=True,
            stage=None,
            eii_a=EII_A[i],
            eii_b=None if math.isnan(EII_B[i]) else EII_B[i],
            source_a=_sources("A")[i],
            source_b="counselor",
        )
        for i, d in enumerate(DATES)
    ]
    judged = couple_alert(points, MODEL)
    assert (judged.partner_a.alert, judged.partner_b.alert) == (Alert.BELOW, Alert.BELOW)
    assert judged.partner_b.band == sam.bands[-1]


def test_no_band_without_a_same_source_pair() -> None:
    # One rating of each source: nothing is expected yet.
    assert (
        partner_bands("A", DATES[:2], [40.0, 45.0], ["counselor", "self"], MODEL, IDS[:2]) is None
    )
    # A source without a curve (no reliable-change value behind the fallback).
    assert (
        partner_bands(
            "A",
            DATES[:2],
            [40.0, 45.0],
            ["counselor"] * 2,
            fallback_model(EII_MEASURE, None),
            IDS[:2],
        )
        is None
    )
    fig = charts.eii_timeline(make_data())
    assert not [t for t in fig.data if t.legendgroup == "expected"]


def test_the_table_holds_the_bands_numbers_and_says_whose_rating() -> None:
    table = charts.table_views(with_bands())["timeline"]
    assert table["Sam expected EII"].tolist() == [
        "",  # his first rating: nothing expected
        f"{SAM_CELL} (the counselor's 2nd rating)",
        "",  # missed session
        f"{SAM_CELL} (the counselor's 3rd rating)",
        f"{SAM_CELL} (the counselor's 4th rating)",
        f"{SAM_CELL} (the counselor's 5th rating)",
    ]
    # Alex's course follows his own answers (sessions 5 and 6): the counselor's ratings
    # before are not judged against it; 58.6275 → 58.6, 65.3725 → 65.4, 55.592 → 55.6.
    assert table["Alex expected EII"].tolist() == [
        *["not judged: the course follows Alex's own ratings"] * 4,
        "",  # his first own answer: the course starts from it
        "10th 55.6 · 25th 58.6 · median 62.0 · 75th 65.4 (Alex's 2nd own answer)",
    ]
    _, same_table = charts.timeline_chart(with_bands(), "timeline")
    pd.testing.assert_frame_equal(table, same_table)


def test_a_questionnaire_with_a_model_gets_its_band_and_one_without_none() -> None:
    csi = fallback_model("csi4", 2.0, "csi model label", bounds=(0.0, 21.0))
    data = make_data()
    found = []
    for partner in ("A", "B"):
        mine = data.instruments[
            (data.instruments["instrument"] == "csi4") & (data.instruments["partner"] == partner)
        ]
        found.append(
            partner_bands(
                partner,
                list(mine["session_date"]),
                list(mine["total"]),
                ["counselor"] * 3,
                csi,
                list(mine["session_id"]),
            )
        )
    data = dataclasses.replace(data, expected={"csi4": tuple(found)})
    fig = charts.instrument_panel(data)
    bands = [t for t in fig.data if t.legendgroup == "expected"]
    # CSI-4 is the first panel; RDAS (no model) draws no band.
    assert {t.yaxis for t in bands} == {"y"}
    inner = meta(fig, "expected_B_p25_p75")
    # Sam's CSI-4: intake 8, S_diff 2: 25th 8 − 0.6745·2 = 6.651, 75th 9.349.
    assert list(inner.y) == pytest.approx([6.651, 6.651, 9.349, 9.349])
    assert [t.name for t in bands if t.showlegend is not False] == LEGEND_ENTRIES
    titles = [plain(t.legendgrouptitle.text) for t in bands if t.legendgrouptitle.text]
    assert titles == [f"{KEY}: csi model label"]
    table = charts.table_views(data)["instruments"]
    # Rows: CSI-4 at sessions 1, 4, 6, then RDAS at 1 and 6.
    assert table["Sam expected"].tolist() == [
        "",
        "10th 5.4 · 25th 6.7 · median 8.0 · 75th 9.3 (the counselor's 2nd rating)",
        "10th 5.4 · 25th 6.7 · median 8.0 · 75th 9.3 (the counselor's 3rd rating)",
        "",
        "",
    ]
    assert trace(fig, "Sam").line.color == charts.PARTNER_B_COLOR


def test_on_paper_the_legend_names_the_marks_and_the_report_names_the_model() -> None:
    screen = charts.all_figures(with_bands())["timeline"]
    paper = charts.all_figures(with_bands(), for_print=True)["timeline"]
    shown = [t for t in paper.data if t.legendgroup == "expected" and t.showlegend]
    assert [t.name for t in shown] == LEGEND_ENTRIES
    # On screen the figure grows by its legend rows: two entries and the title's three
    # lines (wrapped at 64 characters), 5 x 19 px. On paper the figure keeps the height
    # it has without a course (page 1 holds the status and the timeline as before), and
    # the title keeps the key only (the report prints the model's label under the
    # chart): two lines, not up to five, taken from the plot.
    screen_title = next(t for t in screen.data if t.legendgrouptitle.text).legendgrouptitle.text
    assert screen_title.count("<br>") == 2
    assert shown[0].legendgrouptitle.text.replace("<br>", " ") == (
        "Expected course (shaded 25th–75th, lighter down to the 10th, dashed median; "
        "faded points: not judged against it)"
    )
    assert screen.layout.height == 720 + 5 * 19
    assert paper.layout.height == 720
    assert charts.eii_timeline(make_data()).layout.height == 720
    # The bands themselves are the same.
    assert [list(t.y) for t in paper.data if t.legendgroup == "expected"] == [
        list(t.y) for t in screen.data if t.legendgroup == "expected"
    ]


def test_each_point_says_what_it_is_to_the_course_and_the_other_sources_are_faded() -> None:
    fig = charts.eii_timeline(with_bands())
    alex, sam = trace(fig, "Alex"), trace(fig, "Sam")
    # Alex's course follows his own answers (sessions 5, 6): the counselor's four ratings
    # before sit on the same line, faded, and are not judged against the band.
    assert list(alex.marker.opacity) == [charts.FADED_OPACITY] * 4 + [1.0, 1.0]
    assert [row[4] for row in alex.customdata] == [
        *["<br>Not judged against the expected course: it follows Alex's own ratings"] * 4,
        "<br>The expected course starts from this first own answer",
        "<br>Judged against the expected course at Alex's 2nd own answer",
    ]
    # Sam's are all the counselor's: none faded; session 3 he missed says nothing.
    assert list(sam.marker.opacity) == [1.0] * 6
    assert [row[4] for row in sam.customdata] == [
        "<br>The expected course starts from this first rating",
        "<br>Judged against the expected course at the counselor's 2nd rating",
        "",
        "<br>Judged against the expected course at the counselor's 3rd rating",
        "<br>Judged against the expected course at the counselor's 4th rating",
        "<br>Judged against the expected course at the counselor's 5th rating",
    ]
    assert alex.hovertemplate.endswith("%{customdata[3]}%{customdata[4]}<extra></extra>")
    # Without a course nothing is faded and no point speaks of one.
    plain_fig = charts.eii_timeline(make_data())
    assert trace(plain_fig, "Alex").marker.opacity is None
    assert "customdata[4]" not in trace(plain_fig, "Alex").hovertemplate


def test_two_sessions_on_one_day_each_find_their_own_band() -> None:
    # Session 103 (Sam missed it) moved to the day of session 104: two sessions on one
    # day, Sam rated at the second only. His band is found by session, not by date.
    dates = [*DATES[:2], DATES[3], *DATES[3:]]
    data = make_data()
    sessions = data.sessions.assign(session_date=dates)
    bands = partner_bands(
        "B",
        [dates[i] for i in (0, 1, 3, 4, 5)],
        [35.0, 42.0, 50.0, 48.0, 30.0],
        ["counselor"] * 5,
        MODEL,
        [101, 102, 104, 105, 106],
    )
    data = dataclasses.replace(data, sessions=sessions, expected={EII_MEASURE: (bands,)})
    table = charts.table_views(data)["timeline"]
    assert table["Date"].tolist()[2] == table["Date"].tolist()[3]
    assert table["Sam expected EII"].tolist()[2:4] == [
        "",  # session 103: he was not rated; the band of the same day is 104's
        f"{SAM_CELL} (the counselor's 3rd rating)",
    ]


def test_a_questionnaires_points_from_the_other_source_are_faded() -> None:
    # Alex's CSI-4: 10 rated by the counselor at session 1, then his own answers 13 and
    # 15 at sessions 4 and 6: the course follows his own answers from 13.
    csi = fallback_model("csi4", 2.0, "csi model label", bounds=(0.0, 21.0))
    bands = partner_bands(
        "A",
        [DATES[0], DATES[3], DATES[5]],
        [10.0, 13.0, 15.0],
        ["counselor", "self", "self"],
        csi,
        [101, 104, 106],
    )
    assert (bands.intake, bands.first_session_id, bands.other_session_ids) == (13.0, 104, (101,))
    data = dataclasses.replace(make_data(), expected={"csi4": (bands,)})
    fig = charts.instrument_panel(data)
    alex = [t for t in fig.data if t.name == "Alex" and t.meta == "csi4"][0]
    assert list(alex.marker.opacity) == [charts.FADED_OPACITY, 1.0, 1.0]
    assert [row[4] for row in alex.customdata] == [
        "<br>Not judged against the expected course: it follows Alex's own ratings",
        "<br>The expected course starts from this first own answer",
        "<br>Judged against the expected course at Alex's 2nd own answer",
    ]
    # 13 − 0.6745·2 = 11.651 → 11.7; 13 + 1.349 = 14.349 → 14.3; 13 − 2.5632 = 10.4368.
    assert meta(fig, "expected_A_p50").hovertext[0] == (
        "Expected for Alex at Alex's 2nd own answer (first own answer 13.0): "
        "25th–75th 11.7–14.3, median 13.0; 10th 10.4"
    )
    titles = [t.legendgrouptitle.text for t in fig.data if t.legendgrouptitle.text]
    assert [plain(t) for t in titles] == [f"{KEY_FADED}: csi model label"]


def test_a_one_page_summarys_legend_still_names_the_model() -> None:
    """The summary has no room for the model's line under its chart: its legend keeps it."""
    screen = charts.all_figures(with_bands())["timeline"]
    summary = charts.all_figures(with_bands(), for_print=True, model_in_legend=True)["timeline"]

    def title(fig: go.Figure) -> str:
        return next(t for t in fig.data if t.legendgrouptitle.text).legendgrouptitle.text

    assert title(summary) == title(screen)
    assert summary.layout.height == 720
