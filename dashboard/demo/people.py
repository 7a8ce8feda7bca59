"""The demo's people and words: settings, names, notes and barrier vocabulary
(every name is synthetic)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from dashboard.domain.catalog import (
    Role,
)

DEMO_PASSWORD = "bondline-demo"


@dataclass(frozen=True)
class DemoUser:
    username: str
    display_name: str
    role: Role


DEMO_USERS: tuple[DemoUser, ...] = (
    DemoUser("admin", "Morgan Ellis", Role.ADMIN),
    DemoUser("sup.okafor", "Grace Okafor", Role.SUPERVISOR),
    DemoUser("sup.lindqvist", "Erik Lindqvist", Role.SUPERVISOR),
    DemoUser("c.rivera", "Dana Rivera", Role.COUNSELOR),
    DemoUser("c.nakamura", "Kenji Nakamura", Role.COUNSELOR),
    DemoUser("c.haddad", "Layla Haddad", Role.COUNSELOR),
    DemoUser("c.obrien", "Siobhán O'Brien", Role.COUNSELOR),
    DemoUser("c.mensah", "Kwame Mensah", Role.COUNSELOR),
    DemoUser("c.kowalski", "Marta Kowalski", Role.COUNSELOR),
)
DEMO_ADMIN = "admin"
DEMO_SUPERVISOR = "sup.okafor"
DEMO_COUNSELOR = "c.rivera"
# counselor -> supervisor: three each.
DEMO_SUPERVISION: dict[str, str] = {
    "c.rivera": "sup.okafor",
    "c.nakamura": "sup.okafor",
    "c.haddad": "sup.okafor",
    "c.obrien": "sup.lindqvist",
    "c.mensah": "sup.lindqvist",
    "c.kowalski": "sup.lindqvist",
}

HISTORY_DAYS = 548  # 18 months
TARGET_SESSIONS = (885, 915)  # the total is steered into this range
# The demo counselor's caseload is fixed so a demo always shows a full one; the other
# sizes are shuffled among the other counselors by the seed (total 100). A caseload
# here is every couple the counselor has had in 18 months, most of them closed.
DEMO_COUNSELOR_CASELOAD = 20
OTHER_CASELOADS = (22, 18, 16, 13, 11)


class Archetype(StrEnum):
    """The latent course of a couple's therapy, which the data is drawn from."""

    IMPROVING = "improving"
    STALLED = "stalled"
    DETERIORATING = "deteriorating"
    SPLIT = "diverging"
    DROPOUT = "early_dropout"
    NEW = "just_opened"


