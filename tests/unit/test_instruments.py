"""Instrument definitions: the bundled files carry DOMAIN.md's facts, a bad file is
refused with its name, totals are range-checked, and each instrument is classified
for reliable change and cutoff like the EII."""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import pytest

from dashboard.domain.instruments import (
    DEFINITIONS_DIR,
    Instrument,
    InstrumentFileError,
    instrument_params,
    load_instrument,
    load_instruments,
)
from dashboard.domain.scoring import Change, classify_change

INSTRUMENTS = load_instruments()


def test_the_five_instruments_load_in_domain_order() -> None:
    assert list(INSTRUMENTS) == ["csi4", "csi16", "rdas", "ors", "srs"]
    assert [i.name for i in INSTRUMENTS.values()] == ["CSI-4", "CSI-16", "RDAS", "ORS", "SRS"]


def test_definitions_are_found_next_to_the_module_from_any_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert DEFINITIONS_DIR.is_absolute()
    assert list(load_instruments()) == list(INSTRUMENTS)


# key: (citation, items, min, max, cutoff, cutoff source contains, method, threshold,
#       licence, requires_licence) -- the table in DOMAIN.md "Validated instruments".
FACTS = {
    "csi4": (
        "Funk & Rogge 2007",
        4,
        0,
        21,
        13.5,
        "commonly cited",
        "derive locally",
        None,
        "free for clinical and research use",
        False,
    ),
    "csi16": (
        "Funk & Rogge 2007",
        16,
        0,
        81,
        51.5,
        "Funk & Rogge",
        "derive locally",
        None,
        "free for clinical and research use",
        False,
    ),
    "rdas": (
        "Busby et al. 1995",
        14,
        0,
        69,
        47.31,
        "Anderson et al. 2014",
        "published",
        11.58,
        "clinic supplies",
        False,
    ),
    "ors": ("Miller & Duncan", 4, 0, 40, 25, "adults", "published", 5, "licensed", True),
    "srs": ("Miller & Duncan", 4, 0, 40, 36, "Miller & Duncan", "none", None, "licensed", True),
}


@pytest.mark.parametrize("key", list(FACTS))
def test_facts_match_domain(key: str) -> None:
    citation, items, lo, hi, cutoff, cut_src, method, threshold, licence, gated = FACTS[key]
    i = INSTRUMENTS[key]
    assert i.citation == citation
    assert i.items == items
    assert (i.total_min, i.total_max) == (lo, hi)
    assert i.higher_is_better
    assert i.cutoff == cutoff and cut_src in i.cutoff_source
    assert i.reliable_change_method == method
    assert i.reliable_change_threshold == threshold
    assert i.licence == licence
    assert i.requires_licence is gated
    assert i.source_file == f"{key}.toml"


def test_rdas_threshold_source_and_item_ranges() -> None:
    assert INSTRUMENTS["rdas"].reliable_change_source == "Anderson et al. 2014"
    assert "0–6" in INSTRUMENTS["csi4"].item_range  # first item 0–6, others 0–5
    assert "0–10" in INSTRUMENTS["ors"].item_range


def test_csi_derives_locally_with_the_published_alpha() -> None:
    # Funk & Rogge 2007: alpha about .94 (CSI-4) and .98 (CSI-16).
    assert INSTRUMENTS["csi4"].reliability == 0.94
    assert INSTRUMENTS["csi16"].reliability == 0.98
    assert INSTRUMENTS["csi4"].reliability_source == "Funk & Rogge 2007"
    # documented default SDs: a quarter of the range (21 / 4, 81 / 4)
    assert INSTRUMENTS["csi4"].default_sd == 5.25
    assert INSTRUMENTS["csi16"].default_sd == 20.25


def test_instruments_are_frozen() -> None:
    with pytest.raises(AttributeError):
        INSTRUMENTS["csi4"].cutoff = 1  # type: ignore[misc]


