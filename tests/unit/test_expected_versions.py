"""Expected-course versions: the labels every alert names, and what a new version would
change, counted per direction (issue 22, point 1). Pure."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pandas as pd
import pytest

from dashboard.domain import expected_response as er
from dashboard.domain import expected_versions as rules
from dashboard.domain.instruments import instrument_params, load_instruments
from dashboard.services.expected import fallback_s_diff


def test_labels_name_the_version_or_the_fallback_and_why() -> None:
    assert rules.version_name(2, date(2026, 12, 6)) == "expected course v2 of 6 Dec 2026"
    assert rules.fallback_label({"counselor": 41}) == (
        "rational fallback: no change expected (Jacobson & Truax 1991); 41 couples with two "
        "counselor ratings, 100 needed for the clinic's own course"
    )
    assert rules.fallback_label({"counselor": 3, "self": 2}, "CSI-4") == (
        "rational fallback: no change expected (Jacobson & Truax 1991); 3 couples with two "
        "counselor CSI-4 totals (2 with two of their own answers), 100 needed for the "
        "clinic's own course"
    )


def test_a_published_threshold_gives_the_fallback_its_s_diff() -> None:
    """RDAS and ORS publish a reliable-change threshold, which is 1.96 x S_diff (Jacobson
    & Truax 1991): RDAS 11.58 / 1.96 = 5.908163; ORS 5 / 1.96 = 2.551020. The SRS has
    none: no expected course."""
    instruments = load_instruments()
    rdas = instrument_params(instruments["rdas"], [])
    ors = instrument_params(instruments["ors"], [])
    assert fallback_s_diff(rdas) == pytest.approx(5.908163, abs=1e-6)
    assert fallback_s_diff(ors) == pytest.approx(2.551020, abs=1e-6)
    assert fallback_s_diff(instrument_params(instruments["srs"], [])) is None


def test_alert_moves_count_couples_per_direction() -> None:
    on, below, well = er.Alert.ON_COURSE, er.Alert.BELOW, er.Alert.WELL_BELOW
    before = pd.DataFrame({"alert": [on, on, below, well, er.Alert.NO_DATA]}, index=[1, 2, 3, 4, 5])
    after = pd.DataFrame(
        {"alert": [below, below, on, well, er.Alert.NO_DATA]}, index=[1, 2, 3, 4, 5]
    )
    moves = rules.alert_moves(before, after)
    assert moves == [("On course → Below expected", 2), ("Below expected → On course", 1)]
    assert rules.moves_sentence(moves) == (
        "On course → Below expected: 2 couples; Below expected → On course: 1 couple"
    )
    assert rules.moves_sentence([]) == "No couple's alert would change."


def test_sources_nobody_rated_twice_are_named_in_one_sentence_not_rows_of_zeros() -> None:
    def row(measure: str, by: str, course: str, couples: str) -> dict[str, str]:
        return {"Measure": measure, "Rated by": by, "Course": course, "Couples": couples}

    rows = [
        row("EII", "counselor", "clinic's own", "587"),
        row("EII", "own answers", "fallback", "0"),
        row("CSI-4", "counselor", "fallback", "12"),
        row("CSI-4", "own answers", "fallback", "0"),
        row("ORS", "counselor", "fallback", "0"),
        row("ORS", "own answers", "fallback", "0"),
    ]
    kept, sentence = rules.without_empty(rows)
    assert kept == [rows[0], rows[2]]  # a fallback with 12 couples still says something
    assert sentence == (
        "No couple has two ratings yet from: EII (own answers), CSI-4 (own answers), ORS; "
        "the rational fallback is used there."
    )
    assert rules.without_empty(kept) == (kept, "")


def test_the_research_extract_names_the_version_without_its_day() -> None:
    model = er.fallback_model("eii", 9.0)
    dated = _mixed(812, 0).with_label(
        rules.published_label(_mixed(812, 0), 2, date(2026, 12, 6), "EII")
    )
    assert rules.undated(dated).label == (
        "expected course v2: counselor ratings from 812 couples; partners' own answers: "
        "rational fallback (0 couples of the 100 needed)"
    )
    stored_fallback = model.with_label(rules.published_label(model, 1, date(2026, 12, 6), "CSI-4"))
    assert rules.undated(stored_fallback).label.startswith(
        "rational fallback (expected course v1): no change expected"
    )
    before_v1 = model.with_label(rules.fallback_label({"counselor": 41}))
    assert rules.undated(before_v1).label == before_v1.label  # no date to take out


def _mixed(counselor: int, own: int) -> er.ExpectedModel:
    """A version's EII course: counselor ratings fitted from the clinic (method only: the
    labels read the method and the couples), partners' own answers the fallback."""
    model = er.fallback_model("eii", 9.0)
    curves = {
        "counselor": replace(model.curves["counselor"], method=er.CLINIC, couples=counselor),
        "self": replace(model.curves["self"], couples=own),
    }
    return replace(model, curves=curves)


def test_a_partners_band_names_the_course_of_its_own_source_only() -> None:
    """Review finding 1: with counselor ratings fitted from 300 couples and only 10 couples
    with two of their own answers (100 needed, er.MIN_COUPLES), a band of own answers is
    the rational fallback and must say so, not 'expected course v1, 300 couples'."""
    model = _mixed(300, 10)
    label = rules.published_label(model, 1, date(2026, 12, 6), "EII")
    assert label == (
        "expected course v1 of 6 Dec 2026: counselor ratings from 300 couples; partners' own "
        "answers: rational fallback (10 couples of the 100 needed)"
    )
    labelled = model.with_label(label)
    assert rules.source_label(labelled, "counselor") == (
        "expected course v1 of 6 Dec 2026: counselor ratings from 300 couples"
    )
    assert rules.source_label(labelled, "self") == (
        "expected course v1 of 6 Dec 2026: partners' own answers: rational fallback "
        "(10 couples of the 100 needed)"
    )
    both = replace(
        model, curves={**model.curves, "self": replace(model.curves["counselor"], couples=1)}
    )
    assert rules.published_label(both, 2, date(2027, 1, 9), "EII") == (
        "expected course v2 of 9 Jan 2027: counselor ratings from 300 couples; partners' own "
        "answers from 1 couple"
    )
    # The research extract drops the day and keeps each source's words.
    assert rules.source_label(rules.undated(labelled), "self") == (
        "expected course v1: partners' own answers: rational fallback (10 couples of the 100 "
        "needed)"
    )


def test_labels_the_same_for_every_source_are_kept_whole() -> None:
    before_v1 = rules.fallback_label({"counselor": 41, "self": 3})
    all_fallback = rules.published_label(
        er.fallback_model("csi4", 2.0), 1, date(2026, 12, 6), "CSI-4"
    )
    assert all_fallback.startswith("rational fallback (expected course v1 of 6 Dec 2026)")
    for label in (before_v1, all_fallback, "rational fallback; not in expected course v1"):
        model = er.fallback_model("eii", 9.0, label)
        assert rules.source_label(model, "self") == label
        assert rules.source_label(model, "counselor") == label
