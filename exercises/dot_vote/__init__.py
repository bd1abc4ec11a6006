"""Dot voting: each person spreads a budget of dots over the options, at most a few on one. The
options are fixed in the flow, or come from an earlier step: the groups of a `grouping` step or
the cards of an `open_text` step."""

from __future__ import annotations

import hashlib
import random
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import BaseModel, Field, model_validator

from exercises.base import (
    N_,
    AnswerInvalid,
    Entry,
    Exercise,
    Option,
    StepContext,
    Strict,
    in_order_of,
    places,
    unique_ids,
    whole_number,
)
from exercises.markdown import md, md_table, no_answers
from exercises.poster import PosterItem, PosterPart, PosterSlot
from exercises.words import Words

MAX_OPTIONS = 20
MAX_BUDGET = 20
DEFAULT_PER_OPTION = 3
MAX_OPTION_TEXT = 200
OPTION_ID = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
STEP_ID = r"^[a-z0-9][a-z0-9-]{0,62}$"
_OPTION_ID = re.compile(OPTION_ID)


@dataclass(frozen=True)
class Choice:
    """One option as the phone and the projector show it. `text` is a flow text ({locale: text});
    a text a person wrote (a group's name, a card) is kept under the session's language."""

    id: str
    text: Mapping[str, str]


class DotVoteSettings(Strict):
    options: list[Option] | None = Field(default=None, min_length=2, max_length=MAX_OPTIONS)
    options_from: str | None = Field(default=None, pattern=STEP_ID)
    budget: int = Field(default=5, ge=1, le=MAX_BUDGET)
    max_per_option: int | None = Field(default=None, ge=1, le=MAX_BUDGET)

    @model_validator(mode="after")
    def _check(self) -> DotVoteSettings:
        if (self.options is None) == (self.options_from is None):
            raise ValueError("give exactly one of options and options_from")
        if self.options is not None:
            unique_ids(self.options)
            for option in self.options:
                if max(len(v) for v in option.text.values()) > MAX_OPTION_TEXT:
                    raise ValueError(f"option {option.id!r}: a text is at most {MAX_OPTION_TEXT} characters")
        if self.max_per_option is not None and self.max_per_option > self.budget:
            raise ValueError(f"max_per_option is at most the budget ({self.budget})")
        return self

    @property
    def per_option(self) -> int:
        """Dots one option may take: `max_per_option`, by default 3 (or the budget, if smaller)."""
        return (
            self.max_per_option if self.max_per_option is not None else min(DEFAULT_PER_OPTION, self.budget)
        )

    def choices(self, ctx: StepContext) -> list[Choice]:
        """The options of this vote now. Templates call it too: `settings.choices(ctx)`. With more
        than 20 cards, a fair sample of 20: the same for everyone, whatever order they came in."""
        found = self.offered(ctx)
        if len(found) <= MAX_OPTIONS:
            return found
        ranked = sorted(found, key=lambda c: hashlib.sha256(c.id.encode()).digest())
        picked = {c.id for c in ranked[:MAX_OPTIONS]}
        return [c for c in found if c.id in picked]

    def offered(self, ctx: StepContext) -> list[Choice]:
        """Every option there is, before a sample is drawn."""
        if self.options is not None:
            return [Choice(id=o.id, text=o.text) for o in self.options]
        source = ctx.sources.get(self.options_from or "")
        if source is None:
            return []
        found: list[Choice] = []
        if source.exercise == "grouping":
            groups = source.state.get("groups")
            for group in groups if isinstance(groups, list) else []:
                if not isinstance(group, Mapping):
                    continue
                gid = str(group.get("id", ""))
                name = group.get("name")
                if not _OPTION_ID.match(gid):
                    continue
                label = name.strip() if isinstance(name, str) and name.strip() else gid
                found.append(Choice(id=gid, text={ctx.locale: label}))
        elif source.exercise == "open_text":
            texts: set[str] = set()
            for entry in source.entries:
                text = getattr(entry.answer, "text", None)
                same = " ".join(text.casefold().split()) if isinstance(text, str) else ""
                if isinstance(text, str) and same and same not in texts:  # the same card twice: one option
                    texts.add(same)
                    found.append(Choice(id=f"c{entry.id}", text={ctx.locale: text}))
        unique: dict[str, Choice] = {}
        for choice in found:
            unique.setdefault(choice.id, choice)
        return list(unique.values())


OptionId = Annotated[str, Field(pattern=OPTION_ID)]
Dots = Annotated[int, Field(ge=1, le=MAX_BUDGET)]


class DotVoteAnswer(Strict):
    dots: dict[OptionId, Dots] = Field(min_length=1, max_length=MAX_OPTIONS)

    @model_validator(mode="after")
    def _within_budget(self) -> DotVoteAnswer:
        if sum(self.dots.values()) > MAX_BUDGET:
            raise ValueError(f"at most {MAX_BUDGET} dots in all")
        return self


class VoteRow(BaseModel):
    id: str
    text: dict[str, str]
    dots: int
    voters: int  # people who put at least one dot on it
    place: int  # 1 for the most dots; ties share a place
    share: int  # dots relative to the leader, 0-100 in steps of 5 (bar length)


class DotVoteResult(BaseModel):
    count: int  # people who voted
    dots: int  # dots given in all
    budget: int
    options: list[VoteRow]
    offered: int = 0  # options there were; more than len(options) when a sample was drawn


