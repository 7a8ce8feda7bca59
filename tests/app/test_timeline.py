"""The couple timeline on the demo clinic: each kind of couple reads differently."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from streamlit.testing.v1 import AppTest

from dashboard import demo
from dashboard.domain.catalog import Role
from db.engine import begin_write
from db.models import Couple, User
from tests.app.conftest import login, texts


@pytest.fixture
def showcase(db: Session) -> dict[str, int]:
    """The demo clinic; the demo counselor's showcase couples by kind, as couple ids."""
    summary = demo.load_demo(db, bcrypt_rounds=4)
    ids = {code: couple_id for code, couple_id in db.execute(select(Couple.case_code, Couple.id))}
    db.rollback()
    return {kind: ids[code] for kind, code in summary.showcase.items()}


def _shown(at: AppTest) -> str:
    """The page's words as a reader sees them: the markdown source without its escapes
    (names and the sentences that carry them are escaped mark by mark)."""
    return texts(at).replace("\\", "")


def _timeline(at: AppTest, couple_id: int) -> AppTest:
    at.switch_page("pages/timeline.py")
    at.query_params["couple"] = str(couple_id)
    return at.run()


# Each kind of couple: what its first lines say in plain words (regular expressions over
# the page text, since the demo's names vary), what "How this was worked out" says with
# the statistics (by name: never "Partner A"), and what must not appear. Which partner of the partners-diverging couple
# improves is drawn by the demo's seeded generator, so that case names neither.
KINDS = [
    (
        "improving",
        [
            r"\n[^\n]+: much better than at intake, a change larger than measurement noise, "
            r"now beyond the range typical of intakes at this clinic \(intake mean \+ 2 SD: "
            # The demo's check-ins are drawn over the six weeks before today: on some days
            # a partner's latest rating is their own check-in, and the sentence says so.
            r"\d+\.\d+\)(; not comparable yet: baseline rated by the counselor, latest "
            r"given in [^\n]+'s own check-in; judged on the counselor's ratings of [^\n]+)?"
            r"\.\s*\n[^\n]+: much better than at intake"
        ],
        ["clinically significant improvement"],
        ["Not on track", "Partners diverging"],
    ),
    (
        "stalled",
        [
            r"about the same as at intake: any change is within measurement noise",
            r"Not on track: nobody has improved beyond measurement noise after \d+ sessions "
            r"\(the rule looks after 8\)",
        ],
        ["no reliable change", "not on track: no reliable improvement after 8 sessions"],
        ["Partners diverging"],
    ),
    (
        "deteriorating",
        [
            r": worse than at intake, a change larger than measurement noise",
            r"Not on track: [^\n]+ is worse than at intake",
        ],
        ["reliable deterioration", " reliably deteriorated"],
        ["Partners diverging"],
    ),
    (
        "diverging",
        [
            r"Partners diverging: [^\n]+ is better while [^\n]+ is worse",
            r"were rated more than 20 points apart at each of the last 3 sessions",
        ],
        ["partners diverging: ", "more than 20 EII points apart"],
        [],
    ),
    (
        "regressed_twice",
        [r"the stage dropped twice in a row \(3 → 2 → 1\)"],
        ["stage regressed twice in a row (3 → 2 → 1)"],
        [],
    ),
    (
        "one_session",
        [
            r"rated at one session so far, the baseline; a second rated session is needed "
            r"to judge change\.",
            r"One jointly rated session so far: it is the baseline\.",
        ],
        ["baseline only"],
        ["Not on track"],
    ),
    (
        "no_sessions",
        [
            r": not rated yet; two rated sessions are needed to judge change\.",
            r"No sessions yet\. Log the first session",
        ],
        ["no ratings yet"],
        ["Not on track"],
    ),
]


TABS = {
    "Emotional Intimacy Index": "timeline",
    "Instrument totals": "instruments",
    "Items: intake and latest": "radar",
    "Barriers by session": "barriers",
    "Habit adherence": "adherence",
}


