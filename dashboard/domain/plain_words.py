"""The couple's status in a counselor's words: names and plain language, same facts.

The technical line (RCI, S_diff, method) stays available beside it ("How is this
calculated?"); these sentences say the same classification without statistics:

- "reliable" change       -> "a change larger than measurement noise"
- no reliable change      -> "about the same as at intake: any change is within
                              measurement noise"
- where the latest score sits against the cutoff, in what that cutoff means
  (`cutoff_words`; DOMAIN.md, "Words for cutoffs"):
  the EII's criterion a     -> "beyond / within the range typical of intakes at this
                                clinic (intake mean + 2 SD: 57.7)"
  the EII's default line    -> "at or above / below the documented default line 65.0,
                                used until this clinic has its own intake norms"
  an instrument's cutoff    -> its definition file's [cutoff_meaning], e.g. "in the
                                range of couples not in distress (cutoff 13.5, source)"
- clinically significant improvement (reliable improvement AND crossed the cutoff)
                          -> "much better than at intake, ..., now beyond the range ..."
- a range claim waits for the early-change minimum (scoring.Course.long_enough): before
  it, the sentence gives the count instead ("too early to say where this stands against
  the cutoff: 3 rated sessions over 14 days so far ..."), and a crossing is "early
  change: 3 rated sessions over 14 days so far (...)"

The timeline page and the PDF report both print `status_lines`, so the two never
drift apart. Pure: trajectory in, sentences out.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date

from dashboard.domain.alliance import AllianceFlag, SplitAlliance
from dashboard.domain.catalog import CLOSING_REASONS, STATUS_LABELS, CoupleStatus
from dashboard.domain.couple_outcome import (
    BOTH_IMPROVED,
    DETERIORATED,
    MIXED,
    NO_CHANGE,
    ONE_IMPROVED,
    TOO_EARLY,
    couple_outcome,
)
from dashboard.domain.expected_response import Alert, ExpectedModel, PartnerAlert
from dashboard.domain.instruments import SplitAllianceRule
from dashboard.domain.numbers import as_written, half_up, one_decimal, shown
from dashboard.domain.outcomes import alert_columns
from dashboard.domain.same_source import COUNSELOR, nth_rating
from dashboard.domain.scoring import (
    DIVERGING_GAP,
    DIVERGING_SESSIONS,
    EARLY_CHANGE_MIN_DAYS,
    EARLY_CHANGE_MIN_SESSIONS,
    EII_MAX,
    NOT_ON_TRACK_AFTER_SESSIONS,
    Change,
    ChangeResult,
    CoupleTrajectory,
    CutoffMeaning,
    PartnerTrajectory,
    ReliableChangeParams,
    early_change_rule,
)
from dashboard.domain.timeline import TimelineData

NOISE = "a change larger than measurement noise"


# What the EII's cutoff means. The EII is Bondline's own index, with no norms from
# couples who are not in distress: its cutoff says where a score sits among this
# clinic's intakes (Jacobson–Truax criterion a), or that it is the documented default.
EII_CLINIC_CUTOFF = CutoffMeaning(
    met="beyond the range typical of intakes at this clinic (intake mean + 2 SD: {cutoff})",
    not_met="within the range typical of intakes at this clinic (intake mean + 2 SD: {cutoff})",
)
EII_DEFAULT_CUTOFF = CutoffMeaning(
    met=(
        "at or above the documented default line {cutoff}, used until this clinic has "
        "its own intake norms"
    ),
    not_met=(
        "below the documented default line {cutoff}, used until this clinic has its own "
        "intake norms"
    ),
)


def cutoff_words(
    params: ReliableChangeParams | None, *, higher_is_better: bool = True
) -> CutoffMeaning | None:
    """What each side of `params`' cutoff means, filled in: an instrument's words from
    its definition file, the EII's by where its cutoff came from; None without a cutoff."""
    if params is None or params.cutoff is None:
        return None
    meaning = params.cutoff_meaning
    cutoff = as_written(params.cutoff)
    if meaning is None and params.scale == "EII":
        meaning = EII_CLINIC_CUTOFF if params.source == "locally derived" else EII_DEFAULT_CUTOFF
        if params.source == "locally derived" and params.cutoff >= EII_MAX:
            cutoff = f"above {cutoff}, capped at {cutoff}"
    if meaning is None:  # a cutoff nobody has put into words yet: its side and source only
        good, bad = ("at or above", "below") if higher_is_better else ("at or below", "above")
        meaning = CutoffMeaning(
            met=f"{good} the {params.scale} cutoff {{cutoff}} ({{source}})",
            not_met=f"{bad} the {params.scale} cutoff {{cutoff}} ({{source}})",
        )
    fields = {"cutoff": cutoff, "source": params.cutoff_method}
    return CutoffMeaning(
        met=meaning.met.format(**fields),
        not_met=meaning.not_met.format(**fields),
        waits_for_early_change=meaning.waits_for_early_change,
    )


