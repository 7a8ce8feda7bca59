"""Clinic norms as published versions (issue 21, point 6): the figures stored per
measure, the parameters rebuilt from them, the label every result carries, and what
a new version would change.

A clinic's norms (intake SD, alpha, criterion-a cutoff) are published as numbered
versions, never drifted into: a report made today and one made next month agree unless
a version was published in between, and each names the version it used ("clinic norms
v3 of 2 Nov 2026, 198 intakes"). Pure: parameters and stored rows in, parameters,
labels and counts out; services/norms.py reads and writes the rows.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

import pandas as pd

from dashboard.domain.numbers import as_written, one_decimal
from dashboard.domain.scoring import MIN_LOCAL_INTAKES, Change, ReliableChangeParams

EII = "eii"  # the measure key of the EII; instruments use their definition's key

# The figures a version stores per measure (the columns of db.models.NormsVersion
# beyond its identity and dates).
FIGURES = (
    "n",
    "mean",
    "sd",
    "local_sd",
    "floor_in_use",
    "alpha",
    "alpha_n",
    "counselor_intakes",
    "self_intakes",
    "cutoff",
    "threshold",
    "source",
    "method",
    "cutoff_method",
    "note",
    "source_mix",
)


_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def day_label(day: date | datetime) -> str:
    """'2 Nov 2026' (English month names whatever the server's locale, as %b would not)."""
    return f"{day.day} {_MONTHS[day.month - 1]} {day.year}"


def _intakes(n: int) -> str:
    return f"{n} intake" if n == 1 else f"{n} intakes"


def version_label(version: int, published_at: date | datetime, n: int) -> str:
    """'clinic norms v3 of 2 Nov 2026, 198 intakes': what every result names."""
    return f"clinic norms v{version} of {day_label(published_at)}, {_intakes(n)}"


def defaults_label(intakes: int) -> str:
    """Before any version: 'documented defaults: no clinic norms published yet; 12 of
    30 intakes'."""
    if intakes >= MIN_LOCAL_INTAKES:  # enough intakes, but no usable figures of its own
        return (
            f"documented defaults: no clinic norms published yet; {intakes} intakes, not "
            "yet enough rated on every item for the clinic's own figures"
        )
    return (
        f"documented defaults: no clinic norms published yet; "
        f"{intakes} of {MIN_LOCAL_INTAKES} intakes"
    )


def undated(params: ReliableChangeParams) -> ReliableChangeParams:
    """The same parameters, their version named without its day ('clinic norms v3, 198
    intakes'): for the research extract, which carries no calendar dates."""
    return replace(params, norms_label=re.sub(r" of \d+ \w+ \d{4}", "", params.norms_label))


def research_label(version: int | None, n: int) -> str:
    """The research extract's line: the version without its date (the extract carries
    no calendar dates)."""
    if version is None:
        return "Statuses use documented default norms: no clinic norms were published."
    return f"Statuses use clinic norms v{version} ({_intakes(n)} at this clinic)."


def source_mix(params: ReliableChangeParams) -> str:
    """Who rated the intakes behind a local alpha: '134 by the counselor, 6
    self-reported'; '' when not counted (a published alpha, or none)."""
    if params.counselor_intakes is None or params.self_intakes is None:
        return ""
    return f"{params.counselor_intakes} by the counselor, {params.self_intakes} self-reported"


def figures_of(params: ReliableChangeParams) -> dict[str, Any]:
    """The figures to store for one measure's parameters (FIGURES)."""
    return {
        "n": params.n,
        "mean": params.mean,
        "sd": params.sd,
        "local_sd": params.local_sd,
        "floor_in_use": params.floor_in_use,
        "alpha": params.reliability,
        "alpha_n": params.reliability_n,
        "counselor_intakes": params.counselor_intakes,
        "self_intakes": params.self_intakes,
        "cutoff": params.cutoff,
        "threshold": params.threshold,
        "source": params.source,
        "method": params.describe(),
        "cutoff_method": params.cutoff_method,
        "note": params.note,
        "source_mix": source_mix(params),
    }


@dataclass(frozen=True)
class StoredNorms:
    """One measure's row of a published version."""

    measure: str
    version: int
    computed_at: datetime | None  # None where only the figures were read
    published_at: datetime
    published_by: str | None  # a name; None: published automatically
    figures: Mapping[str, Any]
    row_id: int = 0  # the stored row's id: the newest one stamps a cached version

    @property
    def label(self) -> str:
        return version_label(self.version, self.published_at, int(self.figures["n"]))


def params_from(base: ReliableChangeParams, stored: StoredNorms) -> ReliableChangeParams:
    """The parameters a stored version stands for. `base` is what the definition
    gives with no intakes (eii_params([]) or instrument_params(inst, [])): the scale,
    published thresholds and sources come from it, the clinic's figures from the row."""
    f = stored.figures
    return replace(
        base,
        sd=f["sd"],
        reliability=f["alpha"],
        n=int(f["n"]),
        source=f["source"],
        cutoff=f["cutoff"],
        cutoff_method=f["cutoff_method"] or base.cutoff_method,
        reliability_n=f["alpha_n"],
        note=f["note"] or "",
        local_sd=f["local_sd"],
        floor_in_use=bool(f["floor_in_use"]),
        mean=f["mean"],
        counselor_intakes=f["counselor_intakes"],
        self_intakes=f["self_intakes"],
        norms_label=stored.label,
    )


# --- What a new version would change ----------------------------------------------

_WORDS = {
    Change.IMPROVED: "Improved",
    Change.NO_RELIABLE_CHANGE: "No reliable change",
    Change.DETERIORATED: "Deteriorated",
    None: "Not yet measurable",
}


def status_moves(before: pd.DataFrame, after: pd.DataFrame) -> list[tuple[str, int]]:
    """Partners whose EII status differs between two caseload_outcomes frames (the
    same couples judged with the current and the candidate norms): ('No reliable
    change → Improved', 12) per direction, most partners first."""
    moves: Counter[str] = Counter()
    for column in ("status_a", "status_b"):
        joined = pd.concat([before[column].rename("before"), after[column].rename("after")], axis=1)
        for old, new in zip(joined["before"], joined["after"], strict=True):
            old = None if pd.isna(old) else old
            new = None if pd.isna(new) else new
            if old != new:
                moves[f"{_WORDS[old]} → {_WORDS[new]}"] += 1
    return sorted(moves.items(), key=lambda item: (-item[1], item[0]))


def moves_sentence(moves: list[tuple[str, int]]) -> str:
    """'No reliable change → Improved: 12 partners; Improved → No reliable change: 3
    partners', or that nobody's status would move."""
    if not moves:
        return "No partner's status would change."
    return "; ".join(f"{move}: {n} partner{'s' if n != 1 else ''}" for move, n in moves)


def _figure(value: float | None, text: str = "") -> str:
    return "—" if value is None else (text or as_written(value))


def summary_row(params: ReliableChangeParams) -> dict[str, str]:
    """One measure's figures as the Admin page's table shows them."""
    sd = "—"
    if params.sd is not None:
        sd = as_written(params.sd) + (" (floor)" if params.floor_in_use else "")
    alpha = "—"
    if params.reliability is not None:
        alpha = f"{params.reliability:.2f}"
        if params.reliability_source:
            alpha += f" ({params.reliability_source})"
        elif params.reliability_n is not None:
            alpha += f" (n {params.reliability_n})"
    threshold = params.threshold
    # The band and what it rests on first: at 800 px the later columns scroll.
    return {
        "Measure": params.scale,
        "Band": "—" if threshold is None else f"±{one_decimal(threshold)}",
        "Intakes": str(params.n),
        "SD in use": sd,
        "Clinic's own SD": _figure(
            params.local_sd, one_decimal(params.local_sd) if params.local_sd is not None else ""
        ),
        "α": alpha,
        "Rated by": source_mix(params) or "—",
        "Cutoff": _figure(params.cutoff),
        "Mean": _figure(params.mean, one_decimal(params.mean) if params.mean is not None else ""),
        "Source": params.source,
    }
