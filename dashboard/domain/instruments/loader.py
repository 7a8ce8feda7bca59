"""Read and check instrument definition files (TOML, one file per instrument).

Definitions are data so a clinic can add an instrument without a code change: every
file is checked on load and a mistake is reported with the file's name, because the
person fixing it is looking at that file, not at this module. Item wording is never
bundled (copyright): a definition carries facts about totals only.
"""

from __future__ import annotations

import math
import string
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dashboard.domain.scoring import CutoffMeaning

# Found next to this module, so it works from any working directory.
DEFINITIONS_DIR = Path(__file__).resolve().parent / "definitions"

LICENCES = ("free for clinical and research use", "clinic supplies", "licensed")
RELIABLE_CHANGE_METHODS = ("derive locally", "published", "none")
DIRECTIONS = {"higher is better": True, "lower is better": False}

_TOP_REQUIRED = (
    "key",
    "name",
    "full_name",
    "citation",
    "items",
    "item_range",
    "total_min",
    "total_max",
    "direction",
    "licence",
    "licence_note",
    "requires_licence",
)
_TOP_OPTIONAL = (
    "cutoff",
    "cutoff_source",
    "cutoff_meaning",
    "decimals",
    "display_order",
    "reliable_change",
    "split_alliance",
)
_MEANING_KEYS = ("met", "not_met", "waits_for_early_change")
# What a [cutoff_meaning] phrase may fill in: the cutoff's number and its source.
_MEANING_FIELDS = {"cutoff", "source"}
_RC_KEYS = {
    "derive locally": ("reliability", "reliability_source", "default_sd", "default_sd_note"),
    "published": ("threshold", "source", "inclusive", "inclusive_source"),
    "none": ("note",),
}


# [split_alliance] (an alliance scale's file only): how a split alliance is read from the
# partners' totals at one session. One rule so far; a file names it, so a later rule is
# a new name, never a silent change of meaning.
SPLIT_ALLIANCE_METHODS = ("one below the cutoff, one at or above",)
_SPLIT_KEYS = (
    "method",
    "source",
    "cutoff",
    "cutoff_source",
    "below_is_strict",
    "below_is_strict_source",
    "needs",
)


class InstrumentFileError(ValueError):
    """A definition file that cannot be used; the message starts with the file's name."""


@dataclass(frozen=True)
class SplitAllianceRule:
    """A split alliance, as the alliance scale's definition file states it: at the most
    recent session where both partners have a total, one is below `cutoff` while the
    other is at or above it. `below_is_strict`: a total equal to the cutoff is not below."""

    instrument: str  # the scale's key, e.g. "srs"
    name: str  # the scale's short name, e.g. "SRS"
    method: str  # one of SPLIT_ALLIANCE_METHODS
    source: str  # where the concept comes from
    cutoff: float
    cutoff_source: str
    below_is_strict: bool
    below_is_strict_source: str
    needs: str  # what the page says is missing when the flag cannot be judged

    def is_below(self, total: float) -> bool:
        """Is this total below the cutoff (the file's inclusiveness, to the float's noise)?"""
        if self.below_is_strict:
            return total < self.cutoff - 1e-9
        return total <= self.cutoff + 1e-9


@dataclass(frozen=True)
class Instrument:
    """One validated instrument, as its definition file describes it (totals only)."""

    key: str
    name: str
    full_name: str
    citation: str
    items: int
    item_range: str
    total_min: float
    total_max: float
    higher_is_better: bool
    cutoff: float | None
    cutoff_source: str
    licence: str
    licence_note: str
    requires_licence: bool
    reliable_change_method: str  # one of RELIABLE_CHANGE_METHODS
    reliable_change_threshold: float | None = None  # method "published"
    reliable_change_source: str = ""  # method "published": who published it
    # Method "published": is a change of exactly the threshold reliable (">=", PCOMS's
    # "5 or more") or must it exceed it (">")? Each file says so, with its source.
    reliable_change_inclusive: bool = False
    reliable_change_inclusive_source: str = ""
    reliable_change_note: str = ""  # method "none": why there is none
    reliability: float | None = None  # method "derive locally": published alpha
    reliability_source: str = ""
    default_sd: float | None = None  # method "derive locally": used below 30 intakes
    default_sd_note: str = ""
    decimals: int = 0  # decimal places a total may carry (ORS/SRS are read off a ruler)
    display_order: int = 1000
    source_file: str = ""
    # What each side of the cutoff means for a person ([cutoff_meaning]); None: no cutoff.
    cutoff_meaning: CutoffMeaning | None = None
    split_alliance: SplitAllianceRule | None = None  # an alliance scale's [split_alliance]

    @property
    def range_label(self) -> str:
        return f"{_num(self.total_min)}–{_num(self.total_max)}"

    def validate_total(self, value: float | None) -> str | None:
        """A message for the form when a typed total cannot be this instrument's; None if fine.

        None (not entered) is fine: instrument totals are optional at a session.
        """
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            return f"{self.name} total must be a number."
        if not math.isfinite(value) or not self.total_min <= value <= self.total_max:
            return f"{self.name} totals run from {_num(self.total_min)} to {_num(self.total_max)}."
        if abs(value - round(value, self.decimals)) > 1e-9:
            if self.decimals == 0:
                return f"{self.name} totals are whole numbers."
            places = "place" if self.decimals == 1 else "places"
            return f"{self.name} totals have at most {self.decimals} decimal {places}."
        return None


