"""Chart builders: what a counselor would see for a fixture couple.

The fixture is built by hand: six weekly sessions, stage 1, 1, 2, 2, 3 then a
regression to 2; partner B missed the third session; barriers tagged at three sessions;
two questionnaires with cutoffs; habits with and without a follow-up.
"""

from __future__ import annotations

import ast
import dataclasses
import math
import sys
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from dashboard import charts
from dashboard.domain.catalog import ADHERENCE, INDICATORS, STAGES
from dashboard.domain.numbers import one_decimal
from dashboard.domain.timeline import (
    BARRIER_COLUMNS,
    HABIT_COLUMNS,
    INSTRUMENT_COLUMNS,
    RATING_COLUMNS,
    SESSION_COLUMNS,
    EiiScale,
    InstrumentScale,
    Threshold,
    TimelineData,
)

NAN = float("nan")
DATES = [pd.Timestamp(2026, 1, 5) + pd.Timedelta(weeks=i) for i in range(6)]
IDS = [101, 102, 103, 104, 105, 106]
STAGE_RATINGS = [1, 1, 2, 2, 3, 2]
EII_A = [40.0, 45.0, 50.0, 55.0, 62.0, 58.0]
EII_B = [35.0, 42.0, NAN, 50.0, 48.0, 30.0]  # B missed the third session
EII_COUPLE = [37.5, 43.5, NAN, 52.5, 55.0, 44.0]
GAP = [5.0, 3.0, NAN, 5.0, 14.0, 28.0]
CUTOFF = Threshold(60.0, "Cutoff 60.0 (criterion c: midway between intake and norm means, n = 12)")
RC_LABEL = "Reliable change ±12.3 points (Jacobson–Truax; documented default SD 15, alpha 0.83)"
CSI_CUTOFF = Threshold(13.5, "Cutoff 13.5 (Funk & Rogge 2007, commonly cited)")
RDAS_CUTOFF = Threshold(47.31, "Cutoff 47.31 (Anderson et al. 2014)")


def _rating(session: int, item: int) -> float:
    """Ratings that differ by session and item, so intake and latest are told apart."""
    return float((session + item) % 11)


# Partner A answered their own check-in before the last two sessions.
SELF_A = [False, False, False, False, True, True]


def _ratings(partner: str, sessions: list[int]) -> list[tuple]:
    return [
        (
            IDS[k],
            DATES[k],
            partner,
            ind.key,
            _rating(k, j),
            "self" if partner == "A" and SELF_A[k] else "counselor",
        )
        for k in sessions
        for j, ind in enumerate(INDICATORS)
    ]


def make_data(**changes: object) -> TimelineData:
    sessions = pd.DataFrame(
        {
            "session_id": IDS,
            "session_date": DATES,
            "attendance": ["both", "both", "partner_a", "both", "both", "both"],
            "held": [True] * 6,
            "stage": pd.array(STAGE_RATINGS, dtype="Int64"),
            "eii_a": EII_A,
            "eii_b": EII_B,
            "eii_couple": EII_COUPLE,
            "discrepancy": GAP,
            "self_a": SELF_A,
            "self_b": [False] * 6,
        }
    )[SESSION_COLUMNS]
    ratings = pd.DataFrame(
        _ratings("A", [0, 1, 2, 3, 4, 5]) + _ratings("B", [0, 1, 3, 4, 5]), columns=RATING_COLUMNS
    )
    barriers = pd.DataFrame(
        [
            (101, DATES[0], "fear_of_vulnerability", 3, "Avoids talking about the past"),
            (101, DATES[0], "poor_communication", 1, None),
            (104, DATES[3], "stress_distraction", 2, "New job"),
            (106, DATES[5], "In-law pressure", 1, "<b>Mother</b> visits"),
            (106, DATES[5], "poor_communication", 2, "Interrupts during conflict"),
        ],
        columns=BARRIER_COLUMNS,
    )
    habits = pd.DataFrame(
        [
            (DATES[0], "open_communication", 2, DATES[1]),
            (DATES[0], "daily_appreciation", 1, DATES[1]),
            (DATES[1], "open_communication", 3, DATES[2]),
            (DATES[1], "stay_curious", None, None),  # never followed up
            (DATES[5], "empathic_listening", None, None),  # set at the latest session
        ],
        columns=HABIT_COLUMNS,
    )
    instruments = pd.DataFrame(
        [
            (101, DATES[0], "A", "csi4", 10.0),
            (101, DATES[0], "B", "csi4", 8.0),
            (101, DATES[0], "A", "rdas", 40.0),
            (104, DATES[3], "A", "csi4", 13.0),
            (104, DATES[3], "B", "csi4", 11.0),
            (106, DATES[5], "A", "csi4", 15.0),
            (106, DATES[5], "B", "csi4", 14.0),
            (106, DATES[5], "A", "rdas", 45.0),
        ],
        columns=INSTRUMENT_COLUMNS,
    )
    scales = {
        "csi4": InstrumentScale("csi4", "CSI-4", 0, 21, True, CSI_CUTOFF, None, "derive locally"),
        "rdas": InstrumentScale(
            "rdas", "RDAS", 0, 69, True, RDAS_CUTOFF, 11.58, "11.58 (Anderson et al. 2014)"
        ),
    }
    data = TimelineData(
        case_code="C-2026-0042",
        partner_a="Alex",
        partner_b="Sam",
        sessions=sessions,
        ratings=ratings,
        barriers=barriers,
        habits=habits,
        instruments=instruments,
        eii_scale=EiiScale(12.3, RC_LABEL, CUTOFF),
        instrument_scales=scales,
        baseline_date=date(2026, 1, 5),
    )
    return dataclasses.replace(data, **changes)