# --- validate_total ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("csi4", 0, None),
        ("csi4", 21, None),
        ("csi4", -1, "CSI-4 totals run from 0 to 21."),
        ("csi4", 22, "CSI-4 totals run from 0 to 21."),
        ("csi4", 21.5, "CSI-4 totals run from 0 to 21."),
        ("csi4", 13.5, "CSI-4 totals are whole numbers."),
        ("csi4", None, None),
        ("csi4", math.nan, "CSI-4 totals run from 0 to 21."),
        ("csi16", 81, None),
        ("csi16", 82, "CSI-16 totals run from 0 to 81."),
        ("rdas", 69, None),
        ("rdas", 70, "RDAS totals run from 0 to 69."),
        ("ors", 40, None),
        ("ors", 40.1, "ORS totals run from 0 to 40."),
        ("ors", 25.3, None),
        ("ors", 25.35, "ORS totals have at most 1 decimal place."),
        ("srs", 0, None),
        ("srs", -0.1, "SRS totals run from 0 to 40."),
    ],
)
def test_validate_total_boundaries(key: str, value: float | None, message: str | None) -> None:
    assert INSTRUMENTS[key].validate_total(value) == message


def test_validate_total_refuses_non_numbers() -> None:
    assert INSTRUMENTS["csi4"].validate_total(True) == "CSI-4 total must be a number."  # type: ignore[arg-type]
    assert INSTRUMENTS["csi4"].validate_total("12") == "CSI-4 total must be a number."  # type: ignore[arg-type]


# --- invalid definition files -----------------------------------------------------

VALID = (DEFINITIONS_DIR / "csi4.toml").read_text(encoding="utf-8")


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def edited(old: str, new: str) -> str:
    assert old in VALID
    return VALID.replace(old, new)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (edited('name = "CSI-4"\n', ""), "missing required key(s): name"),
        (edited("total_max = 21", "total_max = 0"), "total_min (0) must be below total_max (0)"),
        (edited("total_max = 21", "total_max = -3"), "must be below total_max"),
        (edited("cutoff = 13.5", "cutoff = 25"), "cutoff 25 is outside the total range 0–21"),
        (edited("cutoff = 13.5", "cutoff = -0.5"), "outside the total range"),
        (edited("items = 4", 'items = "four"'), "items must be a whole number"),
        (edited("total_min = 0", 'total_min = "0"'), "total_min must be a number"),
        (edited('direction = "higher is better"', 'direction = "up"'), "direction must be"),
        (edited('licence = "free for clinical and research use"', 'licence = "free"'), "licence"),
        (edited("requires_licence = false", 'requires_licence = "no"'), "true or false"),
        (
            edited('licence = "free for clinical and research use"', 'licence = "licensed"'),
            "needs requires_licence = true",
        ),
        (edited('method = "derive locally"', 'method = "guess"'), "method must be one of"),
        (edited("reliability = 0.94", "reliability = 1.2"), "reliability must be between 0 and 1"),
        (edited("reliability = 0.94\n", ""), "needs: reliability"),
        (
            edited('method = "derive locally"', 'method = "published"'),
            "needs: threshold, source, inclusive, inclusive_source",
        ),
        (edited("key = ", 'item_text = ["wording is not bundled"]\nkey = '), "unknown key(s)"),
        (edited("default_sd = 5.25", "default_sd = 0"), "default_sd must be above 0"),
        (VALID.split("[reliable_change]")[0], "missing required table [reliable_change]"),
        (edited("cutoff = 13.5", "cutoff = "), "not valid TOML"),
        # A cutoff always says what it means (DOMAIN.md, "Words for cutoffs").
        (
            VALID.split("[cutoff_meaning]")[0]
            + "[reliable_change]"
            + VALID.split("[reliable_change]")[1],
            "a cutoff needs a [cutoff_meaning] table",
        ),
        (
            edited('cutoff = 13.5\ncutoff_source = "Funk & Rogge 2007, commonly cited"\n', ""),
            "[cutoff_meaning] is given without a cutoff",
        ),
        (
            edited('(cutoff {cutoff}, {source})"\nnot_met', '({source})"\nnot_met'),
            "name the cutoff",
        ),
        (
            edited('(cutoff {cutoff}, {source})"\nnot_met', '({cutoff}, {who})"\nnot_met'),
            "not {who}",
        ),
        (
            edited('(cutoff {cutoff}, {source})"\nnot_met', '({cutoff"\nnot_met'),
            "[cutoff_meaning] met",
        ),
        (
            edited("waits_for_early_change = true", 'waits_for_early_change = "yes"'),
            "true or false",
        ),
        (edited("waits_for_early_change = true\n", ""), "needs: waits_for_early_change"),
        (edited("waits_for_early_change = true", "waits = true"), "needs: waits_for_early_change"),
    ],
)
def test_an_invalid_file_is_refused_with_its_name(tmp_path: Path, text: str, problem: str) -> None:
    write(tmp_path, "broken_scale.toml", text)
    with pytest.raises(InstrumentFileError) as caught:
        load_instruments(tmp_path)
    message = str(caught.value)
    assert message.startswith("broken_scale.toml: ")
    assert problem in message


