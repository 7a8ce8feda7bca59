"""Clinic norms versions, pure part: labels, the stored figures and back, and the
preview's count of partners whose status would move."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pandas as pd

from dashboard.domain import norms as rules
from dashboard.domain.catalog import INDICATORS, IndicatorKind
from dashboard.domain.scoring import Change, eii_params


def intake(scores: list[int]) -> dict[str, int | None]:
    return {
        i.key: (s if i.kind is IndicatorKind.SIGN else 10 - s)
        for i, s in zip(INDICATORS, scores, strict=True)
    }


NARROW = [intake([4] * 8)] * 10 + [intake([6] * 8)] * 10 + [intake([6, 6, 6, 6, 4, 4, 4, 4])] * 10


def test_labels_name_the_version_or_say_there_is_none() -> None:
    published = datetime(2026, 11, 2, 23, 30, tzinfo=UTC)
    assert rules.version_label(3, published, 198) == "clinic norms v3 of 2 Nov 2026, 198 intakes"
    assert rules.version_label(1, published, 1) == "clinic norms v1 of 2 Nov 2026, 1 intake"
    assert rules.defaults_label(12) == (
        "documented defaults: no clinic norms published yet; 12 of 30 intakes"
    )
    # The research extract carries no calendar date.
    labelled = replace(eii_params([]), norms_label=rules.version_label(3, published, 198))
    assert rules.undated(labelled).norms_label == "clinic norms v3, 198 intakes"
    assert (
        rules.research_label(3, 198) == "Statuses use clinic norms v3 (198 intakes at this clinic)."
    )


def test_a_stored_version_gives_back_the_parameters_it_was_made_from() -> None:
    sources = ["counselor"] * 28 + ["self"] * 2
    made = eii_params(NARROW, sources)
    figures = rules.figures_of(made)
    assert figures["floor_in_use"] is True and figures["sd"] == 15.0
    assert figures["source_mix"] == "28 by the counselor, 2 self-reported"
    assert figures["threshold"] == made.threshold
    stored = rules.StoredNorms(
        "eii",
        2,
        datetime(2026, 11, 1, tzinfo=UTC),
        datetime(2026, 11, 2, tzinfo=UTC),
        None,
        figures,
    )
    back = rules.params_from(eii_params([]), stored)
    assert back.threshold == made.threshold and back.cutoff == made.cutoff
    assert back.describe() == made.describe() + "; clinic norms v2 of 2 Nov 2026, 30 intakes"
    assert back.describe_cutoff() == made.describe_cutoff()


def test_status_moves_counts_each_direction() -> None:
    before = pd.DataFrame(
        {
            "status_a": [Change.NO_RELIABLE_CHANGE, Change.IMPROVED, None, Change.DETERIORATED],
            "status_b": [Change.NO_RELIABLE_CHANGE, Change.NO_RELIABLE_CHANGE, None, None],
        },
        index=[1, 2, 3, 4],
    )
    after = pd.DataFrame(
        {
            "status_a": [Change.IMPROVED, Change.IMPROVED, None, Change.NO_RELIABLE_CHANGE],
            "status_b": [Change.IMPROVED, Change.NO_RELIABLE_CHANGE, None, None],
        },
        index=[1, 2, 3, 4],
    )
    moves = rules.status_moves(before, after)
    assert moves == [
        ("No reliable change → Improved", 2),
        ("Deteriorated → No reliable change", 1),
    ]
    assert rules.moves_sentence(moves) == (
        "No reliable change → Improved: 2 partners; Deteriorated → No reliable change: 1 partner"
    )
    assert rules.moves_sentence([]) == "No partner's status would change."