def empty_data() -> TimelineData:
    return make_data(
        sessions=pd.DataFrame(columns=SESSION_COLUMNS),
        ratings=pd.DataFrame(columns=RATING_COLUMNS),
        barriers=pd.DataFrame(columns=BARRIER_COLUMNS),
        habits=pd.DataFrame(columns=HABIT_COLUMNS),
        instruments=pd.DataFrame(columns=INSTRUMENT_COLUMNS),
        baseline_date=None,
    )


def first_sessions(n: int) -> TimelineData:
    """The fixture couple as it stood after its first `n` sessions."""
    data = make_data()
    keep = IDS[:n]

    def cut(frame: pd.DataFrame) -> pd.DataFrame:
        return frame[frame["session_id"].isin(keep)].reset_index(drop=True)

    habits = data.habits[data.habits["assigned_on"] <= DATES[n - 1]]
    return dataclasses.replace(
        data,
        sessions=cut(data.sessions),
        ratings=cut(data.ratings),
        barriers=cut(data.barriers),
        instruments=cut(data.instruments),
        habits=habits.reset_index(drop=True),
    )


def trace(fig, name: str):
    found = [t for t in fig.data if t.name == name]
    assert len(found) == 1, [t.name for t in fig.data]
    return found[0]


def traces_meta(fig, meta: str) -> list:
    return [t for t in fig.data if t.meta == meta]


def same(values, expected) -> bool:
    """Equal element by element, NaN matching NaN (a gap), never an interpolated value."""
    values = list(values)
    return len(values) == len(expected) and all(
        (isinstance(v, float) and math.isnan(v) and math.isnan(e)) or v == pytest.approx(e)
        for v, e in zip(values, expected, strict=True)
    )


def plain(text: str) -> str:
    """Legend text as read: wrapped lines joined again."""
    return text.replace("<br>", " ")


def annotation_texts(fig) -> list[str]:
    return [a.text for a in fig.layout.annotations]


# -- the timeline --------------------------------------------------------------------
def test_partner_and_couple_lines_carry_their_colours_and_values() -> None:
    fig = charts.eii_timeline(make_data())
    a, b = trace(fig, "Alex"), trace(fig, "Sam")
    couple = trace(fig, "Couple (mean of both)")
    assert a.line.color == charts.PARTNER_A_COLOR == "#0072B2"
    assert b.line.color == charts.PARTNER_B_COLOR == "#E69F00"
    assert couple.line.color == charts.COUPLE_COLOR == "#009E73"
    assert couple.line.width > a.line.width == b.line.width
    assert same(a.y, EII_A)
    assert same(couple.y, EII_COUPLE)
    assert [pd.Timestamp(x) for x in a.x] == DATES
    for line in (a, b, couple):
        assert line.mode == "lines+markers"
        assert line.xaxis == "x" and line.yaxis == "y"


def test_a_missed_session_is_a_gap_not_an_interpolated_point() -> None:
    fig = charts.eii_timeline(make_data())
    b, couple = trace(fig, "Sam"), trace(fig, "Couple (mean of both)")
    assert same(b.y, EII_B)
    assert math.isnan(b.y[2]) and math.isnan(couple.y[2])
    assert len(b.x) == 6  # the session keeps its place on the axis
    assert b.connectgaps is False and couple.connectgaps is False