@pytest.mark.parametrize(("kind", "plain", "technical", "absent"), KINDS)
def test_each_kind_of_couple_reads_in_words(
    app,
    showcase: dict[str, int],
    kind: str,
    plain: list[str],
    technical: list[str],
    absent: list[str],
) -> None:
    at = _timeline(login(app(), demo.DEMO_COUNSELOR, demo.DEMO_PASSWORD), showcase[kind])
    assert not at.exception, at.exception
    page = _shown(at)
    for pattern in plain:
        assert re.search(pattern, page), (kind, pattern)
    [how] = [e for e in at.expander if e.label == "How this was worked out"]
    # As read: the markdown source without its escapes (S\_diff shows as S_diff).
    statistics = "\n".join(m.value for m in [*how.markdown, *how.caption]).replace("\\", "")
    for words in technical:
        assert words in statistics, (kind, words)
    assert "locally derived from" in statistics  # the method and its n are named
    assert "S_diff" in statistics and "α" in statistics and "cutoff" in statistics
    # Partners by name, each statistic said in words, and which norms were used.
    assert "Partner A" not in statistics and "Partner B" not in statistics
    name_a = at.title[0].value.split(" · ")[1].split(" & ")[0]
    assert f"{name_a}: " in statistics
    assert "S_diff (standard error of the difference) = SD × √2 × √(1 − r)" in statistics
    # The published version the figures came from (the demo loader publishes v1).
    assert re.search(
        r"Norms: EII's figures from clinic norms v1 of \d+ \w+ \d{4}, 198 intakes", statistics
    )
    # The demo's couples arrive alike (intake SD about 9): the EII's SD floor is in use.
    assert re.search(
        r"SD 15\.0 \(documented floor; this clinic's intake SD \d\.\d is smaller\)", statistics
    )
    assert re.search(
        r"α 0\.\d\d \(from \d+ intakes rated on every item: \d+ by the counselor, \d+ self-reported\)",
        statistics,
    )
    if kind not in ("one_session", "no_sessions"):
        assert re.search(r"RCI −?\d", statistics), kind  # − is U+2212
    # The first lines themselves carry no statistics: they are one click away.
    [status] = [m.value for m in at.markdown if "As a couple" in m.value]
    assert "RCI" not in status and "S_diff" not in status and "Partner A" not in status
    for words in absent:
        assert words not in page, (kind, words)
    # One chart at a time: the tab in view. Each tab, opened, draws its own.
    if kind == "no_sessions":
        assert not at.get("plotly_chart")
        return
    for label, key in TABS.items():
        at.session_state["timeline_tab"] = label
        at.run()
        assert [c.key for c in at.get("plotly_chart")] == [f"chart_{key}"], label
        # Its table view is drawn once opened.
        assert not at.dataframe, label
        at.session_state[f"table_{key}"] = True
        at.run()
        assert len(at.dataframe) == 1 and len(at.dataframe[0].value.columns) >= 2, label


def test_supervisor_reads_the_timeline_read_only(app, showcase: dict[str, int]) -> None:
    at = _timeline(login(app(), demo.DEMO_SUPERVISOR, demo.DEMO_PASSWORD), showcase["stalled"])
    page = texts(at)
    assert "Read-only: you are reviewing this couple." in page
    assert "not on track: no reliable improvement after 8 sessions" in page
    assert not any(b.label in {"Save session", "Save changes"} for b in at.button)
    empty = _timeline(
        login(app(), demo.DEMO_SUPERVISOR, demo.DEMO_PASSWORD), showcase["no_sessions"]
    )
    assert "No sessions yet." in texts(empty)
    assert not any(link.label == "Log the first session" for link in empty.get("page_link"))


def test_another_counselor_cannot_open_it(app, showcase: dict[str, int]) -> None:
    at = _timeline(login(app(), "c.haddad", demo.DEMO_PASSWORD), showcase["improving"])
    page = texts(at)
    assert "This couple is not in your caseload." in page
    assert not at.get("plotly_chart")
    assert "locally derived" not in page


def test_a_typed_name_reads_as_typed(app, db: Session, showcase: dict[str, int]) -> None:
    """A partner's name is text a person typed: no emoji, icon, colour or emphasis forms
    from it, in the title or in the sentences that carry it."""
    typed = ":smile: *Bo* :red[x] &amp;"
    begin_write(db)
    couple = db.get(Couple, showcase["improving"])
    assert couple is not None
    couple.partner_b_name = typed
    db.commit()
    at = _timeline(login(app(), demo.DEMO_COUNSELOR, demo.DEMO_PASSWORD), showcase["improving"])
    assert not at.exception, at.exception
    escaped = "\\:smile\\: \\*Bo\\* \\:red\\[x\\] \\&amp\\;"
    assert escaped in at.title[0].value
    [status] = [m.value for m in at.markdown if "As a couple" in m.value]
    assert f"{escaped}\\: much better than at intake" in status
    assert ":smile:" not in status and "*Bo*" not in status
    assert f"{typed}: much better than at intake" in _shown(at)


