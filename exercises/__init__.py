"""The exercise registry: an explicit tuple of classes. A duplicate name fails at start-up."""

from __future__ import annotations

from typing import Any

from exercises.base import AnswerInvalid, Exercise, LocalText
from exercises.commitments import Commitments
from exercises.dot_vote import DotVote
from exercises.grouping import Grouping
from exercises.groups import Groups
from exercises.matrix import Matrix
from exercises.open_text import OpenText
from exercises.ranking import Ranking
from exercises.round import Round
from exercises.scale import Scale
from exercises.statement import Statement
from exercises.survey import Survey
from exercises.talk import Talk
from exercises.timer import Timer
from exercises.word_cloud import WordCloud

AnyExercise = Exercise[Any, Any]

REGISTERED: tuple[type[AnyExercise], ...] = (
    Talk,
    OpenText,
    Scale,
    WordCloud,
    Groups,
    Round,
    Timer,
    Grouping,
    Statement,
    Commitments,
    Survey,
    DotVote,
    Ranking,
    Matrix,
)


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
