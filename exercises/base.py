"""What every exercise type provides. An exercise imports nothing of the app: it validates and
aggregates what it is given, ships its own templates, stylesheet and docs page in its folder, and
says through hooks what it gives the exports and the posters (docs/exercises/README.md)."""

from __future__ import annotations

import random
import re
import sys
import unicodedata
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, ClassVar, Generic, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict

from exercises.follow import ProgramHooks, TeamCommitment
from exercises.poster import PosterPart, PosterSlot, Style
from exercises.words import Words, compact_json

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


def in_order_of(keys: Sequence[str], order: Mapping[str, Any]) -> list[str]:
    """Keys in the order of `order`'s keys (a flow's items or options); unknown keys last."""
    place = {k: i for i, k in enumerate(order)}
    return sorted(keys, key=lambda k: place.get(k, len(place)))


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
R = TypeVar("R", bound=BaseModel)


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
    # The team's commitments from its earlier sessions, for a step that `reads_team_commitments`.
    commitments: tuple[TeamCommitment, ...] = ()
    unit: str | None = None  # when parsing an answer: the answering person's unit
    now: datetime = field(default_factory=lambda: datetime.now(UTC))


class ResultMismatch(ValueError):
    """A result that is not the exercise's own `result_model`. The exports report it (in the log,
    with the run and step, and in words where the results would be) instead of showing another."""


