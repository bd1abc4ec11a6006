"""Open text: each answer is a card on the projector; a step may allow several per participant."""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel, Field

from exercises.anonymity import split_by_unit
from exercises.base import N_, Entry, Exercise, LocalText, StepContext, Strict, clean_text
from exercises.markdown import md_item, no_answers
from exercises.poster import PosterItem, PosterPart, PosterSlot
from exercises.words import Words

HARD_CAP = 1000


class OpenTextSettings(Strict):
    max_cards: int = Field(default=1, ge=1, le=10)
    max_length: int = Field(default=280, ge=10, le=HARD_CAP)
    placeholder: LocalText | None = None


class OpenTextAnswer(Strict):
    text: str = Field(min_length=1, max_length=HARD_CAP)


class OpenTextResult(BaseModel):
    count: int
    cards: list[str]


class OpenText(Exercise[OpenTextSettings, OpenTextAnswer, OpenTextResult]):
    name = "open_text"
    takes_text = True
    settings_model = OpenTextSettings
    answer_model = OpenTextAnswer
    result_model = OpenTextResult
    poster_style = "cards"

    def max_answers(self, settings: OpenTextSettings, ctx: StepContext) -> int:
        return settings.max_cards

    def parse_answer(
        self, settings: OpenTextSettings, form: Mapping[str, Any], ctx: StepContext
    ) -> OpenTextAnswer:
        return OpenTextAnswer(text=clean_text(form.get("text"), max_length=settings.max_length))

    def aggregate(
        self, settings: OpenTextSettings, entries: Sequence[Entry[OpenTextAnswer]], ctx: StepContext
    ) -> OpenTextResult:
        answers = [e.answer for e in entries]
        return OpenTextResult(count=len(answers), cards=[a.text for a in answers])

    def simulate(
        self, settings: OpenTextSettings, rng: random.Random, samples: Sequence[str], ctx: StepContext
    ) -> list[OpenTextAnswer]:
        if not samples:
            return []
        k = rng.randint(1, min(settings.max_cards, 2, len(samples)))
        return [OpenTextAnswer(text=t[: settings.max_length]) for t in rng.sample(list(samples), k)]

    def card_text(self, settings: OpenTextSettings, answer: OpenTextAnswer) -> str:
        return answer.text

    def answer_text(
        self, settings: OpenTextSettings, answer: OpenTextAnswer, result: OpenTextResult, words: Words
    ) -> str:
        return answer.text

    def markdown(self, settings: OpenTextSettings, result: OpenTextResult, words: Words) -> list[str]:
        return ["- " + md_item(card) for card in result.cards] if result.cards else no_answers(words)

    def poster(
        self,
        settings: OpenTextSettings,
        result: OpenTextResult,
        entries: Sequence[Entry[OpenTextAnswer]],
        slot: PosterSlot,
    ) -> PosterPart:
        """The cards. The same text written by several people prints once, with how many wrote
        it; in a section by unit, a card names its unit where the unit is big enough."""
        shown: set[str] = set()
        if slot.by_unit:
            shown = set(split_by_unit(entries, slot.min_group_size).shown)
        same: dict[tuple[str, str | None], list[Entry[OpenTextAnswer]]] = {}
        for entry in sorted(entries, key=lambda e: e.id):
            body = entry.answer.text
            if body.strip():
                unit = entry.unit if entry.unit in shown else None
                same.setdefault((" ".join(body.casefold().split()), unit), []).append(entry)
        groups = sorted(
            same.items(),
            key=lambda kv: (kv[0][1] is None, kv[0][1] or "", -len(kv[1]), kv[1][0].id),
        )
        items: list[PosterItem] = []
        for (_key, unit), alike in groups:
            first = alike[0]
            notes = [unit] if unit else []
            people = len({e.participant for e in alike})
            if people > 1:
                # TRANSLATORS: under a card on a poster that several people wrote word for word.
                same_text = N_("%(num)d people wrote this")
                notes.append(slot.words.gettext(same_text, num=people))
            items.append(
                PosterItem(
                    id=f"a{first.id}", text=first.answer.text, note=" · ".join(notes) or None, weight=people
                )
            )
        return PosterPart(items=items)
