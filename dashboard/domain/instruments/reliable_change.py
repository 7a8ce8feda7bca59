"""Reliable-change and cutoff parameters for an instrument, built like the EII's.

Kept beside the definitions (not in scoring) so scoring never imports the loader: the
instrument knows how its change is judged, scoring knows how to judge.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import replace

from dashboard.domain.instruments.loader import Instrument
from dashboard.domain.numbers import one_decimal
from dashboard.domain.scoring import MIN_LOCAL_INTAKES, ReliableChangeParams


def instrument_params(
    instrument: Instrument, intake_totals: Sequence[float | None]
) -> ReliableChangeParams:
    """The same reliable-change and cutoff classification as EII, for an instrument.

    - published threshold (RDAS, ORS): used as is (threshold_override);
    - "derive locally" (CSI): SD of the clinic's intake totals with the published alpha,
      once there are 30 intakes; the file's documented default SD before that, and
      whenever the clinic's SD is smaller (the default is also the floor);
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
        cutoff_meaning=instrument.cutoff_meaning,
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
        floor = instrument.default_sd
        if sd > 0 and (floor is None or sd >= floor):
            return replace(local, sd=sd, source="locally derived", local_sd=sd)
        if n < MIN_LOCAL_INTAKES:
            note = f"only {n} intakes; {MIN_LOCAL_INTAKES} needed"
        elif sd == 0:
            note = "intake totals do not vary"
        else:
            # A clinic whose couples arrive alike has a small intake SD, and alpha .94
            # then calls a 3-point CSI-4 wobble reliable: the band never goes below the
            # documented SD (issue 11: "never narrower than the instrument's precision").
            note = f"the {n} intakes' SD {one_decimal(sd)} is below this floor"
            local = replace(local, local_sd=sd, floor_in_use=True)
        return replace(local, sd=floor, source="default", note=note)
    return replace(base, note=instrument.reliable_change_note or "none published")
