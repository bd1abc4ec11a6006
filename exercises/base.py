"""What every exercise type provides. An exercise imports nothing of the app: it validates and
aggregates what it is given, and ships its own templates (`<name>/fields.html` for the phone form,
`<name>/results.html` for the projector)."""

from __future__ import annotations

import random
import re
import unicodedata
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, ClassVar, Generic, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict

LOCALES = ("en", "nb", "nn", "da", "sv")


def N_(message: str) -> str:
    """Marks a message for the catalogues; the app translates it when it shows it."""
    return message


def _check_local_text(value: dict[str, str]) -> dict[str, str]:
    if not value:
        raise ValueError("needs at least one language")
    unknown = sorted(set(value) - set(LOCALES))
    if unknown:
        raise ValueError(f"unknown language {', '.join(unknown)} (known: {', '.join(LOCALES)})")
    for locale, text in value.items():
        if not isinstance(text, str) or not text.strip():
            raise ValueError(f"text for '{locale}' is empty")
    return {k: v.strip() for k, v in value.items()}


LocalText = Annotated[dict[str, str], AfterValidator(_check_local_text)]
"""A text in several languages: {"en": "...", "nb": "..."}."""


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AnswerInvalid(ValueError):
    """An answer a person can correct. `message` is an English msgid marked with N_()."""

    def __init__(self, message: str, **params: Any) -> None:
        super().__init__(message % params if params else message)
        self.message = message
        self.params = params


# C0 and C1 controls but tab and line breaks; invisible spaces; every Bidi_Control character. The
# joiners U+200C and U+200D stay: emoji sequences and scripts such as Persian need them.
_CONTROL = re.compile(
    r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u061c\u200b\u200e\u200f\u202a-\u202e\u2060\u2066-\u2069\ufeff]"
)


def clean_text(raw: object, *, max_length: int, single_line: bool = False) -> str:
    """Normalise a person's text: NFC, no control or direction-override characters, trimmed."""
    if not isinstance(raw, str):
        raise AnswerInvalid(N_("Please write something before you send."))
    # Strip first, then normalise: a stripped character between a letter and its accent would
    # otherwise leave the pair decomposed.
    text = unicodedata.normalize("NFC", _CONTROL.sub("", raw))
    text = text.replace("\r\n", "\n").replace("\r", "\n").strip()
    if single_line:
        text = " ".join(text.split())
    if not text:
        raise AnswerInvalid(N_("Please write something before you send."))
    if len(text) > max_length:
        raise AnswerInvalid(
            N_("That is %(length)d characters; the limit here is %(limit)d. Please shorten it."),
            length=len(text),
            limit=max_length,
        )
    return text


def whole_number(raw: Any) -> int | None:
    """A whole number from a form (a string) or a socket (an int); None when it is not one."""
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        return raw
    try:
        return int(str(raw).strip())
    except (TypeError, ValueError):
        return None


def places(scores: Sequence[float]) -> list[int]:
    """Competition ranking of scores sorted high to low: 10, 8, 8, 5 -> 1, 2, 2, 4."""
    out: list[int] = []
    for i, score in enumerate(scores):
        out.append(out[-1] if i and score == scores[i - 1] else i + 1)
    return out


def longest(text: Mapping[str, str]) -> int:
    """The longest of a text's languages, in characters."""
    return max((len(v) for v in text.values()), default=0)


MAX_LABEL_TEXT = 60
ITEM_ID = r"^[a-z0-9][a-z0-9-]{0,47}$"


def _short_label(value: dict[str, str]) -> dict[str, str]:
    if longest(value) > MAX_LABEL_TEXT:
        raise ValueError(f"a scale label is at most {MAX_LABEL_TEXT} characters")
    return value


ScaleLabel = Annotated[LocalText, AfterValidator(_short_label)]
"""The text at one end of a rating scale, at most 60 characters in every language."""


S = TypeVar("S", bound=BaseModel)
A = TypeVar("A", bound=BaseModel)


class Option(Strict):
    """A choice in a vote or a ranking."""

    id: Annotated[str, AfterValidator(lambda v: _check_id(v))]
    text: LocalText


def _check_id(value: str) -> str:
    if not re.fullmatch(r"[a-z0-9][a-z0-9-]{0,47}", value):
        raise ValueError("an id is lowercase letters, digits and '-', at most 48 long")
    return value


def unique_ids(items: Sequence[Option]) -> None:
    seen: set[str] = set()
    for item in items:
        if item.id in seen:
            raise ValueError(f"duplicate id {item.id!r}")
        seen.add(item.id)