def test_two_files_claiming_one_key_are_refused(tmp_path: Path) -> None:
    write(tmp_path, "a.toml", VALID)
    write(tmp_path, "b.toml", VALID)
    with pytest.raises(
        InstrumentFileError, match=r"^b\.toml: key 'csi4' is already used by a\.toml"
    ):
        load_instruments(tmp_path)


def test_a_missing_folder_is_reported(tmp_path: Path) -> None:
    with pytest.raises(InstrumentFileError, match="no such folder"):
        load_instruments(tmp_path / "nowhere")


def test_a_clinic_adds_an_instrument_by_dropping_in_a_file(tmp_path: Path) -> None:
    shutil.copytree(DEFINITIONS_DIR, tmp_path, dirs_exist_ok=True)
    write(
        tmp_path,
        "phq9.toml",
        """
key = "phq9"
name = "PHQ-9"
full_name = "Patient Health Questionnaire (9 items)"
citation = "Kroenke et al. 2001"
display_order = 60
items = 9
item_range = "each item 0–3"
total_min = 0
total_max = 27
direction = "lower is better"
cutoff = 10
cutoff_source = "Kroenke et al. 2001"
licence = "free for clinical and research use"
licence_note = "Free to use."
requires_licence = false

[cutoff_meaning]
met = "at or below the PHQ-9 line {cutoff} for moderate depression ({source})"
not_met = "above the PHQ-9 line {cutoff} for moderate depression ({source})"
waits_for_early_change = true

[reliable_change]
method = "published"
threshold = 5
source = "clinic's choice"
inclusive = true
inclusive_source = "clinic's choice"
""",
    )
    loaded = load_instruments(tmp_path)
    assert list(loaded)[-1] == "phq9"
    phq9 = loaded["phq9"]
    assert isinstance(phq9, Instrument) and not phq9.higher_is_better
    assert load_instrument(tmp_path / "phq9.toml") == phq9


def test_definitions_are_read_again_once_a_file_changes(tmp_path: Path) -> None:
    """Read once and kept (pages ask on every run), yet an edit, a new file or a
    removed one is seen on the next call."""
    path = write(tmp_path, "a.toml", VALID)
    first = load_instruments(tmp_path)
    assert load_instruments(tmp_path) == first
    path.write_text(VALID.replace('name = "CSI-4"', 'name = "CSI-4 (clinic copy)"'))
    assert load_instruments(tmp_path)["csi4"].name == "CSI-4 (clinic copy)"
    write(tmp_path, "b.toml", VALID)
    with pytest.raises(InstrumentFileError, match="already used"):
        load_instruments(tmp_path)
    (tmp_path / "b.toml").unlink()
    path.unlink()
    assert load_instruments(tmp_path) == {}


# --- reliable change and cutoff per instrument ------------------------------------


def test_rdas_uses_its_published_threshold_and_cutoff() -> None:
    p = instrument_params(INSTRUMENTS["rdas"], [40, 42])
    assert p.threshold == 11.58 and p.s_diff is None
    assert p.source == "published" and p.n == 2
    assert p.describe() == "RDAS reliable change 11.58 points (Anderson et al. 2014)"
    assert p.describe_cutoff() == "RDAS cutoff 47.31 (Anderson et al. 2014)"
    # 40 -> 51.5 is +11.5: not above 11.58. 40 -> 52 is +12: reliable and crosses 47.31.
    assert classify_change(40, 51.5, p).status is Change.NO_RELIABLE_CHANGE
    result = classify_change(40, 52, p)
    assert result.status is Change.IMPROVED and result.rci is None
    assert result.clinically_significant


