"""The anonymity threshold for answers split by unit: a unit's cell is shown only where enough
people answered (the survey, the matrix, and the posters' open-text cards use it)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic

from exercises.base import A, Entry


@dataclass(frozen=True)
class Split(Generic[A]):
    """Entries split by unit with the anonymity threshold applied."""

    shown: dict[str, list[Entry[A]]]
    merged: list[Entry[A]]  # units under the threshold, together
    merged_units: int  # how many units went into `merged`
    hidden: int  # people left out because even the merged cell was under the threshold


def split_by_unit(entries: Sequence[Entry[A]], min_group_size: int) -> Split[A]:
    """A unit's cell is shown only where at least `min_group_size` people answered; smaller units
    are merged into one "other units" cell, which is hidden as well when it is still too small."""
    by_unit: dict[str, list[Entry[A]]] = {}
    for entry in entries:
        if entry.unit:
            by_unit.setdefault(entry.unit, []).append(entry)

    def people(items: Sequence[Entry[A]]) -> int:
        return len({e.participant for e in items})

    shown = {u: items for u, items in sorted(by_unit.items()) if people(items) >= min_group_size}
    small = [u for u in by_unit if u not in shown]
    merged = [e for u in small for e in by_unit[u]]
    if merged and people(merged) < min_group_size:
        return Split(shown=shown, merged=[], merged_units=len(small), hidden=people(merged))
    return Split(shown=shown, merged=merged, merged_units=len(small), hidden=0)