def test_a_thin_dotted_line_joins_the_rated_points_across_a_missed_session() -> None:
    """B missed the third session: B's line and the couple's keep the gap (no point),
    and a dotted line under each joins the second and fourth sessions. A, rated at every
    session, needs none."""
    fig = charts.eii_timeline(make_data())
    bridges = {t.meta: t for t in fig.data if str(t.meta).endswith("_bridge")}
    assert set(bridges) == {"eii_b_bridge", "eii_couple_bridge"}
    bridge = bridges["eii_b_bridge"]
    assert bridge.connectgaps is True and bridge.line.dash == "dot"
    assert bridge.mode == "lines" and bridge.showlegend is False
    assert bridge.hoverinfo == "skip"
    assert bridge.line.color == trace(fig, "Sam").line.color
    assert same(bridge.y, EII_B)
    names = [t.name for t in fig.data]  # drawn first, so the solid line lies on top
    assert names.index("Sam (across a missed session)") < names.index("Sam")


def test_hover_gives_date_partner_value_and_stage() -> None:
    fig = charts.eii_timeline(make_data())
    b = trace(fig, "Sam")
    assert list(b.customdata[4]) == [
        "2 Feb 2026",
        "3. Interdependence, Not Dependence",
        "Sam",
        "rated in session",
    ]
    assert "%{y:.1f}" in b.hovertemplate
    assert "Stage: %{customdata[1]}" in b.hovertemplate


def test_a_partners_own_answers_are_diamonds_said_in_hover_legend_and_table() -> None:
    fig = charts.eii_timeline(make_data())
    alex, sam = trace(fig, "Alex"), trace(fig, "Sam")
    # SELF_A: Alex's own check-in answers at the last two sessions.
    assert list(alex.marker.symbol) == ["circle"] * 4 + ["diamond"] * 2
    assert list(sam.marker.symbol) == ["circle"] * 6
    assert alex.customdata[5][3] == "self-report (their check-in)"
    assert "%{customdata[3]}" in alex.hovertemplate
    assert [t.name for t in fig.data if t.legendgroup == "self_report"] == [charts.SELF_REPORT_NOTE]
    table = charts.table_views(make_data())["timeline"]
    assert table["Ratings given by"].tolist() == [
        "counselor",
        "counselor",
        "counselor",  # Alex alone attended, rated in the room
        "counselor",
        "Alex: self-report; Sam: counselor",
        "Alex: self-report; Sam: counselor",
    ]
    # Without any self-report the legend does not explain a diamond nobody drew.
    plain = make_data()
    plain.sessions["self_a"] = False
    assert not [t for t in charts.eii_timeline(plain).data if t.legendgroup == "self_report"]


def test_one_band_per_stage_run_spanning_to_the_next_run() -> None:
    fig = charts.eii_timeline(make_data())
    bands = [s for s in fig.layout.shapes if s.legendgroup == "stages"]
    # 1, 1 | 2, 2 | 3 | 2 (the regression is a run of its own)
    assert [s.name for s in bands] == [STAGES[n - 1].label for n in (1, 2, 3, 2)]
    assert [(pd.Timestamp(s.x0), pd.Timestamp(s.x1)) for s in bands] == [
        (DATES[0], DATES[2]),
        (DATES[2], DATES[4]),
        (DATES[4], DATES[5]),
        (DATES[5], DATES[5] + pd.Timedelta(days=charts.LAST_BAND_DAYS)),
    ]
    assert [s.fillcolor for s in bands] == [charts.STAGE_TINTS[n] for n in (1, 2, 3, 2)]
    assert len(set(charts.STAGE_TINTS.values())) == 4
    # Each stage is named once in the legend, under the counselor's-rating title.
    assert [s.showlegend for s in bands] == [True, True, True, False]
    assert {s.legendgrouptitle.text for s in bands} == {"Stage bands: counselor's rating"}
    assert all(s.layer == "below" and s.yref == "y domain" for s in bands)
    assert "Curiosity and Comfort" in bands[0].label.text


def test_band_labels_fit_their_band() -> None:
    assert charts.band_label(2, 1000) == "2. Trust and Vulnerability"
    assert "<br>" in charts.band_label(3, 120)
    assert charts.band_label(3, 60) == "Stage 3"
    assert charts.band_label(3, 20) == "3"


def test_barrier_markers_list_barrier_severity_and_note() -> None:
    fig = charts.eii_timeline(make_data())
    (markers,) = traces_meta(fig, "barriers")
    assert [pd.Timestamp(x) for x in markers.x] == [DATES[0], DATES[3], DATES[5]]
    assert all(y >= 90 for y in markers.y)  # near the top of the 0-100 axis
    assert markers.marker.color == charts.ALERT_COLOR == "#D55E00"
    first, second, last = markers.hovertext
    assert "Fear of vulnerability (Severe): Avoids talking about the past" in first
    assert "Poor communication habits (Mild)" in first
    assert "5 Jan 2026" in first and "1. Curiosity and Comfort" in first
    assert "Stress and distraction (Moderate): New job" in second
    assert "Poor communication habits (Moderate): Interrupts during conflict" in last
    # A clinic barrier's note is user text: shown, escaped, never rendered as markup.
    assert "In-law pressure (Mild): &lt;b&gt;Mother&lt;/b&gt; visits" in last
    assert "<b>Mother</b>" not in last