class Exercise(ABC, ProgramHooks[S, R], Generic[S, A, R]):
    """One type of interaction and all it gives the rest of the app: subclasses set the class
    attributes and abstract methods; every other hook has a default."""

    name: ClassVar[str]
    settings_model: ClassVar[type[BaseModel]]
    answer_model: ClassVar[type[BaseModel]]
    result_model: ClassVar[type[BaseModel]]  # what aggregate() returns
    collects_answers: ClassVar[bool] = True
    has_actions: ClassVar[bool] = False  # the tovholder acts on the step (console.html)
    # People write text: the console lists cards to hide (card_text); a sent one can be edited.
    takes_text: ClassVar[bool] = False
    # The latest answer counts: the phone offers "Change my answer", not "Send another".
    reacts_again: ClassVar[bool] = False
    # It runs a countdown of its own (a timer, a speaking round): the console offers no step timer.
    keeps_time: ClassVar[bool] = False
    # An answer names units by the rater's own (a matrix): exports withhold it for a pooled unit.
    reveals_units: ClassVar[bool] = False
    # How its items print in a poster section with no style (None: as its other steps, or a list).
    poster_style: ClassVar[Style | None] = None
    # The phone's screen shows what its sources gave (False: the phones' pushes skip reading them).
    phone_shows_sources: ClassVar[bool] = True
    # A step it acts on stores its opening state when it opens (a split, a speaking order: drawn
    # from who is there), so later joiners change nothing. False where that state needs nothing
    # of the room (grouping: no groups yet): opening the step then reads nothing.
    settles_state_on_open: ClassVar[bool] = True
    # It reads `ctx.members` (everyone who joined: a split into groups, a unit's people): the
    # context reads them only for such a type and its sources, not for every screen of every
    # step (2,000 rows at an all-hands, for each phone that syncs). The registry refuses a type
    # whose code or templates name ctx.members without it.
    reads_members: ClassVar[bool] = False
    # Its audiences' phone screens differ in its phone.html alone (a group's names), not in the
    # form or anything around it: a step that opens draws the screen around once, and each
    # audience's part into it (500 groups of an all-hands are 500 small parts, not 500 pages).
    audiences_share_frame: ClassVar[bool] = False

    # --- its folder ---------------------------------------------------------------------------

    @property
    def package_dir(self) -> Path:
        """The exercise's folder: templates/, static/style.css and README.md (its docs page)."""
        module = sys.modules[type(self).__module__]
        return Path(module.__file__ or ".").parent

    @property
    def template_dir(self) -> Path:
        return self.package_dir / "templates"

    @property
    def static_dir(self) -> Path:
        return self.package_dir / "static"

    @property
    def docs_page(self) -> Path:
        return self.package_dir / "README.md"

    def has_template(self, name: str) -> bool:
        return (self.template_dir / name).is_file()

    # --- models -------------------------------------------------------------------------------

    def settings(self, raw: Mapping[str, Any]) -> S:
        return self.settings_model.model_validate(raw)  # type: ignore[return-value]

    def load_answer(self, payload: Mapping[str, Any]) -> A:
        return self.answer_model.model_validate(payload)  # type: ignore[return-value]

    def own_result(self, result: BaseModel) -> R:
        """The result, checked to be this exercise's own; ResultMismatch where it is not."""
        if not isinstance(result, self.result_model):
            got, own = type(result).__name__, self.result_model.__name__
            raise ResultMismatch(f"{self.name}: the result is {got}, not its own {own}")
        return result  # type: ignore[return-value]

    @abstractmethod
    def max_answers(self, settings: S, ctx: StepContext) -> int:
        """How many answers one participant may give to a step."""

    @abstractmethod
    def parse_answer(self, settings: S, form: Mapping[str, Any], ctx: StepContext) -> A:
        """Validate a submitted form (or socket payload); raise AnswerInvalid with a clear message."""

    @abstractmethod
    def aggregate(self, settings: S, entries: Sequence[Entry[A]], ctx: StepContext) -> R:
        """Results for the projector and exports; must handle no answers at all."""

    def sources(self, settings: S) -> tuple[str, ...]:
        """Ids of the steps of the same flow whose results this step reads."""
        return ()

    def initial_state(self, settings: S, ctx: StepContext) -> dict[str, Any]:
        return {}

    def phone_audiences(self, settings: S, result: R, ctx: StepContext) -> dict[str, tuple[str, ...]]:
        """Phones with a screen of their own (a group's): public ids by audience. {}: one for all."""
        return {}

    def for_audience(self, settings: S, result: R, ctx: StepContext, audience: str | None) -> Any:
        """(result, ctx) as the phones of `audience` see them (None: the phones in no audience)."""
        return result, ctx

    def for_audiences(self, settings: S, result: R, ctx: StepContext, keys: Sequence[str | None]) -> Any:
        """for_audience() of every key at once, as {key: (result, ctx)}: a step opening for all."""
        return {key: self.for_audience(settings, result, ctx, key) for key in keys}

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

    # --- what it gives the exports and the posters ----------------------------------------------

    # --- moderation --------------------------------------------------------------------------

    def card_text(self, settings: S, answer: A) -> str:
        """What a person wrote in an answer, as the tovholder's moderation list shows it and the
        word filter reads it. "" (the default): the answer has no text of its own, and its step is
        not moderated."""
        return ""

    def form_values(self, settings: S, answer: A) -> dict[str, str]:
        """A sent answer as its form's fields, to edit it; {} (only withdrawn) if not all text."""
        dumped = answer.model_dump(mode="json")
        if not dumped or not all(isinstance(v, str) for v in dumped.values()):
            return {}
        return dumped

    def answer_text(self, settings: S, answer: A, result: R, words: Words) -> str:
        """One answer as a readable text, for the CSV export's `answer` column. By default its
        JSON. `result` gives the texts of option and item ids."""
        return compact_json(answer.model_dump(mode="json"))

    def markdown(self, settings: S, result: R, words: Words) -> list[str] | None:
        """The step's results as Markdown lines (exercises.markdown keeps a person's text inert),
        for the Markdown export. None: the export shows the result as JSON. Never a name."""
        return None

    def poster(self, settings: S, result: R, entries: Sequence[Entry[A]], slot: PosterSlot) -> PosterPart:
        """What the step gives a poster section it is tagged for. By default nothing."""
        return PosterPart()


class NoAnswer(Strict):
    """The answer model of an exercise that takes no answers."""


class NoAnswers(Exercise[S, NoAnswer, R]):
    """An exercise that takes no answers (a slide, groups, a round, a timer): phones look up."""

    answer_model = NoAnswer
    collects_answers = False

    def max_answers(self, settings: S, ctx: StepContext) -> int:
        return 0

    def parse_answer(self, settings: S, form: Mapping[str, Any], ctx: StepContext) -> NoAnswer:
        raise AnswerInvalid(N_("This step takes no answers: look at the big screen."))