# Couples per archetype (100 in all), close to what outpatient couples work reports:
# - about 30 % stop after 1-3 sessions (dropout in couple therapy runs 20-50 %);
# - about half of those who stay improve, a third show no reliable change, and 5-10 %
#   of partners reliably deteriorate;
# - median 6-12 sessions a couple.
# With about 900 sessions over 18 months, 100 couples is the steady intake (1.3 a week)
# that gives a level weekly volume; 60 couples could not have both.
ARCHETYPE_COUNTS: dict[Archetype, int] = {
    Archetype.IMPROVING: 47,
    Archetype.STALLED: 13,
    Archetype.DETERIORATING: 4,
    Archetype.SPLIT: 4,
    Archetype.DROPOUT: 30,
    Archetype.NEW: 2,
}
# What became of each kind by today, as (status, closing reason) counts; the rest of the
# kind is active. Couples mid-course are active; most who started a year ago are done.
# Dropouts who stopped recently are still open (the counselor has not closed them yet).
STATUS_MIX: dict[Archetype, dict[tuple[str, str | None], int]] = {
    Archetype.IMPROVING: {
        ("closed", "goals_met"): 20,
        ("closed", "mutual_decision"): 4,
        ("closed", "referred"): 1,
        ("closed", "dropped_out"): 2,
        ("paused", None): 1,
    },
    Archetype.STALLED: {
        ("closed", "mutual_decision"): 3,
        ("closed", "referred"): 2,
        ("closed", "dropped_out"): 3,
        ("paused", None): 1,
    },
    Archetype.DETERIORATING: {
        ("closed", "separated"): 1,
        ("closed", "referred"): 1,
    },
    Archetype.SPLIT: {
        ("closed", "separated"): 1,
        ("closed", "mutual_decision"): 1,
        ("paused", None): 1,
    },
    Archetype.DROPOUT: {("closed", "dropped_out"): 24},
}
# Planned session rows (held or not) of a whole course, before the total is steered. A
# couple still mid-course has held only the first part of it so far.
SESSION_RANGE: dict[Archetype, tuple[int, int]] = {
    Archetype.IMPROVING: (7, 18),
    Archetype.STALLED: (9, 16),
    Archetype.DETERIORATING: (8, 14),
    Archetype.SPLIT: (9, 15),
    Archetype.DROPOUT: (1, 3),
    Archetype.NEW: (0, 1),
}
SESSION_MIN = 6  # steering never shortens a whole course below this
# Couples who end partway through their planned course, after 4-8 sessions: they stop
# coming, decide together to stop, or are referred on. Every closed couple of these kinds
# who stopped coming does; of the others, this share (the rest end after a full course).
EARLY_END_SESSIONS = (5, 10)  # session rows, of which 4-8 are usually held
EARLY_END_SHARE: dict[str, float] = {"dropped_out": 1.0, "mutual_decision": 0.4, "referred": 0.4}
# A brief course: some improving couples meet their goals in 5-8 sessions.
BRIEF_COURSES = 3
BRIEF_SESSIONS = (6, 9)
# The stalled showcase's sessions: "no reliable improvement after 8 sessions" must apply
# (9+ held), with room for a no-show or two.
SHOWCASE_STALLED_MIN = 13
SESSION_MAX = 24
GOALS_MET_EXTRA = (2, 5)  # couples who close with their goals met finished the work
# A couple's pace (archetypes._intervals): the share of sessions moved off the booked slot,
# and by how many days; the share of gaps with a missed week, and with a break of 3-5
# weeks; no two sessions of a couple closer than PACE_SHORTEST days (same-day pairs aside).
PACE_MOVED = 0.25
PACE_MOVES = (-3, -2, -1, 1, 2, 3, 4)
PACE_MISSED = 0.08
PACE_BREAK = 0.05
PACE_SHORTEST = 5
# Kinds whose active couples are mid-course (the showcase couples excepted, which are
# near the end of theirs so that their pattern shows).
MID_COURSE = (Archetype.IMPROVING, Archetype.STALLED, Archetype.DETERIORATING, Archetype.SPLIT)

