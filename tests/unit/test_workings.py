"""'How this was worked out': names for A and B, plain words beside a questionnaire's
result, and one sentence on why it can differ from the index, only where it does."""

from __future__ import annotations

from dataclasses import replace

from dashboard.domain.scoring import ReliableChangeParams, classify_change
from dashboard.domain.workings import (
    GLOSSARY,
    named,
    norms_line,
    plain_method,
    statistics_of,
    why_they_differ,
)

# The index: S_diff 12.5 (SD 12.5, r .5): reliable beyond 24.5 points.
EII = ReliableChangeParams(
    sd=12.5, reliability=0.5, n=60, source="locally derived", cutoff=60.0, cutoff_method="a"
)
# A questionnaire with a small margin: SD 2.5, r .94 -> S_diff 0.87, reliable beyond 1.7.
CSI = ReliableChangeParams(
    sd=2.5,
    reliability=0.94,
    n=60,
    source="locally derived",
    cutoff=13.5,
    cutoff_method="Funk & Rogge 2007",
    scale="CSI-4",
)
ORS = ReliableChangeParams(
    sd=None,
    reliability=None,
    n=60,
    source="published",
    cutoff=25.0,
    cutoff_method="PCOMS",
    threshold_override=5.0,
    threshold_inclusive=True,
    threshold_source="PCOMS",
    scale="ORS",
)


def test_names_replace_partner_a_and_b_once() -> None:
    summary = "Partner A: reliable improvement (RCI 2.4); Partner B reliably deteriorated"
    assert named(summary, "Priya", "Sam") == (
        "Priya: reliable improvement (RCI 2.4); Sam reliably deteriorated"
    )
    # A typed name that itself reads "Partner B" is not replaced a second time.
    assert named("Partner A and Partner B", "Partner B", "Jo") == "Partner B and Jo"


def test_a_questionnaire_that_disagrees_with_the_index_says_why_in_one_sentence() -> None:
    """The issue's case: the CSI-4 total fell reliably, the index barely moved."""
    csi = classify_change(16, 10, CSI)  # −6 > 1.7: reliable deterioration
    eii = classify_change(45, 40, EII)  # −5 < 24.5: about the same
    sentence = why_they_differ("CSI-4", "Riley", csi, eii)
    assert sentence is not None
    assert sentence.endswith(".") and ". " not in sentence  # one sentence
    assert (
        "The index (EII) says Riley is about the same as at intake; both can be right" in sentence
    )
    assert "the CSI-4 asks Riley about the whole relationship" in sentence  # different things
    assert "own margin of error" in sentence  # different error
    assert "more than 1.7 points on the CSI-4" in sentence
    assert "more than 24.5 points on the index" in sentence
    assert "RCI" not in sentence and "S_diff" not in sentence


def test_no_sentence_where_they_agree_or_one_is_not_judged() -> None:
    worse_csi = classify_change(16, 10, CSI)
    worse_eii = classify_change(70, 40, EII)
    assert why_they_differ("CSI-4", "Riley", worse_csi, worse_eii) is None
    assert why_they_differ("CSI-4", "Riley", worse_csi, None) is None
    same_csi = classify_change(16, 16, CSI)
    same_eii = classify_change(40, 41, EII)
    assert why_they_differ("CSI-4", "Riley", same_csi, same_eii) is None


def test_an_inclusive_published_threshold_reads_as_or_more() -> None:
    ors = classify_change(20, 26, ORS)  # +6 >= 5: reliable improvement
    eii = classify_change(40, 45, EII)
    sentence = why_they_differ("ORS", "Sam", ors, eii)
    assert sentence is not None and "5 points or more on the ORS" in sentence


def test_legend_wording_names_the_method_without_statistics() -> None:
    assert plain_method(EII) == "Jacobson–Truax method, from this clinic's 60 intakes"
    default = ReliableChangeParams(
        sd=15.0, reliability=0.8, n=12, source="default", cutoff=65.0, cutoff_method="d"
    )
    assert plain_method(default) == (
        "Jacobson–Truax method with documented default figures (this clinic has "
        "12 intakes; 30 are needed for its own)"
    )
    floor = ReliableChangeParams(
        sd=5.25, reliability=0.94, n=138, source="default", cutoff=13.5, cutoff_method="f"
    )
    assert plain_method(floor) == (
        "Jacobson–Truax method with documented default figures (deliberately cautious; "
        "why is given with the statistics)"
    )
    assert plain_method(ORS) == "ORS's published value: a change of 5 points or more, PCOMS"
    # A published version is named in the legend itself (issue 21: every chart names it).
    v3 = "clinic norms v3 of 2 Nov 2026, 198 intakes"
    assert plain_method(replace(EII, norms_label=v3)) == f"Jacobson–Truax method, {v3}"
    assert plain_method(replace(floor, norms_label=v3)) == (
        "Jacobson–Truax method with documented default figures (deliberately cautious; "
        f"why is given with the statistics); {v3}"
    )
    for words in (plain_method(EII), plain_method(default), plain_method(ORS)):
        assert "S_diff" not in words and "α" not in words and "RCI" not in words


def test_the_statistics_stay_one_click_away() -> None:
    csi = classify_change(16, 10, CSI)
    line = statistics_of("CSI-4", "Riley", csi)
    assert line.startswith("CSI-4, Riley: reliable deterioration (RCI −")
    assert line.endswith("; 16 → 10")
    assert "S_diff" in GLOSSARY and "SD" in GLOSSARY and "Cronbach's α" in GLOSSARY
    assert "n the number of intakes" in GLOSSARY
    assert norms_line(EII) == "Norms: worked out now from this clinic's 60 intakes; not published."
    published = replace(EII, norms_label="clinic norms v3 of 2 Nov 2026, 198 intakes")
    assert norms_line(published) == (
        "Norms: EII's figures from clinic norms v3 of 2 Nov 2026, 198 intakes."
    )
    floor = ReliableChangeParams(
        sd=5.25,
        reliability=0.94,
        n=138,
        source="default",
        cutoff=13.5,
        cutoff_method="f",
        scale="CSI-4",
        note="the 138 intakes' SD 3.4 is below this floor",
    )
    assert norms_line(floor) == (
        "Norms: CSI-4's documented defaults (the 138 intakes' SD 3.4 is below this floor); "
        "no published norms version yet."
    )
    assert norms_line(ORS) == "Norms: ORS's published figures."


def test_a_published_threshold_reads_as_published() -> None:
    """RDAS 11.58 (Anderson et al. 2014): rounded to 11.6, a change of 11.59 would look
    too small to count; the index keeps the chart band's one decimal."""
    rdas = ReliableChangeParams(
        sd=None,
        reliability=None,
        n=60,
        source="published",
        cutoff=47.31,
        cutoff_method="Anderson et al. 2014",
        threshold_override=11.58,
        scale="RDAS",
    )
    sentence = why_they_differ(
        "RDAS", "Noam", classify_change(43, 52, rdas), classify_change(30, 60, EII)
    )
    assert sentence is not None
    assert "more than 11.58 points on the RDAS, more than 24.5 points on the index" in sentence