def cutoff_label(params: ReliableChangeParams, *, higher_is_better: bool = True) -> str | None:
    """A chart's cutoff line in the status sentences' words: 'At or above: beyond the
    range typical of intakes at this clinic (intake mean + 2 SD: 57.7)'."""
    words = cutoff_words(params, higher_is_better=higher_is_better)
    if words is None:
        return None
    side = "at or above" if higher_is_better else "at or below"
    met = words.met if words.met.startswith(side) else f"{side}: {words.met}"
    return met[0].upper() + met[1:]


def _words(change: ChangeResult) -> CutoffMeaning | None:
    return cutoff_words(change.params, higher_is_better=change.higher_is_better)


def _too_early(change: ChangeResult) -> bool:
    """A range claim is not made before the early-change minimum (Course.long_enough)."""
    return change.course is not None and not change.course.long_enough


def _range_clause(change: ChangeResult) -> str:
    """Where the latest score sits against the cutoff, in what the cutoff means; before
    the early-change minimum, the count of rated sessions and days instead."""
    words = _words(change)
    if words is None or change.meets_cutoff is None:
        return ""
    if words.waits_for_early_change and _too_early(change) and change.course is not None:
        return (
            "; too early to say where this stands against the cutoff: "
            f"{change.course.describe()} so far (said from {EARLY_CHANGE_MIN_SESSIONS} "
            f"rated sessions over {EARLY_CHANGE_MIN_DAYS} days)"
        )
    return ", " + (words.met if change.meets_cutoff else words.not_met)


def change_words(change: ChangeResult) -> str:
    """One judged change, without statistics: 'better than at intake, ...'."""
    if change.status is None:
        return "not judged for change (this measure has no reliable-change value)" + (
            _range_clause(change)
        )
    if change.status is Change.IMPROVED:
        words = _words(change)
        if change.clinically_significant and words is not None:
            return f"much better than at intake, {NOISE}, now {words.met}"
        if change.early_change and change.course is not None:
            return (
                f"better than at intake, {NOISE}; early change: "
                f"{change.course.describe()} so far ({early_change_rule()})"
            )
        if change.meets_cutoff and words is not None and not _too_early(change):
            return f"better than at intake, {NOISE}; already {words.met} at intake"
        return f"better than at intake, {NOISE}" + _range_clause(change)
    if change.status is Change.DETERIORATED:
        return f"worse than at intake, {NOISE}" + _range_clause(change)
    return "about the same as at intake: any change is within measurement noise" + (
        _range_clause(change)
    )


