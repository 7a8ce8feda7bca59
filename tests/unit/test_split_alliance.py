"""Split alliance from the SRS: the rule as srs.toml states it, its three answers, its
boundary (below = strictly under 36: Miller & Duncan 2004, "a total below 36"), and the
caseload review's vectorized mirror agreeing with it couple by couple."""

from __future__ import annotations

import random
import shutil
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pytest

from dashboard.domain.alliance import (
    TOTALS_INPUT,
    AllianceFlag,
    AlliancePoint,
    split_alliance,
    split_alliances,
)
from dashboard.domain.instruments import (
    DEFINITIONS_DIR,
    InstrumentFileError,
    load_instrument,
    load_instruments,
)
from dashboard.domain.plain_words import alliance_coverage, alliance_sentence

RULE = load_instruments()["srs"].split_alliance
DAY = date(2026, 11, 3)


def points(*rows: tuple[float | None, float | None]) -> list[AlliancePoint]:
    """One session a week from DAY, session ids 1, 2, ..."""
    return [
        AlliancePoint(i + 1, DAY + timedelta(days=7 * i), a, b) for i, (a, b) in enumerate(rows)
    ]


def test_srs_file_states_the_rule_the_cutoff_and_their_sources() -> None:
    assert RULE is not None
    assert RULE.method == "one below the cutoff, one at or above"
    assert RULE.cutoff == 36.0  # DOMAIN.md, "Validated instruments": SRS cutoff 36
    assert RULE.below_is_strict  # "below 36": 36.0 itself is not below
    assert "Pinsof & Catherall 1986" in RULE.source
    assert "Miller & Duncan" in RULE.cutoff_source
    assert RULE.needs == "both partners' SRS at one session"
    text = (DEFINITIONS_DIR / "srs.toml").read_text()
    assert "Journal of Marital and Family Therapy 12(2), 137-151" in text
    # No other bundled scale claims a split-alliance rule.
    assert [k for k, i in load_instruments().items() if i.split_alliance] == ["srs"]


@pytest.mark.parametrize(
    ("a", "b", "state"),
    [
        (35.9, 36.0, AllianceFlag.SPLIT),  # 35.9 < 36 (below); 36.0 is at the cutoff
        (36.0, 35.9, AllianceFlag.SPLIT),
        (36.0, 36.0, AllianceFlag.NOT_SPLIT),  # both at the cutoff: neither below
        (35.9, 35.9, AllianceFlag.NOT_SPLIT),  # both below: not split (both low)
        (0.0, 40.0, AllianceFlag.SPLIT),
        (40.0, 36.0, AllianceFlag.NOT_SPLIT),
    ],
)
def test_the_cutoff_boundary(a: float, b: float, state: AllianceFlag) -> None:
    result = split_alliance(points((a, b)), RULE)
    assert result.state is state
    assert (result.session_date, result.total_a, result.total_b) == (DAY, a, b)


def test_the_reason_names_the_partner_below_with_both_totals() -> None:
    result = split_alliance(points((38.0, 30.0), (36.0, 35.9)), RULE)
    assert result.flagged
    assert result.reason() == (
        "Partner B's SRS 35.9 is below the cutoff 36 while Partner A's 36.0 is at or "
        "above it (session of 10 Nov 2026)"
    )


def test_one_partner_only_is_absent_never_no() -> None:
    result = split_alliance(points((30.0, None), (31.0, None)), RULE)
    assert result.state is AllianceFlag.ABSENT and not result.flagged and not result.judged
    assert result.session_date is None and result.reason() == ""


def test_two_different_sessions_do_not_make_a_pair() -> None:
    # A below at the first session, B at or above at the second: never both at one.
    assert split_alliance(points((30.0, None), (None, 38.0)), RULE).state is AllianceFlag.ABSENT


