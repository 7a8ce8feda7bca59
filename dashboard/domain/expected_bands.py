"""One partner's expected course as a chart draws it: the bands at each of their ratings
from the judged source, from the 2nd on (domain/expected_response.py). Pure.

Why a room of its own: the timeline, the questionnaire panels and the PDF draw the same
bands; computing them once, beside the couple's own ratings, keeps the three alike and
the per-couple cost to a few array operations (bench target: a couple's course is at
most a fifth of its timeline load).

Like with like: the source judged is the one `same_source.same_source_pair` picks (the
latest rating's source with 2 ratings or more, else the other), exactly as
`expected_response.couple_alert` judges it, so the band drawn is the band the alert was
read against, and the alert here equals the couple alert's for that partner.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from dashboard.domain.expected_response import Alert, Band, ExpectedModel, alert
from dashboard.domain.expected_versions import EII, source_label
from dashboard.domain.same_source import SELF, same_source_pair

EII_MEASURE = EII  # the EII's measure key (instruments use their definition's key)


@dataclass(frozen=True)
class PartnerBands:
    """A partner's expected course on one measure ("eii" or an instrument key)."""

    partner: str  # "A" / "B"
    measure: str
    source: str  # same_source.COUNSELOR / SELF: whose ratings the course follows
    intake: float  # that source's first rating
    dates: tuple[pd.Timestamp, ...]  # the dates of that source's ratings 2, 3, ...
    bands: tuple[Band, ...]  # one per date: Band.session is the rating number
    scores: tuple[float, ...]  # the partner's score at each of those ratings
    label: str  # the model's label for the source followed: which version, or fallback and why
    higher_is_better: bool = True

    @property
    def own_answers(self) -> bool:
        """The course follows the partner's own check-in answers."""
        return self.source == SELF

    @property
    def alert(self) -> Alert:
        """The alert at the latest rating drawn (couple_alert's for this partner)."""
        if not self.bands:
            return Alert.NO_DATA
        return alert(self.bands[-1], self.scores[-1], higher_is_better=self.higher_is_better)


def partner_bands(
    partner: str,
    dates: Sequence[object],
    scores: Sequence[float],
    sources: Sequence[str],
    model: ExpectedModel,
) -> PartnerBands | None:
    """The bands behind one partner's line: `dates`, `scores` and `sources` are their
    rated values in date order. None with no same-source pair yet (nothing is expected
    before a second rating of one source) or no curve for that source in `model`."""
    if not scores:
        return None
    pair = same_source_pair(list(sources))
    if pair.source is None:
        return None
    mine = [
        (d, float(s))
        for d, s, src in zip(dates, scores, sources, strict=True)
        if src == pair.source
    ]
    bands = model.course(pair.source, mine[0][1], range(1, len(mine) + 1))
    if not bands:
        return None
    at = {b.session: b for b in bands}
    kept = [(k, d, s) for k, (d, s) in enumerate(mine, start=1) if k in at]
    return PartnerBands(
        partner=partner,
        measure=model.measure,
        source=pair.source,
        intake=mine[0][1],
        dates=tuple(pd.Timestamp(d) for _, d, _ in kept),
        bands=tuple(at[k] for k, _, _ in kept),
        scores=tuple(s for _, _, s in kept),
        label=source_label(model, pair.source),
        higher_is_better=model.higher_is_better,
    )