def partner_words(name: str, partner: PartnerTrajectory) -> str:
    """'Priya: much better than at intake, ..., now beyond the range typical of ...'."""
    # Like with like (same_source.py): which ratings were compared, when not the obvious.
    note = partner.source_note(name)
    if partner.change is not None:
        words = change_words(partner.change).replace("at intake", _since(partner))
        return f"{name}: {words}" + (f"; {note}." if note else ".")
    if partner.ratings >= 2:  # rated, but never twice by one source
        return f"{name}: not yet measurable; {note}."
    # Too early: say what is missing, not only that nothing can be said yet.
    if partner.ratings == 1:
        return (
            f"{name}: rated at one session so far, the baseline; "
            "a second rated session is needed to judge change."
        )
    return f"{name}: not rated yet; two rated sessions are needed to judge change."


# The couple's outcome category (couple_outcome.py) as it reads inside a sentence.
_OUTCOME_WORD = {
    BOTH_IMPROVED: "both improved",
    ONE_IMPROVED: "one partner improved",
    NO_CHANGE: "no reliable change",
    MIXED: "mixed",
    DETERIORATED: "deteriorated",
    TOO_EARLY: "not yet measurable",
}


def _since(partner: PartnerTrajectory) -> str:
    """'at intake', or 'on 12 Jan 2026' when the pair judged (like with like) does not
    start at the partner's baseline: a change between two later self-reports is not a
    change since intake, and the words must not say it is."""
    pair, dates = partner.pair, partner.pair_dates
    if pair is None or not pair.first or dates is None:  # first == 0: the baseline
        return "at intake"
    return f"on {dates[0].day} {dates[0]:%b %Y}"


def _where(partner: PartnerTrajectory) -> str:
    """A partner's status in three words, for the couple's sentence."""
    since = _since(partner)
    if partner.improved:
        return f"better than {since}"
    if partner.deteriorated:
        return f"worse than {since}"
    if partner.status is Change.NO_RELIABLE_CHANGE:
        return f"about the same as {since}"
    return "cannot be judged yet"


def couple_words(
    name_a: str, partner_a: PartnerTrajectory, name_b: str, partner_b: PartnerTrajectory
) -> str:
    """The couple's outcome, partner-level, with names: 'As a couple: mixed — Priya is
    better than at intake, Sam is worse.' Never the couple-mean EII, which can average a
    partner who got worse away."""
    outcome = couple_outcome(partner_a.status, partner_b.status)
    word = _OUTCOME_WORD[outcome]
    where_a, where_b = _where(partner_a), _where(partner_b)
    if outcome == TOO_EARLY:
        return f"As a couple: {word} — neither {name_a} nor {name_b} can be judged yet."
    if outcome == MIXED:
        (up, p_up), (down, p_down) = (
            ((name_a, partner_a), (name_b, partner_b))
            if partner_a.improved
            else ((name_b, partner_b), (name_a, partner_a))
        )
        worse = "worse" if _since(p_down) == _since(p_up) else _where(p_down)
        return f"As a couple: {word} — {up} is {_where(p_up)}, {down} is {worse}."
    if where_a == where_b:
        return f"As a couple: {word} — {name_a} and {name_b} are both {where_a}."
    # The partner who decides the category first, then the other.
    first, second = (name_a, where_a), (name_b, where_b)
    if outcome in (DETERIORATED, ONE_IMPROVED) and not (
        partner_a.deteriorated or partner_a.improved
    ):
        first, second = second, first
    if outcome == NO_CHANGE and partner_a.status is None:
        first, second = second, first
    verb = "cannot be judged yet" if second[1] == "cannot be judged yet" else f"is {second[1]}"
    return f"As a couple: {word} — {first[0]} is {first[1]}; {second[0]} {verb}."