def test_cutoff_and_reliable_change_band_name_their_method() -> None:
    fig = charts.eii_timeline(make_data())
    thresholds = {plain(s.name): s for s in fig.layout.shapes if s.legendgroup == "thresholds"}
    cutoff = thresholds[CUTOFF.label]
    assert cutoff.type == "line" and cutoff.yref == "y"
    assert cutoff.y0 == cutoff.y1 == 60.0
    assert cutoff.showlegend is True
    assert cutoff.label.text == "Cutoff 60.0"

    (band,) = [s for name, s in thresholds.items() if name.startswith("Reliable-change band")]
    assert band.y0 == pytest.approx(37.5 - 12.3) and band.y1 == pytest.approx(37.5 + 12.3)
    name = plain(band.name)
    assert RC_LABEL in name and "baseline 37.5 ± 12.3" in name
    assert band.label.text == "Baseline 37.5 ± 12.3"
    assert {s.legendgrouptitle.text for s in thresholds.values()} == {"Thresholds"}


def test_the_cutoff_on_the_chart_reads_as_it_does_in_the_text() -> None:
    """A cutoff of 58.58 said 58.6 on the chart and 58.58 in the text: both now keep the
    second decimal when it matters (numbers.as_written)."""
    precise = Threshold(58.58, "EII cutoff 58.58 (criterion a: intake mean 38.3 + 2 SD)")
    data = make_data(eii_scale=EiiScale(12.3, RC_LABEL, precise))
    fig = charts.eii_timeline(data)
    (cutoff,) = [s for s in fig.layout.shapes if s.name and plain(s.name) == precise.label]
    assert cutoff.label.text == "Cutoff 58.58"


def test_eii_axis_is_0_to_100_and_shares_dates_with_the_gap_panel() -> None:
    fig = charts.eii_timeline(make_data())
    assert tuple(fig.layout.yaxis.range) == (0, 100)
    assert fig.layout.xaxis.matches == "x2"
    assert fig.layout.yaxis.domain[0] > fig.layout.yaxis2.domain[1]  # EII on top


def test_discrepancy_panel_has_the_diverging_line() -> None:
    fig = charts.eii_timeline(make_data())
    gap = trace(fig, "Gap between partners")
    assert (gap.xaxis, gap.yaxis) == ("x2", "y2")
    assert same(gap.y, GAP)
    # Only the point above 20 is drawn in the alert colour.
    assert list(gap.marker.color).count(charts.ALERT_COLOR) == 1
    assert gap.marker.color[5] == charts.ALERT_COLOR
    (line,) = [s for s in fig.layout.shapes if s.yref == "y2"]
    assert line.y0 == line.y1 == 20
    assert line.label.text == "Partners-diverging line: 20 points (3 sessions in a row)"
    assert plain(line.name) == "Partners-diverging line: 20 points (3 sessions in a row)"
    assert fig.layout.yaxis2.range[1] > 28


def test_one_session_shows_its_points_and_the_baseline_band() -> None:
    fig = charts.eii_timeline(first_sessions(1))
    assert same(trace(fig, "Alex").y, [40.0])
    assert same(trace(fig, "Couple (mean of both)").y, [37.5])
    bands = [s for s in fig.layout.shapes if s.legendgroup == "stages"]
    assert len(bands) == 1 and pd.Timestamp(bands[0].x1) > pd.Timestamp(bands[0].x0)
    rc = [s for s in fig.layout.shapes if (s.name or "").startswith("Reliable-change")]
    assert len(rc) == 1 and rc[0].y0 == pytest.approx(25.2)
    fig.to_json()  # serialisable, as the page and the report need


def test_no_sessions_says_so() -> None:
    fig = charts.eii_timeline(empty_data())
    assert annotation_texts(fig) == ["No sessions yet"]
    assert len(fig.data) == 0


def test_without_a_baseline_there_is_no_band_and_a_note_says_why() -> None:
    fig = charts.eii_timeline(make_data(baseline_date=None))
    assert not [s for s in fig.layout.shapes if (s.name or "").startswith("Reliable-change")]
    assert any("No baseline yet" in t for t in annotation_texts(fig))