# Validated instruments (DOMAIN.md). The free ones: most couples fill in the CSI-4; some
# also the RDAS. The clinic also holds the licence for the SRS (dashboard/demo/alliance.py).
CSI4, RDAS = "csi4", "rdas"
# Share of the couples with sessions who complete each one (the demo counselor's watched
# couples always complete the CSI-4, and the improving one the RDAS too).
INSTRUMENT_SHARE: dict[str, float] = {CSI4: 0.7, RDAS: 0.2}
# Held sessions between administrations, after the intake one.
INSTRUMENT_EVERY: dict[str, tuple[int, int]] = {CSI4: (3, 5), RDAS: (5, 7)}
# A total follows the partner's latent EII level: intercept + slope * level, plus the
# partner's own response style (sd, fixed for the course) and session noise (sd). So a
# latent 35 gives a distressed CSI-4 near 9 and a latent 63 one near 16 (cutoff 13.5);
# for the RDAS, near 39 and 53 (cutoff 47.31).
INSTRUMENT_COURSE: dict[str, tuple[float, float, float, float]] = {
    CSI4: (0.0, 0.25, 1.8, 1.3),
    RDAS: (22.0, 0.5, 3.5, 2.5),
}
# The SRS (dashboard/demo/alliance.py): the clinic holds its licence; these counselors use
# PCOMS and ask each partner for it at most held sessions. A partner's own level is drawn
# around SRS_LEVEL (sd SRS_SPREAD) and each session's total around it (sd SRS_NOISE).
SRS = "srs"
PCOMS_COUNSELORS = ("c.rivera", "c.haddad")
SRS_RECORDED = 0.85
SRS_LEVEL, SRS_SPREAD, SRS_NOISE = 38.0, 1.0, 0.6
# The demo counselor's couple whose SRS shows a split alliance: the stalled one (a partner
# who does not feel heard by the counselor is a common reason a course stalls).
SRS_SPLIT_SHOWCASE = "stalled"
SPLIT_ALLIANCE = "split_alliance"  # its second name in DemoSummary.showcase
INSTRUMENT_SKIP = 0.05  # a partner now and then leaves a due questionnaire blank
# Showcase couples that keep no instrument totals (their timelines show the empty states).
SHOWCASE_WITHOUT_INSTRUMENTS = ("one_session", "no_sessions")
SHOWCASE_INSTRUMENT_VISITS = 3  # each partner's CSI-4 totals, at least, on a showcase couple

# ---------------------------------------------------------------------------------------
# Vocabulary (from the seed article; every name is synthetic)
# ---------------------------------------------------------------------------------------

FIRST_NAMES: tuple[str, ...] = (
    "Zoë", "Chloé", "Inés", "José", "Søren", "Björn", "Małgorzata", "Łukasz", "Renée",
    "Dorothée", "Çağla", "Gökhan", "Siân", "Bríd", "Aoife", "Niamh", "Seán", "Eoghan",
    "Joaquín", "Begoña", "Nuria", "Fátima", "João", "Conceição", "Thảo", "Minh", "Ngozi",
    "Chidi", "Amara", "Kwabena", "Abena", "Tendai", "Nomvula", "Thandiwe", "Sipho", "Priya",
    "Arjun", "Ananya", "Rohan", "Meera", "Farhan", "Aisha", "Yusuf", "Leyla", "Emre",
    "Dilara", "Omid", "Shirin", "Yael", "Noam", "Tamar", "Hana", "Kenta", "Yuki", "Haruto",
    "Aiko", "Ji-woo", "Min-jun", "Seo-yeon", "Wei", "Mei", "Jun", "Lan", "Tala", "Malia",
    "Ana", "Luis", "Camila", "Mateo", "Valentina", "Santiago", "Isabela", "Gabriel", "Léa",
    "Théo", "Maëlle", "Noé", "Anaïs", "Jürgen", "Käthe", "Lena", "Felix", "Mila", "Emil",
    "Astrid", "Freja", "Linnea", "Oskar", "Åsa", "Ørjan", "Elif", "Sofía", "Zofia", "Piotr",
    "Nikolai", "Daria", "Mirela", "Dragan", "Ivana", "Eleni", "Nikos", "Sam", "Alex",
    "Jordan", "Riley", "Jamie", "Robin", "Kai", "Rowan", "Maya", "Noah", "Liam", "Emma",
    "Olivia", "Ethan", "Hamish", "Isla", "Callum", "Tomás", "Ilse", "Rafael", "Ayşe",
)  # fmt: skip
INITIALS = "ABCDEFGHIJKLMNOPRSTVWYZ"

TOPICS: tuple[str, ...] = (
    "money and spending", "a new baby", "caring for an ageing parent", "a recent move",
    "long work hours", "visits from in-laws", "sharing household chores", "planning a wedding",
    "a job loss", "returning to study", "phones at the dinner table", "shift work",
    "a long-distance stretch", "parenting a teenager", "a blended family",
    "fertility treatment", "a health scare", "starting a business", "holidays with family",
    "a past affair",
)  # fmt: skip