def _plain_reason(
    reason: str, names: dict[str, str], held: int, since: dict[str, str] | None = None
) -> str:
    """A not-on-track or partners-diverging reason from scoring, with names, no statistics;
    `since` says where each partner's change is measured from ('at intake' by default)."""
    for partner, name in names.items():
        if reason.startswith(f"{partner} reliably deteriorated"):
            return f"{name} is worse than {(since or {}).get(partner, 'at intake')}"
    if reason.startswith("no reliable improvement after"):
        return (
            f"nobody has improved beyond measurement noise after {held} sessions "
            f"(the rule looks after {NOT_ON_TRACK_AFTER_SESSIONS})"
        )
    # The expected course (scoring.expected_reason): the numbers are in the partner's
    # expected-course line and behind "How this was worked out".
    match = re.fullmatch(r"(Partner [AB]) is (.+) the expected course at (.+?) \(.+\)", reason)
    if match:
        who, level, rating = match.groups()
        rating = rating.replace(f"{who}'s", f"{names[who]}'s")
        return f"{names[who]} is {level} the expected course at {rating}"
    match = re.fullmatch(r"stage regressed twice in a row \((.+)\)", reason)
    if match:
        return f"the stage dropped twice in a row ({match.group(1)})"
    match = re.fullmatch(
        r"(Partner [AB]) reliably improved while (Partner [AB]) reliably deteriorated", reason
    )
    if match:
        return f"{names[match.group(1)]} is better while {names[match.group(2)]} is worse"
    if reason.startswith(f"partners more than {DIVERGING_GAP:g} EII points apart"):
        a, b = names.values()
        return (
            f"{a} and {b} were rated more than {DIVERGING_GAP:g} points apart at each "
            f"of the last {DIVERGING_SESSIONS} sessions where both were rated"
        )
    return reason  # a rule added later still says its fact, in its own words


def status_sentences(
    name_a: str,
    name_b: str,
    trajectory: CoupleTrajectory,
    alliance: SplitAlliance | None = None,
) -> tuple[str, ...]:
    """The timeline's first lines and the report's status: one per partner, the couple,
    then why the couple needs attention (if it does), then the alliance line (if the
    caller judged it: `alliance_sentence`)."""
    names = {"Partner A": name_a, "Partner B": name_b}
    lines = [
        partner_words(name_a, trajectory.partner_a),
        partner_words(name_b, trajectory.partner_b),
        couple_words(name_a, trajectory.partner_a, name_b, trajectory.partner_b),
    ]
    held = trajectory.sessions_held
    since = {"Partner A": _since(trajectory.partner_a), "Partner B": _since(trajectory.partner_b)}
    if trajectory.not_on_track:
        reasons = [_plain_reason(r, names, held, since) for r in trajectory.not_on_track_reasons]
        lines.append("Not on track: " + "; ".join(reasons) + ".")
    if trajectory.diverging:
        reasons = [_plain_reason(r, names, held) for r in trajectory.diverging_reasons]
        lines.append("Partners diverging: " + "; ".join(reasons) + ".")
    if alliance is not None:
        lines.append(alliance_sentence(name_a, name_b, alliance))
    return tuple(lines)


def partner_names(partner_a: str, partner_b: str) -> tuple[str, str]:
    """The partners' names as every sentence and chart says them: 'Partner A' for a
    blank name, and two equal names kept apart ('Alex (A)', 'Alex (B)')."""
    a = (partner_a or "").strip() or "Partner A"
    b = (partner_b or "").strip() or "Partner B"
    if a == b:
        a, b = f"{a} (A)", f"{b} (B)"
    return a, b


def status_lines(
    data: TimelineData, trajectory: CoupleTrajectory, alliance: SplitAlliance | None = None
) -> tuple[str, ...]:
    """The couple's status by name: the timeline's first lines and the report's status."""
    return status_sentences(*partner_names(data.partner_a, data.partner_b), trajectory, alliance)


SPLIT_ALLIANCE = "Split alliance"
# The rule's answer in a table cell (My caseload's "Alliance (SRS)"): never a bare "no".
ALLIANCE_WORDS = {
    AllianceFlag.SPLIT.value: SPLIT_ALLIANCE,
    AllianceFlag.NOT_SPLIT.value: "Not split",
    AllianceFlag.ABSENT.value: "Needs both partners' SRS",
}