@dataclass(frozen=True)
class Member:
    """One person who joined, as exercises may see them: no token, no answers."""

    public_id: str
    name: str | None = None
    unit: str | None = None


@dataclass(frozen=True)
class Entry(Generic[A]):
    """One stored answer with what an aggregate may use: an anonymous number for the person
    (to count people, never to show them) and their unit."""

    id: int
    answer: A
    participant: int
    unit: str | None = None


@dataclass(frozen=True)
class Source:
    """The result of another step of the same flow that this step reads (options_from...)."""

    exercise: str
    result: BaseModel
    entries: tuple[Entry[Any], ...] = ()
    state: Mapping[str, Any] = field(default_factory=dict)
    settings: BaseModel | None = None
    title: Mapping[str, str] = field(default_factory=dict)
    ctx: StepContext | None = None


@dataclass(frozen=True)
class StepContext:
    """What the runner hands an exercise besides its settings and answers."""

    locale: str = "en"
    units: tuple[str, ...] = ()
    min_group_size: int = 5
    members: tuple[Member, ...] = ()
    state: Mapping[str, Any] = field(default_factory=dict)
    sources: Mapping[str, Source] = field(default_factory=dict)
    earlier: Source | None = None  # the team's earlier result named by the step's `earlier:` key
    unit: str | None = None  # when parsing an answer: the answering person's unit
    now: datetime = field(default_factory=lambda: datetime.now(UTC))

    def with_unit(self, unit: str | None) -> StepContext:
        return replace(self, unit=unit)


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


class Exercise(ABC, Generic[S, A]):
    """One type of interaction. Subclasses set the class attributes and the methods below."""

    name: ClassVar[str]
    settings_model: ClassVar[type[BaseModel]]
    answer_model: ClassVar[type[BaseModel]]
    collects_answers: ClassVar[bool] = True
    has_actions: ClassVar[bool] = False  # the tovholder acts on the step (console.html)
    doc: ClassVar[str] = ""

    @property
    def template_dir(self) -> Path:
        import sys

        module = sys.modules[type(self).__module__]
        return Path(module.__file__ or ".").parent / "templates"

    def settings(self, raw: Mapping[str, Any]) -> S:
        return self.settings_model.model_validate(raw)  # type: ignore[return-value]

    def load_answer(self, payload: Mapping[str, Any]) -> A:
        return self.answer_model.model_validate(payload)  # type: ignore[return-value]

    @abstractmethod
    def max_answers(self, settings: S, ctx: StepContext) -> int:
        """How many answers one participant may give to a step."""

    @abstractmethod
    def parse_answer(self, settings: S, form: Mapping[str, Any], ctx: StepContext) -> A:
        """Validate a submitted form (or socket payload); raise AnswerInvalid with a clear message."""

    @abstractmethod
    def aggregate(self, settings: S, entries: Sequence[Entry[A]], ctx: StepContext) -> BaseModel:
        """Results for the projector and exports; must handle no answers at all."""

    def sources(self, settings: S) -> tuple[str, ...]:
        """Ids of the steps of the same flow whose results this step reads."""
        return ()

    def initial_state(self, settings: S, ctx: StepContext) -> dict[str, Any]:
        return {}

    def act(
        self, settings: S, state: Mapping[str, Any], action: str, form: Mapping[str, Any], ctx: StepContext
    ) -> dict[str, Any]:
        """A tovholder's action on the step; returns the new state or raises AnswerInvalid."""
        raise AnswerInvalid(N_("This step has no such action."))

    def simulate(self, settings: S, rng: random.Random, samples: Sequence[str], ctx: StepContext) -> list[A]:
        """Plausible answers of one simulated participant, for `tovholder demo`."""
        return []

    def simulate_state(
        self,
        settings: S,
        rng: random.Random,
        samples: Sequence[str],
        entries: Sequence[Entry[A]],
        ctx: StepContext,
    ) -> dict[str, Any]:
        """What a tovholder would plausibly have done on the step, for `tovholder demo`."""
        return self.initial_state(settings, ctx)


class NoAnswer(Strict):
    """The answer model of an exercise that takes no answers."""


class NoAnswers(Exercise[S, NoAnswer]):
    """An exercise that takes no answers (an info slide, groups, a round, a timer): the phones
    look at the big screen."""

    answer_model = NoAnswer
    collects_answers = False

    def max_answers(self, settings: S, ctx: StepContext) -> int:
        return 0

    def parse_answer(self, settings: S, form: Mapping[str, Any], ctx: StepContext) -> NoAnswer:
        raise AnswerInvalid(N_("This step takes no answers: look at the big screen."))
