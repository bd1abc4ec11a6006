"""A word cloud: a few words or short phrases per participant, sized by how often they come.
Inflected forms, case, spacing and typos of one word count together (`exercises.words`), shown in
the spelling most people used."""

from __future__ import annotations

import hashlib
import random
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel, Field

from exercises.base import Entry, Exercise, StepContext, Strict, clean_text
from exercises.markdown import md, no_answers
from exercises.nordic import merge_words
from exercises.poster import PosterItem, PosterPart, PosterSlot
from exercises.words import Words

SHOWN = 40


class WordCloudSettings(Strict):
    max_words: int = Field(default=3, ge=1, le=5)
    max_length: int = Field(default=30, ge=3, le=60)


class WordCloudAnswer(Strict):
    word: str = Field(min_length=1, max_length=60)


class Word(BaseModel):
    text: str
    count: int
    size: int  # 1 (smallest) to 5 (largest)
    forms: list[str] = Field(default_factory=list)  # the other spellings counted with it


class WordCloudResult(BaseModel):
    count: int
    distinct: int
    words: list[Word]


class WordCloud(Exercise[WordCloudSettings, WordCloudAnswer, WordCloudResult]):
    name = "word_cloud"
    takes_text = True
    settings_model = WordCloudSettings
    answer_model = WordCloudAnswer
    result_model = WordCloudResult
    poster_style = "list"

    def max_answers(self, settings: WordCloudSettings, ctx: StepContext) -> int:
        return settings.max_words

    def parse_answer(
        self, settings: WordCloudSettings, form: Mapping[str, Any], ctx: StepContext
    ) -> WordCloudAnswer:
        return WordCloudAnswer(
            word=clean_text(form.get("word"), max_length=settings.max_length, single_line=True)
        )

    def aggregate(
        self, settings: WordCloudSettings, entries: Sequence[Entry[WordCloudAnswer]], ctx: StepContext
    ) -> WordCloudResult:
        answers = [e.answer for e in entries]
        merged = merge_words([a.word for a in answers], ctx.locale)
        top = merged[:SHOWN]
        peak = top[0].count if top else 1
        words = [
            Word(
                text=m.text,
                count=m.count,
                size=1 + round(4 * (m.count - 1) / (peak - 1)) if peak > 1 else 3,
                forms=list(m.forms[1:]),
            )
            for m in top
        ]
        # Alphabetical order reads calmer than a ranking, and the sizes carry the counts.
        words.sort(key=lambda w: w.text.casefold())
        return WordCloudResult(count=len(answers), distinct=len(merged), words=words)

    def simulate(
        self, settings: WordCloudSettings, rng: random.Random, samples: Sequence[str], ctx: StepContext
    ) -> list[WordCloudAnswer]:
        if not samples:
            return []
        k = rng.randint(1, min(settings.max_words, len(samples)))
        # Weighted towards the first samples, so a few words stand out as in a real room.
        chosen = {rng.choices(list(samples), weights=range(len(samples), 0, -1))[0] for _ in range(k)}
        return [WordCloudAnswer(word=w[: settings.max_length]) for w in sorted(chosen)]

    def card_text(self, settings: WordCloudSettings, answer: WordCloudAnswer) -> str:
        return answer.word

    def answer_text(
        self, settings: WordCloudSettings, answer: WordCloudAnswer, result: WordCloudResult, words: Words
    ) -> str:
        return answer.word

    def markdown(self, settings: WordCloudSettings, result: WordCloudResult, words: Words) -> list[str]:
        shown = sorted(result.words, key=lambda w: (-w.count, w.text.casefold()))
        return [f"- {md(w.text)} ({w.count})" for w in shown] if shown else no_answers(words)

    def poster(
        self,
        settings: WordCloudSettings,
        result: WordCloudResult,
        entries: Sequence[Entry[WordCloudAnswer]],
        slot: PosterSlot,
    ) -> PosterPart:
        """The words, the most named first, each with how many named it."""
        items: list[PosterItem] = []
        for word in sorted(result.words, key=lambda w: (-w.count, w.text.casefold())):
            note = None
            if word.count > 1:
                # TRANSLATORS: under a word of a word cloud on a poster: how many people wrote it.
                note = slot.words.ngettext("named %(num)d time", "named %(num)d times", word.count)
            local = "w" + hashlib.sha1(word.text.casefold().encode()).hexdigest()[:12]
            items.append(PosterItem(id=local, text=word.text, note=note, weight=word.count))
        return PosterPart(items=items)