def test_cancelled_sessions_do_not_break_the_lines() -> None:
    data = make_data()
    cancelled = data.sessions.iloc[[1]].assign(
        session_id=999,
        session_date=DATES[1] + pd.Timedelta(days=2),
        attendance="cancelled",
        held=False,
        stage=pd.array([None], dtype="Int64"),
        eii_a=NAN,
        eii_b=NAN,
        eii_couple=NAN,
        discrepancy=NAN,
    )
    sessions = pd.concat([data.sessions, cancelled]).sort_values("session_date")
    fig = charts.eii_timeline(dataclasses.replace(data, sessions=sessions))
    assert same(trace(fig, "Alex").y, EII_A)
    assert len(charts.table_views(dataclasses.replace(data, sessions=sessions))["timeline"]) == 6


def _figure_text(fig) -> str:
    """Every string a reader can meet in a figure: names, hovers, labels, annotations."""
    return str(fig.to_plotly_json())


def test_partners_names_replace_a_and_b_in_every_chart_and_table() -> None:
    data = make_data()
    for key, fig in charts.all_figures(data).items():
        words = _figure_text(fig)
        assert "Partner A" not in words and "Partner B" not in words, key
        assert "A − B" not in words, key
    gap = trace(charts.eii_timeline(data), "Gap between partners")
    assert gap.hovertemplate.endswith(
        "%{y:.1f} points apart<br>Stage: %{customdata[1]}<extra></extra>"
    )
    for key, table in charts.table_views(data).items():
        cells = " ".join(map(str, [*table.columns, *table.to_numpy().ravel()]))
        assert "Partner A" not in cells and "Partner B" not in cells, key


def test_names_with_markup_characters_are_escaped_for_plotly() -> None:
    """Plotly reads labels and hovers as HTML: a typed '<b>' or '&' must show as typed."""
    data = make_data(partner_a="<b>Al</b> & Co", partner_b="Sam %{y}")
    for key, fig in charts.all_figures(data).items():
        words = _figure_text(fig)
        assert "<b>Al</b>" not in words, key
        if "Al" in words:
            assert "&lt;b&gt;Al&lt;/b&gt; &amp; Co" in words, key
    radar = charts.item_radar(data)
    assert radar.data[0].name.startswith("&lt;b&gt;Al&lt;/b&gt; &amp; Co: intake")
    assert "&lt;b&gt;Al&lt;/b&gt; &amp; Co, intake" in radar.data[0].hovertext[0]
    # A name that looks like a hover template is data (customdata), never a template.
    line = trace(charts.eii_timeline(data), "Sam %{y}")
    assert "Sam" not in line.hovertemplate


def test_partners_with_the_same_name_stay_apart() -> None:
    fig = charts.eii_timeline(make_data(partner_a="J.", partner_b="J."))
    assert trace(fig, "J. (A)").line.color == charts.PARTNER_A_COLOR
    assert trace(fig, "J. (B)").line.color == charts.PARTNER_B_COLOR


# -- instruments ---------------------------------------------------------------------
def test_instrument_panel_has_a_facet_per_instrument_with_its_cutoff() -> None:
    fig = charts.instrument_panel(make_data())
    titles = [a.text for a in fig.layout.annotations]
    assert titles == [
        "<b>CSI-4</b> (0–21, higher is better)",
        "<b>RDAS</b> (0–69, higher is better)",
    ]
    csi = [t for t in fig.data if t.meta == "csi4"]
    rdas = [t for t in fig.data if t.meta == "rdas"]
    assert [(t.name, t.line.color, t.yaxis) for t in csi] == [
        ("Alex", charts.PARTNER_A_COLOR, "y"),
        ("Sam", charts.PARTNER_B_COLOR, "y"),
    ]
    assert same(csi[1].y, [8.0, 11.0, 14.0])
    assert [(t.name, t.yaxis) for t in rdas] == [("Alex", "y2")]
    assert same(rdas[0].y, [40.0, 45.0])
    # A partner is one legend entry across the facets.
    assert [t.showlegend for t in fig.data] == [True, True, False]
    # Each facet spans its scale's range; the cutoff line says its number, and the
    # legend what it means, with its source (a sentence that overran the line at 800 px).
    assert fig.layout.yaxis.range[0] < 0 < 21 < fig.layout.yaxis.range[1] < 23
    assert fig.layout.yaxis2.range[0] < 0 < 69 < fig.layout.yaxis2.range[1] < 73
    cutoffs = {s.yref: s for s in fig.layout.shapes}
    assert cutoffs["y"].y0 == 13.5 and cutoffs["y"].label.text == "Cutoff 13.5"
    assert cutoffs["y2"].y0 == 47.31 and cutoffs["y2"].label.text == "Cutoff 47.31"
    assert plain(cutoffs["y"].name) == f"CSI-4 — {amp(CSI_CUTOFF.label)}"
    assert plain(cutoffs["y2"].name) == f"RDAS — {RDAS_CUTOFF.label}"
    assert cutoffs["y"].showlegend and cutoffs["y2"].showlegend