def test_ors_change_of_5_or_more_is_reliable() -> None:
    """PCOMS (Miller & Duncan): "a change of 5 points or more" is reliable, inclusive;
    ORS totals carry one decimal, so exactly 5.0 is common (ors.toml says so)."""
    p = instrument_params(INSTRUMENTS["ors"], [])
    assert INSTRUMENTS["ors"].reliable_change_inclusive is True
    assert "5 points or more" in INSTRUMENTS["ors"].reliable_change_inclusive_source
    assert p.describe() == "ORS reliable change 5.0 points or more (Miller & Duncan)"
    # 20 -> 25: +5.0, at the line, which counts: reliable, and 25 is at the cutoff 25.
    up = classify_change(20, 25, p)
    assert up.status is Change.IMPROVED and up.clinically_significant
    assert up.describe() == (
        "clinically significant improvement (+5.0 points; threshold 5.0 or more; "
        "crossed the cutoff 25.0)"
    )
    # 20 -> 15: -5.0: reliably deteriorated.
    assert classify_change(20, 15, p).status is Change.DETERIORATED
    # 20 -> 24.9: +4.9, under the line: no reliable change; 20 -> 15.1 likewise.
    assert classify_change(20, 24.9, p).status is Change.NO_RELIABLE_CHANGE
    assert classify_change(20, 15.1, p).status is Change.NO_RELIABLE_CHANGE
    # Binary noise at the line: 15.4 -> 20.4 is 4.999999999999998 in floats, and is +5.0.
    assert 20.4 - 15.4 < 5
    assert classify_change(15.4, 20.4, p).status is Change.IMPROVED
    # A change a hair under the line is shown with the decimals that keep it under:
    # +4.96 reads "+4.96", never "+5.0" beside "no reliable change".
    near = classify_change(20, 24.96, p)
    assert near.status is Change.NO_RELIABLE_CHANGE
    assert "+4.96 points" in near.describe()


def test_rdas_threshold_is_strict_and_says_why() -> None:
    rdas = INSTRUMENTS["rdas"]
    assert rdas.reliable_change_inclusive is False
    assert "whole numbers" in rdas.reliable_change_inclusive_source


def test_csi4_below_30_intakes_uses_the_documented_default_sd() -> None:
    # SD 5.25 (default), alpha .94: S_diff = 5.25 * sqrt(2 * 0.06) = 5.25 * 0.3464102
    #   = 1.818653; threshold = 1.96 * 1.818653 = 3.564561
    p = instrument_params(INSTRUMENTS["csi4"], [10] * 29)
    assert p.source == "default" and p.n == 29
    assert p.s_diff == pytest.approx(1.818653, abs=1e-6)
    assert p.threshold == pytest.approx(3.564561, abs=1e-6)
    assert p.describe() == (
        "Jacobson–Truax reliable change, documented default (only 29 intakes; 30 needed): "
        "SD 5.25, α 0.94 (Funk & Rogge 2007), S_diff 1.8 → ±3.6 CSI-4 points"
    )
    assert p.describe_cutoff() == "CSI-4 cutoff 13.5 (Funk & Rogge 2007, commonly cited)"


def test_csi4_at_30_intakes_uses_the_local_sd_with_the_published_alpha() -> None:
    # Totals 4, 12, 20 (x10 each): mean 12, SS = 10 * (64 + 0 + 64) = 1280,
    #   SD = sqrt(1280 / 29) = 6.643638, above the 5.25 floor, so it is used
    # S_diff = 6.643638 * sqrt(0.12) = 6.643638 * 0.3464102 = 2.301424
    # threshold = 1.96 * 2.301424 = 4.510791
    p = instrument_params(INSTRUMENTS["csi4"], [4] * 10 + [12] * 10 + [20] * 10 + [None])
    assert p.source == "locally derived" and p.n == 30
    assert p.sd == pytest.approx(6.643638, abs=1e-6)
    assert p.s_diff == pytest.approx(2.301424, abs=1e-6)
    assert p.threshold == pytest.approx(4.510791, abs=1e-6)
    assert p.describe() == (
        "Jacobson–Truax reliable change, locally derived from 30 intakes: "
        "SD 6.6 (this clinic's intakes), α 0.94 (Funk & Rogge 2007), S_diff 2.3 → "
        "±4.5 CSI-4 points"
    )
    # 10 -> 15: RCI = 5 / 2.301424 = 2.17, reliable, and crosses 13.5.
    result = classify_change(10, 15, p)
    assert result.rci == pytest.approx(2.173, abs=1e-3)
    assert result.clinically_significant