def _num(value: float) -> str:
    """21 -> '21', 47.31 -> '47.31' (no trailing zeros)."""
    return f"{value:g}"


def load_instruments(folder: Path | str | None = None) -> dict[str, Instrument]:
    """Every `*.toml` definition in `folder` (default: the bundled ones), keyed by `key`.

    Ordered by `display_order`, then name. Raises InstrumentFileError naming the file on
    the first problem, and when two files claim the same key.

    Pages ask for the definitions on every run, so a folder is read again only when its
    files changed (a file added, removed or edited: names, sizes, modification times).
    """
    base = Path(folder) if folder is not None else DEFINITIONS_DIR
    if not base.is_dir():
        raise InstrumentFileError(f"{base}: no such folder of instrument definitions.")
    paths = sorted(base.glob("*.toml"))
    try:
        stamp = tuple((p.name, *_mtime_size(p)) for p in paths)
    except OSError:  # removed while listed: read it (and say so) as before
        stamp = None
    cached = _CACHE.get(base)
    if stamp is not None and cached is not None and cached[0] == stamp:
        return dict(cached[1])
    found: dict[str, Instrument] = {}
    for path in paths:
        instrument = load_instrument(path)
        if instrument.key in found:
            raise InstrumentFileError(
                f"{path.name}: key {instrument.key!r} is already used by "
                f"{found[instrument.key].source_file}."
            )
        found[instrument.key] = instrument
    ordered = sorted(found.values(), key=lambda i: (i.display_order, i.name.casefold()))
    loaded = {i.key: i for i in ordered}
    if stamp is not None:
        _CACHE[base] = (stamp, loaded)
    return dict(loaded)


def _mtime_size(path: Path) -> tuple[int, int]:
    info = path.stat()
    return info.st_mtime_ns, info.st_size


# folder -> (its files' names, mtimes and sizes, the definitions read from them)
_CACHE: dict[Path, tuple[tuple[tuple[str, int, int], ...], dict[str, Instrument]]] = {}


def load_instrument(path: Path | str) -> Instrument:
    """Read and check one definition file."""
    path = Path(path)
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise InstrumentFileError(f"{path.name}: not valid TOML ({exc}).") from exc
    except OSError as exc:
        raise InstrumentFileError(f"{path.name}: cannot be read ({exc}).") from exc
    try:
        return _build(data, path.name)
    except _Problem as problem:
        raise InstrumentFileError(f"{path.name}: {problem}") from None


class _Problem(Exception):
    """Internal: one problem in a file's content, before the file name is added."""


