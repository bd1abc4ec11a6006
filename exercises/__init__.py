"""The exercise registry: an explicit tuple of classes. A duplicate name fails at start-up."""

from __future__ import annotations

import contextlib
import inspect
import re
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from exercises.base import AnswerInvalid, Exercise, LocalText
from exercises.commitments import Commitments
from exercises.dot_vote import DotVote
from exercises.follow_up import FollowUp
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

AnyExercise = Exercise[Any, Any, Any]

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
    FollowUp,
)

NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


class RegistryError(RuntimeError):
    pass


def build_registry(classes: tuple[type[AnyExercise], ...] = REGISTERED) -> dict[str, AnyExercise]:
    """The registered exercises by name. Fails, naming each type and what it lacks, where one
    cannot work (docs/exercises/README.md says what a type needs)."""
    registry: dict[str, AnyExercise] = {}
    problems: list[str] = []
    for cls in classes:
        where = f"{cls.__module__}.{cls.__qualname__}"
        name = getattr(cls, "name", None)
        if not isinstance(name, str) or not NAME.match(name):
            problems.append(f"{where}: `name` must be lowercase letters, digits and '_' (it is {name!r})")
            continue
        if name in registry:
            other = type(registry[name])
            raise RegistryError(
                f"two exercises are named {name!r}: {other.__module__}.{other.__qualname__} and {where}"
            )
        missing = _missing_in_class(cls)
        exercise = None if missing else cls()
        if exercise is not None:
            missing = _missing_in_folder(exercise)
        if exercise is None or missing:
            problems.append(f"exercise {name!r} ({where}) lacks " + "; ".join(missing))
            continue
        registry[name] = exercise
    if problems:
        raise RegistryError("\n".join(problems))
    return registry


def _missing_in_class(cls: type[AnyExercise]) -> list[str]:
    """The models and methods a type must have and this one lacks."""
    missing = [
        f"`{attr}` (a pydantic model)"
        for attr in ("settings_model", "answer_model", "result_model")
        if not (isinstance(getattr(cls, attr, None), type) and issubclass(getattr(cls, attr), BaseModel))
    ]
    missing += [f"the method {method}()" for method in sorted(cls.__abstractmethods__)]
    if cls.has_actions and cls.act is Exercise.act:
        missing.append("the method act() (it sets has_actions)")
    return missing


def _missing_in_folder(exercise: AnyExercise) -> list[str]:
    """The templates and the docs page a type must ship in its folder and this one lacks."""
    folder = exercise.package_dir
    templates = ["results.html"]
    if exercise.collects_answers:
        templates += ["fields.html", "sent.html"]
    if exercise.has_actions:
        templates.append("console.html")
    missing = [_shown(folder, exercise.template_dir / t) for t in templates if not exercise.has_template(t)]
    if not exercise.reads_members and _names_members(exercise):
        missing.append("`reads_members = True` (its code or templates read ctx.members)")
    page = exercise.docs_page
    if not page.is_file():
        missing.append(f"{_shown(folder, page)} (its docs page)")
    elif not page.read_text(encoding="utf-8").startswith(f"# {exercise.name}\n"):
        missing.append(f"a first line '# {exercise.name}' in {_shown(folder, page)}")
    return missing


def _names_members(exercise: AnyExercise) -> bool:
    """Its class (or a class of its own it builds on) or a template in its folder reads
    `ctx.members`."""
    texts = []
    for cls in type(exercise).__mro__:
        if cls.__module__ != Exercise.__module__ and issubclass(cls, Exercise):
            with contextlib.suppress(OSError, TypeError):  # defined where its source is not read
                texts.append(inspect.getsource(cls))
    if exercise.template_dir.is_dir():
        texts += [path.read_text(encoding="utf-8") for path in sorted(exercise.template_dir.rglob("*.html"))]
    return any("ctx.members" in text for text in texts)


def _shown(folder: Path, path: Path) -> str:
    return f"{folder.name}/{path.relative_to(folder)}"


__all__ = [
    "REGISTERED",
    "AnswerInvalid",
    "AnyExercise",
    "Exercise",
    "LocalText",
    "RegistryError",
    "build_registry",
]