CONCERNS: tuple[str, ...] = (
    "Growing silence and short answers since {topic}; both say they feel like flatmates.",
    "{A} feels unseen and misunderstood since {topic}; {B} describes emotional coldness at home.",
    "Arguments about {topic} escalate fast: interrupting, then shutting down for days.",
    "Trust shaken around {topic}; {A} is hesitant to open up again.",
    "Constant busyness ({topic}) and burnout have pulled them apart; little time without distractions.",
    "{B} says old pain from a previous relationship resurfaces when they argue about {topic}.",
    "Emotional coldness and tension for about {months} months; conversations limited to logistics.",
)
GOALS: tuple[str, ...] = (
    "Talk honestly about {topic} without shutting down.",
    "Feel seen again; a weekly check-in without phones.",
    "Handle conflict with care: pause instead of interrupting.",
    "Offer emotional support during stressful weeks instead of criticism.",
    "Celebrate each other's wins again.",
    "Rebuild trust so both can share fears without judgment.",
    "Balance closeness with independence as {topic} settles.",
)

DATA_JOINT: tuple[str, ...] = (
    "Both attended. Discussed {topic}. {X} described {feeling}; {Y} {response}.",
    "Both attended. Talked through last week's argument about {topic}. {X} {behaviour}.",
    "Both present. {X} opened with {feeling}; {Y} {response}.",
    "Joint session on {topic}. {Y} described {feeling}; {X} {response}.",
    "Both attended. Most of the hour on {topic}; {X} {behaviour}.",
)
FEELINGS: tuple[str, ...] = (
    "feeling unseen when plans change at short notice",
    "growing silence in the evenings",
    "wanting thanks for the invisible work at home",
    "worry about money that goes unspoken",
    "fear of being judged when sharing past pain",
    "relief after an honest talk at the weekend",
    "a small moment of comfort: a walk without phones",
    "feeling more like a flatmate than a partner",
    "missing the laughter they used to share",
    "pride at handling a disagreement calmly",
    "tension that builds when work runs late",
)
RESPONSES: tuple[str, ...] = (
    "listened without interrupting",
    "became defensive, then apologised",
    "went quiet and gave short answers",
    "said they felt the same way",
    "offered comfort instead of criticism",
    "changed the subject twice",
    "reflected back what they heard",
    "was surprised and asked questions",
)
BEHAVIOURS: tuple[str, ...] = (
    "interrupted several times before pausing",
    "shut down for a few minutes, then came back to the conversation",
    "used the pause signal agreed last time",
    "raised their voice; a short break helped",
    "stayed curious and asked follow-up questions",
    "shared a fear for the first time in session",
    "kept to logistics and avoided feelings",
)
ASSESSMENTS: dict[str, tuple[str, ...]] = {
    "up": (
        "Conversations feel lighter than at intake; conflict handled with more care.",
        "{X} received empathy instead of judgment when sharing a fear.",
        "Comfort replacing criticism during a stressful week.",
        "Both more willing to risk vulnerability; trust is building.",
        "Celebrating each other's wins again; warmth returning.",
    ),
    "flat": (
        "Little change since last month; the same pursue-and-withdraw pattern.",
        "Engaged in session, but homework not carried into the week.",
        "Comfortable in light conversation; vulnerable topics still avoided.",
        "Some good moments, no steady change yet.",
    ),
    "down": (
        "Emotional coldness and tension more marked than at intake.",
        "Growing silence at home; both describe feeling misunderstood.",
        "Less willing to open up after last week's argument.",
        "Short answers and withdrawal in session; hope is low.",
    ),
    "split": (
        "{X} reports feeling more seen; {Y} describes growing distance. Accounts of the week diverge.",
        "{X} is engaged and hopeful; {Y} feels unseen and is pulling back.",
        "Partners' views of progress differ sharply: {X} positive, {Y} discouraged.",
    ),
    "setback": (
        "Setback this week around {topic}; old patterns returned.",
        "Stress around {topic} pulled them apart this week; not yet a lasting change.",
    ),
}
BARRIER_NOTES: dict[str, tuple[str, ...]] = {
    "fear_of_vulnerability": (
        "Holds back after past heartbreak",
        "Hesitant to share fears",
        "Deflects with jokes when topics get close",
        "Worried about being judged",
    ),
    "poor_communication": (
        "Interrupting during tough talks",
        "Shuts down when voices rise",
        "Ignores bids to talk",
        "Stonewalling over text messages",
    ),
    "unresolved_trauma": (
        "Old pain from a previous relationship",
        "Childhood rejection resurfaces",
        "Startles at raised voices",
        "Trust wounds from family of origin",
    ),
    "stress_distraction": (
        "Work deadlines, little time together",
        "Burnout after night shifts",
        "Phones at dinner",
        "New baby, little sleep",
        "Caring for a parent",
    ),
}
# Habits that answer a barrier are assigned more often while it is tagged.
HABITS_FOR_BARRIER: dict[str, tuple[str, ...]] = {
    "poor_communication": ("empathic_listening", "open_communication"),
    "fear_of_vulnerability": ("open_communication", "stay_curious"),
    "unresolved_trauma": ("empathic_listening", "closeness_independence"),
    "stress_distraction": ("daily_appreciation", "closeness_independence", "stay_curious"),
}
ADHERENCE_WORDS = {0: "not attempted", 1: "tried once or twice", 2: "mostly done", 3: "done fully"}
AWAY_REASONS: tuple[str, ...] = (
    "was travelling for work",
    "was unwell",
    "could not get childcare",
    "was held up at work",
    "stayed home by agreement",
)
PRIVATE_NOTES: tuple[str, ...] = (
    "{X} disclosed feeling close to leaving and unsure how to say it.",
    "{X} shared shame about debts {Y} does not know about.",
    "{X} described old pain from a previous relationship that surfaces in arguments.",
    "{X} wants to work on childhood experiences before bringing them to joint sessions.",
    "{X} feels unseen but is afraid that raising it will start a fight.",
)
NO_SHOW_NOTES: tuple[str, ...] = (
    "No-show: neither partner attended; voicemail left to reschedule.",
    "No-show; a reminder had been sent. Will call to rebook.",
    "Neither partner arrived; later said they had the wrong week.",
)
CANCEL_NOTES: tuple[str, ...] = (
    "Client cancelled 2 h before (childcare).",
    "Cancelled the day before: {X} unwell.",
    "Cancelled by {Y}: work emergency.",
    "Cancelled the same morning; rebooked for next week.",
)
SAFETY_NOTES: tuple[str, ...] = (
    "{X} described shouting during an argument about {topic}; no physical harm reported. "
    "Safety plan reviewed; both agreed to take a break when voices rise.",
    "{X} said they sometimes feel hopeless; screened for risk, no intent or plan. "
    "Crisis line shared; follow up next session.",
    "Heavy drinking mentioned by {X} after arguments; discussed risks and local support.",
    "{X} feels afraid when {Y} blocks the doorway during arguments; individual safety "
    "check booked.",
)
PAUSE_NOTES: tuple[str, ...] = (
    "Paused while {X} works abroad for two months.",
    "Paused at the couple's request during a house move.",
    "Paused: {Y} in hospital; will resume when ready.",
)
CLOSE_NOTES: dict[str, str] = {
    "goals_met": "Goals met; booster session offered in three months.",
    "mutual_decision": "Agreed to end for now; door left open.",
    "referred": "Referred for individual therapy before continuing couple work.",
    "dropped_out": "Two attempts to contact; no reply.",
    "separated": "Couple decided to separate; individual support offered to both.",
}