def _build(data: Mapping[str, Any], filename: str) -> Instrument:
    missing = [k for k in _TOP_REQUIRED if k not in data]
    if missing:
        raise _Problem(f"missing required key(s): {', '.join(missing)}.")
    unknown = sorted(set(data) - set(_TOP_REQUIRED) - set(_TOP_OPTIONAL))
    if unknown:
        raise _Problem(f"unknown key(s): {', '.join(unknown)}.")

    name = _text(data, "name")
    total_min = _number(data, "total_min")
    total_max = _number(data, "total_max")
    if not total_min < total_max:
        raise _Problem(
            f"total_min ({_num(total_min)}) must be below total_max ({_num(total_max)})."
        )
    items = _integer(data, "items")
    if items < 1:
        raise _Problem("items must be at least 1.")
    decimals = _integer(data, "decimals") if "decimals" in data else 0
    if not 0 <= decimals <= 2:
        raise _Problem("decimals must be 0, 1 or 2.")

    direction = _text(data, "direction")
    if direction not in DIRECTIONS:
        raise _Problem(f"direction must be one of: {', '.join(map(repr, DIRECTIONS))}.")

    cutoff: float | None = None
    cutoff_source = ""
    if "cutoff" in data:
        cutoff = _number(data, "cutoff")
        if not total_min <= cutoff <= total_max:
            raise _Problem(
                f"cutoff {_num(cutoff)} is outside the total range "
                f"{_num(total_min)}–{_num(total_max)}."
            )
        cutoff_source = _text(data, "cutoff_source")
        meaning = _cutoff_meaning(data.get("cutoff_meaning"))
    elif "cutoff_source" in data:
        raise _Problem("cutoff_source is given without a cutoff.")
    elif "cutoff_meaning" in data:
        raise _Problem("[cutoff_meaning] is given without a cutoff.")
    else:
        meaning = None

    licence = _text(data, "licence")
    if licence not in LICENCES:
        raise _Problem(f"licence must be one of: {', '.join(map(repr, LICENCES))}.")
    requires_licence = data["requires_licence"]
    if not isinstance(requires_licence, bool):
        raise _Problem("requires_licence must be true or false.")
    if licence == "licensed" and not requires_licence:
        raise _Problem("a 'licensed' instrument needs requires_licence = true.")

    rc = data.get("reliable_change")
    if not isinstance(rc, Mapping):
        raise _Problem("missing required table [reliable_change] (with a method).")
    method = rc.get("method")
    if method not in RELIABLE_CHANGE_METHODS:
        raise _Problem(
            "[reliable_change] method must be one of: "
            f"{', '.join(map(repr, RELIABLE_CHANGE_METHODS))}."
        )
    wanted = _RC_KEYS[method]
    missing = [k for k in wanted if k not in rc]
    if missing:
        raise _Problem(f"[reliable_change] method {method!r} needs: {', '.join(missing)}.")
    unknown = sorted(set(rc) - {"method", *wanted})
    if unknown:
        raise _Problem(f"[reliable_change] unknown key(s) for {method!r}: {', '.join(unknown)}.")

    extra: dict[str, Any] = {}
    if method == "published":
        threshold = _number(rc, "threshold", "[reliable_change] threshold")
        if not 0 < threshold <= total_max - total_min:
            raise _Problem("[reliable_change] threshold must be above 0 and within the range.")
        inclusive = rc["inclusive"]
        if not isinstance(inclusive, bool):
            raise _Problem("[reliable_change] inclusive must be true or false.")
        extra = {
            "reliable_change_threshold": threshold,
            "reliable_change_source": _text(rc, "source", "[reliable_change] source"),
            "reliable_change_inclusive": inclusive,
            "reliable_change_inclusive_source": _text(
                rc, "inclusive_source", "[reliable_change] inclusive_source"
            ),
        }
    elif method == "derive locally":
        reliability = _number(rc, "reliability", "[reliable_change] reliability")
        if not 0 < reliability < 1:
            raise _Problem("[reliable_change] reliability must be between 0 and 1.")
        default_sd = _number(rc, "default_sd", "[reliable_change] default_sd")
        if default_sd <= 0:
            raise _Problem("[reliable_change] default_sd must be above 0.")
        extra = {
            "reliability": reliability,
            "reliability_source": _text(
                rc, "reliability_source", "[reliable_change] reliability_source"
            ),
            "default_sd": default_sd,
            "default_sd_note": _text(rc, "default_sd_note", "[reliable_change] default_sd_note"),
        }
    else:
        extra = {"reliable_change_note": _text(rc, "note", "[reliable_change] note")}

    split = None
    if "split_alliance" in data:
        split = _split_alliance(data, total_min, total_max)

    return Instrument(
        key=_text(data, "key"),
        name=name,
        full_name=_text(data, "full_name"),
        citation=_text(data, "citation"),
        items=items,
        item_range=_text(data, "item_range"),
        total_min=total_min,
        total_max=total_max,
        higher_is_better=DIRECTIONS[direction],
        cutoff=cutoff,
        cutoff_source=cutoff_source,
        licence=licence,
        licence_note=_text(data, "licence_note"),
        requires_licence=requires_licence,
        reliable_change_method=method,
        decimals=decimals,
        display_order=_integer(data, "display_order") if "display_order" in data else 1000,
        source_file=filename,
        cutoff_meaning=meaning,
        split_alliance=split,
        **extra,
    )