def amp(text: str) -> str:
    """The escaping plotly text gets: & becomes &amp;."""
    return text.replace("&", "&amp;")


def test_no_instrument_totals_says_so() -> None:
    fig = charts.instrument_panel(make_data(instruments=pd.DataFrame(columns=INSTRUMENT_COLUMNS)))
    assert annotation_texts(fig) == ["No instrument totals recorded"]


# -- radar ---------------------------------------------------------------------------
def test_radar_compares_intake_with_latest_for_each_partner() -> None:
    fig = charts.item_radar(make_data())
    assert [(t.name, t.meta, t.subplot) for t in fig.data[:4]] == [
        ("Alex: intake (5 Jan 2026)", "intake", "polar"),
        ("Alex: latest (9 Feb 2026)", "latest", "polar"),
        ("Sam: intake (5 Jan 2026)", "intake", "polar2"),
        ("Sam: latest (9 Feb 2026)", "latest", "polar2"),
    ]
    intake = fig.data[0]
    assert len(set(intake.theta)) == 8 and intake.theta[0] == intake.theta[-1]  # closes
    assert {t.line.color for t in fig.data[:2]} == {charts.PARTNER_A_COLOR}
    assert {t.line.color for t in fig.data[2:4]} == {charts.PARTNER_B_COLOR}
    assert tuple(fig.layout.polar.radialaxis.range) == (0, 10)
    assert tuple(fig.layout.polar2.radialaxis.range) == (0, 10)


def test_radar_draws_warning_signs_reversed_so_outward_is_better_everywhere() -> None:
    """A shape that grows must mean a couple doing better: a warning sign rated 8 (much
    silence) sits near the centre, at 2; the five signs stay as rated."""
    fig = charts.item_radar(make_data())
    intake, sam_latest = fig.data[0], fig.data[3]
    expected = [
        10 - _rating(0, j) if i.reverse_scored else _rating(0, j) for j, i in enumerate(INDICATORS)
    ]
    assert same(intake.r[:8], expected)
    assert same(
        sam_latest.r[:8],
        [
            10 - _rating(5, j) if i.reverse_scored else _rating(5, j)
            for j, i in enumerate(INDICATORS)
        ],
    )
    # Each reversed axis says so on its label; the five signs do not.
    labels = [plain(t) for t in intake.theta[:8]]
    marked = [label.endswith("<i>(reversed)</i>") for label in labels]
    assert marked == [i.reverse_scored for i in INDICATORS]
    assert sum(marked) == 3
    # The title and the legend say the rule once, in words.
    assert "Outward is better on every axis" in fig.layout.title.text
    assert "warning signs are drawn reversed (10 − rating)" in fig.layout.title.text
    [key] = [t for t in fig.data if t.meta == "reversed"]
    assert key.name == charts.RADAR_KEY and "outward is better on every axis" in key.name
    assert key.showlegend is not False
    # Hover gives the rating as rated and where it is drawn.
    j = next(k for k, i in enumerate(INDICATORS) if i.reverse_scored)
    rated = _rating(0, j)
    assert f"rated {one_decimal(rated)}" in intake.hovertext[j]
    assert f"drawn reversed at {one_decimal(10 - rated)}" in intake.hovertext[j]
    assert "a warning sign, higher is worse" in intake.hovertext[j]


def test_radar_stacks_on_the_page_and_sits_side_by_side_in_print() -> None:
    """At 800 px two radars side by side were 120 px circles with labels over each
    other: on the page each takes the full width, one above the other."""
    page = charts.item_radar(make_data())
    a, b = page.layout.polar.domain, page.layout.polar2.domain
    assert tuple(a.x) == tuple(b.x) == (0, 1)
    assert b.y[1] < a.y[0]  # Sam's below Alex's, not overlapping
    printed = charts.all_figures(make_data(), for_print=True)["radar"]
    a, b = printed.layout.polar.domain, printed.layout.polar2.domain
    assert a.x[1] < b.x[0]  # side by side on the fixed-width printed page
    assert "Outward is better on every axis" in printed.layout.title.text


def test_radar_table_keeps_the_ratings_as_entered_and_says_the_chart_reverses() -> None:
    radar = charts.table_views(make_data())["radar"]
    column = "Alex, intake (5 Jan 2026)"
    assert same(radar[column], [_rating(0, j) for j in range(8)])
    warnings = [item for item in radar["Item"] if "warning sign" in item]
    assert len(warnings) == 3
    assert all("as rated; drawn at 10 − rating" in item for item in warnings)