def test_csi4_band_is_never_narrower_than_the_documented_floor() -> None:
    # Issue 11: a clinic whose couples arrive alike (demo intake SD 3.4) made any 3-point
    # CSI-4 change reliable. Totals 10, 12, 14 (x10 each): SD = sqrt(80 / 29) = 1.660910,
    # which alone would give threshold 1.96 * 1.660910 * 0.3464102 = 1.127698 points.
    # It is below the floor SD 5.25, so the band stays at the default's ±3.564561.
    p = instrument_params(INSTRUMENTS["csi4"], [10] * 10 + [12] * 10 + [14] * 10)
    assert p.source == "default" and p.n == 30
    assert p.sd == 5.25
    assert p.threshold == pytest.approx(3.564561, abs=1e-6)
    assert p.describe() == (
        "Jacobson–Truax reliable change, documented default (the 30 intakes' SD 1.7 is "
        "below this floor): SD 5.25, α 0.94 (Funk & Rogge 2007), S_diff 1.8 → ±3.6 CSI-4 "
        "points"
    )
    # On whole-number totals that means 4 points: 12 -> 15 (+3) is no reliable change,
    # 12 -> 16 (+4) is reliable; 12 -> 9 (-3) is not a deterioration, 12 -> 8 (-4) is.
    assert classify_change(12, 15, p).status is Change.NO_RELIABLE_CHANGE
    assert classify_change(12, 16, p).status is Change.IMPROVED
    assert classify_change(12, 9, p).status is Change.NO_RELIABLE_CHANGE
    assert classify_change(12, 8, p).status is Change.DETERIORATED
    # CSI-16: floor SD 20.25, alpha .98: 1.96 * 20.25 * sqrt(0.04) = 7.938 points.
    p16 = instrument_params(INSTRUMENTS["csi16"], [50, 52, 54] * 10)
    assert p16.sd == 20.25
    assert p16.threshold == pytest.approx(7.938, abs=1e-3)


def test_csi_intake_totals_that_do_not_vary_keep_the_default() -> None:
    p = instrument_params(INSTRUMENTS["csi16"], [50] * 40)
    assert p.source == "default" and "do not vary" in p.describe()


def test_srs_is_judged_by_its_cutoff_only() -> None:
    p = instrument_params(INSTRUMENTS["srs"], [30, 38])
    assert p.threshold is None and p.s_diff is None
    assert p.describe() == (
        "SRS has no reliable-change value: judged by its cutoff 36.0 only (Miller & Duncan)"
    )
    low = classify_change(30, 34, p)
    assert low.status is None and low.rci is None and not low.clinically_significant
    assert low.meets_cutoff is False
    assert low.describe() == (
        "not judged for reliable change (no reliable-change value); "
        "latest 34.0 is below the cutoff 36.0"
    )
    assert classify_change(30, 36, p).meets_cutoff is True


def test_lower_is_better_instruments_cross_the_cutoff_downwards(tmp_path: Path) -> None:
    text = edited('direction = "higher is better"', 'direction = "lower is better"')
    lower = load_instrument(write(tmp_path, "x.toml", text))
    p = instrument_params(lower, [])
    # default S_diff 1.818653, threshold 3.56: 18 -> 13 is -5, an improvement when lower
    # is better, and it moves from above 13.5 to at/below it.
    result = classify_change(18, 13, p, higher_is_better=lower.higher_is_better)
    assert result.status is Change.IMPROVED and result.clinically_significant