def alliance_rule_words(rule: SplitAllianceRule | None) -> str:
    """What the split-alliance rule is, with its sources (a column's help, a caption)."""
    if rule is None:
        return "Split alliance: no instrument definition states a rule."
    return (
        f"Split alliance: at the latest session where both partners have an {rule.name} "
        f"total, one is below the {rule.name} cutoff {rule.cutoff:g} while the other is at "
        f"or above it ({rule.source}; cutoff: {rule.cutoff_source}). Not judged until both "
        f"partners have an {rule.name} total at one session."
    )


def alliance_coverage(judged: int, couples: int, *, in_use: bool) -> str:
    """Under an attention list: for how many couples split alliance could be judged
    ('' when for all), so a short list is not read as "no split alliances"."""
    if not in_use:
        return (
            "Split alliance is not judged: the SRS is switched off for this clinic "
            "(Admin, licences)."
        )
    if judged >= couples:
        return ""
    return (
        f"Split alliance is judged for {judged} of {couples} couples: the others have no "
        "session where both partners have an SRS total."
    )


def alliance_sentence(name_a: str, name_b: str, alliance: SplitAlliance) -> str:
    """The split-alliance line, with its three answers (never a bare "no"):

    - "Split alliance: at the session of 3 Nov 2026 Priya rated the session with the
      counselor below the SRS cutoff (34.0, under 36) while Sam rated it at or above
      (38.0)."
    - "No split alliance: at the session of 3 Nov 2026 Priya and Sam both rated the
      session with the counselor at or above the SRS cutoff 36 (38.0 and 37.0)."
    - "Split alliance: needs both partners' SRS at one session." (and why, when the
      clinic does not use the SRS)
    """
    rule = alliance.rule
    if not alliance.judged or rule is None or alliance.session_date is None:
        needs = rule.needs if rule is not None else "both partners' alliance scale at one session"
        line = f"{SPLIT_ALLIANCE}: needs {needs}."
        if rule is not None and not alliance.in_use:
            line += f" The {rule.name} is switched off for this clinic (Admin, licences)."
        return line
    day = alliance.session_date
    when = f"at the session of {day.day} {day:%b %Y}"
    a, b = float(alliance.total_a or 0.0), float(alliance.total_b or 0.0)
    scale = f"the {rule.name} cutoff"
    if alliance.flagged:
        (low, x), (high, y) = ((name_a, a), (name_b, b))[:: 1 if rule.is_below(a) else -1]
        return (
            f"{SPLIT_ALLIANCE}: {when} {low} rated the session with the counselor below "
            f"{scale} ({one_decimal(x)}, under {rule.cutoff:g}) while {high} rated it at or "
            f"above ({one_decimal(y)})."
        )
    side = "below" if rule.is_below(a) else "at or above"
    return (
        f"No split alliance: {when} {name_a} and {name_b} both rated the session with the "
        f"counselor {side} {scale} {rule.cutoff:g} ({one_decimal(a)} and {one_decimal(b)})."
    )


def case_status(status: str, closing_reason: str | None, changed_on: date | None) -> str:
    """'Closed 12 Apr 2026 (Goals met)': a report read months later, or a closed couple's
    timeline, must say the case ended and why, not look like an open one."""
    label = STATUS_LABELS.get(CoupleStatus(status), status)
    when = f" {changed_on.day} {changed_on:%b %Y}" if changed_on else ""
    if status == CoupleStatus.PAUSED:
        return f"{label} since{when}" if when else label
    if status == CoupleStatus.CLOSED:
        reason = CLOSING_REASONS.get(closing_reason or "", closing_reason or "")
        return f"{label}{when}" + (f" ({reason})" if reason else "")
    return label


# --- The expected course (issue 22; domain/expected_response.py) -----------------------

