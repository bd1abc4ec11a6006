"""The exercise registry: an explicit tuple of classes. A duplicate name fails at start-up."""

from __future__ import annotations

from typing import Any

from exercises.base import AnswerInvalid, Exercise, LocalText
from exercises.open_text import OpenText
from exercises.scale import Scale
from exercises.talk import Talk
from exercises.word_cloud import WordCloud

AnyExercise = Exercise[Any, Any]

REGISTERED: tuple[type[AnyExercise], ...] = (Talk, OpenText, Scale, WordCloud)


class RegistryError(RuntimeError):
    pass


def build_registry(classes: tuple[type[AnyExercise], ...] = REGISTERED) -> dict[str, AnyExercise]:
    registry: dict[str, AnyExercise] = {}
    for cls in classes:
        if cls.name in registry:
            other = type(registry[cls.name])
            raise RegistryError(
                f"two exercises are named {cls.name!r}: {other.__module__}.{other.__qualname__} "
                f"and {cls.__module__}.{cls.__qualname__}"
            )
        registry[cls.name] = cls()
    return registry


__all__ = ["REGISTERED", "AnswerInvalid", "AnyExercise", "Exercise", "LocalText", "build_registry"]