class DotVote(Exercise[DotVoteSettings, DotVoteAnswer, DotVoteResult]):
    name = "dot_vote"
    settings_model = DotVoteSettings
    answer_model = DotVoteAnswer
    result_model = DotVoteResult
    poster_style = "cards"

    def max_answers(self, settings: DotVoteSettings, ctx: StepContext) -> int:
        return 1

    def sources(self, settings: DotVoteSettings) -> tuple[str, ...]:
        return (settings.options_from,) if settings.options_from else ()

    def parse_answer(
        self, settings: DotVoteSettings, form: Mapping[str, Any], ctx: StepContext
    ) -> DotVoteAnswer:
        choices = settings.choices(ctx)
        if len(choices) < 2:
            raise AnswerInvalid(N_("There is nothing to vote on yet. Look at the big screen."))
        cap = settings.per_option
        dots: dict[str, int] = {}
        for choice in choices:
            raw = form.get(f"dots:{choice.id}")
            if raw is None or (isinstance(raw, str) and not raw.strip()):
                continue
            n = whole_number(raw)
            if n is None or n < 0:
                raise AnswerInvalid(
                    N_("Please give each option a whole number of dots, from 0 to %(max)d."), max=cap
                )
            if n > cap:
                raise AnswerInvalid(N_("At most %(max)d dots on one option. Please move some."), max=cap)
            if n:
                dots[choice.id] = n
        used = sum(dots.values())
        if used == 0:
            raise AnswerInvalid(N_("Please put at least one dot on an option."))
        if used > settings.budget:
            raise AnswerInvalid(
                N_("That is %(used)d dots; you have %(budget)d. Please take some away."),
                used=used,
                budget=settings.budget,
            )
        return DotVoteAnswer(dots=dots)

    def aggregate(
        self, settings: DotVoteSettings, entries: Sequence[Entry[DotVoteAnswer]], ctx: StepContext
    ) -> DotVoteResult:
        choices = settings.choices(ctx)
        totals = {c.id: 0 for c in choices}
        voters = {c.id: 0 for c in choices}
        people: set[int] = set()
        for entry in entries:
            counted = False
            for oid, n in entry.answer.dots.items():
                if oid in totals and n > 0:
                    totals[oid] += n
                    voters[oid] += 1
                    counted = True
            if counted:
                people.add(entry.participant)
        ordered = sorted(choices, key=lambda c: -totals[c.id])  # stable: ties keep the flow's order
        peak = max(totals.values(), default=0)
        ranks = places([totals[c.id] for c in ordered])
        rows = [
            VoteRow(
                id=c.id,
                text=dict(c.text),
                dots=totals[c.id],
                voters=voters[c.id],
                place=rank,
                share=5 * round(20 * totals[c.id] / peak) if peak else 0,
            )
            for c, rank in zip(ordered, ranks, strict=True)
        ]
        return DotVoteResult(
            count=len(people),
            dots=sum(totals.values()),
            budget=settings.budget,
            options=rows,
            offered=len(settings.offered(ctx)),
        )

    def simulate(
        self, settings: DotVoteSettings, rng: random.Random, samples: Sequence[str], ctx: StepContext
    ) -> list[DotVoteAnswer]:
        """Samples name the options the room favours (by id or by text), the first the most."""
        choices = settings.choices(ctx)
        if len(choices) < 2:
            return []
        weights = [1.0] * len(choices)
        wanted = [s.strip().casefold() for s in samples if s.strip()]
        for i, choice in enumerate(choices):
            names = {choice.id.casefold(), *(t.casefold() for t in choice.text.values())}
            for rank, sample in enumerate(wanted):
                if sample in names:
                    weights[i] += 6.0 / (rank + 1)
        budget = rng.randint(max(1, settings.budget - 2), settings.budget)  # some keep a dot or two
        dots: dict[str, int] = {}
        for _ in range(budget):
            open_ = [i for i, c in enumerate(choices) if dots.get(c.id, 0) < settings.per_option]
            if not open_:
                break
            pick = rng.choices(open_, weights=[weights[i] for i in open_])[0]
            dots[choices[pick].id] = dots.get(choices[pick].id, 0) + 1
        return [DotVoteAnswer(dots=dots)]

    def answer_text(
        self, settings: DotVoteSettings, answer: DotVoteAnswer, result: DotVoteResult, words: Words
    ) -> str:
        labels = words.labels(settings.options or [], result.options)
        shown = in_order_of(list(answer.dots), labels)
        return "; ".join(f"{labels.get(k, k)}: {_dots(answer.dots[k], words)}" for k in shown)

    def markdown(self, settings: DotVoteSettings, result: DotVoteResult, words: Words) -> list[str]:
        if not result.count:
            return no_answers(words)
        _ = words.gettext
        options = sorted(result.options, key=lambda o: (o.place, -o.dots))
        header = [_(N_("Place")), _(N_("Option")), _(N_("Dots")), _(N_("People"))]
        rows = [[str(o.place), md(words.text(o.text)), str(o.dots), str(o.voters)] for o in options]
        return [_(N_("People who voted: %(num)d"), num=result.count), "", *md_table(header, rows)]

    def poster(
        self,
        settings: DotVoteSettings,
        result: DotVoteResult,
        entries: Sequence[Entry[DotVoteAnswer]],
        slot: PosterSlot,
    ) -> PosterPart:
        """The options by dots, the most first."""
        items: list[PosterItem] = []
        for option in result.options:
            # TRANSLATORS: under a voted option on a poster: how many dots it got.
            note = slot.words.ngettext("%(num)d dot", "%(num)d dots", option.dots)
            items.append(
                PosterItem(id=option.id, text=slot.words.text(option.text), note=note, weight=option.dots)
            )
        return PosterPart(items=items)


def _dots(num: int, words: Words) -> str:
    # The five languages say "1 dot" and "n dots" alike: one form for one, another for the rest.
    if num == 1:
        return words.gettext(N_("1 dot"))
    return words.gettext(N_("%(num)d dots"), num=num)