def test_a_partner_rated_once_shows_only_the_intake() -> None:
    data = make_data()
    ratings = data.ratings[(data.ratings["partner"] == "A") | (data.ratings["session_id"] == 101)]
    fig = charts.item_radar(dataclasses.replace(data, ratings=ratings))
    assert [(t.meta, t.subplot) for t in fig.data if t.meta != "reversed"] == [
        ("intake", "polar"),
        ("latest", "polar"),
        ("intake", "polar2"),
    ]


def test_radar_without_ratings_says_so() -> None:
    fig = charts.item_radar(make_data(ratings=pd.DataFrame(columns=RATING_COLUMNS)))
    assert annotation_texts(fig) == ["No indicator ratings recorded"]


# -- barrier heatmap -----------------------------------------------------------------
def test_heatmap_matrix_holds_severities_with_0_where_untagged() -> None:
    fig = charts.barrier_heatmap(make_data())
    (heat,) = fig.data
    assert list(heat.y) == [
        "Fear of vulnerability",
        "Poor communication habits",
        "Stress and distraction",
        "In-law pressure",  # a clinic barrier, after the catalog's
    ]
    assert list(heat.x) == [
        "5 Jan 2026",
        "12 Jan 2026",
        "19 Jan 2026",
        "26 Jan 2026",
        "2 Feb 2026",
        "9 Feb 2026",
    ]
    assert [list(row) for row in heat.z] == [
        [3, 0, 0, 0, 0, 0],
        [1, 0, 0, 0, 0, 2],
        [0, 0, 0, 2, 0, 0],
        [0, 0, 0, 0, 0, 1],
    ]
    assert (heat.zmin, heat.zmax) == (-0.5, 3.5)
    assert list(heat.colorbar.ticktext) == ["Not tagged", "Mild", "Moderate", "Severe"]
    assert heat.text[2][3].endswith("Severity: Moderate<br>Note: New job")
    assert "Not tagged" in heat.text[2][0]
    assert "&lt;b&gt;Mother&lt;/b&gt; visits" in heat.text[3][5]


def test_heatmap_numbers_sessions_that_share_a_date() -> None:
    data = make_data()
    sessions = data.sessions.assign(
        session_date=[DATES[0], DATES[0], *DATES[2:]],
    )
    grid = charts.barrier_grid(dataclasses.replace(data, sessions=sessions))
    assert grid.sessions[:3] == ["5 Jan 2026 (1)", "5 Jan 2026 (2)", "19 Jan 2026"]


def test_heatmap_without_barriers_or_sessions_says_so() -> None:
    no_barriers = make_data(barriers=pd.DataFrame(columns=BARRIER_COLUMNS))
    assert annotation_texts(charts.barrier_heatmap(no_barriers)) == ["No barriers tagged"]
    assert annotation_texts(charts.barrier_heatmap(empty_data())) == ["No sessions yet"]


# -- adherence -----------------------------------------------------------------------
def test_adherence_has_a_line_per_habit_on_the_adherence_words() -> None:
    fig = charts.adherence_chart(make_data())
    communication = trace(fig, "Keep communication open and honest")
    appreciation = trace(fig, "Show appreciation daily")
    assert len(fig.data) == 2
    assert [pd.Timestamp(x) for x in communication.x] == [DATES[1], DATES[2]]
    assert list(communication.y) == [2, 3]
    assert list(appreciation.y) == [1]
    assert communication.line.color != appreciation.line.color
    assert communication.marker.symbol != appreciation.marker.symbol
    assert list(fig.layout.yaxis.tickvals) == [0, 1, 2, 3]
    assert list(fig.layout.yaxis.ticktext) == list(ADHERENCE.values())
    assert "Fully (set 12 Jan 2026)" in communication.hovertext[1]


def test_habits_never_followed_up_are_listed() -> None:
    fig = charts.adherence_chart(make_data())
    (note,) = [a for a in fig.layout.annotations if a.name == "not followed up"]
    never, due = note.text.split("<br>")
    assert never == "<b>Never followed up:</b> Stay curious about each other (set 12 Jan 2026)"
    assert due == "<b>Due at the next session:</b> Practice empathic listening (set 9 Feb 2026)"


def test_the_not_followed_up_note_sits_below_the_axis_title_in_pixels() -> None:
    """It overlapped the axis title when placed as a fraction of the figure's height;
    anchored at the plot's bottom and moved down 78 px, it clears the two-line tick
    dates and the title at any height."""
    fig = charts.adherence_chart(make_data())
    (note,) = [a for a in fig.layout.annotations if a.name == "not followed up"]
    assert (note.yref, note.y, note.yanchor, note.yshift) == ("paper", 0, "top", -78)
    assert fig.layout.margin.b >= 78 + 16 * len(note.text.split("<br>"))