EXPECTED_COURSE = "Expected course"
# The column's help (My caseload, the attention list): what the cell compares, and which
# of its words puts a couple on the attention list.
EXPECTED_HELP = (
    "Each partner's latest rating against the course expected at that rating for "
    "partners who started near the same score (counselor ratings and a partner's own "
    "answers apart). Below expected: under the 25th percentile, a warning. Well below: "
    "under the 10th, not on track. Order by expected course to see the worst first; the "
    "numbers are on the couple's timeline."
)
_BELOW = ("below expected", "well below expected")  # expected_response.Alert values
_NTH = {"p10": "10th percentile", "p25": "25th", "p50": "median"}


def expected_cell(alert: str, partner: object) -> str:
    """My caseload's and the attention list's "Expected course" cell: 'on course',
    'below expected — Partner B', 'well below expected — Partner A', 'no data yet'
    (the couple takes its worse partner's alert, and says which partner)."""
    if str(alert) in _BELOW and isinstance(partner, str) and partner:
        return f"{alert} — {partner}"
    return str(alert)


def expected_numbers(row: Mapping[str, object], names: tuple[str, str] | None = None) -> str:
    """The numbers behind the cell, one line per judged partner (outcomes.EXPECTED_COLUMNS
    of one couple): 'Partner B: 41.0 at the counselor's 3rd rating, below expected;
    expected there: 10th percentile 44.0, 25th 46.0, median 47.0.' (or "at Partner B's
    3rd own answer"); '' when no partner has a band yet."""
    lines = []
    for key, name in zip(("a", "b"), names or ("Partner A", "Partner B"), strict=True):
        session, score = row.get(f"expected_session_{key}"), row.get(f"expected_score_{key}")
        if not _number(session) or not _number(score):
            continue
        at = {
            p: float(row[f"expected_{p}_{key}"])  # type: ignore[arg-type]
            for p in ("p10", "p25", "p50")
            if _number(row.get(f"expected_{p}_{key}"))
        }
        places = _places(float(score), list(at.values()))  # type: ignore[arg-type]
        lines_at = ", ".join(f"{_NTH[p]} {shown(v, places)}" for p, v in at.items())
        source = row.get(f"expected_source_{key}")
        whose = source if isinstance(source, str) else COUNSELOR
        rating = nth_rating(whose, name, int(session))  # type: ignore[arg-type]
        lines.append(
            f"{name}: {shown(float(score), places)} at {rating}, "  # type: ignore[arg-type]
            f"{row.get(f'expected_alert_{key}')}; expected there: {lines_at}."
        )
    return " ".join(lines)


def _number(value: object) -> bool:
    return isinstance(value, int | float) and value == value


def _places(value: float, lines: list[float]) -> int:
    """The fewest decimals (one at least) that keep `value` on its own side of every
    line: a score under the 10th percentile never reads equal to it."""
    for places in range(1, 9):
        shown_value = half_up(value, places)  # rounded once a try, not twice a line
        if all(_same_side(shown_value, half_up(x, places), value, x) for x in lines):
            return places
    return 9


def _same_side(shown_value: float, shown_line: float, value: float, line: float) -> bool:
    """The rounded value is below / above / on the rounded line exactly as the value is."""
    return (shown_value < shown_line) == (value < line) and (shown_value > shown_line) == (
        value > line
    )