def test_the_report_box_offers_a_one_page_summary_without_notes(
    app, showcase: dict[str, int]
) -> None:
    at = _timeline(login(app(), demo.DEMO_COUNSELOR, demo.DEMO_PASSWORD), showcase["improving"])
    at.session_state["report_box"] = True  # the expander's click
    at.run()
    kind = next(r for r in at.radio if r.key == f"report_kind_{showcase['improving']}")
    assert kind.options == ["Full report", "One-page summary (status, timeline, questionnaires)"]
    assert [c.label for c in at.checkbox] == ["Include session notes (DAP)"]
    kind.set_value("One-page summary (status, timeline, questionnaires)").run()
    assert not at.exception
    assert [c.label for c in at.checkbox] == []  # a summary never carries notes
    assert any(b.label == "Prepare the PDF" for b in at.button)


def test_a_closed_couples_timeline_says_it_is_closed(app, db: Session) -> None:
    """A closed couple must not look like an open one: the date and the reason, under
    the name; an active couple's page has no such line."""
    demo.load_demo(db, bcrypt_rounds=4)
    rivera = db.scalar(select(User.id).where(User.username == demo.DEMO_COUNSELOR))
    closed = db.scalars(
        select(Couple).where(Couple.counselor_id == rivera, Couple.closing_reason == "goals_met")
    ).first()
    active = db.scalar(
        select(Couple.id).where(Couple.counselor_id == rivera, Couple.status == "active")
    )
    assert closed is not None and closed.status_changed_at is not None and active is not None
    changed = closed.status_changed_at.date()
    expected = f"Closed {changed.day} {changed:%b %Y} (Goals met)"
    closed_id = closed.id
    db.rollback()
    at = _timeline(login(app(), demo.DEMO_COUNSELOR, demo.DEMO_PASSWORD), closed_id)
    assert not at.exception, at.exception
    assert expected in [c.value for c in at.caption]
    at = _timeline(login(app(), demo.DEMO_COUNSELOR, demo.DEMO_PASSWORD), active)
    assert not any(c.value.startswith(("Closed", "Paused")) for c in at.caption)


def _rivera_results(db: Session) -> tuple[list[tuple], list[tuple]]:
    """Demo counselor's couples' questionnaire results, (couple id, instrument, partner
    name) each: those that disagree with the partner's index result, and those that
    agree (both judged)."""
    from dashboard.services import timeline
    from dashboard.services.actor import Actor
    from db.models import User as UserRow

    user = db.scalar(select(UserRow).where(UserRow.username == demo.DEMO_COUNSELOR))
    assert user is not None
    actor = Actor(user.id, user.username, user.display_name, Role(user.role))
    disagree, agree = [], []
    for couple_id in db.scalars(select(Couple.id).where(Couple.counselor_id == user.id)):
        view = timeline.timeline_view(db, actor, couple_id, record_view=False)
        data, trajectory = view.data, view.trajectory
        index = {"A": trajectory.partner_a.change, "B": trajectory.partner_b.change}
        for (code, partner), change in view.instrument_changes.items():
            if index[partner] is None or change.status is None or index[partner].status is None:
                continue
            row = (couple_id, data.instrument_scales[code].name, data.partner_name(partner))
            (agree if change.status is index[partner].status else disagree).append(row)
    db.rollback()
    return disagree, agree


