"""The synthetic demo clinic: users, couples and 18 months of sessions.

A demo is only as convincing as its data: the timelines, reliable-change bands, stage
bands, barrier heatmaps and supervisor attention lists all need couples that behave like
a real practice's. So every couple gets a latent trajectory (improving, stalled,
deteriorating, partners diverging, early dropout, just opened) and its ratings, stages,
barriers, habits, notes and validated-instrument totals (CSI-4, RDAS, SRS) are drawn
from it.

Deterministic: everything comes from `random.Random(seed)` and is anchored to `today`,
so the clinic always looks current and two loads with the same arguments are identical.
Instrument totals (and the SRS, and counselors' leave) come from generators of their own
derived from the seed, so the other rows of a given seed and day are what they would be
without them.
Every generated session goes through `validate_session`, so the demo can never hold a
record the app itself would refuse. Rows are written in bulk for speed (no per-row
service calls), which is why the validation is repeated here rather than inherited.
All names and notes are invented; no real client is behind any of them.

`load_clinic` builds the same kinds of couple at any size for the benchmarks (bench/):
any number of counselors, couples and sessions, a few long-running couples with an
exact number of sessions, written a chunk of couples at a time so memory stays flat.
`load_demo` and `load_clinic` share the per-couple machinery and the writer; the demo's
output for a given seed and day is unchanged by the scaled path.

Rooms: `people` (settings, names, notes, vocabulary), `plan` (the records a plan is
made of), `archetypes` (each couple's planned course and its sessions' content,
validated), `pace` (when sessions fall: gaps, breaks, where each course sits),
`leave` (the clinic's year-end closure and each counselor's leave, which session dates
skip), `questionnaires` (CSI-4 and RDAS totals), `alliance` (the SRS of the counselors
who use PCOMS; the demo clinic holds its licence), `notes` (session note text),
`scaled` (clinics of any size for the benchmarks), `writer` (bulk writes).
`from dashboard import demo` gives them all.
"""

from dashboard.demo.archetypes import *  # noqa: F403
from dashboard.demo.people import *  # noqa: F403
from dashboard.demo.scaled import *  # noqa: F403
from dashboard.demo.writer import *  # noqa: F403