def expected_sentence(name: str, judged: PartnerAlert, model: ExpectedModel) -> str:
    """One partner against their expected course, in words (the timeline's header and the
    report): 'Sam is below the expected course: 41.0 at the counselor's 3rd rating, where
    half of partners who started near 38 are at 47.0 or more.' An intake beyond the
    clinic's outer intake groups takes the nearest group's change (the model holds it flat
    there), and the sentence says so rather than name a start no couple had. Under the
    rational fallback (too few of the clinic's own couples) it says what the band is
    instead: an unchanged score's range."""
    band, score, session, intake = judged.band, judged.score, judged.session, judged.intake
    if band is None or score is None or session is None or intake is None:
        if judged.session is None:
            return (
                f"{name}: no expected course yet; it starts at the second rating from "
                "one source (the counselor's, or their own check-in answers)."
            )
        return f"{name}: no expected course for these ratings."
    rating = nth_rating(judged.source or COUNSELOR, name, session)
    state = {
        Alert.ON_COURSE: f"{name} is on course",
        Alert.BELOW: f"{name} is below the expected course",
        Alert.WELL_BELOW: f"{name} is well below the expected course",
    }.get(Alert(judged.alert), f"{name}: {judged.alert}")
    well_below = judged.alert == Alert.WELL_BELOW
    if model.uses_fallback(str(judged.source)):
        line, times = (band.p10, "9 times in 10") if well_below else (band.p25, "3 times in 4")
        places = _places(score, [line])
        return (
            f"{state}: {shown(score, places)} at {rating}; without enough of the clinic's "
            f"own couples no change is expected, and a score unchanged since "
            f"{one_decimal(intake)} would read {shown(line, places)} or more {times}."
        )
    line, share = (band.p10, "9 in 10") if well_below else (band.p50, "half of")
    places = _places(score, [line])
    nearest = _outer_group(model, str(judged.source), intake)
    if nearest is None:
        return (
            f"{state}: {shown(score, places)} at {rating}, where {share} partners who "
            f"started near {shown(intake, 0)} are at {shown(line, places)} or more."
        )
    center, which = nearest
    moved = (line - intake) * (1.0 if model.higher_is_better else -1.0)
    if half_up(moved, 1) > 0:
        change = f"had improved by {one_decimal(moved)} points or more"
    elif half_up(moved, 1) < 0:
        change = f"had worsened by no more than {one_decimal(-moved)} points"
    else:
        change = "were no worse than where they started"
    return (
        f"{state}: {shown(score, places)} at {rating}, where {share} partners who started "
        f"near {shown(center, 0)}, the {which} starting group in the clinic's data, {change} "
        f"by then; from {name}'s {one_decimal(intake)} that is {shown(line, places)} or more."
    )


def _outer_group(model: ExpectedModel, source: str, intake: float) -> tuple[float, str] | None:
    """(the nearest intake group's median, "lowest" / "highest") when `intake` lies beyond
    the fitted groups' outer medians (expected_response holds their change flat there);
    None inside them."""
    curves = model.curves.get(source)
    if curves is None or not curves.centers:
        return None
    low, high = min(curves.centers), max(curves.centers)
    if intake < low:
        return low, "lowest"
    if intake > high:
        return high, "highest"
    return None


def expected_lines(
    data: TimelineData, trajectory: CoupleTrajectory, model: ExpectedModel | None
) -> tuple[str, ...]:
    """Each partner against their expected course, by name (expected_sentence): the
    timeline's header and the report's status; () without a model."""
    if model is None or trajectory.expected is None:
        return ()
    name_a, name_b = partner_names(data.partner_a, data.partner_b)
    alert = trajectory.expected
    return (
        expected_sentence(name_a, alert.partner_a, model),
        expected_sentence(name_b, alert.partner_b, model),
    )


def expected_workings(
    data: TimelineData, trajectory: CoupleTrajectory, model: ExpectedModel | None
) -> tuple[str, ...]:
    """Behind "How this was worked out": which model, the numbers each partner was judged
    on, and how each course used was calculated (ExpectedModel.method_text)."""
    if model is None or trajectory.expected is None:
        return ()
    alert = trajectory.expected
    names = partner_names(data.partner_a, data.partner_b)
    lines = [f"{EXPECTED_COURSE}: {model.label or 'model without a label'}."]
    numbers = expected_numbers(alert_columns(alert), names)
    if numbers:
        lines.append(numbers)
    sources = [p.source for p in (alert.partner_a, alert.partner_b) if p.source is not None]
    for source in dict.fromkeys(sources):
        lines.append(model.method_text(source))
    return tuple(lines)