def _cutoff_meaning(table: object) -> CutoffMeaning:
    """[cutoff_meaning]: what each side of the cutoff means, in a counselor's words.

    Required with a cutoff, so no cutoff is ever shown without saying what it means
    (DOMAIN.md, "Words for cutoffs"); each phrase names the number ({cutoff})."""
    if not isinstance(table, Mapping):
        raise _Problem(
            "a cutoff needs a [cutoff_meaning] table (met, not_met, waits_for_early_change)."
        )
    missing = [k for k in _MEANING_KEYS if k not in table]
    if missing:
        raise _Problem(f"[cutoff_meaning] needs: {', '.join(missing)}.")
    unknown = sorted(set(table) - set(_MEANING_KEYS))
    if unknown:
        raise _Problem(f"[cutoff_meaning] unknown key(s): {', '.join(unknown)}.")
    phrases = {}
    for key in ("met", "not_met"):
        phrase = _text(table, key, f"[cutoff_meaning] {key}")
        try:
            fields = {f for _, f, _, _ in string.Formatter().parse(phrase) if f is not None}
        except ValueError as exc:
            raise _Problem(f"[cutoff_meaning] {key}: {exc}.") from None
        if "cutoff" not in fields:
            raise _Problem(f"[cutoff_meaning] {key} must name the cutoff: {{cutoff}}.")
        if fields - _MEANING_FIELDS:
            raise _Problem(
                f"[cutoff_meaning] {key} may fill in only {{cutoff}} and {{source}}, "
                f"not {', '.join(sorted(f'{{{f}}}' for f in fields - _MEANING_FIELDS))}."
            )
        phrases[key] = phrase
    waits = table["waits_for_early_change"]
    if not isinstance(waits, bool):
        raise _Problem("[cutoff_meaning] waits_for_early_change must be true or false.")
    return CutoffMeaning(phrases["met"], phrases["not_met"], waits)


def _split_alliance(
    data: Mapping[str, Any], total_min: float, total_max: float
) -> SplitAllianceRule:
    """The [split_alliance] table, checked: every key, a known method, a cutoff within the
    totals' range, and a source for the rule, for the cutoff and for its inclusiveness."""
    table = data["split_alliance"]
    if not isinstance(table, Mapping):
        raise _Problem("split_alliance must be a table ([split_alliance]).")
    missing = [k for k in _SPLIT_KEYS if k not in table]
    if missing:
        raise _Problem(f"[split_alliance] needs: {', '.join(missing)}.")
    unknown = sorted(set(table) - set(_SPLIT_KEYS))
    if unknown:
        raise _Problem(f"[split_alliance] unknown key(s): {', '.join(unknown)}.")
    method = table["method"]
    if method not in SPLIT_ALLIANCE_METHODS:
        raise _Problem(
            "[split_alliance] method must be one of: "
            f"{', '.join(map(repr, SPLIT_ALLIANCE_METHODS))}."
        )
    cutoff = _number(table, "cutoff", "[split_alliance] cutoff")
    if not total_min < cutoff <= total_max:
        raise _Problem(
            f"[split_alliance] cutoff {_num(cutoff)} must be above {_num(total_min)} and "
            f"at most {_num(total_max)}: otherwise no partner can be on both sides of it."
        )
    strict = table["below_is_strict"]
    if not isinstance(strict, bool):
        raise _Problem("[split_alliance] below_is_strict must be true or false.")
    return SplitAllianceRule(
        instrument=_text(data, "key"),
        name=_text(data, "name"),
        method=method,
        source=_text(table, "source", "[split_alliance] source"),
        cutoff=cutoff,
        cutoff_source=_text(table, "cutoff_source", "[split_alliance] cutoff_source"),
        below_is_strict=strict,
        below_is_strict_source=_text(
            table, "below_is_strict_source", "[split_alliance] below_is_strict_source"
        ),
        needs=_text(table, "needs", "[split_alliance] needs"),
    )


def _text(data: Mapping[str, Any], key: str, label: str | None = None) -> str:
    value = data[key]
    if not isinstance(value, str) or not value.strip():
        raise _Problem(f"{label or key} must be non-empty text.")
    return value.strip()


def _number(data: Mapping[str, Any], key: str, label: str | None = None) -> float:
    value = data[key]
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise _Problem(f"{label or key} must be a number.")
    return float(value)


def _integer(data: Mapping[str, Any], key: str) -> int:
    value = data[key]
    if isinstance(value, bool) or not isinstance(value, int):
        raise _Problem(f"{key} must be a whole number.")
    return value