def test_the_latest_session_with_both_decides_and_later_single_totals_are_skipped() -> None:
    # Split at the first; both at or above at the second; only A (below) at the third.
    result = split_alliance(points((30.0, 38.0), (37.0, 38.0), (20.0, None)), RULE)
    assert result.state is AllianceFlag.NOT_SPLIT
    assert result.session_date == DAY + timedelta(days=7)
    # And the other way round: resolved earlier, split at the latest pair.
    assert split_alliance(points((37.0, 38.0), (30.0, 38.0)), RULE).flagged


def test_two_sessions_on_one_day_the_later_id_decides() -> None:
    same_day = [AlliancePoint(9, DAY, 30.0, 38.0), AlliancePoint(4, DAY, 37.0, 38.0)]
    assert split_alliance(same_day, RULE).flagged  # session 9 is the later one


def test_the_scale_not_in_use_is_absent() -> None:
    """The SRS licence off: the scale is not in use, whatever is stored."""
    result = split_alliance(points((30.0, 38.0)), RULE, in_use=False)
    assert result.state is AllianceFlag.ABSENT and not result.in_use
    assert split_alliance(points((30.0, 38.0)), None).state is AllianceFlag.ABSENT


# --- the definition file's [split_alliance] table is checked on load ----------------


def _srs_with(tmp_path: Path, old: str, new: str) -> Path:
    text = (DEFINITIONS_DIR / "srs.toml").read_text()
    assert old in text
    path = tmp_path / "srs.toml"
    path.write_text(text.replace(old, new))
    return path


@pytest.mark.parametrize(
    ("old", "new", "problem"),
    [
        ('needs = "both', 'unsaid = "both', "[split_alliance] needs: needs."),
        ("below_is_strict = true", "below_is_strict = 1", "below_is_strict must be true or"),
        ("cutoff = 36\n# The SRS", "cutoff = 0\n# The SRS", "cutoff 0 must be above 0"),
        ("cutoff = 36\n# The SRS", "cutoff = 41\n# The SRS", "and at most 40"),
        (
            'method = "one below the cutoff, one at or above"',
            'method = "a documented difference"',
            "[split_alliance] method must be one of",
        ),
        ('source = "Pinsof', 'source = "  "\nx = "Pinsof', "unknown key(s): x"),
        ('cutoff_source = "Miller', 'cutoff_source = ""\nz = "', "unknown key(s): z"),
    ],
)
def test_a_bad_split_alliance_table_is_refused_with_the_file_name(
    tmp_path: Path, old: str, new: str, problem: str
) -> None:
    with pytest.raises(InstrumentFileError, match=r"^srs\.toml: ") as caught:
        load_instrument(_srs_with(tmp_path, old, new))
    assert problem in str(caught.value)


def test_a_blank_source_is_refused(tmp_path: Path) -> None:
    path = _srs_with(
        tmp_path,
        'source = "Pinsof & Catherall 1986, split alliance in couple therapy"',
        'source = " "',
    )
    with pytest.raises(InstrumentFileError, match="source must be non-empty text"):
        load_instrument(path)


def test_a_scale_without_the_table_has_no_rule(tmp_path: Path) -> None:
    shutil.copy(DEFINITIONS_DIR / "ors.toml", tmp_path / "ors.toml")
    assert load_instrument(tmp_path / "ors.toml").split_alliance is None


# --- the vectorized mirror equals the rule ------------------------------------------


def _frame(couples: dict[int, list[AlliancePoint]]) -> pd.DataFrame:
    rows = [
        (cid, p.session_id, pd.Timestamp(p.session_date), p.total_a, p.total_b)
        for cid, pts in couples.items()
        for p in pts
        if p.total_a is not None or p.total_b is not None
    ]
    frame = pd.DataFrame(rows, columns=TOTALS_INPUT)
    return frame.astype({"total_a": "float64", "total_b": "float64"})


