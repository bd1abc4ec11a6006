"""What every exercise type provides. An exercise imports nothing of the app: it validates and
aggregates what it is given, and ships its own templates (`<name>/fields.html` for the phone form,
`<name>/results.html` for the projector)."""

from __future__ import annotations

import random
import re
import unicodedata
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
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


S = TypeVar("S", bound=BaseModel)
A = TypeVar("A", bound=BaseModel)


class Exercise(ABC, Generic[S, A]):
    """One type of interaction. Subclasses set the class attributes and the methods below."""

    name: ClassVar[str]
    settings_model: ClassVar[type[BaseModel]]
    answer_model: ClassVar[type[BaseModel]]
    collects_answers: ClassVar[bool] = True
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
    def max_answers(self, settings: S) -> int:
        """How many answers one participant may give to a step."""

    @abstractmethod
    def parse_answer(self, settings: S, form: Mapping[str, Any]) -> A:
        """Validate a submitted form (or socket payload); raise AnswerInvalid with a clear message."""

    @abstractmethod
    def aggregate(self, settings: S, answers: Sequence[A]) -> BaseModel:
        """Results for the projector and exports; must handle no answers at all."""

    def simulate(self, settings: S, rng: random.Random, samples: Sequence[str]) -> list[A]:
        """Plausible answers of one simulated participant, for `tovholder demo`."""
        return []
