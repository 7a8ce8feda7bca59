"""Validated instruments as data: one TOML definition file per instrument, no item wording.

A clinic adds an instrument by dropping a file into `definitions/` (see any bundled file
for the keys); `load_instruments` checks every file and names the one that is wrong.
"""

from dashboard.domain.instruments.loader import (
    DEFINITIONS_DIR,
    LICENCES,
    RELIABLE_CHANGE_METHODS,
    SPLIT_ALLIANCE_METHODS,
    Instrument,
    InstrumentFileError,
    SplitAllianceRule,
    load_instrument,
    load_instruments,
)
from dashboard.domain.instruments.reliable_change import instrument_params

__all__ = [
    "DEFINITIONS_DIR",
    "LICENCES",
    "RELIABLE_CHANGE_METHODS",
    "SPLIT_ALLIANCE_METHODS",
    "Instrument",
    "InstrumentFileError",
    "SplitAllianceRule",
    "load_instrument",
    "instrument_params",
    "load_instruments",
]