def _agree(couples: dict[int, list[AlliancePoint]], *, in_use: bool = True) -> None:
    out = split_alliances(_frame(couples), RULE, list(couples), in_use=in_use)
    assert list(out.index) == list(couples)
    for cid, pts in couples.items():
        one = split_alliance(pts, RULE, in_use=in_use)
        row = out.loc[cid]
        flag = row["split_alliance"]
        assert (None if pd.isna(flag) else bool(flag)) == (
            None if not one.judged else one.flagged
        ), cid
        when = row["alliance_date"]
        assert (None if pd.isna(when) else when.date()) == one.session_date, cid
        for column, value in (("alliance_a", one.total_a), ("alliance_b", one.total_b)):
            assert (None if pd.isna(row[column]) else row[column]) == value, (cid, column)
        assert row["alliance_reason"] == one.reason(), cid


def test_mirror_known_answers() -> None:
    couples = {
        1: points((35.9, 36.0)),  # split
        2: points((36.0, 36.0)),  # not split
        3: points((30.0, None)),  # one partner only: absent
        4: points((30.0, None), (None, 38.0)),  # two different sessions: absent
        5: [],  # no SRS at all: absent
        6: points((30.0, 38.0), (37.0, 38.0), (20.0, None)),  # the latest pair: not split
    }
    out = split_alliances(_frame(couples), RULE, list(couples))
    assert out["split_alliance"].tolist() == [True, False, pd.NA, pd.NA, pd.NA, False]
    _agree(couples)
    _agree(couples, in_use=False)
    off = split_alliances(_frame(couples), RULE, list(couples), in_use=False)
    assert off["split_alliance"].isna().all()


def test_mirror_equals_the_rule_on_random_couples() -> None:
    rng = random.Random(21)
    totals = [None, 0.0, 20.5, 35.8, 35.9, 36.0, 36.1, 40.0]
    couples: dict[int, list[AlliancePoint]] = {}
    for cid in range(1, 401):
        n = rng.randint(0, 5)
        days = sorted(rng.randint(0, 40) for _ in range(n))  # same-day sessions happen
        couples[cid] = [
            AlliancePoint(cid * 10 + i, DAY + timedelta(days=d), *rng.choices(totals, k=2))
            for i, d in enumerate(days)
        ]
    out = split_alliances(_frame(couples), RULE, list(couples))
    # Every answer occurs, so the comparison covers each.
    assert out["split_alliance"].isna().any()
    assert out["split_alliance"].eq(True).any() and out["split_alliance"].eq(False).any()
    _agree(couples)


# --- the words: three answers, never a bare "no" ----------------------------------


def test_the_sentences_of_the_three_answers() -> None:
    split = split_alliance(points((36.0, 35.9)), RULE)
    assert alliance_sentence("Priya", "Sam", split) == (
        "Split alliance: at the session of 3 Nov 2026 Sam rated the session with the "
        "counselor below the SRS cutoff (35.9, under 36) while Priya rated it at or above "
        "(36.0)."
    )
    both_low = split_alliance(points((30.0, 35.9)), RULE)
    assert alliance_sentence("Priya", "Sam", both_low) == (
        "No split alliance: at the session of 3 Nov 2026 Priya and Sam both rated the "
        "session with the counselor below the SRS cutoff 36 (30.0 and 35.9)."
    )
    absent = split_alliance(points((30.0, None)), RULE)
    assert alliance_sentence("Priya", "Sam", absent) == (
        "Split alliance: needs both partners' SRS at one session."
    )
    off = split_alliance(points((30.0, 38.0)), RULE, in_use=False)
    assert alliance_sentence("Priya", "Sam", off) == (
        "Split alliance: needs both partners' SRS at one session. The SRS is switched off "
        "for this clinic (Admin, licences)."
    )


def test_the_attention_list_says_for_how_many_couples_it_was_judged() -> None:
    assert alliance_coverage(12, 12, in_use=True) == ""
    assert alliance_coverage(3, 12, in_use=True) == (
        "Split alliance is judged for 3 of 12 couples: the others have no session where "
        "both partners have an SRS total."
    )
    assert alliance_coverage(0, 12, in_use=False).startswith(
        "Split alliance is not judged: the SRS is switched off"
    )
