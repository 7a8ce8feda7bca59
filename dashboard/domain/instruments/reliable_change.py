"""Reliable-change and cutoff parameters for an instrument, built like the EII's.

Kept beside the definitions (not in scoring) so scoring never imports the loader: the
instrument knows how its change is judged, scoring knows how to judge.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import replace

from dashboard.domain.instruments.loader import Instrument
from dashboard.domain.scoring import MIN_LOCAL_INTAKES, ReliableChangeParams


def instrument_params(
    instrument: Instrument, intake_totals: Sequence[float | None]
) -> ReliableChangeParams:
    """The same reliable-change and cutoff classification as EII, for an instrument.

    - published threshold (RDAS, ORS): used as is (threshold_override);
    - "derive locally" (CSI): SD of the clinic's intake totals with the published alpha,
      once there are 30 intakes; the file's documented default SD before that;
    - no reliable-change value (SRS): judged by the cutoff only, and describe() says so.
    The cutoff is always the published one from the definition file.
    """
    totals = [float(t) for t in intake_totals if t is not None]
    n = len(totals)
    base = ReliableChangeParams(
        sd=None,
        reliability=None,
        n=n,
        source="published",
        cutoff=instrument.cutoff,
        cutoff_method=instrument.cutoff_source or "from the definition file",
        scale=instrument.name,
    )
    method = instrument.reliable_change_method
    if method == "published":
        return replace(
            base,
            threshold_override=instrument.reliable_change_threshold,
            threshold_source=instrument.reliable_change_source,
            threshold_inclusive=instrument.reliable_change_inclusive,
        )
    if method == "derive locally":
        local = replace(
            base,
            reliability=instrument.reliability,
            reliability_source=instrument.reliability_source,
        )
        sd = statistics.stdev(totals) if n >= MIN_LOCAL_INTAKES else 0.0
        if sd > 0:
            return replace(local, sd=sd, source="locally derived")
        note = (
            f"only {n} intakes; {MIN_LOCAL_INTAKES} needed"
            if n < MIN_LOCAL_INTAKES
            else "intake totals do not vary"
        )
        return replace(local, sd=instrument.default_sd, source="default", note=note)
    return replace(base, note=instrument.reliable_change_note or "none published")
