"""Flows of a step or two, written in a test: the fields every flow needs, and the step's own."""

from __future__ import annotations

from typing import Any

TEXT = {"en": "x"}


def small_step(id: str, exercise: str, **extra: Any) -> dict[str, Any]:
    """One five-minute step; `extra` adds or replaces fields (settings, poster, title...)."""
    return {"id": id, "exercise": exercise, "minutes": 5, "title": TEXT, "notes": TEXT, **extra}


def small_flow(name: str, *steps: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """A five-minute English flow of these steps, as a flow file holds it; `extra` adds or replaces
    fields (uses_units, title, duration_minutes...)."""
    return {
        "name": name,
        "title": TEXT,
        "purpose": TEXT,
        "duration_minutes": 5,
        "source": "tests",
        "licence": "tests",
        "locales": ["en"],
        "steps": list(steps),
        **extra,
    }