def test_a_questionnaire_that_disagrees_with_the_index_says_why(app, db: Session) -> None:
    """The issue's case (C-2026-0019: a CSI-4 total 'reliable deterioration' beside an
    index 'about the same'): the instrument tab says the result in words, by name, with
    one sentence on why the two can differ; only where they do."""
    demo.load_demo(db, bcrypt_rounds=4)
    disagree, agree = _rivera_results(db)
    assert disagree and agree  # the demo has both
    couple_id, instrument, name = disagree[0]
    at = _timeline(login(app(), demo.DEMO_COUNSELOR, demo.DEMO_PASSWORD), couple_id)
    at.session_state["timeline_tab"] = "Instrument totals"
    at.run()
    assert not at.exception, at.exception
    page = _shown(at)
    sentence = f"The index (EII) says {name} is "
    assert sentence in page
    assert f"both can be right: the {instrument} asks {name} about the whole relationship" in page
    assert "own margin of error" in page
    # Words by name on the tab itself; the statistics behind the click.
    assert f"{instrument}, {name}:" in page
    assert "partner A" not in page and "partner B" not in page
    [how] = [e for e in at.expander if e.label == "How the questionnaire results were worked out"]
    statistics = "\n".join(m.value for m in [*how.markdown, *how.caption]).replace("\\", "")
    [line] = [x for x in statistics.splitlines() if x.startswith(f"{instrument}, {name}: ")]
    assert re.search(r"\((RCI −?\d|[+−]\d[\d.]* points)", line), line  # its statistic
    assert "S_diff" in statistics and "Cronbach's α" in statistics
    assert f"Norms: {instrument}'s " in statistics  # which norms the result used
    # Outside the two "How ... worked out" boxes, no statistics.
    outside = page
    for box in at.expander:
        if "worked out" in box.label:
            for m in [*box.markdown, *box.caption]:
                for text in m.value.replace("\\", "").split("  \n"):
                    outside = outside.replace(text, "")
    assert "RCI" not in outside and "S_diff" not in outside
    # A questionnaire that agrees with the index has no such sentence.
    agreeing = {c for c, _, _ in agree} - {c for c, _, _ in disagree}
    if agreeing:
        at = _timeline(login(app(), demo.DEMO_COUNSELOR, demo.DEMO_PASSWORD), min(agreeing))
        at.session_state["timeline_tab"] = "Instrument totals"
        at.run()
        assert "The index (EII) says" not in _shown(at)


def _log(db: Session, clinic, day, sign_a: int, warning_a: int) -> None:  # type: ignore[no-untyped-def]
    from datetime import date

    from dashboard.domain.catalog import INDICATORS
    from dashboard.domain.validation import SessionInput
    from dashboard.services import sessions

    a = {i.key: (warning_a if i.reverse_scored else sign_a) for i in INDICATORS}
    sessions.log_session(
        db,
        clinic.counselor,
        clinic.couple_id,
        SessionInput(
            session_date=day,
            duration_minutes=50,
            format="in_person",
            attendance="both",
            note_data="They talked.",
            note_assessment="Distance.",
            note_plan="Weekly check-in.",
            stage=2,
            ratings={"A": a, "B": {i.key: 5 for i in INDICATORS}},
        ),
        today=date(2026, 11, 1),
    )


def test_the_expected_course_warns_below_and_flags_well_below(app, db: Session, clinic) -> None:  # type: ignore[no-untyped-def]
    """Alex 52.5 → 42.5 ((5 × 5 + 3 × 3) / 8 × 10): 10 points down, under the fallback's
    25th percentile (52.5 − 0.6745 × 9.487 = 46.1; documented defaults: fewer than 30
    intakes) but over its 10th (52.5 − 12.16 = 40.3): an orange warning, not a flag.
    A third session at 36.25 (signs 4, warnings 7: (5 × 4 + 3 × 3) / 8 × 10) is under
    the 10th: not on track, by name, before any reliable change (16.25 points down; the
    line is 1.96 × 9.487 = 18.59)."""
    from datetime import date

    _log(db, clinic, date(2026, 3, 2), 6, 6)  # (5 × 6 + 3 × 4) / 8 × 10 = 52.5
    _log(db, clinic, date(2026, 3, 9), 5, 7)  # 42.5
    at = _timeline(login(app(), "cara.couns"), clinic.couple_id)
    assert not at.exception, at.exception
    page = _shown(at)
    assert ":orange-badge[Below expected course]" in page and "Not on track" not in page
    assert (
        "Alex is below the expected course: 42.5 at the counselor's 2nd rating; without "
        "enough of the clinic's own couples no change is expected, and a score unchanged "
        "since 52.5 would read 46.1 or more 3 times in 4." in page
    )
    _log(db, clinic, date(2026, 3, 16), 4, 7)  # (5 × 4 + 3 × 3) / 8 × 10 = 36.25
    at = _timeline(login(app(), "cara.couns"), clinic.couple_id)
    page = _shown(at)
    assert ":red-badge[Not on track]" in page and "Below expected course" not in page
    assert (
        "Not on track: Alex is well below the expected course at the counselor's 3rd rating."
        in page
    )
    # The numbers, one click away.
    [how] = [e for e in at.expander if e.label == "How this was worked out"]
    behind = "\n".join(m.value for m in [*how.markdown, *how.caption]).replace("\\", "")
    assert (
        "Alex: 36.3 at the counselor's 3rd rating, well below expected; expected there: 10th "
        "percentile 40.3" in behind
    )
    assert "Rational fallback:" in behind
