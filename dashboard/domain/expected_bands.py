"""One partner's expected course as a chart draws it: the bands at each of their ratings
from the judged source, from the 2nd on (domain/expected_response.py). Pure.

Why a room of its own: the timeline, the questionnaire panels and the PDF draw the same
bands; computing them once, beside the couple's own ratings, keeps the three alike and
the per-couple cost to a few array operations (bench target: a couple's course is at
most a fifth of its timeline load).

Like with like: the source judged is the one `same_source.same_source_pair` picks (the
latest rating's source with 2 ratings or more, else the other), exactly as
`expected_response.couple_alert` judges it, so the band drawn is the band the alert was
read against (tests/unit/test_expected_charts.py proves the alert at the latest band
equals the couple alert's for that partner).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from dashboard.domain.expected_response import Band, ExpectedModel
from dashboard.domain.expected_versions import EII, source_label
from dashboard.domain.same_source import SELF, same_source_pair

EII_MEASURE = EII  # the EII's measure key (instruments use their definition's key)


@dataclass(frozen=True)
class PartnerBands:
    """A partner's expected course on one measure ("eii" or an instrument key)."""

    partner: str  # "A" / "B"
    measure: str
    source: str  # same_source.COUNSELOR / SELF: whose ratings the course follows
    intake: float  # that source's first rating (not the couple's intake session's)
    dates: tuple[pd.Timestamp, ...]  # the dates of that source's ratings 2, 3, ...
    bands: tuple[Band, ...]  # one per date: Band.session is the rating number
    scores: tuple[float, ...]  # the partner's score at each of those ratings
    label: str  # the model's label for the source followed: which version, or fallback and why
    # The sessions of those ratings, one per band: a table row finds its band by session,
    # never by date (two sessions can share a day).
    session_ids: tuple[int, ...]
    first_session_id: int  # the source's first rating: what the course starts from
    # This partner's ratings from the other source: on the same line, but not judged
    # against this band (like with like).
    other_session_ids: tuple[int, ...]
    higher_is_better: bool = True

    @property
    def own_answers(self) -> bool:
        """The course follows the partner's own check-in answers."""
        return self.source == SELF


def partner_bands(
    partner: str,
    dates: Sequence[object],
    scores: Sequence[float],
    sources: Sequence[str],
    model: ExpectedModel,
    session_ids: Sequence[int],
) -> PartnerBands | None:
    """The bands behind one partner's line: `dates`, `scores`, `sources` and
    `session_ids` are their rated values in date order. None with no same-source pair yet
    (nothing is expected before a second rating of one source) or no curve for that
    source in `model`."""
    if not scores:
        return None
    pair = same_source_pair(list(sources))
    if pair.source is None:
        return None
    rows = list(zip(dates, scores, sources, session_ids, strict=True))
    mine = [(d, float(s), sid) for d, s, src, sid in rows if src == pair.source]
    bands = model.course(pair.source, mine[0][1], range(1, len(mine) + 1))
    if not bands:
        return None
    at = {b.session: b for b in bands}
    kept = [(k, d, s, sid) for k, (d, s, sid) in enumerate(mine, start=1) if k in at]
    return PartnerBands(
        partner=partner,
        measure=model.measure,
        source=pair.source,
        intake=mine[0][1],
        dates=tuple(pd.Timestamp(d) for _, d, _, _ in kept),
        bands=tuple(at[k] for k, _, _, _ in kept),
        scores=tuple(s for _, _, s, _ in kept),
        label=source_label(model, pair.source),
        higher_is_better=model.higher_is_better,
        session_ids=tuple(int(sid) for _, _, _, sid in kept),
        first_session_id=int(mine[0][2]),
        other_session_ids=tuple(int(sid) for _, _, src, sid in rows if src != pair.source),
    )