def test_no_habits_says_so() -> None:
    fig = charts.adherence_chart(make_data(habits=pd.DataFrame(columns=HABIT_COLUMNS)))
    assert annotation_texts(fig) == ["No habits assigned"]


# -- all figures and their tables ----------------------------------------------------
def test_all_figures_and_table_views_share_their_keys() -> None:
    data = make_data()
    figures, tables = charts.all_figures(data), charts.table_views(data)
    assert tuple(figures) == tuple(tables) == charts.FIGURE_KEYS
    assert charts.FIGURE_KEYS == ("timeline", "instruments", "radar", "barriers", "adherence")
    for fig in figures.values():
        fig.to_json()


def test_timeline_table_reads_like_the_chart() -> None:
    table = charts.table_views(make_data())["timeline"]
    assert list(table.columns) == [
        "Date",
        "Attendance",
        "Stage",
        "Alex EII",
        "Sam EII",
        "Couple EII",
        "Gap between partners",
        "Barriers",
        "Ratings given by",
    ]
    assert len(table) == 6
    assert table["Date"].tolist()[:2] == ["5 Jan 2026", "12 Jan 2026"]
    assert table["Stage"].tolist()[4:] == [
        "3. Interdependence, Not Dependence",
        "2. Trust and Vulnerability",
    ]
    assert table["Attendance"][2] == "Alex only"  # names, never "Partner A"
    assert same(table["Sam EII"], EII_B)
    assert (
        table["Barriers"][0] == "Fear of vulnerability (Severe); Poor communication habits (Mild)"
    )


def test_other_tables_hold_the_same_numbers() -> None:
    tables = charts.table_views(make_data())
    instruments = tables["instruments"]
    assert list(instruments.columns) == ["Date", "Questionnaire", "Alex", "Sam", "Cutoff"]
    assert len(instruments) == 5  # 3 CSI-4 sessions + 2 RDAS sessions
    assert instruments.iloc[3].tolist()[:3] == ["5 Jan 2026", "RDAS", 40.0]
    assert math.isnan(instruments.iloc[3]["Sam"])

    radar = tables["radar"]
    assert len(radar) == 8
    assert list(radar.columns) == [
        "Item",
        "Alex, intake (5 Jan 2026)",
        "Alex, latest (9 Feb 2026)",
        "Sam, intake (5 Jan 2026)",
        "Sam, latest (9 Feb 2026)",
    ]

    barriers = tables["barriers"]
    assert list(barriers.columns) == ["Date", "Barrier", "Severity", "Note"]
    assert len(barriers) == 5
    assert barriers.iloc[2].tolist() == [
        "26 Jan 2026",
        "Stress and distraction",
        "Moderate",
        "New job",
    ]

    adherence = tables["adherence"]
    assert list(adherence.columns) == ["Habit", "Set on", "Recorded on", "Adherence"]
    assert adherence["Adherence"].tolist() == [
        "Mostly",
        "A little",
        "Fully",
        "Not followed up",
        "Due at the next session",
    ]


def test_empty_couple_gives_messages_and_empty_tables() -> None:
    data = empty_data()
    figures = charts.all_figures(data)
    assert annotation_texts(figures["timeline"]) == ["No sessions yet"]
    assert annotation_texts(figures["instruments"]) == ["No instrument totals recorded"]
    tables = charts.table_views(data)
    assert all(len(t) == 0 for t in tables.values())
    assert "Alex EII" in tables["timeline"].columns


def test_charts_import_only_plotly_pandas_and_the_domain() -> None:
    modules: set[str] = set()
    for path in Path(charts.__file__).parent.glob("*.py"):
        tree = ast.parse(path.read_text())
        modules |= {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        modules |= {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
    outside_stdlib = {m for m in modules if m.split(".")[0] not in sys.stdlib_module_names}
    allowed = ("plotly", "pandas", "dashboard.domain", "dashboard.charts")
    assert outside_stdlib - {"__future__"}
    assert all(m.startswith(allowed) for m in outside_stdlib - {"__future__"}), outside_stdlib


def test_one_tabs_chart_is_the_same_as_in_the_full_set() -> None:
    # The page draws only the tab in view (timeline_chart); the PDF draws them all.
    data = make_data()
    figures, tables = charts.all_figures(data), charts.table_views(data)
    for key in figures:
        figure, table = charts.timeline_chart(data, key)
        assert figure.to_json() == figures[key].to_json(), key
        pd.testing.assert_frame_equal(table, tables[key])
